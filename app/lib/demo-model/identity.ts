/**
 * What makes a directory the current demo model: its figures (parameters, seed, shard size), the
 * builder's name and revision its manifest records, and the hash over its files. index.ts checks
 * a directory with it before building; build.ts writes what it names.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { MANIFEST_FILE, parseManifest } from "../../src/inference/manifest.js";

export const DEMO_MODEL_PARAMS = 2_272_075;
export const DEMO_BASE_PARAMS = 2_257_984;
export const DEMO_HEAD_PARAMS = 14_091;
export const DEMO_SEED = 20_261_128;
/** Shard size tensorflowjs_converter uses by default (--weight_shard_size_bytes). */
export const SHARD_BYTES = 4 * 1024 * 1024;
/** Bumped whenever the builder's output changes, so an old directory is rebuilt. */
const DEMO_MODEL_REVISION = 4;

/** The builder as the manifest's tools and source name it; a different one is rebuilt. */
export const BUILDER = `food11 demo model builder r${DEMO_MODEL_REVISION}`;

/** The tfjs LayersModel's files in dir, by name: model.json, then the shards its manifest names. */
export async function layersModelFiles(dir: string): Promise<string[]> {
  const json = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8")) as {
    weightsManifest: { paths: string[] }[];
  };
  return ["model.json", ...json.weightsManifest.flatMap((g) => g.paths)];
}

/** sha256 over model.json, the shards, labels.txt and model.onnx (in that order), hex. */
export async function hashModelDir(dir: string): Promise<string> {
  const files = [...(await layersModelFiles(dir)), "labels.txt", "model.onnx"];
  const h = createHash("sha256");
  for (const f of files) {
    h.update(f);
    h.update(await readFile(path.join(dir, f)));
  }
  return h.digest("hex");
}

/**
 * The files' hash when dir holds a complete demo model of the current revision (its manifest.json
 * names this builder and the files hash as it records), else undefined.
 */
export async function validDemoModelHash(dir: string): Promise<string | undefined> {
  try {
    const file = path.join(dir, MANIFEST_FILE);
    const m = parseManifest(await readFile(file, "utf8"), file);
    if (m.source.kind !== "demo" || m.source.file !== BUILDER) return undefined;
    return (await hashModelDir(dir)) === m.source.sha256 ? m.source.sha256 : undefined;
  } catch {
    return undefined;
  }
}

/** True when dir holds a complete demo model of the current revision (validDemoModelHash). */
export async function isDemoModelValid(dir: string): Promise<boolean> {
  return (await validDemoModelHash(dir)) !== undefined;
}
