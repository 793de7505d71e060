/**
 * The demo model: Keras' MobileNetV2 (alpha 1.0, 224x224x3, include_top=False) followed by
 * GlobalAveragePooling2D + Dense(11, softmax), 2,272,075 parameters, with weights drawn from a
 * seeded PRNG, saved as tensorflowjs_converter writes a LayersModel (model.json + 4 MB shards),
 * and as model.onnx for the ONNX Runtime engine (onnx-export.ts: written only once its outputs
 * equal tfjs' on 32 fixed inputs). Its predictions are meaningless: it only stands in for a trained
 * Food-11 model.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { spawnModuleWorker } from "./backend.js";
import type { OnnxVerification } from "./onnx-export.js";

export const DEMO_MODEL_PARAMS = 2_272_075;
export const DEMO_BASE_PARAMS = 2_257_984;
export const DEMO_HEAD_PARAMS = 14_091;
export const DEMO_SEED = 20_261_128;
/** Shard size tensorflowjs_converter uses by default (--weight_shard_size_bytes). */
export const SHARD_BYTES = 4 * 1024 * 1024;
/** Bumped whenever the builder's output changes, so an old directory is rebuilt. */
export const DEMO_MODEL_REVISION = 3;

/** Default output directory: app/models/demo (resolved from this file in src/ or dist/). */
export function defaultDemoModelDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "models", "demo");
}

/** sha256 over model.json, the shards, labels.txt and model.onnx (in that order), hex. */
export async function hashModelDir(dir: string): Promise<string> {
  const json = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8")) as {
    weightsManifest: { paths: string[] }[];
  };
  const files = [
    "model.json",
    ...json.weightsManifest.flatMap((g) => g.paths),
    "labels.txt",
    "model.onnx",
  ];
  const h = createHash("sha256");
  for (const f of files) {
    h.update(f);
    h.update(await readFile(path.join(dir, f)));
  }
  return h.digest("hex");
}

export const STAMP = ".demo-model.json";

export interface Stamp {
  revision: number;
  hash: string;
  /** model.onnx (onnx-export.ts): how it was written and its check against tfjs. */
  onnx?: { opset: number; nodes: number; verification: OnnxVerification };
}

/** True when dir holds a complete demo model of the current revision whose files hash as stamped. */
export async function isDemoModelValid(dir: string): Promise<boolean> {
  try {
    const stamp = JSON.parse(await readFile(path.join(dir, STAMP), "utf8")) as Stamp;
    if (stamp.revision !== DEMO_MODEL_REVISION) return false;
    return (await hashModelDir(dir)) === stamp.hash;
  } catch {
    return false;
  }
}

/**
 * Builds the demo model into dir, in a worker thread: tfjs and its WASM heap (which never
 * shrinks) live only while building, so a server that had to build its model at start does not
 * carry that memory afterwards.
 */
export async function buildDemoModel(dir: string): Promise<{ hash: string; params: number }> {
  const worker = spawnModuleWorker("demo-model-worker", { workerData: { dir } });
  try {
    return await new Promise((resolve, reject) => {
      worker.once(
        "message",
        (m: { ok: boolean; hash?: string; params?: number; error?: string }) => {
          if (m.ok) resolve({ hash: m.hash as string, params: m.params as number });
          else reject(new Error(`demo model build failed: ${m.error}`));
        },
      );
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`demo model builder exited (${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}

/**
 * Makes sure a valid demo model exists in dir (default app/models/demo); builds it if absent,
 * incomplete or of an older revision. Idempotent and safe to call from vitest globalSetup.
 */
export async function ensureDemoModel(
  dir: string = defaultDemoModelDir(),
  opts: { force?: boolean } = {},
): Promise<{ dir: string; built: boolean; hash: string }> {
  const readStamp = async () =>
    (JSON.parse(await readFile(path.join(dir, STAMP), "utf8")) as Stamp).hash;
  if (!opts.force && (await isDemoModelValid(dir))) {
    return { dir, built: false, hash: await readStamp() };
  }
  // Several processes (parallel test workers, a server) may ask at once: one builds, the others
  // wait for it and then find a valid model.
  const release = await acquireLock(`${path.resolve(dir)}.lock`);
  try {
    if (!opts.force && (await isDemoModelValid(dir))) {
      return { dir, built: false, hash: await readStamp() };
    }
    const { hash } = await buildDemoModel(dir);
    return { dir, built: true, hash };
  } finally {
    await release();
  }
}

/** A lock file created with O_EXCL; a lock older than staleMs is taken over (crashed builder). */
async function acquireLock(file: string, staleMs = 120_000): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  for (;;) {
    try {
      const fh = await open(file, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = await stat(file).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > staleMs) await rm(file, { force: true });
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
}
