/**
 * Loading a model for an engine: a model directory by its manifest.json (manifest.ts: the
 * SavedModel for tfjs-node, the tfjs model for WASM, the ONNX file for ONNX Runtime), or, without
 * a manifest, tfjs model artifacts (model.json + weight shards, as tensorflowjs_converter writes
 * them) or an ONNX file (model.onnx) from a local directory (plain fs: tf.io.fileSystem would need
 * tfjs-node) or an http(s) URL.
 * tfjs artifacts are loaded once in the main thread and handed to each inference worker; a
 * SavedModel, and a local ONNX file, are loaded by each worker from their path (no copy of the
 * weights in any V8 heap); an ONNX file behind a URL is fetched once. No tfjs code runs here (type
 * imports only), so the main thread does not load tfjs at all.
 */
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type * as tf from "@tensorflow/tfjs-core";
import type { EngineBackend } from "./backend.js";
import {
  DEFAULT_FORMAT_PATHS,
  MANIFEST_FILE,
  type Manifest,
  ManifestError,
  type ModelFormatName,
  parseManifest,
} from "./manifest.js";

/** What an engine runs: a tfjs model (layers or graph), a SavedModel, or an ONNX file. */
export type ModelFormat = "layers-model" | "graph-model" | "saved-model" | "onnx";

/** The manifest's name (its `formats` key) of what an engine runs. */
export const MANIFEST_FORMAT: Record<ModelFormat, ModelFormatName> = {
  "layers-model": "tfjs",
  "graph-model": "tfjs",
  "saved-model": "savedmodel",
  onnx: "onnx",
};

export interface LoadedArtifacts {
  /** tfjs formats: weights concatenated into one ArrayBuffer (cloneable to worker threads). */
  artifacts?: tf.io.ModelArtifacts & { weightData: ArrayBuffer };
  /** saved-model: the SavedModel directory, loaded by each worker (tf.node.loadSavedModel). */
  savedModelDir?: string;
  /**
   * onnx: a local file's path (each worker's ONNX Runtime reads it), or the bytes fetched from a
   * URL, read once here.
   */
  onnx?: Uint8Array | string;
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

/**
 * What tf.io.getModelArtifactsForJSON does, with the weights already concatenated: `shard` reads
 * one weight file named in the weights manifest (from a directory or a URL).
 */
async function toArtifacts(
  json: tf.io.ModelJSON,
  shard: (name: string) => Promise<Uint8Array>,
  source: string,
  base: string,
): Promise<TfjsArtifacts> {
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const name of group.paths) buffers.push(await shard(name));
  }
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

/** A path given as a file:// URL or as a path. */
const localPath = (p: string) => (p.startsWith("file://") ? fileURLToPath(p) : p);

/** True for an http(s) URL (a model fetched at start), false for a local path. */
const isUrl = (location: string) => /^https?:\/\//.test(location);

export async function loadFromDir(dirOrFile: string): Promise<TfjsArtifacts> {
  const p = localPath(dirOrFile);
  const file = p.endsWith(".json") ? p : path.join(p, "model.json");
  const dir = path.dirname(file);
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(await readFile(file, "utf8")) as tf.io.ModelJSON;
  } catch (err) {
    throw new Error(`cannot read model ${file}: ${(err as Error).message}`, { cause: err });
  }
  return toArtifacts(json, (shard) => readFile(path.join(dir, shard)), file, dir);
}

/** Each request of a model download (model.json, a shard) gives up after this long. */
export const FETCH_TIMEOUT_MS = 120_000;

/** GET with the download timeout (FETCH_TIMEOUT_MS). */
const timedFetch = (url: string | URL) =>
  fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });

/** A download that must succeed: any other status throws `cannot fetch <what> <url>: HTTP <status>`. */
async function fetchOk(url: string, what: string): Promise<Response> {
  const res = await timedFetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${what} ${url}: HTTP ${res.status}`);
  return res;
}

async function loadFromUrl(url: string): Promise<TfjsArtifacts> {
  const modelUrl = url.endsWith(".json") ? url : `${url.replace(/\/+$/, "")}/model.json`;
  const json = (await (await fetchOk(modelUrl, "model")).json()) as tf.io.ModelJSON;
  const shard = async (name: string) =>
    new Uint8Array(await (await fetchOk(new URL(name, modelUrl).href, "weights")).arrayBuffer());
  return toArtifacts(json, shard, modelUrl, new URL(".", modelUrl).href);
}

/** The model directory's (or URL's) manifest.json; undefined when it has none. */
export async function readManifest(from: {
  modelDir?: string;
  modelUrl?: string;
}): Promise<Manifest | undefined> {
  const named = from.modelUrl ?? from.modelDir ?? "";
  // A model file named directly (a local model.json, a .onnx) is a bare model: no manifest.
  if (/\.onnx$/i.test(named) || (!from.modelUrl && /\.json$/i.test(named))) return undefined;
  const base = modelBase(from);
  const text = await readBeside(base, MANIFEST_FILE);
  return text === undefined ? undefined : parseManifest(text, joinBase(base, MANIFEST_FILE));
}

function joinBase(base: string, name: string): string {
  return isUrl(base)
    ? new URL(name, base.endsWith("/") ? base : `${base}/`).href
    : path.join(base, name);
}

/**
 * Which of a manifest's formats an engine on `backend` runs: ONNX Runtime runs the ONNX file only;
 * tfjs-node runs the SavedModel (TensorFlow itself, what the import verified bit for bit) and else
 * the tfjs model; WASM and tfjs' CPU backend run the tfjs model only. Throws, naming what the
 * directory has, when none fits.
 */
export function formatFor(
  manifest: Manifest,
  backend: EngineBackend,
  where: string,
): ModelFormatName {
  const f = manifest.formats;
  const has = Object.keys(f).filter((k) => f[k as ModelFormatName]);
  if (backend === "onnxruntime") {
    if (f.onnx) return "onnx";
    throw new ManifestError(
      `${where}: no ONNX format, which the onnxruntime engine runs (it has ${has.join(", ")}). ` +
        "Fix: import the model again with npm run model:import (it writes model.onnx, verified), " +
        "or serve it on a tfjs engine (TFJS_BACKEND=auto) (docs/models.md).",
    );
  }
  if (backend === "tensorflow" && f.savedmodel) return "savedmodel";
  if (f.tfjs) return "tfjs";
  const fix = f.savedmodel
    ? "Fix: serve it on tfjs-node (TFJS_BACKEND=tensorflow or auto where tfjs-node loads); " +
      "the import writes a tfjs model only where tensorflowjs converts the model (docs/models.md)."
    : f.onnx
      ? "Fix: serve it on ONNX Runtime (TFJS_BACKEND=onnxruntime), or import the model from its " +
        "Keras file or SavedModel to get a SavedModel (docs/models.md)."
      : "Fix: import the model from its Keras file or SavedModel to get a SavedModel (docs/models.md).";
  throw new ManifestError(
    `${where}: no format the ${backend} backend runs (it has ${has.join(", ")}; ` +
      `${backend === "tensorflow" ? "tfjs-node runs savedmodel or tfjs" : "WASM runs tfjs only"}). ${fix}`,
  );
}

/** The directory (or URL ending with '/') a model's files are relative to. */
function modelBase(from: { modelDir?: string; modelUrl?: string }): string {
  if (from.modelUrl) {
    const u = from.modelUrl;
    return new URL(".", /\.(json|onnx)$/i.test(u) ? u : `${u.replace(/\/+$/, "")}/`).href;
  }
  if (!from.modelDir) throw new Error("createClassifier: modelDir or modelUrl is required");
  const p = localPath(from.modelDir);
  return /\.(json|onnx)$/i.test(p) ? path.dirname(p) : p;
}

/**
 * Loads the model for an engine on `backend`: by the manifest when the directory (or URL) has one,
 * else the bare tfjs model (or, on ONNX Runtime, the bare ONNX file) at modelDir / modelUrl.
 */
export async function loadModel(
  from: { modelDir?: string; modelUrl?: string },
  backend: EngineBackend = "wasm",
  manifest?: Manifest,
): Promise<LoadedArtifacts> {
  const m = manifest ?? (await readManifest(from));
  if (backend === "onnxruntime") {
    // a manifest without formats.onnx is refused here, naming the fix (formatFor)
    if (m) formatFor(m, backend, joinBase(modelBase(from), MANIFEST_FILE));
    return await loadOnnx(from, m);
  }
  if (!m) {
    if (from.modelUrl) return await loadFromUrl(from.modelUrl);
    if (from.modelDir) return await loadFromDir(from.modelDir);
    throw new Error("createClassifier: modelDir or modelUrl is required");
  }
  const base = modelBase(from);
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

/** The ONNX file's name in a model directory without a manifest.json. */
export const ONNX_FILE = DEFAULT_FORMAT_PATHS.onnx;

/**
 * Where the ONNX model of a model directory (or of a URL to one) is: `MODEL_DIR` (or `MODEL_URL`)
 * itself when it names a .onnx file, else the manifest's `formats.onnx` in it, else (no manifest)
 * model.onnx in it (beside model.json when it names that). The one place the ONNX file is located.
 */
export function onnxLocation(
  from: { modelDir?: string; modelUrl?: string },
  manifest?: Manifest,
): string {
  const named = from.modelUrl ?? from.modelDir ?? "";
  if (/\.onnx$/i.test(named)) return localPath(named);
  return joinBase(modelBase(from), manifest?.formats.onnx ?? ONNX_FILE);
}

/**
 * The ONNX file (onnxLocation) for the workers: a local file is checked readable (each worker's
 * ONNX Runtime reads it), a URL's bytes are fetched once. labels.txt is beside it.
 */
async function loadOnnx(
  from: { modelDir?: string; modelUrl?: string },
  manifest?: Manifest,
): Promise<LoadedArtifacts> {
  const where = onnxLocation(from, manifest);
  const remote = isUrl(where);
  const base = remote ? new URL(".", where).href : path.dirname(where);
  const m = manifest ? { manifest } : {};
  if (remote) {
    const onnx = new Uint8Array(await (await fetchOk(where, "ONNX model")).arrayBuffer());
    return { onnx, format: "onnx", source: where, base, ...m };
  }
  try {
    await access(where, constants.R_OK);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? `no ONNX model at ${where}: the onnxruntime engine serves model.onnx ` +
            "(npm run model:demo writes the demo model's, npm run model:import a trained model's)"
        : `cannot read ONNX model ${where}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { onnx: where, format: "onnx", source: where, base, ...m };
}

/** Reads a text file beside the model (labels.txt); undefined when absent. */
export async function readBeside(base: string, name: string): Promise<string | undefined> {
  if (isUrl(base)) {
    const res = await timedFetch(joinBase(base, name));
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
