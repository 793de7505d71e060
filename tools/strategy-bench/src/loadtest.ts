import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { build as buildHistogram, type Histogram } from "hdr-histogram-js";
import { Pool } from "./http.js";
import { type Schedule, scheduleSeconds } from "./schedule.js";
import { phaseUsers, type SiegeUser } from "./siege-users.js";

/**
 * A siege-like load test on undici: each phase runs `users` concurrent user loops for
 * `durationSeconds`; before each request a user sleeps a random 0..delaySeconds (siege -d).
 * Counting follows siege's manual:
 * - transactions: every HTTP response received (any status), "server hits";
 * - OKAY: responses with a status below 400 (2xx and 3xx);
 * - failed: responses with a status of 400 or more, plus socket failures (refused, reset, timeout);
 * - availability: transactions / (transactions + socket failures), socket failures only;
 * - response time: mean over transactions, request start to last body byte;
 * - concurrency: total response time / elapsed time;
 * - transaction rate: transactions / elapsed; throughput: body bytes / elapsed.
 * When a phase's time is up no user starts a new request. Requests still in flight are, by
 * default, waited for (up to the request timeout) and counted, and the phase's elapsed time
 * includes that wait ("drain"): dropping them would drop the slowest responses, which matters for
 * shortened schedules. `inFlight: "abort"` instead aborts them uncounted, as siege does when its
 * -t expires.
 */

export interface LoadtestOptions {
  url: URL;
  schedule: Schedule;
  seed: number;
  /** Per-request timeout (connect, headers, body), seconds. siege's default is 30. */
  timeoutSeconds?: number;
  /** What happens to requests in flight when a phase ends (default "drain"). */
  inFlight?: "drain" | "abort";
  /** Pause after a socket failure, seconds, so a dead server is not hammered in a tight loop. */
  failurePauseSeconds?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  phaseIndex: number;
  phases: number;
  elapsedSeconds: number;
  totalSeconds: number;
  transactions: number;
  failed: number;
}

export interface PhaseStats {
  /** 1-based phase number, or "all" for the overall row. */
  phase: number | "all";
  users: number;
  delaySeconds: number;
  date: string;
  transactions: number;
  okay: number;
  failed: number;
  socketFailures: number;
  elapsedSeconds: number;
  bytes: number;
  /** Sum of the transactions' response times, seconds. */
  totalResponseSeconds: number;
  responseTime: number;
  p50: number;
  p95: number;
  p99: number;
  transactionRate: number;
  throughputBytes: number;
  concurrency: number;
  availability: number;
  /** Responses by HTTP status code ("200": 12, "404": 3); socket failures are not in it. */
  statusCodes: Record<string, number>;
}

export interface LoadtestResult {
  url: string;
  schedule: string;
  seed: number;
  phases: PhaseStats[];
  overall: PhaseStats;
  aborted: boolean;
}

class Recorder {
  transactions = 0;
  okay = 0;
  failedStatus = 0;
  socketFailures = 0;
  bytes = 0;
  totalResponseSeconds = 0;
  readonly statusCodes = new Map<number, number>();
  readonly histogram: Histogram = newHistogram();

  response(status: number, seconds: number, bytes: number): void {
    this.transactions++;
    this.statusCodes.set(status, (this.statusCodes.get(status) ?? 0) + 1);
    if (status < 400) this.okay++;
    else this.failedStatus++;
    this.bytes += bytes;
    this.totalResponseSeconds += seconds;
    this.histogram.recordValue(Math.max(1, Math.round(seconds * 1e6)));
  }

  socketFailure(): void {
    this.socketFailures++;
  }

  /** Adds another recorder's counts to these (a phase's to the whole run's). */
  add(r: Recorder): void {
    this.transactions += r.transactions;
    this.okay += r.okay;
    this.failedStatus += r.failedStatus;
    this.socketFailures += r.socketFailures;
    this.bytes += r.bytes;
    this.totalResponseSeconds += r.totalResponseSeconds;
    this.histogram.add(r.histogram);
    for (const [code, n] of r.statusCodes) {
      this.statusCodes.set(code, (this.statusCodes.get(code) ?? 0) + n);
    }
  }
}

/** A recorder's counts (a phase's, or the whole run's), as {@link summarize} reads them. */
type Counts = Omit<Recorder, "response" | "socketFailure" | "add">;

function newHistogram(): Histogram {
  // Microseconds, 3 significant digits, resizes itself beyond an hour.
  return buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000 });
}

export function summarize(
  phase: number | "all",
  users: number,
  delaySeconds: number,
  date: string,
  elapsedSeconds: number,
  r: Counts,
): PhaseStats {
  const el = elapsedSeconds;
  const pct = (q: number) => (r.transactions === 0 ? 0 : r.histogram.getValueAtPercentile(q) / 1e6);
  const attempts = r.transactions + r.socketFailures;
  return {
    phase,
    users,
    delaySeconds,
    date,
    transactions: r.transactions,
    okay: r.okay,
    failed: r.failedStatus + r.socketFailures,
    socketFailures: r.socketFailures,
    elapsedSeconds: el,
    bytes: r.bytes,
    totalResponseSeconds: r.totalResponseSeconds,
    responseTime: r.transactions === 0 ? 0 : r.totalResponseSeconds / r.transactions,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    transactionRate: el > 0 ? r.transactions / el : 0,
    throughputBytes: el > 0 ? r.bytes / el : 0,
    concurrency: el > 0 ? r.totalResponseSeconds / el : 0,
    availability: attempts === 0 ? 0 : (100 * r.transactions) / attempts,
    statusCodes: Object.fromEntries(
      [...r.statusCodes].sort(([a], [b]) => a - b).map(([code, n]) => [String(code), n]),
    ),
  };
}

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof Error && err.name === "AbortError");
}

/** One siege user on the clock (its rule: siege-users.ts, times in epoch seconds). */
async function userLoop(
  pool: Pool,
  path: string,
  user: SiegeUser,
  rec: Recorder,
  stopNew: AbortSignal,
  signal: AbortSignal,
  timeoutMs: number,
  failurePauseMs: number,
): Promise<void> {
  const deadline = user.deadline * 1000;
  while (!stopNew.aborted && !signal.aborted) {
    const now = Date.now();
    const at = user.nextRequestAt(now / 1000);
    if (at === undefined) return;
    const delayMs = at * 1000 - now;
    if (delayMs > 0) {
      try {
        await sleep(delayMs, undefined, { signal: stopNew });
      } catch {
        return;
      }
    }
    if (Date.now() >= deadline) return;
    const t0 = performance.now();
    try {
      const res = await pool.request({
        path,
        method: "GET",
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      let bytes = 0;
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
      rec.response(res.statusCode, (performance.now() - t0) / 1000, bytes);
    } catch (err) {
      if (isAbort(err, signal)) return;
      rec.socketFailure();
      if (failurePauseMs > 0) {
        try {
          await sleep(failurePauseMs, undefined, { signal: stopNew });
        } catch {
          return;
        }
      }
    }
    user.responded();
  }
}

export async function runLoadtest(opts: LoadtestOptions): Promise<LoadtestResult> {
  const timeoutMs = (opts.timeoutSeconds ?? 30) * 1000;
  const failurePauseMs = (opts.failurePauseSeconds ?? 0.05) * 1000;
  const maxUsers = Math.max(1, ...opts.schedule.phases.map((p) => p.users));
  const path = `${opts.url.pathname}${opts.url.search}`;
  // One pool per run, bounded to the largest number of users: one connection per user at most.
  const pool = new Pool(opts.url.origin, {
    connections: maxUsers,
    pipelining: 1,
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const totalSeconds = scheduleSeconds(opts.schedule);
  const phases: PhaseStats[] = [];
  const all = new Recorder();
  let elapsedAll = 0;
  const runStart = Date.now();
  let aborted = false;
  try {
    for (const [i, phase] of opts.schedule.phases.entries()) {
      if (opts.signal?.aborted) {
        aborted = true;
        break;
      }
      const rec = new Recorder();
      const date = new Date().toISOString();
      const started = Date.now();
      const deadline = started + phase.durationSeconds * 1000;
      // stopNew: the phase's time is up (no new requests); ctl: abort requests in flight.
      const stopNew = new AbortController();
      const ctl = new AbortController();
      // Every user's sleep and request listens on these: one listener per user, not a leak.
      setMaxListeners(0, stopNew.signal, ctl.signal);
      const onOuterAbort = () => {
        stopNew.abort();
        ctl.abort();
      };
      opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
      const timer = setTimeout(
        () => {
          stopNew.abort();
          if (opts.inFlight === "abort") ctl.abort();
        },
        Math.max(0, deadline - Date.now()),
      );
      const ticker = opts.onProgress
        ? setInterval(() => {
            opts.onProgress?.({
              phaseIndex: i,
              phases: opts.schedule.phases.length,
              elapsedSeconds: (Date.now() - runStart) / 1000,
              totalSeconds,
              transactions: all.transactions + rec.transactions,
              failed: all.failedStatus + all.socketFailures + rec.failedStatus + rec.socketFailures,
            });
          }, 250)
        : undefined;
      try {
        await Promise.all(
          phaseUsers(phase, i, opts.seed, started / 1000).map((user) =>
            userLoop(pool, path, user, rec, stopNew.signal, ctl.signal, timeoutMs, failurePauseMs),
          ),
        );
      } finally {
        clearTimeout(timer);
        if (ticker) clearInterval(ticker);
        opts.signal?.removeEventListener("abort", onOuterAbort);
      }
      // A phase lasts its full time unless every user finished its reps earlier; when draining,
      // until its last response.
      const took = (Date.now() - started) / 1000;
      const elapsed = opts.inFlight === "abort" ? Math.min(phase.durationSeconds, took) : took;
      elapsedAll += elapsed;
      phases.push(summarize(i + 1, phase.users, phase.delaySeconds, date, elapsed, rec));
      all.add(rec);
      if (opts.signal?.aborted) aborted = true;
    }
  } finally {
    await pool.destroy().catch(() => undefined);
  }
  const overall = summarize(
    "all",
    maxUsers,
    Number.NaN,
    new Date(runStart).toISOString(),
    elapsedAll,
    all,
  );
  return {
    url: opts.url.toString(),
    schedule: opts.schedule.name,
    seed: opts.seed,
    phases,
    overall,
    aborted,
  };
}

/** "200: 12, 404: 3" (and the socket failures), for a log line or a table cell. */
export function formatStatusCodes(codes: Record<string, number>, socketFailures = 0): string {
  const parts = Object.entries(codes).map(([c, n]) => `${c}: ${n.toLocaleString("en-US")}`);
  if (socketFailures > 0) parts.push(`socket failures: ${socketFailures.toLocaleString("en-US")}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

/**
 * Why a run cannot be trusted, or undefined: no request at all, or most requests failing (a 4xx
 * or 5xx answer, or a socket failure). A wrong path answers 404 every time, which still counts
 * as "available" in siege's sense.
 */
export function loadtestProblem(r: Pick<LoadtestResult, "url" | "overall">): string | undefined {
  const a = r.overall;
  const attempts = a.transactions + a.socketFailures;
  const codes = formatStatusCodes(a.statusCodes, a.socketFailures);
  if (attempts === 0) return `no request was sent to ${r.url} (the schedule sent nothing)`;
  if (a.okay * 2 > attempts) return undefined;
  const status4xx = Object.entries(a.statusCodes)
    .filter(([c]) => c.startsWith("4"))
    .reduce((n, [, k]) => n + k, 0);
  const hint =
    status4xx * 2 > attempts
      ? `most answers are 4xx: check the URL's path (${new URL(r.url).pathname}); the server's test route is /test`
      : a.socketFailures * 2 > attempts
        ? "most requests got no answer: is the server up and reachable at this address?"
        : "most answers are errors: see the server's log";
  return (
    `most requests failed: ${a.okay.toLocaleString("en-US")} of ${attempts.toLocaleString("en-US")} ` +
    `succeeded against ${r.url} (${codes}); ${hint}`
  );
}
