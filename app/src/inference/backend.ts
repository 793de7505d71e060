/**
 * Backends: choosing one (tfjs-node if it loads, else WASM), where the WASM binaries are, how a
 * worker thread is started on a module of this directory, and the CPU budget. The tfjs-node
 * addon itself is only ever loaded inside the inference workers (worker.ts).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

const require = createRequire(import.meta.url);

/** Directory of tfjs-backend-wasm's .wasm binaries (loaded from disk through a file path). */
export function wasmBinariesDir(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
}

/**
 * Starts a worker thread on a module of this directory: `<name>.js` when running compiled (dist/),
 * or `<name>.ts` through tsx's loader API registered inside the worker by a tiny eval bootstrap
 * when running from source (tests, tsx) — Node 20 does not apply `--import tsx` from a worker's
 * execArgv to the worker's entry module.
 */
export function spawnModuleWorker(name: string, options: WorkerOptions = {}): Worker {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".ts")) {
    // tsx is a dev dependency: only needed when running .ts
    const tsxDir = path.dirname(require.resolve("tsx/package.json"));
    const tsxApi = pathToFileURL(path.join(tsxDir, "dist", "esm", "api", "index.mjs")).href;
    const entry = new URL(`./${name}.ts`, import.meta.url).href;
    const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(bootstrap, { ...options, eval: true });
  }
  return new Worker(new URL(`./${name}.js`, import.meta.url), options);
}

/**
 * CPUs this process may use: the cgroup CPU quota when one is set (a Kubernetes CPU limit:
 * cgroup v2 cpu.max or v1 cfs_quota/cfs_period, rounded up), else os.availableParallelism()
 * (which only sees the CPU affinity mask, not the quota).
 */
export function cpuBudget(root = "/sys/fs/cgroup"): number {
  const cores = Math.max(1, availableParallelism());
  const read = (f: string) => {
    try {
      return readFileSync(path.join(root, f), "utf8").trim();
    } catch {
      return undefined;
    }
  };
  let quota: number | undefined;
  const v2 = read("cpu.max");
  if (v2) {
    const [q, p] = v2.split(/\s+/);
    if (q && q !== "max" && Number(p) > 0) quota = Number(q) / Number(p);
  } else {
    const q = Number(read("cpu/cpu.cfs_quota_us") ?? read("cpu.cfs_quota_us"));
    const p = Number(read("cpu/cpu.cfs_period_us") ?? read("cpu.cfs_period_us"));
    if (q > 0 && p > 0) quota = q / p;
  }
  return quota && quota > 0 ? Math.max(1, Math.min(cores, Math.ceil(quota))) : cores;
}

/**
 * What TFJS_BACKEND may say: a tfjs backend, or `onnxruntime` (ONNX Runtime instead of tfjs,
 * infer-onnxruntime.ts). `cpu`, tfjs' plain JS backend, exists for tests only (~15x slower).
 */
export const BACKEND_CHOICES = ["auto", "tensorflow", "wasm", "onnxruntime", "cpu"] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A backend an engine runs on. */
export type EngineBackend = Exclude<BackendChoice, "auto">;

/**
 * Starts the engines (`start`) on the chosen backend: tfjs-node for `auto` and `tensorflow`
 * (`auto` falls back to WASM when it does not load, and says why), ONNX Runtime for `onnxruntime`
 * (no fallback: it serves another file, model.onnx), else WASM or tfjs' CPU backend.
 * `intraOpThreads`: each engine's share of the CPU budget (the classifier's threads / engines).
 */
export async function startOnBackend<T>(
  choice: BackendChoice,
  intraOpThreads: number,
  start: (backend: EngineBackend) => Promise<T>,
): Promise<{ started: T; fallbackReason?: string }> {
  let fallbackReason: string | undefined;
  if (choice === "onnxruntime") {
    try {
      return { started: await start("onnxruntime") };
    } catch (err) {
      throw new Error(`TFJS_BACKEND=onnxruntime: ${(err as Error).message}`, { cause: err });
    }
  }
  if (choice === "auto" || choice === "tensorflow") {
    // tfjs-node: its intra-op pool is process-wide, sized from TF_NUM_INTRAOP_THREADS when the
    // addon loads (in the worker; the variable must be in the real environment, so set it here).
    // Measured on 2 cores (demo model, batch 4, c=20): 2 engines x 1 intra-op thread ~65 img/s,
    // 1 engine x 2 intra-op threads ~42 img/s; so one engine per core by default here too.
    process.env.TF_NUM_INTRAOP_THREADS ??= String(intraOpThreads);
    process.env.TF_NUM_INTEROP_THREADS ??= "1";
    process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
    try {
      return { started: await start("tensorflow") };
    } catch (err) {
      const why = (err as Error).message;
      if (choice === "tensorflow") {
        throw new Error(
          `TFJS_BACKEND=tensorflow but @tensorflow/tfjs-node is not installed or failed to load: ${why}`,
          { cause: err },
        );
      }
      fallbackReason = `tfjs-node unavailable (${why}); using WASM`;
    }
  }
  const started = await start(choice === "cpu" ? "cpu" : "wasm");
  return fallbackReason ? { started, fallbackReason } : { started };
}
