/**
 * Loading a model for an engine: a model directory by its manifest.json (manifest.ts: the
 * SavedModel for tfjs-node, the tfjs model for WASM), or, without a manifest, tfjs model
 * artifacts (model.json + weight shards, as tensorflowjs_converter writes them) from a local
 * directory (plain fs: tf.io.fileSystem would need tfjs-node) or an http(s) URL.
 * tfjs artifacts are loaded once in the main thread and handed to each inference worker; a
 * SavedModel is loaded by each worker from its path. No tfjs code runs here (type imports only),
 * so the main thread does not load tfjs at all.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type * as tf from "@tensorflow/tfjs-core";
import type { EngineBackend } from "./backend.js";
import {
  MANIFEST_FILE,
  type Manifest,
  ManifestError,
  type ModelFormatName,
  parseManifest,
} from "./manifest.js";

export type ModelFormat = "layers-model" | "graph-model" | "saved-model";

export interface LoadedArtifacts {
  /** tfjs formats: weights concatenated into one ArrayBuffer (cloneable to worker threads). */
  artifacts?: tf.io.ModelArtifacts & { weightData: ArrayBuffer };
  /** saved-model: the SavedModel directory, loaded by each worker (tf.node.loadSavedModel). */
  savedModelDir?: string;
  format: ModelFormat;
  /** Where it came from, for logs: a directory path or a URL. */
  source: string;
  /** Base location used to resolve labels.txt: a directory path or a URL ending with '/'. */
  base: string;
  /** The model directory's manifest.json; undefined for a bare tfjs model. */
  manifest?: Manifest;
}

/** A bare tfjs model's artifacts (model.json + shards). */
export type TfjsArtifacts = LoadedArtifacts & {
  artifacts: NonNullable<LoadedArtifacts["artifacts"]>;
};

export function detectFormat(json: { format?: string; modelTopology?: unknown }): ModelFormat {
  if (json.format === "graph-model" || json.format === "layers-model") return json.format;
  const topo = json.modelTopology as Record<string, unknown> | undefined;
  if (topo && typeof topo === "object") {
    if ("node" in topo || "versions" in topo) return "graph-model";
    if ("class_name" in topo || "model_config" in topo) return "layers-model";
  }
  throw new Error("model.json: cannot tell whether this is a LayersModel or a GraphModel");
}

function concat(buffers: Uint8Array[]): ArrayBuffer {
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const b of buffers) {
    out.set(b, off);
    off += b.byteLength;
  }
  return out.buffer;
}

/** What tf.io.getModelArtifactsForJSON does, with the weights already concatenated. */
function toArtifacts(
  json: tf.io.ModelJSON,
  buffers: Uint8Array[],
  source: string,
  base: string,
): TfjsArtifacts {
  if (!json.modelTopology) throw new Error(`${source}: model.json has no modelTopology`);
  const artifacts: tf.io.ModelArtifacts & { weightData: ArrayBuffer } = {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    weightSpecs: (json.weightsManifest ?? []).flatMap((g) => g.weights),
    weightData: concat(buffers),
  };
  if (json.trainingConfig) artifacts.trainingConfig = json.trainingConfig;
  if (json.signature) artifacts.signature = json.signature;
  if (json.userDefinedMetadata) artifacts.userDefinedMetadata = json.userDefinedMetadata;
  if (json.modelInitializer) artifacts.modelInitializer = json.modelInitializer;
  if (json.initializerSignature) artifacts.initializerSignature = json.initializerSignature;
  return { artifacts, format: detectFormat(json), source, base };
}

/** tfjs IOHandler reading model.json and its shards from a directory with node:fs. */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => (await loadFromDir(dir)).artifacts,
  };
}

export async function loadFromDir(dirOrFile: string): Promise<TfjsArtifacts> {
  const p = dirOrFile.startsWith("file://") ? fileURLToPath(dirOrFile) : dirOrFile;
  const file = p.endsWith(".json") ? p : path.join(p, "model.json");
  const dir = path.dirname(file);
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(await readFile(file, "utf8")) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(`cannot read model ${file}: ${(err as Error).message}`, { cause: err });
  }
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const shard of group.paths) buffers.push(await readFile(path.join(dir, shard)));
  }
  return toArtifacts(json, buffers, file, dir);
}

/** Each request of a model download (model.json, a shard) gives up after this long. */
export const FETCH_TIMEOUT_MS = 120_000;

export async function loadFromUrl(url: string): Promise<TfjsArtifacts> {
  const modelUrl = url.endsWith(".json") ? url : `${url.replace(/\/+$/, "")}/model.json`;
  const fetch = (u: string | URL) =>
    globalThis.fetch(u, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const res = await fetch(modelUrl);
  if (!res.ok) throw new Error(`cannot fetch model ${modelUrl}: HTTP ${res.status}`);
  const json = (await res.json()) as tf.io.ModelJSON;
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const shard of group.paths) {
      const shardUrl = new URL(shard, modelUrl).href;
      const r = await fetch(shardUrl);
      if (!r.ok) throw new Error(`cannot fetch weights ${shardUrl}: HTTP ${r.status}`);
      buffers.push(new Uint8Array(await r.arrayBuffer()));
    }
  }
  return toArtifacts(json, buffers, modelUrl, new URL(".", modelUrl).href);
}

/** The model directory's (or URL's) manifest.json; undefined when it has none. */
export async function readManifest(from: {
  modelDir?: string;
  modelUrl?: string;
}): Promise<Manifest | undefined> {
  const base = from.modelUrl
    ? new URL(
        ".",
        from.modelUrl.endsWith(".json") ? from.modelUrl : `${from.modelUrl.replace(/\/+$/, "")}/`,
      ).href
    : from.modelDir?.startsWith("file://")
      ? fileURLToPath(from.modelDir)
      : from.modelDir;
  if (!base) throw new Error("createClassifier: modelDir or modelUrl is required");
  if (!from.modelUrl && base.endsWith(".json")) return undefined; // a model.json named directly
  const text = await readBeside(base, MANIFEST_FILE);
  return text === undefined ? undefined : parseManifest(text, joinBase(base, MANIFEST_FILE));
}

function joinBase(base: string, name: string): string {
  return /^https?:\/\//.test(base)
    ? new URL(name, base.endsWith("/") ? base : `${base}/`).href
    : path.join(base, name);
}

/**
 * Which of a manifest's formats an engine on `backend` runs: tfjs-node runs the SavedModel
 * (TensorFlow itself, what the import verified bit for bit) and else the tfjs model; WASM and
 * tfjs' CPU backend run the tfjs model only. Throws, naming what the directory has, when none fits.
 */
export function formatFor(
  manifest: Manifest,
  backend: EngineBackend,
  where: string,
): ModelFormatName {
  const f = manifest.formats;
  if (backend === "tensorflow" && f.savedmodel) return "savedmodel";
  if (f.tfjs) return "tfjs";
  const has = Object.keys(f).filter((k) => f[k as ModelFormatName]);
  throw new ManifestError(
    `${where}: no format the ${backend} backend runs (it has ${has.join(", ")}; ` +
      `${backend === "tensorflow" ? "tfjs-node runs savedmodel or tfjs" : "WASM runs tfjs only"}). ` +
      (f.savedmodel
        ? "Fix: serve it on tfjs-node (TFJS_BACKEND=tensorflow or auto where tfjs-node loads); " +
          "the import writes a tfjs model only where tensorflowjs converts the model (docs/models.md)."
        : "Fix: import the model from its Keras file or SavedModel to get a SavedModel (docs/models.md)."),
  );
}

/**
 * Loads the model for an engine on `backend`: by the manifest when the directory (or URL) has one,
 * else the tfjs model at modelDir / modelUrl as before.
 */
export async function loadModel(
  from: { modelDir?: string; modelUrl?: string },
  backend: EngineBackend = "wasm",
  manifest?: Manifest,
): Promise<LoadedArtifacts> {
  const m = manifest ?? (await readManifest(from));
  if (!m) {
    if (from.modelUrl) return await loadFromUrl(from.modelUrl);
    if (from.modelDir) return await loadFromDir(from.modelDir);
    throw new Error("createClassifier: modelDir or modelUrl is required");
  }
  const base = from.modelUrl
    ? new URL(
        ".",
        from.modelUrl.endsWith(".json") ? from.modelUrl : `${from.modelUrl.replace(/\/+$/, "")}/`,
      ).href
    : (from.modelDir as string).startsWith("file://")
      ? fileURLToPath(from.modelDir as string)
      : (from.modelDir as string);
  const where = joinBase(base, MANIFEST_FILE);
  const format = from.modelUrl
    ? (() => {
        // Over http(s) only the tfjs model can be fetched (a SavedModel is loaded from a path).
        if (!m.formats.tfjs) {
          throw new ManifestError(`${where}: a model fetched from a URL must have a tfjs format`);
        }
        return "tfjs" as const;
      })()
    : formatFor(m, backend, where);
  if (format === "savedmodel") {
    const dir = path.join(base, m.formats.savedmodel as string);
    return { savedModelDir: dir, format: "saved-model", source: dir, base, manifest: m };
  }
  const tfjsPath = joinBase(base, m.formats.tfjs as string);
  const loaded = from.modelUrl ? await loadFromUrl(tfjsPath) : await loadFromDir(tfjsPath);
  // labels.txt and the rest are relative to the model directory, not to model.json
  return { ...loaded, base, manifest: m };
}

/** Reads a text file beside the model (labels.txt); undefined when absent. */
export async function readBeside(base: string, name: string): Promise<string | undefined> {
  if (/^https?:\/\//.test(base)) {
    const res = await fetch(new URL(name, base.endsWith("/") ? base : `${base}/`), {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`cannot fetch ${name} from ${base}: HTTP ${res.status}`);
    return await res.text();
  }
  try {
    return await readFile(path.isAbsolute(name) ? name : path.join(base, name), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
