import {
  barChart,
  type Chart,
  perStackCharts,
  type SeriesRun,
  seriesCharts,
} from "../../strategy-bench/src/index.js";
import { planCost } from "./cost.js";
import type { PlanResult } from "./simulate.js";

/**
 * The planner's charts. Accuracy is an input here (`--accuracy`), the same for every stack, so
 * where the report draws accuracy against a cost the planner draws that cost per stack, and the
 * CPU-hours the stacks request (what the verdict ranks them by); then the report's own list of
 * charts over time and per phase (src/chart-list.ts), predicted. `by`: the command drawing them.
 */
export function planCharts(
  results: readonly PlanResult[],
  accuracy?: number,
  by = "strategy-bench plan",
): Chart[] {
  const runs = results.map((r) => r.stack);
  const subtitle = [
    `predicted by ${by}` +
      (accuracy !== undefined
        ? `; accuracy ${(100 * accuracy).toFixed(2)} % given, not predicted`
        : ""),
  ];
  // Memory requested: the scheduled pods' (what the report's strategy 2 counted).
  const figures = results.map((r) => ({
    name: r.stack,
    load: r.load,
    resources: { ...r.resources, memRequestedKB: r.resourcesScheduled.memRequestedKB },
  }));
  return [
    ...perStackCharts(figures, subtitle),
    barChart({
      id: "cpu-hours-per-stack",
      title: "CPU-hours requested per stack (predicted)",
      subtitle,
      yTitle: "CPU-hours requested (core-hours)",
      runs,
      values: results.map((r) => ({ run: r.stack, value: planCost(r).cpuHours })),
    }),
    ...seriesCharts(results.map(seriesRun), subtitle, true),
  ];
}

/** A predicted stack as the chart list reads a run: its samples over time, its phases. */
function seriesRun(r: PlanResult): SeriesRun {
  const over = (f: (x: PlanResult["samples"][number]) => number) =>
    r.samples.map((x) => ({ t: x.time, value: f(x) })).filter((p) => Number.isFinite(p.value));
  const perPhase = (f: (p: PlanResult["phases"][number]) => number) =>
    r.phases.map((p) => ({
      phase: Number(p.phase),
      value: f(p),
      ...(p.rate !== undefined
        ? { rate: p.rate }
        : { users: p.users, delaySeconds: p.delaySeconds }),
    }));
  return {
    name: r.stack,
    hpaTarget: r.hpaTargetCpuUtilization,
    series: {
      time: {
        readyReplicas: over((x) => x.ready),
        pendingReplicas: over((x) => x.pending),
        cpuUsed: over((x) => x.cpuUsed),
        cpuRequested: over((x) => x.cpuRequested),
        cpuLimit: over((x) => x.cpuLimit),
        memUsedKB: over((x) => x.memUsedKB),
        memRequestedKB: over((x) => x.memRequestedKB),
        memLimitKB: over((x) => x.memLimitKB),
      },
      phase: {
        responseTime: perPhase((p) => p.responseTime),
        okayRate: perPhase((p) => p.okay / p.elapsedSeconds),
      },
    },
  };
}
