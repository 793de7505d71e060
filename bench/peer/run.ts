/**
 * Side-by-side benchmark: the original recipe's server (Flask + TensorFlow/Keras, bench/peer/app.py)
 * against ours (app/, Fastify + tfjs on tfjs-node and on WASM), same model, same machine, same load.
 *
 *   npm run bench:peer [-- --scale 1 --peers gunicorn,gunicorn2 --ours tensorflow,wasm --no-doc]
 *
 * 1. setup (idempotent, cached in ${FOOD11_CACHE:-~/.cache/food11}): the Python virtualenv from
 *    bench/peer/requirements.txt; tfjs-node from app/scripts/tfjs-node-local.sh; the demo model
 *    (npm run model:demo) and its weights written into a Keras .keras model (make_keras_model.py);
 *    app/ compiled to app/dist;
 * 2. the ceiling: Keras model.predict on batches of 32 (ceiling.py), and tfjs-node on batches of 32
 *    (tfjs-raw.ts), each alone on the machine;
 * 3. each server in turn, alone, on a loopback port: the agreement check (the same generated
 *    images through both servers' POST /predict: same top-1 label, probabilities within TOLERANCE),
 *    a warm-up, then autocannon on GET /test at concurrency 1, 20 and 30 with a fixed number of
 *    requests each, sampling the server's process tree (RSS, CPU time) from /proc;
 * 4. the table into docs/benchmarks.md between <!-- bench:peer:start --> and <!-- bench:peer:end -->,
 *    and the raw figures to runs/bench-peer/<time>.json.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import sharp from "sharp";
import { mulberry32 } from "../../app/src/inference/prng.js";
import { freePort } from "../../tools/strategy-bench/src/net.js";
import { rssSampler, treeUsage } from "./procfs";

const ROOT = path.resolve(__dirname, "../..");
const APP = path.join(ROOT, "app");
const PEER_SRC = __dirname;
const CACHE = process.env.FOOD11_CACHE ?? path.join(os.homedir(), ".cache", "food11");
const WORK = path.join(CACHE, "peer");
const MODEL_DIR = path.join(APP, "models", "demo");
const TEST_IMAGE = path.join(APP, "assets", "test.jpg");
const DOC = path.join(ROOT, "docs", "benchmarks.md");
const LEVELS = [1, 20, 30] as const;
/**
 * Largest absolute difference allowed between the two servers' probabilities for one class: on
 * 224x224 PNG images (no resize, lossless decode: the model alone), and on images both servers
 * must resize (sharp's and PIL's bicubic differ slightly, and so do JPEG decoders).
 */
const EXACT_TOLERANCE = 1e-3;
const RESIZED_TOLERANCE = 0.1;
const AGREEMENT_IMAGES = 24;
/**
 * gunicorn's gthread worker with one thread: like the default sync worker, one request at a time
 * per worker process, but with HTTP keep-alive. The sync worker closes every connection, and
 * autocannon's per-request latencies are then wrong (measured here: 8.7 req/s at concurrency 1
 * with a p50 of 2.4 s), so it cannot be measured with the same client.
 */
const GUNICORN_WORKER = [
  "-k",
  "gthread",
  "--threads",
  "1",
  "--keep-alive",
  "5",
  "--timeout",
  "120",
];

const { values: args } = parseArgs({
  options: {
    scale: { type: "string", default: "1" },
    peers: { type: "string", default: "gunicorn,gunicorn2" },
    ours: { type: "string", default: "tensorflow,wasm" },
    "ceiling-seconds": { type: "string", default: "20" },
    "no-doc": { type: "boolean", default: false },
    /** Re-render the table from a saved runs/bench-peer/*.json instead of measuring. */
    render: { type: "string" },
  },
});
const scale = Number(args.scale);
const requestsFor = (c: number) => Math.max(c, Math.round((c === 1 ? 100 : 20 * c) * scale));

const log = (msg: string) =>
  console.error(`[bench:peer ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function run(cmd: string, argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, argv, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${argv.join(" ")} exited ${r.status}:\n${r.stderr?.slice(-4000)}`);
  }
  return r.stdout;
}

function sha(files: string[]): string {
  const h = createHash("sha256");
  for (const f of files) h.update(readFileSync(f));
  return h.digest("hex").slice(0, 12);
}

// ---------------------------------------------------------------------------------------------
// setup

function ensureVenv(): string {
  const req = path.join(PEER_SRC, "requirements.txt");
  const venv = path.join(CACHE, `venv-peer-${sha([req])}`);
  const py = path.join(venv, "bin", "python");
  if (!existsSync(path.join(venv, ".complete"))) {
    log(`creating ${venv} (pip install -r bench/peer/requirements.txt)`);
    run("python3", ["-m", "venv", venv]);
    run("nice", [
      "-n",
      "19",
      py,
      "-m",
      "pip",
      "install",
      "--quiet",
      "--find-links",
      path.join(CACHE, "wheels"),
      "-r",
      req,
    ]);
    writeFileSync(path.join(venv, ".complete"), "");
  }
  return py;
}

function ensureTfjsNode(): { ok: boolean; why: string } {
  const r = spawnSync("bash", [path.join(ROOT, "app", "scripts", "tfjs-node-local.sh")], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const last = (r.stderr ?? "").trim().split("\n").pop() ?? "";
  return { ok: r.status === 0, why: last };
}

function ensureKerasModel(py: string): string {
  run("npm", ["--prefix", "app", "run", "--silent", "model:demo"]);
  const manifest = JSON.parse(readFileSync(path.join(MODEL_DIR, "model.json"), "utf8")) as {
    weightsManifest: { paths: string[] }[];
  };
  const files = [
    path.join(MODEL_DIR, "model.json"),
    ...manifest.weightsManifest.flatMap((g) => g.paths.map((p) => path.join(MODEL_DIR, p))),
  ];
  mkdirSync(WORK, { recursive: true });
  const out = path.join(WORK, `demo-${sha(files)}.keras`);
  if (!existsSync(out)) {
    log(`writing the demo model's weights into ${out}`);
    run(py, [path.join(PEER_SRC, "make_keras_model.py"), MODEL_DIR, out]);
  }
  return out;
}

function buildOurs(): string[] {
  log("compiling app/ (tsc -p app -> app/dist)");
  const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "app"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (r.status !== 0)
    log(`tsc -p app reported errors (emitted anyway):\n${r.stdout.slice(0, 2000)}`);
  if (existsSync(path.join(APP, "dist", "server.js"))) return ["node", "dist/server.js"];
  log("app/dist/server.js missing: running src/server.ts through tsx");
  return ["node", "--import", "tsx", "src/server.ts"];
}

// ---------------------------------------------------------------------------------------------
// servers

interface ServerSpec {
  id: string;
  label: string;
  kind: "original" | "ours";
  backend: string;
  cmd: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  ready: string;
}

interface Running {
  spec: ServerSpec;
  child: ChildProcess;
  base: string;
  startupSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(spec: ServerSpec, port: number): Promise<Running> {
  mkdirSync(path.join(WORK, "logs"), { recursive: true });
  const logFile = path.join(WORK, "logs", `${spec.id}.log`);
  const fd = openSync(logFile, "w");
  const [cmd, ...argv] = spec.cmd;
  const t0 = performance.now();
  const child = spawn(cmd as string, argv, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env, PORT: String(port) },
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${spec.id} exited ${child.exitCode}: see ${logFile}`);
    try {
      const r = await fetch(base + spec.ready);
      if (r.ok) {
        return { spec, child, base, startupSeconds: (performance.now() - t0) / 1000 };
      }
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  await stop({ spec, child, base, startupSeconds: 0 });
  throw new Error(`${spec.id} not ready after 300 s: see ${logFile}`);
}

async function stop(r: Running): Promise<void> {
  const { child } = r;
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
// agreement check

interface Sample {
  name: string;
  type: string;
  bytes: Buffer;
  /** 224x224 PNG: no resize, lossless decode, so both servers feed the model the same pixels. */
  exact: boolean;
}

/** Deterministic test images: smooth random colour fields plus noise, various sizes, PNG and JPEG. */
async function makeImages(n: number): Promise<Sample[]> {
  const sizes = [
    [224, 224],
    [320, 240],
    [640, 480],
    [224, 224],
    [240, 360],
    [1024, 768],
    [500, 375],
    [224, 224],
  ] as const;
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const rnd = mulberry32(1000 + i);
    const [w, h] = sizes[i % sizes.length] as readonly [number, number];
    const waves = Array.from({ length: 3 }, () =>
      Array.from({ length: 3 }, () => ({
        fx: (rnd() * 6 + 0.5) / w,
        fy: (rnd() * 6 + 0.5) / h,
        ph: rnd() * 2 * Math.PI,
        amp: 40 + rnd() * 60,
      })),
    );
    const base = [rnd() * 255, rnd() * 255, rnd() * 255];
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let v = base[c] as number;
          for (const wv of waves[c] ?? []) {
            v += wv.amp * Math.sin(2 * Math.PI * (wv.fx * x + wv.fy * y) + wv.ph);
          }
          v += (rnd() - 0.5) * 30;
          raw[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
    const png = i % 2 === 0 || (w === 224 && h === 224);
    const bytes = png ? await img.png().toBuffer() : await img.jpeg({ quality: 92 }).toBuffer();
    out.push({
      name: `gen-${i}-${w}x${h}.${png ? "png" : "jpg"}`,
      type: png ? "image/png" : "image/jpeg",
      bytes,
      exact: png && w === 224 && h === 224,
    });
  }
  return out;
}

async function predictProbabilities(r: Running, s: Sample): Promise<number[]> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(s.bytes)], { type: s.type }), s.name);
  const url = r.spec.kind === "ours" ? `${r.base}/predict?topk=11` : `${r.base}/predict`;
  const res = await fetch(url, { method: "POST", body: form });
  if (!res.ok)
    throw new Error(`${r.spec.id} /predict ${s.name}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    probabilities?: number[];
    top?: { index: number; probability: number }[];
  };
  if (body.probabilities) return body.probabilities;
  const probs = new Array<number>(11).fill(0);
  for (const t of body.top ?? []) probs[t.index] = t.probability;
  return probs;
}

const argmax = (p: number[]) => p.reduce((best, v, i) => (v > (p[best] as number) ? i : best), 0);

interface AgreementPart {
  images: number;
  sameTop1: number;
  /** Images whose top-1 differs but whose reference top-2 margin is within the tolerance. */
  nearTies: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  tolerance: number;
  ok: boolean;
}

interface Agreement {
  exact: AgreementPart;
  resized: AgreementPart;
  ok: boolean;
}

function comparePart(ref: number[][], got: number[][], tolerance: number): AgreementPart {
  let same = 0;
  let nearTies = 0;
  let maxAbs = 0;
  let sumAbs = 0;
  let count = 0;
  ref.forEach((p, i) => {
    const q = got[i] as number[];
    if (argmax(p) === argmax(q)) same++;
    else {
      const sorted = [...p].sort((a, b) => b - a);
      if ((sorted[0] as number) - (sorted[1] as number) <= tolerance) nearTies++;
    }
    p.forEach((v, c) => {
      const d = Math.abs(v - (q[c] as number));
      maxAbs = Math.max(maxAbs, d);
      sumAbs += d;
      count++;
    });
  });
  return {
    images: ref.length,
    sameTop1: same,
    nearTies,
    maxAbsDiff: maxAbs,
    meanAbsDiff: sumAbs / Math.max(1, count),
    tolerance,
    ok: same + nearTies === ref.length && maxAbs <= tolerance,
  };
}

function compare(images: Sample[], ref: number[][], got: number[][]): Agreement {
  const pick = (exact: boolean, rows: number[][]) =>
    rows.filter((_, i) => images[i]?.exact === exact);
  const exact = comparePart(pick(true, ref), pick(true, got), EXACT_TOLERANCE);
  const resized = comparePart(pick(false, ref), pick(false, got), RESIZED_TOLERANCE);
  return { exact, resized, ok: exact.ok && resized.ok };
}

// ---------------------------------------------------------------------------------------------
// load

interface Level {
  concurrency: number;
  requests: number;
  ok: number;
  /** Requests autocannon wrote (see load()). */
  sent: number;
  failed: number;
  seconds: number;
  reqPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  peakRssMiB: number;
  cpuSecondsPerRequest: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/**
 * Sends requests on `connections` connections until `served` 2xx responses have come back. (A
 * fixed count of served responses rather than of sent requests: gunicorn's sync worker closes the
 * connection after each response, and autocannon loses the request it had already written on
 * that connection without counting an error; those were never processed by the server.)
 */
function load(url: string, connections: number, served: number) {
  return new Promise<{ latencies: number[]; failed: number; sent: number; seconds: number }>(
    (resolve, reject) => {
      const latencies: number[] = [];
      let failed = 0;
      const t0 = performance.now();
      let t1 = 0;
      const inst = autocannon(
        { url, connections, amount: served * 4 + connections, timeout: 120 },
        (err, result) => {
          if (err) reject(err);
          else
            resolve({
              latencies,
              failed: failed + result.errors,
              sent: result.requests.sent,
              seconds: ((t1 || performance.now()) - t0) / 1000,
            });
        },
      );
      inst.on("response", (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) {
          if (latencies.length < served) latencies.push(ms);
          if (latencies.length === served && !t1) {
            t1 = performance.now();
            inst.stop();
          }
        } else failed++;
      });
    },
  );
}

async function measure(r: Running, concurrency: number, requests: number): Promise<Level> {
  const pid = r.child.pid as number;
  const cpu0 = treeUsage(pid).cpuSeconds;
  const sampler = rssSampler(pid);
  const res = await load(`${r.base}/test`, concurrency, requests);
  const peak = sampler.stop();
  const cpu1 = treeUsage(pid).cpuSeconds;
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
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    peakRssMiB: peak / 2 ** 20,
    cpuSecondsPerRequest: (cpu1 - cpu0) / Math.max(1, ok),
  };
}

interface ServerResult {
  id: string;
  label: string;
  kind: string;
  backend: string;
  startupSeconds: number;
  /** Sum over the process tree of each process' VmHWM at the end of the run. */
  peakRssMiB: number;
  levels: Level[];
  agreement?: Agreement;
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// report

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "—");
const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "—");
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "—");
const ratio = (a: number, b: number) =>
  Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : "—";

interface Report {
  startedAt: string;
  finishedAt: string;
  machine: { nproc: number; cpu: string; memGiB: number; loadBefore: string; loadAfter: string };
  versions: Record<string, string>;
  scale: number;
  ceiling?: Record<string, unknown> & { predictBatch: { imagesPerSec: number } };
  ceilingOnBatch?: number;
  tfjsRaw?: Record<string, unknown> & {
    predictBatch: { imagesPerSec: number };
    predictSingle: { imagesPerSec: number };
  };
  tfjsNode: { ok: boolean; why: string };
  servers: ServerResult[];
  batching?: {
    backend: string;
    concurrency: number;
    runs: { maxBatchSize: number; images: number; imagesPerSec: number; meanBatch: number }[];
  };
}

function ceilingOf(rep: Report): number {
  const c = rep.ceiling as
    | { predictBatch: { imagesPerSec: number }; predictOnBatch: { imagesPerSec: number } }
    | undefined;
  return c ? Math.max(c.predictBatch.imagesPerSec, c.predictOnBatch.imagesPerSec) : Number.NaN;
}

function renderMarkdown(rep: Report): string {
  const ceiling = ceilingOf(rep);
  const original = rep.servers.find((s) => s.id === "original-gunicorn" && !s.error);
  const origAt = (c: number) => original?.levels.find((l) => l.concurrency === c);
  const lines: string[] = [];
  lines.push(
    `Run ${rep.startedAt} → ${rep.finishedAt} (UTC) on ${rep.machine.nproc} cores (${rep.machine.cpu}), ` +
      `${rep.machine.memGiB} GiB; load average before ${rep.machine.loadBefore}, after ${rep.machine.loadAfter} ` +
      "(the machine is shared: other jobs may have run during the measurement).",
    "",
    `Command: \`npm run bench:peer${rep.scale !== 1 ? ` -- --scale ${rep.scale}` : ""}\` (bench/peer/run.ts). ` +
      "Same model in both (the seeded demo MobileNetV2 + GAP + Dense(11), 2,272,075 parameters, its tfjs " +
      "weights written layer by layer into a Keras `.keras` model), same bundled image (app/assets/test.jpg) " +
      "on `GET /test`, each server alone on the machine on a loopback port, autocannon in the driver process " +
      "(on the same 2 cores), a fixed number of served requests per level (100 at c=1, 20×c otherwise, " +
      "times --scale) after a 20-request warm-up; latencies are autocannon's per-request times, percentiles " +
      "nearest-rank; CPU s/req = user+system time of the server's process tree over the level / requests served.",
    "",
    "The original: bench/peer/app.py (Flask, Keras `model.predict` per request, PIL bicubic, /255) under " +
      "gunicorn (the production WSGI server such a recipe ships) with 1 worker process handling one request at " +
      "a time (TensorFlow's own thread pools use both cores), and with 2 (one per core) as a tuned variant; " +
      "worker class gthread with 1 thread, i.e. the default sync worker's one-at-a-time processing plus HTTP " +
      "keep-alive: with the sync worker, which closes every connection, autocannon's latencies were wrong " +
      "(8.7 req/s at c=1 with a p50 of 2.4 s). Flask's own threaded server was tried but left out: it answers " +
      "`Connection: close` in a way autocannon stalls on (120 s timeouts). Ours: `node app/dist/server.js` " +
      "with TFJS_BACKEND=tensorflow or wasm, PREPROCESS=unit, LOG_LEVEL=warn (gunicorn logs no access " +
      "lines either), MALLOC_ARENA_MAX=2 (as the image sets it), INFERENCE_THREADS default (= 2 cores), " +
      "MAX_BATCH_SIZE the server's default (8 on tfjs-node, 1 on WASM).",
    "",
    `Versions: ${Object.entries(rep.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
    "| server | c | requests | req/s | p50 ms | p95 ms | p99 ms | peak RSS MiB | CPU s/req | req/s vs original | req/s vs ceiling |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const s of rep.servers) {
    if (s.error) {
      lines.push(
        `| ${s.label} | — | — | failed: ${s.error.split("\n")[0]?.slice(0, 120)} | | | | | | | |`,
      );
      continue;
    }
    for (const l of s.levels) {
      const o = origAt(l.concurrency);
      lines.push(
        `| ${s.label} | ${l.concurrency} | ${l.ok}${l.failed ? ` (+${l.failed} failed)` : ""} | ${f1(l.reqPerSec)} | ` +
          `${f0(l.p50)} | ${f0(l.p95)} | ${f0(l.p99)} | ${f0(l.peakRssMiB)} | ${f3(l.cpuSecondsPerRequest)} | ` +
          `${o ? ratio(l.reqPerSec, o.reqPerSec) : "—"} | ${ratio(l.reqPerSec, ceiling)} |`,
      );
    }
  }
  lines.push("");
  const c = rep.ceiling as
    | {
        batch: number;
        predictBatch: { imagesPerSec: number; msPerCall: number };
        predictOnBatch: { imagesPerSec: number; msPerCall: number };
        predictSingle: { imagesPerSec: number; msPerCall: number };
      }
    | undefined;
  if (c) {
    lines.push(
      `Ceiling (TensorFlow's own batched throughput, ceiling.py, no HTTP, no decoding): Keras \`model.predict\` on ` +
        `batches of ${c.batch}: **${f1(c.predictBatch.imagesPerSec)} images/s** (${f0(c.predictBatch.msPerCall)} ms per batch); ` +
        `\`predict_on_batch\`: ${f1(c.predictOnBatch.imagesPerSec)} images/s; \`model.predict\` on one image ` +
        `(what the original server calls per request): ${f1(c.predictSingle.imagesPerSec)} images/s ` +
        `(${f0(c.predictSingle.msPerCall)} ms). The ratios above use the best batched figure, ${f1(ceiling)} images/s.`,
    );
  }
  if (rep.tfjsRaw) {
    const t = rep.tfjsRaw as unknown as {
      batch: number;
      predictBatch: { imagesPerSec: number; msPerCall: number };
      predictSingle: { imagesPerSec: number; msPerCall: number };
    };
    lines.push(
      "",
      `Our engine alone (tfjs-raw.ts: tfjs-node on TensorFlow ${rep.versions["tensorflow (libs)"] ?? "?"}, no HTTP): ` +
        `batches of ${t.batch}: ${f1(t.predictBatch.imagesPerSec)} images/s (${ratio(t.predictBatch.imagesPerSec, ceiling)} of the ceiling); ` +
        `one image per call: ${f1(t.predictSingle.imagesPerSec)} images/s (${f0(t.predictSingle.msPerCall)} ms).`,
    );
  } else {
    lines.push("", `tfjs-node: not available here (${rep.tfjsNode.why}).`);
  }
  lines.push("", "Agreement (same generated images through both servers' `POST /predict`):", "");
  const part = (name: string, a: AgreementPart) =>
    `${name}: top-1 equal on ${a.sameTop1}/${a.images}` +
    `${a.nearTies ? ` (+${a.nearTies} near-ties: reference top-2 margin ≤ ${a.tolerance})` : ""}, ` +
    `largest probability difference ${a.maxAbsDiff.toExponential(1)}, mean ${a.meanAbsDiff.toExponential(1)} ` +
    `(tolerance ${a.tolerance})`;
  for (const s of rep.servers) {
    const a = s.agreement;
    if (!a) continue;
    lines.push(
      `- ${s.label} vs the original: ${part("224×224 PNG (same pixels, the model alone)", a.exact)}; ` +
        `${part("resized PNG/JPEG (sharp vs PIL bicubic, two JPEG decoders)", a.resized)} → ` +
        `${a.ok ? "**agree**" : "**DISAGREE**"}.`,
    );
  }
  if (rep.batching) {
    const b = rep.batching;
    lines.push(
      "",
      `What dynamic batching would give (batching.ts: the server's own inference module, ` +
        `\`createClassifier({ backend: "${b.backend}", maxBatchSize })\`, decoding + preprocessing + inference of ` +
        `the test image, ${b.concurrency} callers in a closed loop, no HTTP; the server's default is 8 on tfjs-node): ` +
        b.runs
          .map(
            (r) =>
              `maxBatchSize ${r.maxBatchSize}: ${f1(r.imagesPerSec)} images/s (mean batch ${r.meanBatch}, ` +
              `${ratio(r.imagesPerSec, ceiling)} of the ceiling)`,
          )
          .join("; ") +
        ".",
    );
  }
  lines.push("", "Goals (ours on tfjs-node against the original on gunicorn, concurrency 20):", "");
  const ours = rep.servers.find((s) => s.id === "ours-tensorflow" && !s.error);
  const o20 = origAt(20);
  const u20 = ours?.levels.find((l) => l.concurrency === 20);
  if (ours && o20 && u20 && original) {
    const thr = u20.reqPerSec / o20.reqPerSec;
    const p95 = u20.p95 / o20.p95;
    const rss = ours.peakRssMiB / original.peakRssMiB;
    const best = Math.max(...ours.levels.map((l) => l.reqPerSec));
    const ofCeiling = best / ceiling;
    const verdict = (met: boolean) => (met ? "**met**" : "**missed**");
    lines.push(
      `- throughput ≥ 2× the original: ${f1(u20.reqPerSec)} vs ${f1(o20.reqPerSec)} req/s = ${thr.toFixed(2)}× → ${verdict(thr >= 2)}` +
        `${thr >= 2 ? "" : ` (short by ${(2 - thr).toFixed(2)}×)`};`,
      `- p95 ≤ 0.5× the original's: ${f0(u20.p95)} vs ${f0(o20.p95)} ms = ${p95.toFixed(2)}× → ${verdict(p95 <= 0.5)};`,
      `- peak RSS ≤ the original's (whole run, sum of VmHWM over the process tree): ${f0(ours.peakRssMiB)} vs ` +
        `${f0(original.peakRssMiB)} MiB = ${rss.toFixed(2)}× → ${verdict(rss <= 1)};`,
      `- ≥ 70 % of TensorFlow's raw batched throughput: best ${f1(best)} req/s = ${(100 * ofCeiling).toFixed(1)} % of ` +
        `${f1(ceiling)} images/s → ${verdict(ofCeiling >= 0.7)}.`,
    );
  } else {
    lines.push("- not evaluated: a tfjs-node or original run is missing above.");
  }
  lines.push(
    "",
    "Peak RSS per server over its whole run (startup included), sum of VmHWM over the process tree: " +
      rep.servers
        .filter((s) => !s.error)
        .map((s) => `${s.label} ${f0(s.peakRssMiB)} MiB (ready after ${f1(s.startupSeconds)} s)`)
        .join("; ") +
      ". The table's peak RSS column is the tree's summed RSS sampled every 100 ms during that level.",
  );
  return lines.join("\n");
}

function writeDoc(markdown: string): void {
  const start = "<!-- bench:peer:start -->";
  const end = "<!-- bench:peer:end -->";
  const doc = readFileSync(DOC, "utf8");
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${DOC}: markers ${start} / ${end} not found`);
  writeFileSync(DOC, `${doc.slice(0, i + start.length)}\n${markdown}\n${doc.slice(j)}`);
}

// ---------------------------------------------------------------------------------------------

function loadavg(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
}

function versions(py: string): Record<string, string> {
  const pyv = JSON.parse(
    run(py, [
      "-c",
      "import json,sys,importlib.metadata as m; print(json.dumps({'python': sys.version.split()[0], " +
        "**{k: m.version(k) for k in ['tensorflow-cpu','keras','flask','gunicorn','pillow','numpy']}}))",
    ]),
  ) as Record<string, string>;
  const appPkg = (name: string) => {
    try {
      return (
        JSON.parse(readFileSync(path.join(APP, "node_modules", name, "package.json"), "utf8")) as {
          version: string;
        }
      ).version;
    } catch {
      return "absent";
    }
  };
  return {
    node: process.version,
    "@tensorflow/tfjs": appPkg("@tensorflow/tfjs"),
    "@tensorflow/tfjs-node": appPkg("@tensorflow/tfjs-node"),
    "tensorflow (libs)": pyv["tensorflow-cpu"] ?? "?",
    fastify: appPkg("fastify"),
    sharp: appPkg("sharp"),
    autocannon: (
      JSON.parse(readFileSync(require.resolve("autocannon/package.json"), "utf8")) as {
        version: string;
      }
    ).version,
    ...pyv,
  };
}

async function main() {
  if (args.render) {
    const md = renderMarkdown(JSON.parse(readFileSync(args.render, "utf8")) as Report);
    console.log(md);
    if (!args["no-doc"]) writeDoc(md);
    return;
  }
  const startedAt = new Date().toISOString().slice(0, 16).replace("T", " ");
  const loadBefore = loadavg();
  const py = ensureVenv();
  const tfjsNode = ensureTfjsNode();
  log(`tfjs-node: ${tfjsNode.ok ? "ok" : `unavailable (${tfjsNode.why})`}`);
  const keras = ensureKerasModel(py);
  const oursCmd = buildOurs();
  const ceilingSeconds = args["ceiling-seconds"] as string;

  log("ceiling: Keras model.predict, batches of 32");
  const ceiling = JSON.parse(
    run(py, [path.join(PEER_SRC, "ceiling.py"), keras, "--seconds", ceilingSeconds])
      .trim()
      .split("\n")
      .pop() as string,
  ) as Report["ceiling"];
  let tfjsRaw: Report["tfjsRaw"];
  if (tfjsNode.ok) {
    log("our engine alone: tfjs-node, batches of 32");
    tfjsRaw = JSON.parse(
      run(path.join(ROOT, "node_modules", ".bin", "tsx"), [
        path.join(PEER_SRC, "tfjs-raw.ts"),
        MODEL_DIR,
        "32",
        ceilingSeconds,
      ])
        .trim()
        .split("\n")
        .pop() as string,
    ) as Report["tfjsRaw"];
  }

  const peerEnv = { PEER_MODEL: keras, PEER_TEST_IMAGE: TEST_IMAGE, TF_CPP_MIN_LOG_LEVEL: "2" };
  const specs: ServerSpec[] = [];
  const peers = (args.peers as string).split(",").filter(Boolean);
  const gunicorn = (id: string, label: string, workers: number): ServerSpec => ({
    id,
    label,
    kind: "original",
    backend: "keras",
    cmd: [
      py,
      "-m",
      "gunicorn",
      ...GUNICORN_WORKER,
      "-w",
      String(workers),
      "-b",
      "127.0.0.1:$PORT",
      "app:app",
    ],
    cwd: PEER_SRC,
    env: peerEnv,
    ready: "/healthz",
  });
  if (peers.includes("gunicorn")) {
    specs.push(gunicorn("original-gunicorn", "original: Flask + Keras on gunicorn (1 worker)", 1));
  }
  if (peers.includes("gunicorn2")) {
    specs.push(gunicorn("original-gunicorn2", "original on gunicorn, 2 workers (one per core)", 2));
  }
  // Werkzeug's server answers `Connection: close`; autocannon 9 then stalls until its timeout on
  // some requests (seen here: 120 s gaps), so it is not in the default set.
  if (peers.includes("flask")) {
    specs.push({
      id: "original-flask",
      label: "original: Flask + Keras, Flask's own server (threaded)",
      kind: "original",
      backend: "keras",
      cmd: [py, "app.py"],
      cwd: PEER_SRC,
      env: peerEnv,
      ready: "/healthz",
    });
  }
  const oursEnv = {
    HOST: "127.0.0.1",
    MODEL_DIR,
    PREPROCESS: "unit",
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    // As in app/Dockerfile's image.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2",
  };
  for (const backend of (args.ours as string).split(",").filter(Boolean)) {
    if (backend === "tensorflow" && !tfjsNode.ok) continue;
    specs.push({
      id: `ours-${backend}`,
      label: `ours: Fastify + tfjs-${backend === "tensorflow" ? "node" : backend}`,
      kind: "ours",
      backend,
      cmd: oursCmd,
      cwd: APP,
      env: { ...oursEnv, TFJS_BACKEND: backend },
      ready: "/readyz",
    });
  }

  const images = await makeImages(AGREEMENT_IMAGES);
  let reference: number[][] | undefined;
  const servers: ServerResult[] = [];
  for (const spec of specs) {
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
    servers.push(result);
    let r: Running | undefined;
    try {
      log(`${spec.id}: starting (${withPort.cmd.join(" ")})`);
      r = await start(withPort, port);
      result.startupSeconds = r.startupSeconds;
      const probs: number[][] = [];
      for (const img of images) probs.push(await predictProbabilities(r, img));
      if (!reference) reference = probs;
      else result.agreement = compare(images, reference, probs);
      await load(`${r.base}/test`, 2, 20);
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
      result.peakRssMiB = treeUsage(r.child.pid as number).hwmBytes / 2 ** 20;
    } catch (err) {
      result.error = err instanceof Error ? err.message : String(err);
      log(`${spec.id}: ${result.error}`);
    } finally {
      if (r) await stop(r);
    }
  }

  let batching: Report["batching"];
  if (tfjsNode.ok) {
    log("what-if: the classifier with dynamic batching (maxBatchSize 1, 8, 32), concurrency 20");
    try {
      batching = JSON.parse(
        run(path.join(ROOT, "node_modules", ".bin", "tsx"), [
          path.join(PEER_SRC, "batching.ts"),
          MODEL_DIR,
          "tensorflow",
          "20",
          String(requestsFor(20)),
          "1,8,32",
        ])
          .trim()
          .split("\n")
          .pop() as string,
      ) as Report["batching"];
    } catch (err) {
      log(`batching what-if failed: ${(err as Error).message.slice(0, 500)}`);
    }
  }

  const cpuModel =
    /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model;
  const rep: Report = {
    startedAt,
    finishedAt: new Date().toISOString().slice(0, 16).replace("T", " "),
    machine: {
      nproc: os.availableParallelism(),
      cpu: cpuModel ?? "unknown",
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      loadBefore,
      loadAfter: loadavg(),
    },
    versions: versions(py),
    scale,
    ceiling,
    tfjsRaw,
    tfjsNode,
    servers,
    batching,
  };
  const outDir = path.join(ROOT, "runs", "bench-peer");
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(outFile, `${JSON.stringify(rep, null, 2)}\n`);
  const md = renderMarkdown(rep);
  console.log(md);
  if (!args["no-doc"]) {
    writeDoc(md);
    log(`docs/benchmarks.md peer block rewritten; raw figures in ${path.relative(ROOT, outFile)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
