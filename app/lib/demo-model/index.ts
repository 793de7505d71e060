/**
 * The demo model: Keras' MobileNetV2 (alpha 1.0, 224x224x3, include_top=False) followed by
 * GlobalAveragePooling2D + Dense(11, softmax), 2,272,075 parameters, with weights drawn from a
 * seeded PRNG, saved as tensorflowjs_converter writes a LayersModel (model.json + 4 MB shards),
 * and as model.onnx for the ONNX Runtime engine (onnx-export.ts: written only once its outputs
 * equal tfjs' on 32 fixed inputs), with a manifest.json (app/src/inference/manifest.ts) whose
 * source kind `demo` is how the server knows it. Its predictions are meaningless: it only stands
 * in for a trained Food-11 model.
 *
 * Setup code, not the server's (app/lib: nothing in app/src imports it): made by `npm run
 * model:demo` (scripts/make-demo-model.ts, which `npm ci` runs), by the image build and by the
 * tests; the server only loads it.
 */
import { mkdir, open, rm, stat } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { validDemoModelHash } from "./identity.js";

/** Default output directory: app/models/demo (the server's default MODEL_DIR). */
export function defaultDemoModelDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "models", "demo");
}

/**
 * Makes sure a valid demo model exists in dir (default app/models/demo); builds it if absent,
 * incomplete or of an older revision (in this thread: tfjs' WASM backend). Idempotent; parallel
 * callers (test workers) build once.
 */
export async function ensureDemoModel(
  dir: string = defaultDemoModelDir(),
  opts: { force?: boolean } = {},
): Promise<{ dir: string; built: boolean; hash: string }> {
  const valid = async () => (opts.force ? undefined : await validDemoModelHash(dir));
  const found = await valid();
  if (found) return { dir, built: false, hash: found };
  // Several processes (parallel test workers, a server) may ask at once: one builds, the others
  // wait for it and then find a valid model.
  const release = await acquireLock(`${path.resolve(dir)}.lock`);
  try {
    const foundNow = await valid();
    if (foundNow) return { dir, built: false, hash: foundNow };
    // imported here: tfjs is loaded only when a build is needed
    const { buildDemoModel } = await import("./build.js");
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
      else await sleep(100);
    }
  }
}
