/**
 * The demo model: Keras' MobileNetV2 (alpha 1.0, 224x224x3, include_top=False) followed by
 * GlobalAveragePooling2D + Dense(11, softmax), 2,272,075 parameters, with weights drawn from a
 * seeded PRNG, saved as tensorflowjs_converter writes a LayersModel (model.json + 4 MB shards) with
 * a manifest.json (app/src/inference/manifest.ts) whose source kind `demo` is how the server knows
 * it. Its predictions are meaningless: it only stands in for a trained Food-11 model.
 *
 * Setup code, not the server's: made by `npm run model:demo` (which `npm ci` runs) and by the
 * image build; the server only loads it.
 */
import { createHash } from "node:crypto";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MANIFEST_FILE, parseManifest } from "../../src/inference/manifest.js";

export const DEMO_MODEL_PARAMS = 2_272_075;
export const DEMO_BASE_PARAMS = 2_257_984;
export const DEMO_HEAD_PARAMS = 14_091;
export const DEMO_SEED = 20_261_128;
/** Shard size tensorflowjs_converter uses by default (--weight_shard_size_bytes). */
export const SHARD_BYTES = 4 * 1024 * 1024;
/** Bumped whenever the builder's output changes, so an old directory is rebuilt. */
export const DEMO_MODEL_REVISION = 2;

/** Default output directory: app/models/demo (the server's default MODEL_DIR). */
export function defaultDemoModelDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "models", "demo");
}

/** The builder as the manifest's tools and source name it; a different one is rebuilt. */
export const BUILDER = `food11 demo model builder r${DEMO_MODEL_REVISION}`;

/** sha256 over model.json, the shards and labels.txt (in that order), hex. */
export async function hashModelDir(dir: string): Promise<string> {
  const json = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8")) as {
    weightsManifest: { paths: string[] }[];
  };
  const files = ["model.json", ...json.weightsManifest.flatMap((g) => g.paths), "labels.txt"];
  const h = createHash("sha256");
  for (const f of files) {
    h.update(f);
    h.update(await readFile(path.join(dir, f)));
  }
  return h.digest("hex");
}

/**
 * True when dir holds a complete demo model of the current revision: its manifest.json names this
 * builder and the files hash as it records.
 */
export async function isDemoModelValid(dir: string): Promise<boolean> {
  try {
    const file = path.join(dir, MANIFEST_FILE);
    const m = parseManifest(await readFile(file, "utf8"), file);
    if (m.source.kind !== "demo" || m.source.file !== BUILDER) return false;
    return (await hashModelDir(dir)) === m.source.sha256;
  } catch {
    return false;
  }
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
  const readStamp = async () =>
    (
      JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), "utf8")) as {
        source: { sha256: string };
      }
    ).source.sha256;
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
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
}
