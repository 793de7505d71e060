import {
  barChart,
  type Chart,
  memoryUnit,
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
  const maxUsed = Math.max(0, ...results.map((r) => r.resources.memUsedKB));
  const maxReq = Math.max(0, ...results.map((r) => r.resourcesScheduled.memRequestedKB));
  const used = memoryUnit(maxUsed);
  const req = memoryUnit(maxReq);
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
    bars(
      "cpu-hours-per-stack",
      "CPU-hours requested per stack",
      "CPU-hours requested (core-hours)",
      (r) => planCost(r).cpuHours,
    ),
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
