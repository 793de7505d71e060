import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  eventCount,
  formatNumber,
  type LoadtestRow,
  type MonitorSample,
  markdownTable,
  meanOf,
  RUN_FILES,
  readLoadtestCsv,
  readLoadtestPercentiles,
  readMonitorCsv,
  type TimelineEntry,
} from "../../strategy-bench/src/index.js";
import { type PlanResult, samplePeak } from "./simulate.js";
import { atMonitorSamples, comparePlanToRun, type PlanError, pct, rel } from "./validate.js";

/**
 * A recommendation verified on real pods (issue 30, item 5; `npm run validate:recommend`): the
 * recommended stack's run on the local cluster against what the planner predicted for that run.
 * The recommendation's promise is checked on the measured figures (p95 within the SLO, no Pending
 * pod, no failed request) and the planner's figures against them (transaction rate and mean
 * ready replicas within 20 %).
 */

/** One stack's folder of a cluster run (cluster/run-one.ts writes it), as the checks read it. */
export interface MeasuredRecommendationRun {
  /** loadtest.csv's phase rows. */
  loadtest: LoadtestRow[];
  /** Its whole-run row's percentiles of the OKAY response times, seconds. */
  percentiles: { p50: number; p95: number };
  /** monitor.csv with the cluster's extended columns (ready, Pending, unschedulable pods). */
  monitor: MonitorSample[];
  /** FailedScheduling events of the run (events.json, kind "unschedulable"), summed counts. */
  unschedulableEvents: number;
}

export async function readRecommendationRun(dir: string): Promise<MeasuredRecommendationRun> {
  const events = JSON.parse(await readFile(join(dir, RUN_FILES.events), "utf8")) as TimelineEntry[];
  return {
    loadtest: await readLoadtestCsv(join(dir, RUN_FILES.loadtest)),
    percentiles: await readLoadtestPercentiles(join(dir, RUN_FILES.loadtest)),
    monitor: await readMonitorCsv(join(dir, RUN_FILES.monitor)),
    unschedulableEvents: eventCount(events, "unschedulable"),
  };
}

export interface RecommendationSlo {
  p95: number;
  p50?: number;
}

export interface RecommendationCheck {
  check: string;
  predicted: string;
  measured: string;
  difference: string;
  pass: boolean;
}

export interface RecommendationVerdict {
  pass: boolean;
  checks: RecommendationCheck[];
  /** The planner against the run, whole run and per phase (validate.ts). */
  comparison: PlanError;
  /** Mean ready replicas at the monitor's samples, predicted and measured. */
  readyReplicas: { predicted: number; measured: number };
}

/**
 * Every check of the issue, each with the predicted figure, the measured one, their difference
 * and PASS/FAIL; `target` is the relative error allowed on rate and mean ready replicas.
 */
export function checkRecommendation(
  plan: PlanResult,
  run: MeasuredRecommendationRun,
  slo: RecommendationSlo,
  target = 0.2,
): RecommendationVerdict {
  const comparison = comparePlanToRun(plan, { loadtest: run.loadtest, monitor: run.monitor });
  const checks: RecommendationCheck[] = [];
  const latency = (name: "p50" | "p95", limit: number) => {
    const m = run.percentiles[name];
    checks.push({
      check: `response time ${name} ≤ SLO ${limit} s (measured)`,
      predicted: `${formatNumber(plan.latency[name], 3)} s`,
      measured: `${formatNumber(m, 3)} s`,
      difference: pct(rel(plan.latency[name], m)),
      pass: m <= limit,
    });
  };
  latency("p95", slo.p95);
  if (slo.p50 !== undefined) latency("p50", slo.p50);

  const unschedulable = run.monitor.map((r) => r.unschedulableReplicas ?? Number.NaN);
  const measuredPending = Math.max(0, ...unschedulable.filter(Number.isFinite));
  const pendingKnown = unschedulable.length > 0 && unschedulable.every(Number.isFinite);
  const predictedPending = samplePeak(plan.samples, "pending");
  checks.push({
    check: "no Pending pod (unschedulable pods at once, max; FailedScheduling events)",
    predicted: String(predictedPending),
    measured: pendingKnown
      ? `${measuredPending}; ${run.unschedulableEvents} events`
      : "not measured (monitor.csv has no unschedulable_replicas column)",
    difference: pendingKnown ? String(measuredPending - predictedPending) : "n/a",
    pass: pendingKnown && measuredPending === 0 && run.unschedulableEvents === 0,
  });

  const failed = run.loadtest.reduce((a, r) => a + r.failed, 0);
  checks.push({
    check: "no failed request",
    predicted: String(plan.load.failed),
    measured: String(failed),
    difference: String(failed - plan.load.failed),
    pass: failed === 0,
  });

  checks.push({
    check: `transaction rate (/s, OKAY / duration) within ${100 * target} %`,
    predicted: formatNumber(comparison.predicted.transactionRate, 2),
    measured: formatNumber(comparison.measured.transactionRate, 2),
    difference: pct(comparison.rateError),
    pass: Math.abs(comparison.rateError) <= target,
  });

  // the plan's ready replicas at each measured sample, with the measured
  const ready = atMonitorSamples(plan, run.monitor, "ready", (row) => row.readyReplicas).filter(
    (x) => Number.isFinite(x.predicted) && Number.isFinite(x.measured),
  );
  const readyReplicas = {
    predicted: meanOf(ready.map((x) => x.predicted)),
    measured: meanOf(ready.map((x) => x.measured)),
  };
  const readyError = rel(readyReplicas.predicted, readyReplicas.measured);
  checks.push({
    check: `mean ready replicas (at the monitor's samples) within ${100 * target} %`,
    predicted: formatNumber(readyReplicas.predicted, 2),
    measured: formatNumber(readyReplicas.measured, 2),
    difference: pct(readyError),
    pass: Math.abs(readyError) <= target,
  });
  return { pass: checks.every((c) => c.pass), checks, comparison, readyReplicas };
}

/** The checks as a Markdown table, then the failed ones named (or that all passed). */
export function recommendationCheckMarkdown(v: RecommendationVerdict): string[] {
  const failed = v.checks.filter((c) => !c.pass).map((c) => c.check);
  return [
    ...markdownTable(
      ["check", "predicted", "measured", "difference", "result"],
      v.checks.map((c) => [
        c.check,
        c.predicted,
        c.measured,
        c.difference,
        c.pass ? "PASS" : "FAIL",
      ]),
      { align: ["left", "right", "right", "right", "left"] },
    ),
    "",
    failed.length === 0
      ? "Every check passed: the recommendation kept its promise on real pods."
      : `FAILED: ${failed.join("; ")}.`,
    "",
  ];
}
