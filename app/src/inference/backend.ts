/** Backend helpers: where the WASM binaries are, and loading the optional tfjs-node addon. */
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

/** Resolves a path inside the tsx package (dev dependency; only needed when running .ts). */
export function tsxEsmApiPath(): string {
  return path.join(
    path.dirname(require.resolve("tsx/package.json")),
    "dist",
    "esm",
    "api",
    "index.mjs",
  );
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
    const tsxApi = pathToFileURL(tsxEsmApiPath()).href;
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
