import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  accuracyScatters,
  type Chart,
  memoryUnit,
  phaseChart,
  renderChart,
  timeSeriesChart,
} from "../charts.js";
import type { PlanResult } from "./simulate.js";

/**
 * The planner's charts, built with src/charts.ts: the report's four accuracy-against-cost
 * scatters (accuracy is an input here, `--accuracy`, not predicted) and the time series behind
 * the rows (replicas ready and Pending, CPU and memory used, response time and rate per phase).
 */
export function planCharts(results: readonly PlanResult[], accuracy: number): Chart[] {
  const runs = results.map((r) => r.stack);
  const subtitle = [
    `predicted by strategy-bench plan; accuracy ${(100 * accuracy).toFixed(2)} % given, not predicted`,
  ];
  const maxUsed = Math.max(0, ...results.map((r) => r.resources.memUsedKB));
  const maxReq = Math.max(0, ...results.map((r) => r.resourcesScheduled.memRequestedKB));
  const used = memoryUnit(maxUsed);
  const req = memoryUnit(maxReq);
  const series = (f: (x: PlanResult["samples"][number]) => number) =>
    results.map((r) => ({
      run: r.stack,
      points: r.samples.map((x) => ({ t: x.time, value: f(x) })),
    }));
  const maxSeriesKB = Math.max(
    0,
    ...results.flatMap((r) => r.samples.map((x) => x.memUsedKB)).filter(Number.isFinite),
  );
  const memSeries = memoryUnit(maxSeriesKB);
  const perPhase = (f: (p: PlanResult["phases"][number]) => number) =>
    results.flatMap((r) =>
      r.phases.map((p) => ({ run: r.stack, phase: Number(p.phase), value: f(p) })),
    );
  return [
    ...accuracyScatters({
      points: results.map((r) => ({
        run: r.stack,
        accuracy: 100 * accuracy,
        memUsedKB: r.resources.memUsedKB,
        memRequestedKB: r.resourcesScheduled.memRequestedKB,
        transactionRate: r.load.transactionRate,
        responseTime: r.load.responseTime,
      })),
      runs,
      subtitle,
      used,
      requested: req,
      requestedNote: "mean; scheduled pods",
      titleSuffix: " (predicted)",
    }),
    timeSeriesChart({
      id: "replicas-ready-over-time",
      title: "Replicas ready over time (predicted)",
      subtitle,
      yTitle: "pods ready",
      runs,
      series: series((x) => x.ready),
      interpolate: "step-after",
    }),
    timeSeriesChart({
      id: "pods-pending-over-time",
      title: "Pods Pending over time (predicted)",
      subtitle,
      yTitle: "pods Pending",
      runs,
      series: series((x) => x.pending),
      interpolate: "step-after",
    }),
    timeSeriesChart({
      id: "cpu-used-over-time",
      title: "CPU used over time (predicted, as metrics-server reports it)",
      subtitle,
      yTitle: "CPU used (cores, all pods)",
      runs,
      series: series((x) => x.cpuUsed),
    }),
    timeSeriesChart({
      id: "memory-used-over-time",
      title: "Memory used over time (predicted)",
      subtitle,
      yTitle: `memory used (${memSeries.label})`,
      runs,
      series: series((x) => x.memUsedKB / memSeries.divisor),
    }),
    phaseChart({
      id: "response-time-per-phase",
      title: "Response time per phase (predicted)",
      subtitle,
      yTitle: "response time (s, mean of the phase)",
      runs,
      values: perPhase((p) => p.responseTime),
    }),
    phaseChart({
      id: "transaction-rate-per-phase",
      title: "Transaction rate per phase (predicted)",
      subtitle,
      yTitle: "OKAY per second of the phase",
      runs,
      values: perPhase((p) => p.okay / p.elapsedSeconds),
    }),
  ];
}

/** Render each chart to `<id>.svg` and `<id>.png` in `outDir`; returns the ids. */
export async function writePlanCharts(outDir: string, charts: readonly Chart[]): Promise<string[]> {
  const ids: string[] = [];
  for (const c of charts) {
    const { svg, png } = await renderChart(c);
    await writeFile(join(outDir, `${c.id}.svg`), svg);
    await writeFile(join(outDir, `${c.id}.png`), png);
    ids.push(c.id);
  }
  return ids;
}
