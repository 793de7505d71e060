import type { LoadtestRow } from "./csv.js";
import type { MonitorRow } from "./monitor-csv.js";

/** The original recipe divided the sum of OKAY by 3,600 although its schedule lasts 1,800 s. */
export const ORIGINAL_DIVISOR_SECONDS = 3600;

/**
 * What the summary reads of a monitor row (a monitor CSV's, or a predicted one): the CPU
 * requested and memory limit only where drawn, the extended counts only on a cluster.
 */
export type MonitorSample = Omit<
  MonitorRow,
  | "cpuRequested"
  | "memLimitKB"
  | "readyReplicas"
  | "pendingReplicas"
  | "unschedulableReplicas"
  | "restarts"
> &
  Partial<MonitorRow>;

/** Mean of the finite values (empty cells, i.e. samples without a reading, are left out). */
export function meanOf(values: number[]): number {
  const ok = values.filter(Number.isFinite);
  return ok.length === 0 ? Number.NaN : ok.reduce((a, b) => a + b, 0) / ok.length;
}

/** Largest − smallest of the finite values; NaN with fewer than two. */
export function rangeOf(values: number[]): number {
  const ok = values.filter(Number.isFinite);
  return ok.length < 2 ? Number.NaN : Math.max(...ok) - Math.min(...ok);
}

export interface LoadSummary {
  okay: number;
  failed: number;
  transactions: number;
  /** Sum of the phases' elapsed times: the real duration of the test, seconds. */
  durationSeconds: number;
  /** sum(OKAY) / real duration. */
  transactionRate: number;
  /** sum(OKAY) / 3,600, the original recipe's figure. */
  transactionRateOriginal: number;
  /** sum(OKAY x phase response time) / sum(OKAY): weighted by successful transactions. */
  responseTime: number;
  /** Plain mean of the phases' response times, for comparison (not the report's figure). */
  responseTimePhaseMean: number;
}

/**
 * The names of the load figures above as every table of them says them: the report's summary and
 * original-units tables, plan.md's rows, the planner's validation against a run.
 */
export const LOAD_LABELS = {
  responseTime: "response time (s, weighted by OKAY)",
  transactionRate: "transaction rate (/s, OKAY / real duration)",
  transactionRateOriginal: `transaction rate (/s, OKAY / ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")}, as the original)`,
} as const;

export function summarizeLoad(rows: LoadtestRow[]): LoadSummary {
  const sum = (f: (r: LoadtestRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  const okay = sum((r) => r.okay);
  const duration = sum((r) => r.elapsedSeconds);
  return {
    okay,
    failed: sum((r) => r.failed),
    transactions: sum((r) => r.transactions),
    durationSeconds: duration,
    transactionRate: duration > 0 ? okay / duration : 0,
    transactionRateOriginal: okay / ORIGINAL_DIVISOR_SECONDS,
    responseTime: okay > 0 ? sum((r) => r.okay * r.responseTime) / okay : Number.NaN,
    responseTimePhaseMean: rows.length > 0 ? sum((r) => r.responseTime) / rows.length : Number.NaN,
  };
}

export interface ResourceSummary {
  samples: number;
  /** Mean of the memory-requested column, KB. */
  memRequestedKB: number;
  /** Mean of the memory-used column, KB. */
  memUsedKB: number;
  meanReplicas: number;
  maxReplicas: number;
  meanCpuUsed: number;
  /** limits.cpu of one replica (the largest cpu_limit / replicas seen), cores; NaN if unknown. */
  cpuLimitPerReplica: number;
}

function cpuLimitPerReplica(rows: MonitorSample[]): number {
  const per = rows
    .filter((r) => r.replicas > 0 && Number.isFinite(r.cpuLimit))
    .map((r) => r.cpuLimit / r.replicas);
  return per.length === 0 ? Number.NaN : Math.max(...per);
}

export function summarizeResources(rows: MonitorSample[]): ResourceSummary {
  return {
    samples: rows.length,
    memRequestedKB: meanOf(rows.map((r) => r.memRequestedKB)),
    memUsedKB: meanOf(rows.map((r) => r.memUsedKB)),
    meanReplicas: meanOf(rows.map((r) => r.replicas)),
    maxReplicas: rows.reduce((a, r) => Math.max(a, r.replicas), 0),
    meanCpuUsed: meanOf(rows.map((r) => r.cpuUsed)),
    cpuLimitPerReplica: cpuLimitPerReplica(rows),
  };
}

// ---------------------------------------------------------------- series for charts

/** A value over time: t in seconds since the run's first sample. */
export interface TimePoint {
  t: number;
  value: number;
}

/**
 * A value per phase of the load schedule (1-based), with the phase's users and delay if known, or
 * its arrival rate (req/s) for an open-loop load (the planner's `--rate`).
 */
export interface PhasePoint {
  phase: number;
  value: number;
  users?: number;
  delaySeconds?: number;
  rate?: number;
}

/**
 * Per-run series, keyed by metric (see TIME_SERIES_METRICS / PHASE_METRICS in chart-list.ts). Generic
 * so that more can be added (replicas ready/pending, HPA events) without changing the charts.
 */
export interface RunSeries {
  time: Record<string, TimePoint[]>;
  phase: Record<string, PhasePoint[]>;
}

/** Seconds since the first sample; samples without a parsable time are 5 s apart by position. */
function sampleTimes(rows: MonitorSample[]): number[] {
  const ms = rows.map((r) => Date.parse(r.time));
  const t0 = ms.find(Number.isFinite);
  if (t0 === undefined || ms.some((m) => !Number.isFinite(m))) {
    return rows.map((_, i) => i * 5);
  }
  return ms.map((m) => (m - t0) / 1000);
}

/** A column of the rows over time (sampleTimes), the samples without a value left out. */
function seriesOf(rows: MonitorSample[]) {
  const ts = sampleTimes(rows);
  return (f: (r: MonitorSample) => number): TimePoint[] =>
    rows
      .map((r, i) => ({ t: ts[i] as number, value: f(r) }))
      .filter((p) => Number.isFinite(p.value));
}

export function loadSeries(rows: LoadtestRow[]): Record<string, PhasePoint[]> {
  const phases = rows.map((r, i) => {
    const n = Number(r.phase);
    return Number.isInteger(n) && n > 0 ? n : i + 1;
  });
  const load = (r: LoadtestRow) => ({
    ...(r.users !== undefined ? { users: r.users } : {}),
    ...(r.delaySeconds !== undefined ? { delaySeconds: r.delaySeconds } : {}),
  });
  return {
    // A phase without a successful request has no response time worth drawing.
    responseTime: rows
      .map((r, i) => ({
        phase: phases[i] as number,
        value: r.okay > 0 ? r.responseTime : Number.NaN,
        ...load(r),
      }))
      .filter((p) => Number.isFinite(p.value)),
    okayRate: rows.map((r, i) => ({
      phase: phases[i] as number,
      value: r.elapsedSeconds > 0 ? r.okay / r.elapsedSeconds : 0,
      ...load(r),
    })),
  };
}

/**
 * A monitor CSV's columns over time; a cluster's (its extended columns) adds replicas ready,
 * pending and unschedulable, restarts, and CPU used as a share of requests (what the HPA compares
 * with its target).
 */
export function monitorSeries(rows: MonitorSample[]): Record<string, TimePoint[]> {
  const num = (v: number | undefined) => v ?? Number.NaN;
  const series = seriesOf(rows);
  const original = {
    replicas: series((r) => r.replicas),
    cpuUsed: series((r) => r.cpuUsed),
    memUsedKB: series((r) => r.memUsedKB),
    memRequestedKB: series((r) => r.memRequestedKB),
    cpuRequested: series((r) => num(r.cpuRequested)),
    cpuLimit: series((r) => r.cpuLimit),
    memLimitKB: series((r) => num(r.memLimitKB)),
  };
  if (rows.length === 0 || rows[0]?.readyReplicas === undefined) return original;
  return {
    ...original,
    readyReplicas: series((r) => num(r.readyReplicas)),
    pendingReplicas: series((r) => num(r.pendingReplicas)),
    unschedulableReplicas: series((r) => num(r.unschedulableReplicas)),
    restarts: series((r) => num(r.restarts)),
    // As the HPA sees it: usage over the requests of the Ready pods (the ones with readings; a
    // Pending pod's request is not in the average). A stack's pods all request the same.
    cpuUtilization: series((r) => {
      const perPod = num(r.cpuRequested) / r.replicas;
      const ready = num(r.readyReplicas);
      return perPod > 0 && ready > 0 ? (100 * r.cpuUsed) / (perPod * ready) : Number.NaN;
    }),
  };
}
