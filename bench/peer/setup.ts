/**
 * bench:peer, stage 1: setup (idempotent, cached in ${FOOD11_CACHE:-~/.cache/food11}): the demo
 * model (npm run model:demo); app/ compiled to app/dist; tfjs-node from
 * app/scripts/tfjs-node-local.sh; for the original's servers and the reference runs, the project's
 * Python environment (tools/python) and the demo model's weights written into a Keras .keras model
 * (make_keras_model.py); the servers to measure; the versions the report names (the machine: ../machine.ts).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { layersModelFiles } from "../../app/lib/demo-model/identity.js";
import { defaultDemoModelDir } from "../../app/lib/demo-model/index.js";
import { food11CacheDir } from "../../lib/cache";
import { pythonEnv } from "../../tools/python/env.js";
import { APP, appPackageVersion, TEST_JPG } from "../app";

export const ROOT = path.resolve(__dirname, "../..");
export const PEER_SRC = __dirname;
export const WORK = path.join(food11CacheDir(), "peer");
/** Where `npm run model:demo` writes the demo model (app/models/demo). */
export const MODEL_DIR = defaultDemoModelDir();
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

export const log = (msg: string) =>
  console.error(`[bench:peer ${new Date().toISOString().slice(11, 19)}] ${msg}`);

export function run(
  cmd: string,
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
) {
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

/** The last line of a helper's stdout (ceiling.py, tfjs-raw.ts, onnx-raw.ts print one JSON line). */
export function runJson<T>(cmd: string, argv: string[]): T {
  return JSON.parse(run(cmd, argv).trim().split("\n").pop() as string) as T;
}

/** tsx, to run one of this folder's TypeScript helpers. */
export const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

/** The project's one Python environment (tools/python/env.ts: pinned, cached, made on first use). */
export async function ensureVenv(): Promise<string> {
  return (await pythonEnv((l) => log(l))).python;
}

export function ensureTfjsNode(): { ok: boolean; why: string } {
  const r = spawnSync("bash", [path.join(ROOT, "app", "scripts", "tfjs-node-local.sh")], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const last = (r.stderr ?? "").trim().split("\n").pop() ?? "";
  return { ok: r.status === 0, why: last };
}

/** The demo model in MODEL_DIR (npm run model:demo: its tfjs files and model.onnx). */
export function ensureDemoModel(): void {
  run("npm", ["--prefix", "app", "run", "--silent", "model:demo"]);
}

export async function ensureKerasModel(py: string): Promise<string> {
  const files = (await layersModelFiles(MODEL_DIR)).map((f) => path.join(MODEL_DIR, f));
  mkdirSync(WORK, { recursive: true });
  const out = path.join(WORK, `demo-${sha(files)}.keras`);
  if (!existsSync(out)) {
    log(`writing the demo model's weights into ${out}`);
    run(py, [path.join(PEER_SRC, "make_keras_model.py"), MODEL_DIR, out]);
  }
  return out;
}

/** The ONNX opset the model is converted to (make_onnx_model.py), named in the report's versions. */
export const ONNX_OPSET = 17;

/** The same weights as ONNX (make_onnx_model.py: tf2onnx, in the benchmark's virtualenv), cached. */
export function ensureOnnxModel(py: string, keras: string): string {
  const out = keras.replace(/\.keras$/, `-opset${ONNX_OPSET}.onnx`);
  if (!existsSync(out)) {
    log(`converting ${path.basename(keras)} to ONNX (tf2onnx, opset ${ONNX_OPSET})`);
    run(py, [path.join(PEER_SRC, "make_onnx_model.py"), keras, out, String(ONNX_OPSET)]);
  }
  return out;
}

/** The ONNX model the server's onnxruntime engine serves: the demo model's, from our exporter. */
export const OURS_ONNX = path.join(MODEL_DIR, "model.onnx");

export function buildOurs(): string[] {
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
// the servers

export interface ServerSpec {
  id: string;
  label: string;
  kind: "original" | "ours";
  backend: string;
  cmd: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The path that answers 200 once the server is ready. */
  ready: string;
  /**
   * Ours: `ready` and /metrics are on the admin listener (ADMIN_PORT, a second free port);
   * the original serves everything on PORT.
   */
  adminPort?: true;
}

/**
 * A variant of ours in `--ours`: `tensorflow`, `wasm`, `onnxruntime` (ONNX Runtime on the demo
 * model's model.onnx), or `tensorflow1` / `onnxruntime1` (one engine, INFERENCE_ENGINES=1, on every
 * core's intra-op thread), optionally followed by `+KEY=VALUE` server settings (e.g.
 * `tensorflow+MAX_BATCH_SIZE=1`), which the label names.
 */
export function parseVariant(variant: string): {
  backend: string;
  env: Record<string, string>;
  label: string;
} {
  const [name = "", ...settings] = variant.split("+");
  const oneEngine = name === "tensorflow1" || name === "onnxruntime1";
  const backend = oneEngine ? name.slice(0, -1) : name;
  if (backend !== "tensorflow" && backend !== "wasm" && backend !== "onnxruntime")
    throw new Error(
      `--ours: unknown variant "${name}" in "${variant}" (tensorflow, tensorflow1, wasm, onnxruntime, onnxruntime1)`,
    );
  const env: Record<string, string> = oneEngine ? { INFERENCE_ENGINES: "1" } : {};
  for (const kv of settings) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(kv);
    if (!m) throw new Error(`--ours: "${kv}" in "${variant}" is not KEY=VALUE`);
    env[m[1] as string] = m[2] as string;
  }
  const engineName =
    backend === "onnxruntime"
      ? "ONNX Runtime"
      : `tfjs-${backend === "tensorflow" ? "node" : backend}`;
  const label =
    `ours: Fastify + ${engineName}` +
    (oneEngine ? ", 1 engine" : "") +
    settings.map((kv) => `, ${kv}`).join("");
  return { backend, env, label };
}

/** gunicorn's arguments to serve the original (app:app) with `workers` worker processes. */
const gunicorn = (workers: number) => [
  "-m",
  "gunicorn",
  ...GUNICORN_WORKER,
  "-w",
  String(workers),
  "-b",
  "127.0.0.1:$PORT",
  "app:app",
];

/**
 * The peers `--peers` may name (the original recipe, bench/peer/app.py), in the order they run:
 * its Python arguments and how the report names it. Werkzeug's server (`flask`) answers
 * `Connection: close`; autocannon 9 then stalls until its timeout on some requests (seen here:
 * 120 s gaps), so it is not in the default set.
 */
const PEER_SERVERS: Record<string, { id: string; label: string; argv: string[] }> = {
  gunicorn: {
    id: "original-gunicorn",
    label: "original: Flask + Keras on gunicorn (1 worker)",
    argv: gunicorn(1),
  },
  gunicorn2: {
    id: "original-gunicorn2",
    label: "original on gunicorn, 2 workers (one per core)",
    argv: gunicorn(2),
  },
  flask: {
    id: "original-flask",
    label: "original: Flask + Keras, Flask's own server (threaded)",
    argv: ["app.py"],
  },
};
export const PEERS = Object.keys(PEER_SERVERS);

/**
 * The servers to measure, in order (the first one's answers are the agreement check's reference):
 * `peers` (each needs `python`: the Python environment and the Keras model), then `ours`.
 */
export function serverSpecs(o: {
  python?: { py: string; keras: string };
  oursCmd: string[];
  peers: string[];
  ours: string[];
}): ServerSpec[] {
  const { oursCmd, peers } = o;
  const specs = o.python ? peerSpecs(o.python.py, o.python.keras, peers) : [];
  const oursEnv = {
    HOST: "127.0.0.1",
    MODEL_DIR,
    PREPROCESS: "unit",
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    // As in app/Dockerfile's image.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2",
  };
  for (const variant of o.ours) {
    const v = parseVariant(variant);
    specs.push({
      id: `ours-${variant.replace(/[^A-Za-z0-9_.-]+/g, "_")}`,
      label: v.label,
      kind: "ours",
      backend: v.backend,
      cmd: oursCmd,
      cwd: APP,
      env: { ...oursEnv, TFJS_BACKEND: v.backend, ...v.env },
      ready: "/readyz",
      adminPort: true,
    });
  }
  return specs;
}

function peerSpecs(py: string, keras: string, peers: string[]): ServerSpec[] {
  const env = { PEER_MODEL: keras, PEER_TEST_IMAGE: TEST_JPG, TF_CPP_MIN_LOG_LEVEL: "2" };
  return PEERS.filter((name) => peers.includes(name)).map((name) => {
    const { id, label, argv } = PEER_SERVERS[name] as (typeof PEER_SERVERS)[string];
    return {
      id,
      label,
      kind: "original",
      backend: "keras",
      cmd: [py, ...argv],
      cwd: PEER_SRC,
      env,
      ready: "/healthz",
    };
  });
}

// ---------------------------------------------------------------------------------------------
// the versions

export const minuteUTC = () => new Date().toISOString().slice(0, 16).replace("T", " ");

/** The versions the report names; the Python side's only with `py` (peers or engine-alone runs). */
export function versions(py?: string): Record<string, string> {
  const pyv = (
    py
      ? JSON.parse(
          run(py, [
            "-c",
            "import json,sys,importlib.metadata as m; print(json.dumps({'python': sys.version.split()[0], " +
              "**{k: m.version(k) for k in ['tensorflow-cpu','keras','flask','gunicorn','pillow','numpy','tf2onnx','onnx']}}))",
          ]),
        )
      : {}
  ) as Record<string, string>;
  return {
    node: process.version,
    "@tensorflow/tfjs": appPackageVersion("@tensorflow/tfjs"),
    "@tensorflow/tfjs-node": appPackageVersion("@tensorflow/tfjs-node"),
    "tensorflow (libs)": pyv["tensorflow-cpu"] ?? "?",
    fastify: appPackageVersion("fastify"),
    sharp: appPackageVersion("sharp"),
    // The ONNX Runtime reference line runs the server's own onnxruntime-node (a dependency of
    // app/, its install script denied in app/package.json: the CPU binaries ship in the package).
    "onnxruntime-node": appPackageVersion("onnxruntime-node"),
    "onnx opset": String(ONNX_OPSET),
    autocannon: (
      JSON.parse(readFileSync(require.resolve("autocannon/package.json"), "utf8")) as {
        version: string;
      }
    ).version,
    ...pyv,
  };
}
