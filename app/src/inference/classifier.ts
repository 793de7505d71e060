/**
 * The inference module's entry: `createClassifier(opts)` loads a model (a model directory by its
 * manifest.json: a SavedModel on tfjs-node, a tfjs model on WASM, the ONNX file on ONNX Runtime;
 * or a bare tfjs LayersModel or GraphModel, or a bare .onnx, from a directory or an http(s) URL),
 * starts its engines and answers
 * `classify(image)`, which runs a request's stages, each in a file of its own:
 *   probe.ts (format, size, pixel limit; the route probes before admission) → batcher.ts
 *   admission → decode.ts → normalize.ts → batcher.ts (queue, batches) → worker-pool.ts /
 *   infer.ts (the model run in a worker thread) → rank.ts (probabilities, top k).
 *
 * Backends (`backend`, env TFJS_BACKEND; backend.ts chooses): `tensorflow` (@tensorflow/tfjs-node,
 * an optional dependency), `wasm`, or `auto` (default: tfjs-node if it loads, else WASM), or
 * `onnxruntime`: ONNX Runtime on the model directory's ONNX format (the manifest's
 * `formats.onnx`) instead of tfjs (infer-onnxruntime.ts; model-io.ts locates the file). Each runs in `engines` worker threads
 * (default one per core of `threads`, the CPU budget); on tfjs-node TF's intra-op pool gets
 * threads / engines threads, on ONNX Runtime each session does. LayersModels run through a fused
 * program (fuse.ts: BatchNorm and ReLU6 folded into the convolutions, ~2.5x faster on WASM,
 * smaller heap); GraphModels run as loaded.
 */
import {
  BACKEND_CHOICES,
  type BackendChoice,
  cpuBudget,
  type EngineBackend,
  startOnBackend,
} from "./backend.js";
import { Batcher, defaultQueueMax } from "./batcher.js";
import { decodeImage } from "./decode.js";
import { ClassifierClosedError } from "./errors.js";
import type { MemoryInfo } from "./infer.js";
import { modelLabels } from "./labels.js";
import { type Manifest, resolvePreprocess } from "./manifest.js";
import { type LoadedArtifacts, loadModel, type ModelFormat, readManifest } from "./model-io.js";
import { normalize, PREPROCESS_MODES, type PreprocessMode } from "./normalize.js";
import { DEFAULT_MAX_INPUT_PIXELS, type ProbedImage } from "./probe.js";
import { rank, type TopEntry } from "./rank.js";
import { WorkerPool } from "./worker-pool.js";

export type { BackendChoice } from "./backend.js";
export type { TopEntry } from "./rank.js";

export interface ClassifierOptions {
  /** Local model directory (or path to model.json, or file:// URL). */
  modelDir?: string;
  /** http(s) URL of model.json or of its directory; fetched once at start. */
  modelUrl?: string;
  /**
   * The model's manifest.json as its caller read it already (model-io.ts readManifest), so it is
   * read once (server.ts reads it first); undefined: read here (as loadModel does).
   */
  manifest?: Manifest | undefined;
  /**
   * `raw` (0..255), `unit` (x/255) or `mobilenet` (x/127.5 - 1). Default: the manifest's; one that
   * disagrees with the manifest is refused (manifest.ts resolvePreprocess); no manifest: `unit`.
   */
  preprocess?: PreprocessMode;
  backend?: BackendChoice;
  /**
   * CPU budget: WASM worker threads, or tfjs-node intra-op threads. Default: cpuBudget() (the
   * cgroup CPU limit rounded up, else the available cores).
   */
  threads?: number;
  /** Labels in output order; default: labelsFile beside the model, else the 11 Food-11 classes. */
  labels?: string[];
  /** Labels file name (resolved beside model.json) or absolute path. Default `labels.txt`. */
  labelsFile?: string;
  /** Max images admitted but not yet running (decoding or waiting). Default 32 x threads. */
  queueMax?: number;
  /** Each engine worker's V8 young generation, MB. Default 4 (worker-pool.ts). */
  workerYoungGenerationMb?: number;
  /** Max pixels (width x height) of an input image. Default 4096 x 4096 (probe.ts). */
  maxInputPixels?: number;
  /**
   * Largest batch an engine takes from the queue at once (batcher.ts). Default 1 on every backend:
   * on tfjs-node a batch's activations are larger than glibc's mmap threshold, so every run maps
   * fresh zeroed pages (more memory, and a gain in images/s on some CPUs only); on WASM a batch
   * multiplies each worker's WASM heap. Measured: docs/benchmarks.md, "Where the memory goes".
   */
  maxBatchSize?: number;
  /**
   * Engine instances (worker threads). Default: `threads` (one core each) on tfjs; 1 on ONNX
   * Runtime, one session on every core's intra-op thread (less memory and a lower p50 for a few
   * req/s less at c=20-30: docs/benchmarks.md, "Sessions and threads"). On tfjs-node the
   * process-wide intra-op pool gets threads / engines threads (TF_NUM_INTRAOP_THREADS, unless set);
   * on ONNX Runtime each engine's session gets threads / engines intra-op threads.
   */
  engines?: number;
  /**
   * Run LayersModels through the fused program (BatchNorm and ReLU6 folded into convolutions,
   * see fuse.ts). Default true; false runs model.predict as loaded.
   */
  fuse?: boolean;
  /** Called after every engine run with its duration (ms) and batch size (for metrics). */
  onInference?: (ms: number, batchSize: number) => void;
}

export interface Timings {
  /** sharp: decode + EXIF orientation + resize to the input size. */
  decodeMs: number;
  /** scaling RGB bytes to the float32 input (unit or mobilenet). */
  preprocessMs: number;
  /** waiting in the queue for a free engine. */
  queueMs: number;
  /** model forward pass (+ reading the output) of the batch this image ran in. */
  inferenceMs: number;
  /** classify() call to result. */
  totalMs: number;
}

export interface Classification {
  label: string;
  index: number;
  probability: number;
  top: TopEntry[];
  timings: Timings;
  /** Size of the batch the image ran in. */
  batchSize: number;
}

export interface ClassifierStats {
  /** Images admitted but not running yet (decoding or waiting for an engine). */
  queueDepth: number;
  /** Images currently running on an engine. */
  inFlight: number;
  /** Number of engines (worker threads; 1 for tfjs-node). */
  workers: number;
  queueMax: number;
}

export interface Classifier {
  /** probe (unless `image` is probed already) → decode → normalise → batch → infer → rank. */
  classify(image: Buffer | Uint8Array | ProbedImage, topk?: number): Promise<Classification>;
  /** Active engine: the tfjs backend (`tensorflow`, `wasm`, `cpu`) or `onnxruntime`. */
  readonly backend: string;
  /** With backend `auto`: why tfjs-node was not used (worth a log line at startup). */
  readonly fallbackReason?: string;
  readonly inputSize: { width: number; height: number };
  readonly labels: readonly string[];
  readonly preprocess: PreprocessMode;
  readonly modelFormat: ModelFormat;
  /** The model directory's manifest.json; undefined for a bare tfjs model. */
  readonly manifest?: Manifest;
  /** Where the model came from (path or URL). */
  readonly modelSource: string;
  /** CPU budget in use: worker threads (WASM) or intra-op threads (tfjs-node). */
  readonly threads: number;
  readonly queueMax: number;
  stats(): ClassifierStats;
  /** tf.memory() of every engine (one entry per worker): for leak checks. */
  memory(): Promise<MemoryInfo[]>;
  /** Tests only: makes worker `index` exit as if it crashed (it is then restarted). */
  _crashWorker?(index: number): void;
  /** Rejects new work, waits for running work, terminates the workers. Idempotent. */
  close(): Promise<void>;
}

/** Loads the model, starts the engines on a backend, and returns the classifier. */
export async function createClassifier(opts: ClassifierOptions = {}): Promise<Classifier> {
  const threads = Math.max(1, Math.floor(opts.threads ?? cpuBudget()));
  const queueMax = Math.max(1, Math.floor(opts.queueMax ?? defaultQueueMax(threads)));
  const maxPixels = opts.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const choice: BackendChoice = opts.backend ?? "auto";
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`unknown backend '${choice}' (auto | tensorflow | wasm | onnxruntime)`);
  }
  if (opts.preprocess && !PREPROCESS_MODES.includes(opts.preprocess)) {
    throw new Error(`unknown preprocess '${opts.preprocess}'`);
  }
  const manifest = opts.manifest ?? (await readManifest(opts));
  const mode: PreprocessMode = resolvePreprocess(manifest, opts.preprocess).mode;
  const load = (backend: EngineBackend) => loadModel(opts, backend, manifest);
  const engines = Math.max(1, Math.floor(opts.engines ?? (choice === "onnxruntime" ? 1 : threads)));
  const intraOpThreads = Math.max(1, Math.round(threads / engines));
  const pool = new WorkerPool(
    load,
    opts.fuse !== false,
    intraOpThreads,
    opts.workerYoungGenerationMb,
  );
  let loaded: LoadedArtifacts | undefined;
  const { started: meta, fallbackReason } = await startOnBackend(
    choice,
    intraOpThreads,
    async (backend) => {
      loaded = await load(backend);
      return pool.start(backend, loaded, engines);
    },
  );
  if (!loaded) throw new Error("no engine started");
  const labelsFile = opts.labelsFile ?? manifest?.labels;
  const labels = await modelLabels(loaded.base, {
    ...(opts.labels ? { labels: opts.labels } : {}),
    ...(labelsFile ? { labelsFile } : {}),
  });
  if (manifest && labels.length !== manifest.classes) {
    await pool.close();
    throw new Error(
      `${loaded.base}: ${manifest.labels} has ${labels.length} labels, the manifest says ${manifest.classes} classes`,
    );
  }
  if (labels.length !== meta.classes) {
    await pool.close();
    throw new Error(`model has ${meta.classes} outputs but ${labels.length} labels were given`);
  }

  const maxBatchSize = Math.max(1, Math.floor(opts.maxBatchSize ?? 1));
  const [height, width] = meta.inputShape;
  const imageSize = height * width * 3;
  const batcher = new Batcher(pool.executors, {
    maxBatchSize,
    queueMax,
    imageSize,
    ...(opts.onInference ? { onInference: opts.onInference } : {}),
  });
  pool.onRestart = () => batcher.dispatch();
  let closed = false;

  const classify = async (
    image: Buffer | Uint8Array | ProbedImage,
    topk = 5,
  ): Promise<Classification> => {
    const t0 = performance.now();
    if (closed) throw new ClassifierClosedError();
    // A raw buffer is admitted before its probe, so the bound counts it at once.
    batcher.admit();
    let input: Float32Array;
    let decodeMs: number;
    let preprocessMs: number;
    try {
      const decoded = await decodeImage(image, width, height, maxPixels);
      const t1 = performance.now();
      decodeMs = t1 - t0;
      input = normalize(decoded.rgb, mode, new Float32Array(imageSize));
      preprocessMs = performance.now() - t1;
    } catch (err) {
      batcher.release();
      throw err;
    }
    const enqueuedAt = performance.now();
    const res = await batcher.submit(input);
    const { best, top } = rank(res.probs, labels, topk);
    return {
      ...best,
      top,
      batchSize: res.batch,
      timings: {
        decodeMs,
        preprocessMs,
        queueMs: res.startedAt - enqueuedAt,
        inferenceMs: res.ms,
        totalMs: performance.now() - t0,
      },
    };
  };

  let closing: Promise<void> | undefined;
  return {
    classify,
    backend: meta.backend,
    ...(fallbackReason ? { fallbackReason } : {}),
    inputSize: { width, height },
    labels: Object.freeze(labels),
    preprocess: mode,
    modelFormat: loaded.format,
    modelSource: loaded.source,
    ...(manifest ? { manifest } : {}),
    threads,
    queueMax,
    stats: () => ({
      queueDepth: batcher.depth,
      inFlight: batcher.inFlight,
      workers: pool.alive(),
      queueMax,
    }),
    _crashWorker: (index: number) => pool.crash(index),
    memory: () => (closed ? Promise.reject(new ClassifierClosedError()) : pool.memory()),
    close: () => {
      closing ??= (async () => {
        closed = true;
        pool.stopRestarts();
        await batcher.idle();
        await pool.close();
      })();
      return closing;
    },
  };
}

export * from "./errors.js";
export type { MemoryInfo } from "./infer.js";
export type { PreprocessMode } from "./normalize.js";
export type { ProbedImage } from "./probe.js";
