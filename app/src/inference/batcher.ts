/**
 * Stage 4, batch: the bounded queue in front of the engines, with TF Serving's batching knobs.
 *  - `queueMax` (QUEUE_MAX; TF Serving's max_enqueued_batches, counted in images here): images admitted
 *    but not yet running (decoding or waiting) count against it; past it `admit()` throws
 *    QueueFullError at once (HTTP 503 + Retry-After).
 *  - `maxBatchSize` (max_batch_size): when an engine frees up it takes up to this many waiting
 *    images as one batch. There is no batch timeout (batch_timeout_micros is 0): only images
 *    already waiting are taken, so batching happens under load and never adds latency.
 *  - TF Serving's num_batch_threads are the pool's engines (INFERENCE_ENGINES; worker-pool.ts'
 *    executors): one batch runs per engine at a time.
 */
import { QueueFullError } from "./errors.js";
import type { Executor } from "./worker-pool.js";

/** The default bound of the queue for a CPU budget of `threads`: 32 images per core. */
export function defaultQueueMax(threads: number): number {
  return 32 * threads;
}

export interface BatcherOptions {
  /** Largest batch one engine run takes (TF Serving's max_batch_size). */
  maxBatchSize: number;
  /** Images admitted but not yet running, at most (TF Serving's max_enqueued_batches, in images). */
  queueMax: number;
  /** Float32 values of one image (height x width x 3). */
  imageSize: number;
  /** Called after every engine run with its duration (ms) and batch size (for metrics). */
  onInference?: (ms: number, batchSize: number) => void;
}

/** What a queued image gets back: its row of the batch's output. */
export interface BatchResult {
  probs: Float32Array;
  /** The engine run of its batch (ms). */
  ms: number;
  /** Size of the batch it ran in. */
  batch: number;
  /** performance.now() when its batch started. */
  startedAt: number;
}

interface Job {
  input: Float32Array;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
}

/** The queue, and the dispatch of its images to the engines (the batch threads) in batches. */
export class Batcher {
  private readonly waiting: Job[] = [];
  /** Admitted, not enqueued yet (being decoded). */
  private admitted = 0;
  private running = 0;
  /** Moving average of engine time per image (ms), for Retry-After. */
  private perImageMs = 100;
  private idleWaiters: (() => void)[] = [];

  /** @param engines the pool's executors (TF Serving's num_batch_threads): one batch each at a time */
  constructor(
    private readonly engines: readonly Executor[],
    private readonly opts: BatcherOptions,
  ) {}

  /** Images admitted but not running yet. */
  get depth(): number {
    return this.admitted + this.waiting.length;
  }

  /** Images running on an engine now. */
  get inFlight(): number {
    return this.running;
  }

  /** Takes a place in the queue, or throws QueueFullError with the time to drain it. */
  admit(): void {
    if (this.depth >= this.opts.queueMax) {
      // time to drain the queue at the recent per-image engine time, in whole seconds
      const drainMs = (this.depth * this.perImageMs) / Math.max(1, this.engines.length);
      throw new QueueFullError(this.opts.queueMax, Math.max(1, Math.ceil(drainMs / 1000)));
    }
    this.admitted++;
  }

  /** Gives an admitted image's place back (it failed before reaching the queue). */
  release(): void {
    this.admitted--;
    this.checkIdle();
  }

  /** Queues an admitted image's input; resolves with its output row once its batch has run. */
  submit(input: Float32Array): Promise<BatchResult> {
    // Same tick as admitted-- (the executor runs synchronously): idle() never sees a gap.
    return new Promise<BatchResult>((resolve, reject) => {
      this.admitted--;
      this.waiting.push({ input, resolve, reject });
      this.dispatch();
    });
  }

  /** Resolves once nothing is admitted, waiting or running. */
  idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.admitted === 0 && this.waiting.length === 0 && this.running === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Hands waiting images to every free engine, up to maxBatchSize each. */
  dispatch(): void {
    for (const exec of this.engines) {
      if (this.waiting.length === 0) return;
      if (exec.busy || !exec.alive) continue;
      this.runBatch(exec, this.waiting.splice(0, this.opts.maxBatchSize));
    }
  }

  private runBatch(exec: Executor, jobs: Job[]): void {
    const { imageSize } = this.opts;
    exec.busy = true;
    this.running += jobs.length;
    let input: Float32Array;
    if (jobs.length === 1) input = (jobs[0] as Job).input;
    else {
      input = new Float32Array(jobs.length * imageSize);
      jobs.forEach((j, i) => {
        input.set(j.input, i * imageSize);
      });
    }
    const startedAt = performance.now();
    const done = () => {
      exec.busy = false;
      this.running -= jobs.length;
    };
    exec.run(input, jobs.length).then(
      ({ probs, ms }) => {
        done();
        this.perImageMs = 0.9 * this.perImageMs + (0.1 * ms) / jobs.length;
        try {
          this.opts.onInference?.(ms, jobs.length);
        } catch {
          // a metrics hook must never break inference
        }
        const classes = probs.length / jobs.length;
        jobs.forEach((j, i) => {
          const row = probs.subarray(i * classes, (i + 1) * classes);
          j.resolve({ probs: row, ms, batch: jobs.length, startedAt });
        });
        this.dispatch();
        this.checkIdle();
      },
      (err: Error) => {
        done();
        for (const j of jobs) j.reject(err);
        this.dispatch();
        this.checkIdle();
      },
    );
  }
}
