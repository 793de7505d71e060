// What the HTTP layer needs from the inference module (app/src/inference/classifier.ts):
// the shared contract of common.md, plus the optional stats() the metrics read. Kept structural
// so tests can inject a stub classifier without loading a model.
import type { Manifest } from "./inference/manifest.js";
import type { ProbedImage } from "./inference/probe.js";
import type { TopEntry } from "./inference/rank.js";

/** One class of an answer (inference/rank.ts). */
export type ClassScore = TopEntry;

export interface Timings {
  decodeMs: number;
  preprocessMs: number;
  /** Waiting for a free engine (optional: stubs may leave it out). */
  queueMs?: number;
  inferenceMs: number;
  totalMs: number;
}

export interface Prediction extends ClassScore {
  top: ClassScore[];
  timings: Timings;
}

export interface ClassifierStats {
  /** Images admitted but not running yet (decoding or waiting for an engine). */
  queueDepth?: number;
  /** Images running on an engine right now. */
  inFlight?: number;
  /** Bound of the queue (QUEUE_MAX). */
  queueMax?: number;
  /** Number of inference workers. */
  workers?: number;
}

export interface ClassifierLike {
  /** The routes pass an image probed already (inference/probe.ts); the warm-up, raw bytes. */
  classify(image: Buffer | ProbedImage, topk?: number): Promise<Prediction>;
  readonly backend: string;
  readonly inputSize: { width: number; height: number };
  readonly labels: readonly string[];
  /** CPU budget in use: worker threads (WASM) or intra-op threads (tfjs-node). */
  readonly threads?: number;
  /** What the engines run: `saved-model`, `graph-model` or `layers-model`. */
  readonly modelFormat?: string;
  /** The model directory's manifest.json (inference/manifest.ts), when it has one. */
  readonly manifest?: Manifest;
  close(): Promise<void>;
  stats?(): ClassifierStats;
}
