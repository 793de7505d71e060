import { readFile, writeFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import type { PhaseStats } from "./loadtest.js";

const MB = 1024 * 1024;

function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "";
}

/**
 * The CSV's columns and each one's cell: siege's log columns first (in siege's order), then this
 * tool's additions. Units as siege logs them: seconds, MB (2^20 bytes), trans/sec, MB/sec.
 */
const LOADTEST_COLUMNS: [string, (r: PhaseStats) => string | number][] = [
  ["date", (r) => r.date],
  ["transactions", (r) => r.transactions],
  ["elapsed_time", (r) => fixed(r.elapsedSeconds, 2)],
  ["data_transferred", (r) => fixed(r.bytes / MB, 2)],
  ["response_time", (r) => fixed(r.responseTime, 3)],
  ["transaction_rate", (r) => fixed(r.transactionRate, 2)],
  ["throughput", (r) => fixed(r.throughputBytes / MB, 4)],
  ["concurrency", (r) => fixed(r.concurrency, 2)],
  ["okay", (r) => r.okay],
  ["failed", (r) => r.failed],
  ["phase", (r) => r.phase],
  ["users", (r) => r.users],
  ["delay", (r) => fixed(r.delaySeconds, 3)],
  ["availability", (r) => fixed(r.availability, 2)],
  ["response_time_p50", (r) => fixed(r.p50, 4)],
  ["response_time_p95", (r) => fixed(r.p95, 4)],
  ["response_time_p99", (r) => fixed(r.p99, 4)],
  ["bytes", (r) => r.bytes],
  ["throughput_bytes", (r) => fixed(r.throughputBytes, 1)],
  ["socket_failures", (r) => r.socketFailures],
  ["status_codes", (r) => formatCodesCell(r.statusCodes)],
];

/** The load test's CSV: a header, then a row per phase (and the overall row) as given. */
export function loadtestRows(rows: PhaseStats[]): string {
  return stringify(
    rows.map((r) => LOADTEST_COLUMNS.map(([, cell]) => cell(r))),
    { header: true, columns: LOADTEST_COLUMNS.map(([name]) => name) },
  );
}

/** "200:12 404:3": status codes and counts, one cell. */
function formatCodesCell(codes: Record<string, number> | undefined): string {
  return Object.entries(codes ?? {})
    .map(([c, n]) => `${c}:${n}`)
    .join(" ");
}

function parseCodesCell(cell: string | undefined): Record<string, number> | undefined {
  if (cell === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const part of cell.split(/\s+/).filter(Boolean)) {
    const [code, n] = part.split(":");
    if (code && Number.isFinite(Number(n))) out[code] = Number(n);
  }
  return out;
}

export async function writeLoadtestCsv(path: string, rows: PhaseStats[]): Promise<void> {
  await writeFile(path, loadtestRows(rows));
}

/** Header names as written by this tool, by siege's own log ("Trans", "Resp Time", …) or the monitor. */
const ALIASES: Record<string, string> = {
  dateandtime: "date",
  datetime: "date",
  trans: "transactions",
  transactions: "transactions",
  elapsedtime: "elapsed_time",
  elapsed: "elapsed_time",
  datatrans: "data_transferred",
  datatransferred: "data_transferred",
  resptime: "response_time",
  responsetime: "response_time",
  transrate: "transaction_rate",
  transactionrate: "transaction_rate",
  throughput: "throughput",
  concurrent: "concurrency",
  concurrency: "concurrency",
  okay: "okay",
  ok: "okay",
  failed: "failed",
  phase: "phase",
};

function normalizeHeader(h: string): string {
  const key = h.toLowerCase().replace(/[^a-z0-9]/g, "");
  return (
    ALIASES[key] ??
    h
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
  );
}

export function parseCsvRecords(text: string): Record<string, string>[] {
  return parse(text, {
    columns: (header: string[]) => header.map(normalizeHeader),
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
  }) as Record<string, string>[];
}

export interface LoadtestRow {
  phase: string;
  /** Phase start (ISO 8601), when the CSV has it. */
  date?: string;
  transactions: number;
  elapsedSeconds: number;
  responseTime: number;
  okay: number;
  failed: number;
  /** Socket failures (this tool's CSV only; 0 for a siege log). */
  socketFailures: number;
  users?: number;
  delaySeconds?: number;
  /** Responses by status code (this tool's CSV from this version on). */
  statusCodes?: Record<string, number>;
}

function num(r: Record<string, string>, key: string, file: string): number {
  const v = r[key];
  const n = v === undefined ? Number.NaN : Number(v);
  if (!Number.isFinite(n)) throw new Error(`${file}: column ${key} missing or not a number`);
  return n;
}

/**
 * Read a load test CSV: this tool's (phase rows plus one "all" row, which is skipped) or a siege
 * log (one row per siege run, no phase column).
 */
export function parseLoadtestCsv(text: string, file = "loadtest CSV"): LoadtestRow[] {
  return parseCsvRecords(text)
    .filter((r) => r.phase !== "all")
    .map((r) => {
      const codes = parseCodesCell(r.status_codes);
      const opt = (k: string) => (r[k] === undefined || r[k] === "" ? undefined : Number(r[k]));
      const users = opt("users");
      const delay = opt("delay");
      return {
        phase: r.phase ?? "",
        ...(r.date ? { date: r.date } : {}),
        transactions: num(r, "transactions", file),
        elapsedSeconds: num(r, "elapsed_time", file),
        responseTime: num(r, "response_time", file),
        okay: num(r, "okay", file),
        failed: num(r, "failed", file),
        socketFailures: opt("socket_failures") ?? 0,
        ...(users !== undefined ? { users } : {}),
        ...(delay !== undefined ? { delaySeconds: delay } : {}),
        ...(codes ? { statusCodes: codes } : {}),
      };
    });
}

export async function readLoadtestCsv(path: string): Promise<LoadtestRow[]> {
  return parseLoadtestCsv(await readFile(path, "utf8"), path);
}

/**
 * The whole run's response-time percentiles (this tool's CSV: its "all" row, over every OKAY
 * response; phase rows cannot be merged into a percentile). An error when the CSV has no such row.
 */
export function parseLoadtestPercentiles(
  text: string,
  file = "loadtest CSV",
): { p50: number; p95: number } {
  const all = parseCsvRecords(text).find((r) => r.phase === "all");
  if (!all) throw new Error(`${file}: no "all" row (the whole run's percentiles)`);
  return {
    p50: num(all, "response_time_p50", file),
    p95: num(all, "response_time_p95", file),
  };
}

export async function readLoadtestPercentiles(path: string): Promise<{ p50: number; p95: number }> {
  return parseLoadtestPercentiles(await readFile(path, "utf8"), path);
}
