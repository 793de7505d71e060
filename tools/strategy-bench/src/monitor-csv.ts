/**
 * The monitor CSV's one home: its columns, its writer (`strategy-bench monitor`, the cluster run)
 * and its reader (the report, the planner's validation). One row every interval, summed over the
 * app's pods; the extended columns only on a cluster.
 */
import { readFile } from "node:fs/promises";
import { stringify } from "csv-stringify/sync";
import { parseCsvRecords } from "./csv.js";

/** The original recipe's columns, one row every interval, summed over the app's pods. */
export const MONITOR_COLUMNS = [
  "time",
  "replicas",
  "cpu_requested",
  "mem_requested_kb",
  "cpu_limit",
  "mem_limit_kb",
  "cpu_used",
  "mem_used_kb",
] as const;

/**
 * Appended after the original's columns on a cluster (`--columns extended`, the cluster run):
 * pods Ready, pods Pending (not yet running or not scheduled), pods the scheduler could not place
 * (PodScheduled=False, reason Unschedulable), and container restarts summed over the live pods.
 */
export const EXTENDED_MONITOR_COLUMNS = [
  "ready_replicas",
  "pending_replicas",
  "unschedulable_replicas",
  "restarts",
] as const;

export type MonitorColumns = "original" | "extended";

export interface MonitorRow {
  time: string;
  replicas: number;
  cpuRequested: number;
  memRequestedKB: number;
  cpuLimit: number;
  memLimitKB: number;
  /** NaN when usage could not be read (no metrics API). */
  cpuUsed: number;
  memUsedKB: number;
  /** Extended columns (a cluster's pods); undefined for a local process. */
  readyReplicas?: number;
  pendingReplicas?: number;
  unschedulableReplicas?: number;
  restarts?: number;
}

function cell(n: number, digits: number): string {
  return Number.isFinite(n) ? String(Number(n.toFixed(digits))) : "";
}

export function monitorCsvLines(
  rows: MonitorRow[],
  header: boolean,
  columns: MonitorColumns = "original",
): string {
  const extended = columns === "extended";
  const opt = (n: number | undefined) => (n === undefined ? "" : String(n));
  return stringify(
    rows.map((r) => {
      // Quantities to 3 (cores; cores used to 6) and 2 (KB) decimals, trailing zeros dropped.
      const quantities: [number, number][] = [
        [r.cpuRequested, 3],
        [r.memRequestedKB, 2],
        [r.cpuLimit, 3],
        [r.memLimitKB, 2],
        [r.cpuUsed, 6],
        [r.memUsedKB, 2],
      ];
      const counts = [r.readyReplicas, r.pendingReplicas, r.unschedulableReplicas, r.restarts];
      return [
        r.time,
        r.replicas,
        ...quantities.map(([n, digits]) => cell(n, digits)),
        ...(extended ? counts.map(opt) : []),
      ];
    }),
    {
      header,
      columns: extended ? [...MONITOR_COLUMNS, ...EXTENDED_MONITOR_COLUMNS] : [...MONITOR_COLUMNS],
    },
  );
}

const toNumber = (v: string | undefined) => (v === undefined || v === "" ? Number.NaN : Number(v));

/**
 * Read a monitor CSV as written by {@link monitorCsvLines} (or by the original recipe): an empty
 * cell (no reading) is NaN; the extended counts are set only when the file has their columns.
 */
export function parseMonitorCsv(text: string): MonitorRow[] {
  const records = parseCsvRecords(text);
  const extended = records[0]?.ready_replicas !== undefined;
  return records.map((r) => ({
    time: r.time ?? "",
    replicas: Number(r.replicas),
    cpuRequested: toNumber(r.cpu_requested),
    memRequestedKB: toNumber(r.mem_requested_kb),
    cpuLimit: toNumber(r.cpu_limit),
    memLimitKB: toNumber(r.mem_limit_kb),
    cpuUsed: toNumber(r.cpu_used),
    memUsedKB: toNumber(r.mem_used_kb),
    ...(extended
      ? {
          readyReplicas: toNumber(r.ready_replicas),
          pendingReplicas: toNumber(r.pending_replicas),
          unschedulableReplicas: toNumber(r.unschedulable_replicas),
          restarts: toNumber(r.restarts),
        }
      : {}),
  }));
}

export async function readMonitorCsv(path: string): Promise<MonitorRow[]> {
  return parseMonitorCsv(await readFile(path, "utf8"));
}
