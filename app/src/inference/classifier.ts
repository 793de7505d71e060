/**
 * The inference engine of the server: `createClassifier(opts)` loads a tfjs model (LayersModel or
 * GraphModel, from a directory or an http(s) URL), picks a backend and answers `classify(image)`.
 *
 * Backends (`backend`, env TFJS_BACKEND):
 *  - `tensorflow`: @tensorflow/tfjs-node (optional dependency) in worker threads, one engine
 *    per core by default, TF's intra-op pool sized threads / engines (TF_NUM_INTRAOP_THREADS);
 *  - `wasm`: `threads` worker threads, each with its own tfjs WASM backend and model copy (WASM
 *    has no threads under Node, so this is how it uses several cores);
 *  - `auto` (default): tfjs-node if it loads, else WASM.
 *  (`cpu`, tfjs' plain JS backend in workers, exists for tests only: ~15x slower.)
 *
 * Decoding and resizing run in the main thread through sharp (libvips on libuv's thread pool);
 * the workers get float32 tensors. In front of the engines is a bounded queue: images admitted
 * but not yet running (decoding or waiting) count against `queueMax`; past it `classify` rejects
 * at once with QueueFullError (HTTP 503 + Retry-After). When a worker frees up it takes up to
 * `maxBatchSize` waiting images as one batch (no waiting for a batch to fill: batching only
 * happens under load, so it never adds latency at low concurrency).
 *
 * LayersModels run through a fused program (fuse.ts: BatchNorm and ReLU6 folded into the
 * convolutions, ~2.5x faster on WASM, smaller heap); GraphModels run as loaded.
 */

import type { Worker } from "node:worker_threads";
import { cpuBudget, spawnModuleWorker, wasmBinariesDir } from "./backend.js";
import type { MemoryInfo } from "./engine.js";
import { ClassifierClosedError, InferenceError, QueueFullError } from "./errors.js";
import { FOOD11_LABELS, parseLabels } from "./labels.js";
import { type LoadedArtifacts, loadFromDir, loadFromUrl, readBeside } from "./model-io.js";
import {
  DEFAULT_MAX_INPUT_PIXELS,
  decodeImage,
  normalize,
  type PreprocessMode,
} from "./preprocess.js";
import type { WorkerData, WorkerReply, WorkerRequest } from "./protocol.js";

export type BackendChoice = "auto" | "tensorflow" | "wasm" | "cpu";

export interface ClassifierOptions {
  /** Local model directory (or path to model.json, or file:// URL). */
  modelDir?: string;
  /** http(s) URL of model.json or of its directory; fetched once at start. */
  modelUrl?: string;
  /** `unit` (x/255, default: the original recipe) or `mobilenet` (x/127.5 - 1). */
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
  /** Max pixels (width x height) of an input image. Default 40,000,000. */
  maxInputPixels?: number;
  /**
   * Largest batch an engine takes from the queue at once (greedy: only images already waiting, so
   * no added latency at low load). Default 8 on tfjs-node (measured: 20 callers, 65.9 images/s unbatched, 81.4 with 8, 79.6 with 32; bench/peer/batching.ts), 1 on WASM.
   */
  maxBatchSize?: number;
  /**
   * Engine instances (worker threads). Default: `threads` (one core each). On tfjs-node the
   * process-wide intra-op pool gets threads / engines threads (TF_NUM_INTRAOP_THREADS, unless set).
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

export interface TopEntry {
  label: string;
  index: number;
  probability: number;
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
  classify(image: Buffer | Uint8Array, topk?: number): Promise<Classification>;
  /** Active tfjs backend: `tensorflow`, `wasm` or `cpu`. */
  readonly backend: string;
  /** With backend `auto`: why tfjs-node was not used (worth a log line at startup). */
  readonly fallbackReason?: string;
  readonly inputSize: { width: number; height: number };
  readonly labels: readonly string[];
  readonly preprocess: PreprocessMode;
  readonly modelFormat: "layers-model" | "graph-model";
  /** Where the model came from (path or URL). */
  readonly modelSource: string;
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

interface Executor {
  busy: boolean;
  readonly alive: boolean;
  run(input: Float32Array, batch: number): Promise<{ probs: Float32Array; ms: number }>;
  memory(): Promise<MemoryInfo>;
  close(): Promise<void>;
}

interface EngineMeta {
  inputShape: [number, number, number];
  classes: number;
  backend: string;
}

/**
 * V8 heap limits of an inference worker: a small young generation (4 MB; env
 * INFERENCE_WORKER_YOUNG_MB overrides) — a worker allocates little on the JS heap, and the
 * default semi-spaces cost ~30 MB of RSS per worker.
 */
function workerLimits(): { maxYoungGenerationSizeMb?: number } {
  const young = Number(process.env.INFERENCE_WORKER_YOUNG_MB ?? "");
  return { maxYoungGenerationSizeMb: young > 0 ? young : 4 };
}

function spawnWorker(data: WorkerData): Worker {
  return spawnModuleWorker("worker", {
    workerData: data,
    env: process.env,
    resourceLimits: workerLimits(),
  });
}

class WorkerExecutor implements Executor {
  busy = false;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }
  >();
  private exited = false;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    onExit: (exec: WorkerExecutor, expected: boolean) => void,
  ) {
    worker.on("message", (msg: WorkerReply) => {
      if ("id" in msg) {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.type === "error") {
          p.reject(new InferenceError("INFERENCE_FAILED", 500, msg.message));
        } else p.resolve(msg);
      }
    });
    const fail = (err: Error) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on("error", (err) => fail(new InferenceError("WORKER_FAILED", 500, err.message)));
    worker.on("exit", (code) => {
      fail(new InferenceError("WORKER_EXITED", 500, `inference worker exited (${code})`));
      onExit(this, this.closing);
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  static start(
    data: WorkerData,
    onExit: (exec: WorkerExecutor, expected: boolean) => void,
  ): Promise<{ exec: WorkerExecutor; meta: EngineMeta }> {
    const worker = spawnWorker(data);
    return new Promise((resolve, reject) => {
      const detach = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onStartExit);
      };
      const onMessage = (msg: WorkerReply) => {
        if (msg.type === "ready") {
          detach();
          resolve({ exec: new WorkerExecutor(worker, onExit), meta: msg });
        } else if (msg.type === "fatal") {
          detach();
          void worker.terminate();
          reject(new Error(`inference worker failed to start: ${msg.message}`));
        }
      };
      const onError = (err: Error) => {
        detach();
        reject(err);
      };
      const onStartExit = (code: number) => {
        detach();
        reject(new Error(`inference worker exited during start (${code})`));
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onStartExit);
    });
  }

  private request(msg: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.exited) {
      return Promise.reject(new InferenceError("WORKER_EXITED", 500, "inference worker is gone"));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  async run(input: Float32Array, batch: number) {
    const r = await this.request({ type: "infer", id: this.nextId++, input, batch }, [
      input.buffer as ArrayBuffer,
    ]);
    if (r.type !== "result") throw new Error(`unexpected worker reply ${r.type}`);
    return { probs: r.probs, ms: r.ms };
  }

  async memory(): Promise<MemoryInfo> {
    const r = await this.request({ type: "memory", id: this.nextId++ });
    if (r.type !== "memory") throw new Error(`unexpected worker reply ${r.type}`);
    const { type: _type, id: _id, ...info } = r;
    return info;
  }

  crash(): void {
    this.worker.postMessage({ type: "crash", id: 0 } satisfies WorkerRequest);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
    this.exited = true;
  }
}

interface JobResult {
  probs: Float32Array;
  ms: number;
  batch: number;
  startedAt: number;
}

interface Job {
  input: Float32Array;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

function defaultThreads(): number {
  return cpuBudget();
}

export async function createClassifier(opts: ClassifierOptions = {}): Promise<Classifier> {
  const threads = Math.max(1, Math.floor(opts.threads ?? defaultThreads()));
  const queueMax = Math.max(1, Math.floor(opts.queueMax ?? 32 * threads));
  const maxPixels = opts.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  const mode: PreprocessMode = opts.preprocess ?? "unit";
  if (mode !== "unit" && mode !== "mobilenet") throw new Error(`unknown preprocess '${mode}'`);
  const choice: BackendChoice = opts.backend ?? "auto";
  if (!["auto", "tensorflow", "wasm", "cpu"].includes(choice)) {
    throw new Error(`unknown backend '${choice}' (auto | tensorflow | wasm)`);
  }

  const load = async (): Promise<LoadedArtifacts> => {
    if (opts.modelUrl) return await loadFromUrl(opts.modelUrl);
    if (opts.modelDir) return await loadFromDir(opts.modelDir);
    throw new Error("createClassifier: modelDir or modelUrl is required");
  };
  const loaded = await load();
  const { format: modelFormat, source: modelSource, base: modelBase } = loaded;

  const executors: Executor[] = [];
  let closed = false;
  let meta: EngineMeta | undefined;
  const dataFor = (backend: WorkerData["backend"], from: LoadedArtifacts): WorkerData => ({
    artifacts: from.artifacts,
    format: from.format,
    backend,
    fuse: opts.fuse !== false,
    wasmDir: wasmBinariesDir(),
  });
  // Which backend the pool runs; the weights are not kept here (each worker has its copy): a
  // restarted worker gets them loaded again.
  let poolBackend: WorkerData["backend"] | undefined;
  // A worker that dies (it should not) is replaced, so capacity does not silently shrink.
  const onWorkerExit = (exec: WorkerExecutor, expected: boolean) => {
    const i = executors.indexOf(exec);
    if (i >= 0) executors.splice(i, 1);
    if (expected || closed || !poolBackend) return;
    const backend = poolBackend;
    load()
      .then((fresh) => WorkerExecutor.start(dataFor(backend, fresh), onWorkerExit))
      .then(
        ({ exec: fresh }) => {
          if (closed) void fresh.close();
          else {
            executors.push(fresh);
            dispatch();
          }
        },
        (err: Error) => {
          process.emitWarning(`inference worker could not be restarted: ${err.message}`);
        },
      );
  };
  const startPool = async (d: WorkerData, count: number): Promise<EngineMeta> => {
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => WorkerExecutor.start(d, onWorkerExit)),
    );
    const ok: { exec: WorkerExecutor; meta: EngineMeta }[] = [];
    let failure: unknown;
    for (const s of started) {
      if (s.status === "fulfilled") ok.push(s.value);
      else failure ??= s.reason;
    }
    if (failure !== undefined || !ok[0]) {
      await Promise.all(ok.map((s) => s.exec.close()));
      throw failure ?? new Error("no inference worker started");
    }
    for (const s of ok) executors.push(s.exec);
    return ok[0].meta;
  };

  let engines = 0;
  let fallbackReason: string | undefined;
  if (choice === "auto" || choice === "tensorflow") {
    // tfjs-node: its intra-op pool is process-wide, sized from TF_NUM_INTRAOP_THREADS when the
    // addon loads (in the worker; the variable must be in the real environment, so set it here).
    // Measured on 2 cores (demo model, batch 4, c=20): 2 engines x 1 intra-op thread ~65 img/s,
    // 1 engine x 2 intra-op threads ~42 img/s; so one engine per core by default here too.
    engines = Math.max(1, Math.floor(opts.engines ?? threads));
    process.env.TF_NUM_INTRAOP_THREADS ??= String(Math.max(1, Math.round(threads / engines)));
    process.env.TF_NUM_INTEROP_THREADS ??= "1";
    process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
    try {
      meta = await startPool(dataFor("tensorflow", loaded), engines);
      poolBackend = "tensorflow";
    } catch (err) {
      fallbackReason = `tfjs-node unavailable (${(err as Error).message}); using WASM`;
      if (choice === "tensorflow") {
        throw new Error(
          `TFJS_BACKEND=tensorflow but @tensorflow/tfjs-node is not installed or failed to load: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
  }
  if (!meta) {
    engines = Math.max(1, Math.floor(opts.engines ?? threads));
    const backend = choice === "cpu" ? "cpu" : "wasm";
    try {
      meta = await startPool(dataFor(backend, loaded), engines);
      poolBackend = backend;
    } catch (err) {
      closed = true;
      throw err;
    }
  }
  let labels: string[];
  if (opts.labels) labels = [...opts.labels];
  else {
    const text = await readBeside(modelBase, opts.labelsFile ?? "labels.txt");
    labels = text !== undefined ? parseLabels(text) : [...FOOD11_LABELS];
  }
  if (labels.length !== meta.classes) {
    closed = true;
    await Promise.all(executors.map((e) => e.close()));
    throw new Error(`model has ${meta.classes} outputs but ${labels.length} labels were given`);
  }

  // Batching pays on tfjs-node (TF's kernels use both cores better on a batch); on WASM it gains
  // ~8% per image but multiplies each worker's WASM heap (RSS), so it is off by default there.
  const maxBatch = Math.max(
    1,
    Math.floor(opts.maxBatchSize ?? (poolBackend === "tensorflow" ? 8 : 1)),
  );
  const [height, width] = meta.inputShape;
  const pixelsPerImage = height * width * 3;
  const waiting: Job[] = [];
  let decoding = 0;
  let inFlight = 0;
  /** Moving average of engine time per image (ms), for Retry-After. */
  let perImageMs = 100;
  let idleWaiters: (() => void)[] = [];

  const checkIdle = () => {
    if (decoding === 0 && waiting.length === 0 && inFlight === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  };

  function dispatch(): void {
    for (const exec of executors) {
      if (waiting.length === 0) return;
      if (exec.busy || !exec.alive) continue;
      const jobs = waiting.splice(0, maxBatch);
      exec.busy = true;
      inFlight += jobs.length;
      let input: Float32Array;
      if (jobs.length === 1) input = (jobs[0] as Job).input;
      else {
        input = new Float32Array(jobs.length * pixelsPerImage);
        jobs.forEach((j, i) => {
          input.set(j.input, i * pixelsPerImage);
        });
      }
      const startedAt = performance.now();
      exec.run(input, jobs.length).then(
        ({ probs, ms }) => {
          exec.busy = false;
          inFlight -= jobs.length;
          perImageMs = 0.9 * perImageMs + (0.1 * ms) / jobs.length;
          try {
            opts.onInference?.(ms, jobs.length);
          } catch {
            // a metrics hook must never break inference
          }
          const classes = probs.length / jobs.length;
          jobs.forEach((j, i) => {
            j.resolve({
              probs: probs.subarray(i * classes, (i + 1) * classes),
              ms,
              batch: jobs.length,
              startedAt,
            });
          });
          dispatch();
          checkIdle();
        },
        (err: Error) => {
          exec.busy = false;
          inFlight -= jobs.length;
          for (const j of jobs) j.reject(err);
          dispatch();
          checkIdle();
        },
      );
    }
  }

  const classify = async (image: Buffer | Uint8Array, topk = 5): Promise<Classification> => {
    const t0 = performance.now();
    if (closed) throw new ClassifierClosedError();
    if (decoding + waiting.length >= queueMax) {
      // time to drain the queue at the recent per-image engine time, in whole seconds
      const drainMs = ((decoding + waiting.length) * perImageMs) / Math.max(1, executors.length);
      throw new QueueFullError(queueMax, Math.max(1, Math.ceil(drainMs / 1000)));
    }
    decoding++;
    let input: Float32Array;
    let decodeMs: number;
    let preprocessMs: number;
    try {
      const decoded = await decodeImage(image, width, height, maxPixels);
      const t1 = performance.now();
      decodeMs = t1 - t0;
      input = normalize(decoded.rgb, mode, new Float32Array(pixelsPerImage));
      preprocessMs = performance.now() - t1;
    } catch (err) {
      decoding--;
      checkIdle();
      throw err;
    }
    const enqueuedAt = performance.now();
    // Same tick as decoding-- (the executor runs synchronously): close() never sees a gap.
    const res = await new Promise<JobResult>((resolve, reject) => {
      decoding--;
      waiting.push({ input, resolve, reject });
      dispatch();
    });
    const k = Math.max(1, Math.min(labels.length, Math.floor(topk) || 1));
    const ranked = Array.from(res.probs, (p, index) => ({
      label: labels[index] as string,
      index,
      probability: p,
    })).sort((a, b) => b.probability - a.probability || a.index - b.index);
    const best = ranked[0] as TopEntry;
    return {
      label: best.label,
      index: best.index,
      probability: best.probability,
      top: ranked.slice(0, k),
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
    modelFormat,
    modelSource,
    threads,
    queueMax,
    stats: () => ({
      queueDepth: decoding + waiting.length,
      inFlight,
      workers: executors.filter((e) => e.alive).length,
      queueMax,
    }),
    _crashWorker: (index: number) => {
      const exec = executors[index];
      if (exec instanceof WorkerExecutor) exec.crash();
    },
    memory: () => {
      if (closed) return Promise.reject(new ClassifierClosedError());
      return Promise.all(executors.map((e) => e.memory()));
    },
    close: () => {
      closing ??= (async () => {
        closed = true;
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          checkIdle();
        });
        await Promise.all([...executors].map((e) => e.close()));
      })();
      return closing;
    },
  };
}

export type { MemoryInfo } from "./engine.js";
export * from "./errors.js";
export { FOOD11_LABELS } from "./labels.js";
export type { PreprocessMode } from "./preprocess.js";
