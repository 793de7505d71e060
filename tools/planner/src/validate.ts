import {
  figureTable,
  formatNumber,
  LOAD_LABELS,
  type LoadtestRow,
  type MonitorSample,
  meanOf,
  metOrMissed,
  summarizeLoad,
} from "../../strategy-bench/src/index.js";
import type { PlanResult } from "./simulate.js";
import { loadtestRow } from "./simulate.js";

/**
 * The planner against a measured run of the same stack, schedule and capacity profile (the
 * loadtest CSV and, optionally, the monitor CSV of `strategy-bench loadtest` / `monitor`):
 * transaction rate and response time over the whole run and per phase, and replicas over time.
 * Errors are relative, (predicted − measured) / measured; the target is within 20 % on
 * rate and response time over the whole run.
 */
export interface MeasuredRun {
  loadtest: LoadtestRow[];
  /** Monitor rows with ISO times; t = seconds since the first row. */
  monitor?: MonitorSample[];
}

export interface PhaseError {
  phase: string;
  predictedRate: number;
  measuredRate: number;
  rateError: number;
  predictedResponseTime: number;
  measuredResponseTime: number;
  responseTimeError: number;
}

export interface PlanError {
  stack: string;
  target: number;
  predicted: { transactionRate: number; responseTime: number };
  measured: { transactionRate: number; responseTime: number };
  rateError: number;
  responseTimeError: number;
  withinTarget: boolean;
  phases: PhaseError[];
  /** Predicted and measured replicas (Pending + Running) at each measured sample. */
  replicas: { t: number; predicted: number; measured: number }[];
  /** Mean |predicted − measured| replicas over the samples (NaN without a monitor CSV). */
  replicasMeanAbsoluteError: number;
}

/**
 * The plan's `field` (its last sample at or before each monitor row) next to the row's measured
 * value, at each row's time in seconds since the first row.
 */
export function atMonitorSamples(
  plan: PlanResult,
  monitor: readonly MonitorSample[],
  field: "replicas" | "ready",
  measured: (row: MonitorSample) => number | undefined,
): { t: number; predicted: number; measured: number }[] {
  const t0 = Date.parse(monitor[0]?.time ?? "");
  return monitor.flatMap((row) => {
    const t = (Date.parse(row.time) - t0) / 1000;
    if (!Number.isFinite(t)) return [];
    let predicted = Number.NaN;
    for (const x of plan.samples) {
      if (x.time > t) break;
      predicted = x[field];
    }
    return [{ t, predicted, measured: measured(row) ?? Number.NaN }];
  });
}

/** (predicted − measured) / measured; NaN when nothing was measured. */
export const rel = (p: number, m: number) => (m !== 0 ? (p - m) / m : Number.NaN);

export function comparePlanToRun(r: PlanResult, run: MeasuredRun, target = 0.2): PlanError {
  const predicted = summarizeLoad(r.phases.map(loadtestRow));
  const measured = summarizeLoad(run.loadtest);
  const phases = run.loadtest.map((m, i): PhaseError => {
    const p = r.phases[i];
    const pr = p && p.elapsedSeconds > 0 ? p.okay / p.elapsedSeconds : Number.NaN;
    const mr = m.elapsedSeconds > 0 ? m.okay / m.elapsedSeconds : Number.NaN;
    return {
      phase: m.phase || String(i + 1),
      predictedRate: pr,
      measuredRate: mr,
      rateError: rel(pr, mr),
      predictedResponseTime: p?.responseTime ?? Number.NaN,
      measuredResponseTime: m.responseTime,
      responseTimeError: rel(p?.responseTime ?? Number.NaN, m.responseTime),
    };
  });
  const replicas = atMonitorSamples(r, run.monitor ?? [], "replicas", (row) => row.replicas);
  const diffs = replicas
    .filter((x) => Number.isFinite(x.predicted) && Number.isFinite(x.measured))
    .map((x) => Math.abs(x.predicted - x.measured));
  const rateError = rel(predicted.transactionRate, measured.transactionRate);
  const responseTimeError = rel(predicted.responseTime, measured.responseTime);
  return {
    stack: r.stack,
    target,
    predicted: { transactionRate: predicted.transactionRate, responseTime: predicted.responseTime },
    measured: { transactionRate: measured.transactionRate, responseTime: measured.responseTime },
    rateError,
    responseTimeError,
    withinTarget: Math.abs(rateError) <= target && Math.abs(responseTimeError) <= target,
    phases,
    replicas,
    replicasMeanAbsoluteError: meanOf(diffs),
  };
}

/** A relative error as a signed percentage: "+12.5 %", "-3.0 %". */
export const pct = (x: number) =>
  Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)} %` : "n/a";

const PHASE_COLUMNS =
  "phase | rate predicted | rate measured | error | response predicted (s) | response measured (s) | error";

export function validationMarkdown(e: PlanError): string {
  const out = [
    `## ${e.stack}: predicted against measured`,
    "",
    "| figure | predicted | measured | error |",
    "|---|---:|---:|---:|",
    `| ${LOAD_LABELS.transactionRate} | ${formatNumber(e.predicted.transactionRate, 2)} | ${formatNumber(e.measured.transactionRate, 2)} | ${pct(e.rateError)} |`,
    `| ${LOAD_LABELS.responseTime} | ${formatNumber(e.predicted.responseTime, 3)} | ${formatNumber(e.measured.responseTime, 3)} | ${pct(e.responseTimeError)} |`,
    `| replicas, mean absolute error | | | ${formatNumber(e.replicasMeanAbsoluteError, 2)} |`,
    "",
    `Target: within ${(100 * e.target).toFixed(0)} % on rate and response time over the whole run: ${metOrMissed(e.withinTarget)}.`,
    "",
    ...figureTable(
      PHASE_COLUMNS.split(" | "),
      e.phases.map((p) => [
        p.phase,
        formatNumber(p.predictedRate, 2),
        formatNumber(p.measuredRate, 2),
        pct(p.rateError),
        formatNumber(p.predictedResponseTime, 3),
        formatNumber(p.measuredResponseTime, 3),
        pct(p.responseTimeError),
      ]),
    ),
    "",
  ];
  return out.join("\n");
}
