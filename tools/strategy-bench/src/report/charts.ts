/** The report's charts: accuracy against each cost, then the chart list's (chart-list.ts). */
import { scatterCharts, seriesCharts } from "../chart-list.js";
import { type Chart, formatMemoryKB } from "../charts.js";
import type { ClusterInfo } from "./manifest.js";
import { scheduleText } from "./markdown.js";
import { CHANCE_ACCURACY, type RunSummary } from "./summarize.js";

/** The lines under every chart's title: model, schedule, and "DEMO" where it is one. */
function chartSubtitle(runs: RunSummary[], demo: boolean, cluster?: ClusterInfo): string[] {
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
  const chance = { value: 100 * CHANCE_ACCURACY, label: "chance: 1 in 11 (9.1 %)" };
  return [
    ...scatterCharts(runs, subtitle, demo ? chance : undefined),
    ...seriesCharts(runs, subtitle),
  ];
}
