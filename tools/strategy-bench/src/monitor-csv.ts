/**
 * The monitor CSV's one home: its columns, its writer (`strategy-bench monitor`, the cluster run)
 * and its reader (the report, the planner's validation). One row every interval, summed over the
 * app's pods; the extended columns only on a cluster.
 */
import { readFile } from "node:fs/promises";
import { stringify } from "csv-stringify/sync";
import { parseCsvRecords } from "./csv.js";

/**
 * The original recipe's quantity columns (after time and replicas), summed over the app's pods:
 * each row's field, its column, and the decimals it is written with (trailing zeros dropped).
 */
const QUANTITIES = [
  ["cpuRequested", "cpu_requested", 3],
  ["memRequestedKB", "mem_requested_kb", 2],
  ["cpuLimit", "cpu_limit", 3],
  ["memLimitKB", "mem_limit_kb", 2],
  ["cpuUsed", "cpu_used", 6],
  ["memUsedKB", "mem_used_kb", 2],
] as const;

/** The original recipe's columns, one row every interval, summed over the app's pods. */
const MONITOR_COLUMNS = ["time", "replicas", ...QUANTITIES.map(([, column]) => column)];

/**
 * Appended after the original's columns on a cluster (`--columns extended`, the cluster run), each
 * row's field and its column: pods Ready, pods Pending (not yet running or not scheduled), pods
 * the scheduler could not place (PodScheduled=False, reason Unschedulable), and container
 * restarts summed over the live pods.
 */
const EXTENDED_MONITOR_COLUMNS = [
  ["readyReplicas", "ready_replicas"],
  ["pendingReplicas", "pending_replicas"],
  ["unschedulableReplicas", "unschedulable_replicas"],
  ["restarts", "restarts"],
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
    rows.map((r) => [
      r.time,
      r.replicas,
      ...QUANTITIES.map(([field, , digits]) => cell(r[field], digits)),
      ...(extended ? EXTENDED_MONITOR_COLUMNS.map(([field]) => opt(r[field])) : []),
    ]),
    {
      header,
      columns: [
        ...MONITOR_COLUMNS,
        ...(extended ? EXTENDED_MONITOR_COLUMNS.map(([, column]) => column) : []),
      ],
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
  const fields = [...QUANTITIES, ...(extended ? EXTENDED_MONITOR_COLUMNS : [])];
  return records.map((r) => {
    const values = Object.fromEntries(
      fields.map(([field, column]) => [field, toNumber(r[column])]),
    );
    return { time: r.time ?? "", replicas: Number(r.replicas), ...values } as MonitorRow;
  });
}

export async function readMonitorCsv(path: string): Promise<MonitorRow[]> {
  return parseMonitorCsv(await readFile(path, "utf8"));
}
