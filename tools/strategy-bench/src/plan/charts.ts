import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  barChart,
  type Chart,
  memoryUnit,
  phaseChart,
  renderChart,
  timeSeriesChart,
} from "../charts.js";
import type { PlanResult } from "./simulate.js";

/**
 * The planner's charts, built with src/charts.ts. Accuracy is an input here (`--accuracy`), the
 * same for every stack, so where the report draws accuracy against a cost the planner draws that
 * cost per stack; then the time series behind the rows (replicas Ready and Pending, CPU and memory
 * with their requests, limits and the HPA target) and response time and rate per phase.
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
  const series = (f: (x: PlanResult["samples"][number], r: PlanResult) => number) =>
    results.map((r) => ({
      run: r.stack,
      points: r.samples.map((x) => ({ t: x.time, value: f(x, r) })),
    }));
  const maxSeriesKB = Math.max(
    0,
    ...results
      .flatMap((r) => r.samples.flatMap((x) => [x.memUsedKB, x.memRequestedKB, x.memLimitKB]))
      .filter(Number.isFinite),
  );
  const mem = memoryUnit(maxSeriesKB);
  const perPhase = (f: (p: PlanResult["phases"][number]) => number) =>
    results.flatMap((r) =>
      r.phases.map((p) => ({
        run: r.stack,
        phase: Number(p.phase),
        value: f(p),
        users: p.users,
        delaySeconds: p.delaySeconds,
      })),
    );
  const bars = (id: string, title: string, yTitle: string, f: (r: PlanResult) => number) =>
    barChart({
      id,
      title: `${title} (predicted)`,
      subtitle,
      yTitle,
      runs,
      values: results.map((r) => ({ run: r.stack, value: f(r) })),
    });
  return [
    bars(
      "memory-used-per-stack",
      "Memory used per stack",
      `memory used (${used.label}, mean over the test)`,
      (r) => r.resources.memUsedKB / used.divisor,
    ),
    bars(
      "memory-requested-per-stack",
      "Memory requested per stack",
      `memory requested (${req.label}, mean; scheduled pods)`,
      (r) => r.resourcesScheduled.memRequestedKB / req.divisor,
    ),
    bars(
      "successful-requests-per-second-per-stack",
      "Successful requests per second per stack",
      "successful requests per second (mean over the test)",
      (r) => r.load.transactionRate,
    ),
    bars(
      "response-time-per-stack",
      "Response time per stack",
      "response time (s, mean weighted by successful requests)",
      (r) => r.load.responseTime,
    ),
    timeSeriesChart({
      id: "replicas-over-time",
      title: "Replicas Ready and Pending over time (predicted)",
      subtitle,
      yTitle: "pods",
      runs,
      series: series((x) => x.ready),
      interpolate: "step-after",
      integer: true,
      label: "Ready",
      lines: [{ label: "Pending", series: series((x) => x.pending) }],
    }),
    timeSeriesChart({
      id: "cpu-over-time",
      title: "CPU used, requested and limit over time (predicted, as metrics-server reports it)",
      subtitle: [
        "HPA target: the stack's CPU target % of the CPU requested, where the HPA adds a replica",
        ...subtitle,
      ],
      yTitle: "CPU (cores, all pods)",
      runs,
      series: series((x) => x.cpuUsed),
      label: "used",
      lines: [
        { label: "requested", series: series((x) => x.cpuRequested) },
        { label: "limit", series: series((x) => x.cpuLimit) },
        {
          label: "HPA target",
          series: series((x, r) => (x.cpuRequested * r.hpaTargetCpuUtilization) / 100),
        },
      ],
    }),
    timeSeriesChart({
      id: "memory-over-time",
      title: "Memory used, requested and limit over time (predicted)",
      subtitle,
      yTitle: `memory, all pods (${mem.label})`,
      runs,
      series: series((x) => x.memUsedKB / mem.divisor),
      label: "used",
      lines: [
        { label: "requested", series: series((x) => x.memRequestedKB / mem.divisor) },
        { label: "limit", series: series((x) => x.memLimitKB / mem.divisor) },
      ],
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
      title: "Successful requests per second, per phase (predicted)",
      subtitle,
      yTitle: "successful requests per second",
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
