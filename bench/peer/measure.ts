/**
 * bench:peer, stage 3: the measurements. The ceiling (Keras model.predict on batches of 32,
 * ceiling.py; tfjs-node on batches of 32, tfjs-raw.ts); each server in turn, alone, on a loopback
 * port: the agreement check, a warm-up, then autocannon on GET /test at concurrency 1, 20 and 30
 * with a fixed number of served requests each, sampling the server's process tree (RSS, CPU time)
 * from /proc; with --soak, more requests at c=20 after them, in parts, RSS per part.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { autocannonLoad, percentile } from "../../tools/strategy-bench/src/benchkit.js";
import { fetch } from "../../tools/strategy-bench/src/http.js";
import { freePort } from "../../tools/strategy-bench/src/net.js";
import { rssSampler, treeMemoryMap, treeUsage } from "../../tools/strategy-bench/src/proc.js";
import { prometheusSamples, samplesOf, sumOf } from "../../tools/strategy-bench/src/prometheus.js";
import { compare, predictProbabilities, type Sample } from "./agreement";
import type { Level, Report, ServerResult } from "./figures";
import { log, MODEL_DIR, PEER_SRC, runJson, type ServerSpec, TSX, WORK } from "./setup";

const LEVELS = [1, 20, 30] as const;

// ---------------------------------------------------------------------------------------------
// the ceiling

/** Keras model.predict on batches of 32 (ceiling.py), alone on the machine. */
export function kerasCeiling(py: string, keras: string, seconds: string): Report["ceiling"] {
  log("ceiling: Keras model.predict, batches of 32");
  return runJson(py, [path.join(PEER_SRC, "ceiling.py"), keras, "--seconds", seconds]);
}

/** tfjs-node on batches of 32 (tfjs-raw.ts), no HTTP. */
export function tfjsRaw(seconds: string): Report["tfjsRaw"] {
  log("our engine alone: tfjs-node, batches of 32");
  return runJson(TSX, [path.join(PEER_SRC, "tfjs-raw.ts"), MODEL_DIR, "32", seconds]);
}

/**
 * ONNX Runtime on the same weights (onnx-raw.ts) from `model` (tf2onnx's conversion, or the
 * server's own model.onnx), batches of 32 and one image; undefined if it failed.
 */
export function onnxRaw(model: string, seconds: string, what: string): Report["onnxRaw"] {
  log(`reference: ONNX Runtime (onnxruntime-node, CPU) on ${what}, batches of 32 and one image`);
  try {
    return runJson(TSX, [path.join(PEER_SRC, "onnx-raw.ts"), model, seconds]);
  } catch (err) {
    log(`ONNX Runtime reference failed: ${(err as Error).message.slice(0, 500)}`);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// a server

interface Running {
  spec: ServerSpec;
  child: ChildProcess;
  base: string;
  /** Where `ready` and /metrics answer: the admin listener for ours, else `base`. */
  adminBase: string;
  startupSeconds: number;
  /** Kills the server's process group if this process exits first; stop() removes it. */
  reap: () => void;
}

/**
 * Starts `spec` on `port` (its own process group) and waits up to 300 s for `ready`. Its output
 * goes to WORK/logs/<id>.log.
 */
async function start(spec: ServerSpec, port: number): Promise<Running> {
  const logFile = path.join(WORK, "logs", `${spec.id}.log`);
  const see = `: see ${logFile}`;
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, "w");
  const [cmd, ...argv] = spec.cmd;
  const adminPort = spec.adminPort ? await freePort() : undefined;
  const t0 = performance.now();
  const child = spawn(cmd as string, argv, {
    cwd: spec.cwd,
    env: {
      ...process.env,
      ...spec.env,
      PORT: String(port),
      ...(adminPort !== undefined ? { ADMIN_PORT: String(adminPort) } : {}),
    },
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  const reap = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
      process.kill(-child.pid, "SIGKILL");
  };
  process.once("exit", reap);
  const base = `http://127.0.0.1:${port}`;
  const adminBase = adminPort !== undefined ? `http://127.0.0.1:${adminPort}` : base;
  const running = { spec, child, base, adminBase, startupSeconds: 0, reap };
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    // A signal (a native crash: SIGSEGV, SIGABRT) leaves exitCode null and sets signalCode.
    if (child.exitCode !== null || child.signalCode !== null) {
      process.off("exit", reap);
      throw new Error(`${spec.id} exited ${child.exitCode ?? child.signalCode}${see}`);
    }
    try {
      const r = await fetch(adminBase + spec.ready);
      if (r.ok) return { ...running, startupSeconds: (performance.now() - t0) / 1000 };
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  await stop(running);
  throw new Error(`${spec.id} not ready after 300 s${see}`);
}

async function stop(r: Running): Promise<void> {
  const { child } = r;
  process.off("exit", r.reap);
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The server was started as its own process group (detached): signal that group only.
  process.kill(-child.pid, "SIGTERM");
  const timeout = sleep(15_000).then(() => "timeout");
  if ((await Promise.race([exited.then(() => "exited"), timeout])) === "timeout") {
    process.kill(-child.pid, "SIGKILL");
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// load

type Sums = Map<string, { sum: number; count: number }>;

/**
 * The sums and counts of ours' per-stage histograms, and of GET /test's HTTP latency, from its
 * Prometheus text (the `_sum` and `_count` samples).
 */
async function stageSums(adminBase: string): Promise<Sums> {
  const samples = prometheusSamples(await (await fetch(`${adminBase}/metrics`)).text());
  const out: Sums = new Map();
  const add = (key: string, part: "sum" | "count", value: number) => {
    const e = out.get(key) ?? { sum: 0, count: 0 };
    e[part] += value;
    out.set(key, e);
  };
  for (const part of ["sum", "count"] as const) {
    for (const s of samplesOf(samples, `inference_duration_seconds_${part}`)) {
      if (s.labels.stage) add(s.labels.stage, part, s.value);
    }
    const http = sumOf(samples, `http_request_duration_seconds_${part}`, {
      method: "GET",
      route: "/test",
    });
    if (http !== undefined) add("http", part, http);
  }
  return out;
}

/** Mean per observation of each series between two scrapes. */
function meansBetween(a: Sums, b: Sums): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, e] of b) {
    const d = a.get(k) ?? { sum: 0, count: 0 };
    const n = e.count - d.count;
    if (n > 0) out.set(k, (e.sum - d.sum) / n);
  }
  return out;
}

/**
 * Sends requests on `connections` connections until `served` 2xx responses have come back. (A
 * fixed count of served responses rather than of sent requests: gunicorn's sync worker closes the
 * connection after each response, and autocannon loses the request it had already written on
 * that connection without counting an error; those were never processed by the server.)
 */
async function load(url: string, connections: number, served: number) {
  const run = await autocannonLoad({
    url,
    connections,
    amount: served * 4 + connections,
    timeout: 120,
    stopAfter: served,
  });
  return {
    latencies: run.latencies,
    failed: run.non2xx + run.result.errors,
    sent: run.result.requests.sent,
    seconds: run.seconds,
  };
}

async function measure(r: Running, concurrency: number, requests: number): Promise<Level> {
  const pid = r.child.pid as number;
  const ours = r.spec.kind === "ours";
  const before = ours ? await stageSums(r.adminBase) : undefined;
  const cpu0 = treeUsage(pid).cpuSeconds;
  const driver0 = process.cpuUsage();
  const sampler = rssSampler(pid);
  const res = await load(`${r.base}/test`, concurrency, requests);
  const peak = sampler.stop();
  const cpu1 = treeUsage(pid).cpuSeconds;
  const driver = process.cpuUsage(driver0);
  const stagesMs = before
    ? Object.fromEntries(
        [...meansBetween(before, await stageSums(r.adminBase))].map(([k, v]) => [k, v * 1000]),
      )
    : undefined;
  const sorted = [...res.latencies].sort((a, b) => a - b);
  const ok = sorted.length;
  return {
    concurrency,
    requests,
    ok,
    sent: res.sent,
    failed: res.failed,
    seconds: res.seconds,
    reqPerSec: ok / res.seconds,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, ok),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    peakRssMiB: peak / 2 ** 20,
    cpuSecondsPerRequest: (cpu1 - cpu0) / Math.max(1, ok),
    driverCpuSecondsPerRequest: (driver.user + driver.system) / 1e6 / Math.max(1, ok),
    ...(stagesMs ? { stagesMs } : {}),
  };
}

/**
 * One server, alone: started on a free loopback port, the agreement check against `reference`
 * (the first server's answers; undefined for the first), the warm-up, each level, the soak (`soak`
 * more requests at c=20 in parts of a tenth, at least 20; none when 0), then stopped.
 * Returns its figures (with `error` if something failed) and its answers on `images`.
 */
export async function measureServer(
  spec: ServerSpec,
  images: Sample[],
  reference: number[][] | undefined,
  requestsFor: (concurrency: number) => number,
  soak: number,
): Promise<{ result: ServerResult; probs?: number[][] }> {
  const port = await freePort();
  const withPort = { ...spec, cmd: spec.cmd.map((a) => a.replace("$PORT", String(port))) };
  const result: ServerResult = {
    id: spec.id,
    label: spec.label,
    kind: spec.kind,
    backend: spec.backend,
    startupSeconds: Number.NaN,
    peakRssMiB: Number.NaN,
    levels: [],
  };
  let probs: number[][] | undefined;
  let r: Running | undefined;
  try {
    log(`${spec.id}: starting (${withPort.cmd.join(" ")})`);
    r = await start(withPort, port);
    result.startupSeconds = r.startupSeconds;
    const answers: number[][] = [];
    for (const img of images)
      answers.push(await predictProbabilities({ id: spec.id, kind: spec.kind, base: r.base }, img));
    probs = answers;
    if (reference) result.agreement = compare(images, reference, answers);
    await load(`${r.base}/test`, 2, 20);
    const pid = r.child.pid as number;
    const idle = treeMemoryMap(pid);
    for (const c of LEVELS) {
      const n = requestsFor(c);
      log(`${spec.id}: c=${c}, ${n} requests`);
      const level = await measure(r, c, n);
      log(
        `${spec.id}: c=${c} ${level.reqPerSec.toFixed(1)} req/s, p50 ${level.p50.toFixed(0)} p95 ${level.p95.toFixed(0)} ms, ` +
          `RSS ${level.peakRssMiB.toFixed(0)} MiB, ${level.cpuSecondsPerRequest.toFixed(3)} CPU s/req`,
      );
      result.levels.push(level);
      await sleep(3000); // let requests still queued at the server drain before the next level
    }
    result.memoryMap = { idle, afterLoad: treeMemoryMap(pid) };
    const part = Math.max(20, Math.round(soak / 10));
    if (soak > 0) log(`${spec.id}: soak, ${soak} requests at c=20 in parts of ${part}`);
    if (soak > 0) result.soak = [];
    for (let done = 0; done < soak; done += part) {
      const level = await measure(r, 20, part);
      result.soak?.push(level);
      log(`${spec.id}: soak ${done + part}: RSS ${level.peakRssMiB.toFixed(0)} MiB`);
    }
    result.peakRssMiB = treeUsage(pid).hwmBytes / 2 ** 20;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${spec.id}: ${result.error}`);
  } finally {
    if (r) await stop(r);
  }
  return { result, probs };
}
