/**
 * Stage 5's threads: the pool of inference workers (worker.ts), each with its own tfjs backend
 * and its own copy of the model. A worker that dies (it should not) is replaced, so capacity
 * does not silently shrink; the weights are not kept here (each worker has its copy): a
 * restarted worker gets them loaded again.
 */
import type { Worker } from "node:worker_threads";
import { spawnModuleWorker, wasmBinariesDir } from "./backend.js";
import { InferenceError } from "./errors.js";
import type { MemoryInfo } from "./infer.js";
import type { LoadedArtifacts } from "./model-io.js";
import type { WorkerData, WorkerReply, WorkerRequest } from "./protocol.js";

/** One engine as the batcher sees it: a worker thread running one batch at a time. */
export interface Executor {
  busy: boolean;
  readonly alive: boolean;
  run(input: Float32Array, batch: number): Promise<{ probs: Float32Array; ms: number }>;
  memory(): Promise<MemoryInfo>;
  close(): Promise<void>;
}

/**
 * How long a worker may take to load the model and warm up. With the demo model the server is
 * ready in about 1.4 s on tfjs-node here; a larger model or a CPU-starved node takes longer, so
 * the bound is generous: it only turns a start that will never finish into an exit Kubernetes
 * restarts.
 */
export const WORKER_START_TIMEOUT_MS = 90_000;

/** What a started engine says about the model. */
export interface EngineMeta {
  inputShape: [number, number, number];
  classes: number;
  backend: string;
}

/**
 * The young generation of an inference worker's V8 heap by default, MB: a worker allocates little
 * on the JS heap, and the default semi-spaces cost ~30 MB of RSS per worker
 * (INFERENCE_WORKER_YOUNG_MB sets another).
 */
export const WORKER_YOUNG_GENERATION_MB = 4;

function spawnWorker(data: WorkerData): Worker {
  return spawnModuleWorker("worker", {
    workerData: data,
    env: process.env,
    resourceLimits: {
      maxYoungGenerationSizeMb: data.youngGenerationMb ?? WORKER_YOUNG_GENERATION_MB,
    },
  });
}

/** An inference worker thread (worker.ts) and its request/reply bookkeeping. */
export class WorkerExecutor implements Executor {
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

  /**
   * Spawns a worker and resolves once it has loaded the model and warmed up ("ready"); rejects
   * if it has not within `timeoutMs` (the worker is terminated), so that a stuck start ends in a
   * failed load (the server exits and is restarted) instead of a process that is never ready.
   */
  static start(
    data: WorkerData,
    onExit: (exec: WorkerExecutor, expected: boolean) => void,
    timeoutMs = WORKER_START_TIMEOUT_MS,
  ): Promise<{ exec: WorkerExecutor; meta: EngineMeta }> {
    const worker = spawnWorker(data);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        detach();
        void worker.terminate();
        reject(new Error(`inference worker not ready after ${timeoutMs / 1000} s: terminated`));
      }, timeoutMs);
      timer.unref();
      const detach = () => {
        clearTimeout(timer);
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

/** The engines of one classifier: started on one backend, restarted when one dies. */
export class WorkerPool {
  readonly executors: WorkerExecutor[] = [];
  /** The backend the pool runs, once started. */
  backend: WorkerData["backend"] | undefined;
  /** Called when a replacement worker has joined (the batcher dispatches to it). */
  onRestart: () => void = () => {};
  private closed = false;

  /**
   * @param load loads the model's artifacts (or ONNX bytes) again, for a replacement worker
   * @param fuse run LayersModels through the fused program (fuse.ts)
   * @param intraOpThreads onnxruntime: each session's intra-op threads
   * @param youngGenerationMb each worker's V8 young generation (default WORKER_YOUNG_GENERATION_MB)
   */
  constructor(
    private readonly load: (backend: WorkerData["backend"]) => Promise<LoadedArtifacts>,
    private readonly fuse: boolean,
    private readonly intraOpThreads = 1,
    private readonly youngGenerationMb?: number,
  ) {}

  private data(backend: WorkerData["backend"], from: LoadedArtifacts): WorkerData {
    const input = from.manifest?.input;
    return {
      ...(from.artifacts ? { artifacts: from.artifacts } : {}),
      ...(from.savedModelDir ? { savedModelDir: from.savedModelDir } : {}),
      ...(from.onnx !== undefined ? { onnx: from.onnx, intraOpThreads: this.intraOpThreads } : {}),
      ...(input ? { inputShape: [input.height, input.width, input.channels] } : {}),
      format: from.format,
      backend,
      fuse: this.fuse,
      // only the WASM backend needs them (and only the tfjs images have them)
      ...(backend === "wasm" ? { wasmDir: wasmBinariesDir() } : {}),
      ...(this.youngGenerationMb ? { youngGenerationMb: this.youngGenerationMb } : {}),
    };
  }

  private readonly onExit = (exec: WorkerExecutor, expected: boolean): void => {
    const i = this.executors.indexOf(exec);
    if (i >= 0) this.executors.splice(i, 1);
    if (expected || this.closed || !this.backend) return;
    const backend = this.backend;
    this.load(backend)
      .then((fresh) => WorkerExecutor.start(this.data(backend, fresh), this.onExit))
      .then(
        ({ exec: fresh }) => {
          if (this.closed) void fresh.close();
          else {
            this.executors.push(fresh);
            this.onRestart();
          }
        },
        (err: Error) => {
          process.emitWarning(`inference worker could not be restarted: ${err.message}`);
        },
      );
  };

  /** Starts `count` workers on `backend`; all or none (the started ones are closed on failure). */
  async start(
    backend: WorkerData["backend"],
    loaded: LoadedArtifacts,
    count: number,
  ): Promise<EngineMeta> {
    const d = this.data(backend, loaded);
    const startOne = () => WorkerExecutor.start(d, this.onExit);
    const ok: { exec: WorkerExecutor; meta: EngineMeta }[] = [];
    let failure: unknown;
    if (backend === "tensorflow") {
      // One at a time: engines loading tfjs-node and warming up at once hung now and then here
      // (both worker threads spinning, never ready: 3 starts of about 150, on the host and in the
      // image); one by one, the demo model is ready 0.2-0.35 s later (2 engines: 1.4 s instead
      // of 1.2; 3 engines: 1.7 instead of 1.4).
      for (let i = 0; i < count && failure === undefined; i++) {
        try {
          ok.push(await startOne());
        } catch (err) {
          failure = err;
        }
      }
    } else {
      for (const s of await Promise.allSettled(Array.from({ length: count }, startOne))) {
        if (s.status === "fulfilled") ok.push(s.value);
        else failure ??= s.reason;
      }
    }
    if (failure !== undefined || !ok[0]) {
      await Promise.all(ok.map((s) => s.exec.close()));
      throw failure ?? new Error("no inference worker started");
    }
    for (const s of ok) this.executors.push(s.exec);
    this.backend = backend;
    return ok[0].meta;
  }

  /** Workers alive now. */
  alive(): number {
    return this.executors.filter((e) => e.alive).length;
  }

  /** tf.memory() of every worker. */
  memory(): Promise<MemoryInfo[]> {
    return Promise.all(this.executors.map((e) => e.memory()));
  }

  /** Tests only: makes worker `index` exit as if it crashed. */
  crash(index: number): void {
    this.executors[index]?.crash();
  }

  /** From now on a worker that dies is not replaced (the classifier is closing). */
  stopRestarts(): void {
    this.closed = true;
  }

  /** No more restarts; terminates every worker. */
  async close(): Promise<void> {
    this.stopRestarts();
    await Promise.all([...this.executors].map((e) => e.close()));
  }
}
