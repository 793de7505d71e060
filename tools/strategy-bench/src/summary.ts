import { readFile } from "node:fs/promises";
import type { LoadtestRow } from "./csv.js";
import { parseCsvRecords } from "./csv.js";

/** The original recipe divided the sum of OKAY by 3,600 although its schedule lasts 1,800 s. */
export const ORIGINAL_DIVISOR_SECONDS = 3600;

export interface MonitorSample {
  replicas: number;
  memRequestedKB: number;
  memUsedKB: number;
  cpuUsed: number;
}

export function parseMonitorCsv(text: string): MonitorSample[] {
  return parseCsvRecords(text).map((r) => ({
    replicas: Number(r.replicas),
    memRequestedKB: toNumber(r.mem_requested_kb),
    memUsedKB: toNumber(r.mem_used_kb),
    cpuUsed: toNumber(r.cpu_used),
  }));
}

export async function readMonitorCsv(path: string): Promise<MonitorSample[]> {
  return parseMonitorCsv(await readFile(path, "utf8"));
}

function toNumber(v: string | undefined): number {
  return v === undefined || v === "" ? Number.NaN : Number(v);
}

/** Mean of the finite values (empty cells, i.e. samples without a reading, are left out). */
export function meanOf(values: number[]): number {
  const ok = values.filter(Number.isFinite);
  return ok.length === 0 ? Number.NaN : ok.reduce((a, b) => a + b, 0) / ok.length;
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
}

export function summarizeResources(rows: MonitorSample[]): ResourceSummary {
  return {
    samples: rows.length,
    memRequestedKB: meanOf(rows.map((r) => r.memRequestedKB)),
    memUsedKB: meanOf(rows.map((r) => r.memUsedKB)),
    meanReplicas: meanOf(rows.map((r) => r.replicas)),
    maxReplicas: rows.reduce((a, r) => Math.max(a, r.replicas), 0),
    meanCpuUsed: meanOf(rows.map((r) => r.cpuUsed)),
  };
}
