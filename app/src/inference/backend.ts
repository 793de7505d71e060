/** Backend helpers: where the WASM binaries are, and loading the optional tfjs-node addon. */
import { createRequire } from "node:module";
import path from "node:path";
import type { Tf } from "./engine.js";

const require = createRequire(import.meta.url);

/** Directory of tfjs-backend-wasm's .wasm binaries (loaded from disk through a file path). */
export function wasmBinariesDir(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
}

/**
 * Tries to load @tensorflow/tfjs-node (an optional dependency, absent where libtensorflow cannot
 * be downloaded). Its intra-op pool is sized from TF_NUM_INTRAOP_THREADS, read when the addon
 * loads, so it is set first (unless the environment already sets it). Undefined when unavailable.
 */
export async function loadTfjsNode(threads: number): Promise<Tf | undefined> {
  process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
  process.env.TF_NUM_INTEROP_THREADS ??= "1";
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  const name = "@tensorflow/tfjs-node";
  try {
    const mod = (await import(name)) as Tf & { default?: Tf };
    const tf = (mod.default ?? mod) as Tf;
    if (!(await tf.setBackend("tensorflow"))) return undefined;
    await tf.ready();
    return tf;
  } catch {
    return undefined;
  }
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
