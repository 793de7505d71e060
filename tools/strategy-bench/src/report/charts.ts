/** The report's charts: accuracy against each cost, then the chart list's (chart-list.ts). */
import { seriesCharts } from "../chart-list.js";
import { accuracyScatters, type Chart, formatMemoryKB, memoryUnit } from "../charts.js";
import type { ClusterInfo } from "./manifest.js";
import { scheduleText } from "./markdown.js";
import { CHANCE_ACCURACY, type RunSummary } from "./summarize.js";

/** The lines under every chart's title: model, schedule, and "DEMO" where it is one. */
export function chartSubtitle(runs: RunSummary[], demo: boolean, cluster?: ClusterInfo): string[] {
  const models = [...new Set(runs.map((r) => r.model))].join(", ");
  const schedules = [...new Set(runs.map(scheduleText))].join("; ");
  const lines = [`model: ${models} · schedule: ${schedules}`];
  if (cluster) {
    const t = cluster.timeScaling;
    lines.push(
      `REAL PODS on ${cluster.node.name} (${cluster.node.cpuCores} cores, ${formatMemoryKB(cluster.node.memoryKB)}) · ` +
        (t.fullLength
          ? "full length"
          : (t.notApplied?.length ?? 0) > 0
            ? `time-scaled by ${t.factor}, PARTLY (the controller-manager's clocks not)`
            : `time-scaled by ${t.factor}, the HPA's clocks with it`),
    );
    if (demo)
      lines.push(
        "DEMO MODEL: untrained (accuracy ≈ chance); compare speed, memory and scaling only",
      );
  } else if (demo) {
    lines.push(
      "DEMO: untrained model (accuracy ≈ chance), one local process per stack on a shared machine; not real figures",
    );
  }
  return lines;
}

export function reportCharts(runs: RunSummary[], demo: boolean, cluster?: ClusterInfo): Chart[] {
  const subtitle = chartSubtitle(runs, demo, cluster);
  const names = runs.map((r) => r.name);
  const reference = demo
    ? { value: 100 * CHANCE_ACCURACY, label: "chance: 1 in 11 (9.1 %)" }
    : undefined;
  // Each memory chart in the unit that suits its own values (MiB below 1 GiB).
  const memUnit = (f: (r: RunSummary) => number) =>
    memoryUnit(Math.max(0, ...runs.map(f).filter(Number.isFinite)));
  const used = memUnit((r) => r.resources.memUsedKB);
  const requested = memUnit((r) => r.resources.memRequestedKB);
  const charts: Chart[] = accuracyScatters({
    points: runs.map((r) => ({
      run: r.name,
      accuracy: 100 * r.accuracy.accuracy,
      memUsedKB: r.resources.memUsedKB,
      memRequestedKB: r.resources.memRequestedKB,
      transactionRate: r.load.transactionRate,
      responseTime: r.load.responseTime,
    })),
    runs: names,
    subtitle,
    used,
    requested,
    ...(reference ? { referenceY: reference } : {}),
  });
  charts.push(...seriesCharts(runs, subtitle));
  return charts;
}
