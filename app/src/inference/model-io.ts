/**
 * Loading tfjs model artifacts (model.json + weight shards, as tensorflowjs_converter writes them)
 * from a local directory (plain fs: tf.io.fileSystem would need tfjs-node) or an http(s) URL.
 * The artifacts are loaded once in the main thread and handed to each inference worker. No tfjs
 * code runs here (type imports only), so the main thread does not load tfjs at all.
 */
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type * as tf from "@tensorflow/tfjs-core";

export type ModelFormat = "layers-model" | "graph-model";

export interface LoadedArtifacts {
  /** Weights concatenated into one ArrayBuffer (cloneable to worker threads). */
  artifacts: tf.io.ModelArtifacts & { weightData: ArrayBuffer };
  format: ModelFormat;
  /** Where it came from, for logs: a directory path or a URL. */
  source: string;
  /** Base location used to resolve labels.txt: a directory path or a URL ending with '/'. */
  base: string;
}

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
): LoadedArtifacts {
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

export async function loadFromDir(dirOrFile: string): Promise<LoadedArtifacts> {
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

export async function loadFromUrl(url: string): Promise<LoadedArtifacts> {
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

/** Loads from `modelUrl` when set, else from `modelDir`. */
export async function loadModel(from: {
  modelDir?: string;
  modelUrl?: string;
}): Promise<LoadedArtifacts> {
  if (from.modelUrl) return await loadFromUrl(from.modelUrl);
  if (from.modelDir) return await loadFromDir(from.modelDir);
  throw new Error("createClassifier: modelDir or modelUrl is required");
}

// ---- ONNX (the onnxruntime engine) ----

/**
 * An ONNX model for the inference workers: a local file's path (each worker's ONNX Runtime reads
 * it: the main thread and the workers' V8 heaps hold no copy of the weights), or the bytes
 * fetched from a URL, read once in the main thread.
 */
export interface LoadedOnnx {
  model: Uint8Array | string;
  format: "onnx";
  /** The file or URL it came from, for logs. */
  source: string;
  /** Base location used to resolve labels.txt (as LoadedArtifacts' base). */
  base: string;
}

/** Either kind of model the engines load. */
export type LoadedModel = LoadedArtifacts | LoadedOnnx;

/** The ONNX file's name in a model directory (until manifest.json's `formats.onnx` says). */
export const ONNX_FILE = "model.onnx";

/**
 * Where the ONNX model of a model directory (or of a URL to one) is: `MODEL_DIR` (or `MODEL_URL`)
 * itself when it names a .onnx file, else model.onnx in it (beside model.json when it names
 * that). The one place the ONNX file is located: the model directory's manifest (formats.onnx)
 * takes over here.
 */
export function onnxLocation(from: { modelDir?: string; modelUrl?: string }): string {
  if (from.modelUrl) {
    const u = from.modelUrl;
    if (/\.onnx$/i.test(new URL(u).pathname)) return u;
    const dir = /\.json$/i.test(new URL(u).pathname)
      ? new URL(".", u).href
      : `${u.replace(/\/+$/, "")}/`;
    return new URL(ONNX_FILE, dir).href;
  }
  if (!from.modelDir) throw new Error("createClassifier: modelDir or modelUrl is required");
  const p = from.modelDir.startsWith("file://") ? fileURLToPath(from.modelDir) : from.modelDir;
  if (/\.onnx$/i.test(p)) return p;
  return path.join(/\.json$/i.test(p) ? path.dirname(p) : p, ONNX_FILE);
}

/** Locates the ONNX model (onnxLocation): a local file is checked, a URL's is fetched. */
export async function loadOnnx(from: {
  modelDir?: string;
  modelUrl?: string;
}): Promise<LoadedOnnx> {
  const where = onnxLocation(from);
  if (/^https?:\/\//.test(where)) {
    const res = await fetch(where, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`cannot fetch ONNX model ${where}: HTTP ${res.status}`);
    const model = new Uint8Array(await res.arrayBuffer());
    return { model, format: "onnx", source: where, base: new URL(".", where).href };
  }
  try {
    await access(where, constants.R_OK);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? `no ONNX model at ${where}: the onnxruntime engine serves model.onnx ` +
            "(npm run model:demo writes the demo model's; a trained model's comes from its conversion with tf2onnx)"
        : `cannot read ONNX model ${where}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { model: where, format: "onnx", source: where, base: path.dirname(where) };
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
