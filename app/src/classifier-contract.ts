// What the HTTP layer needs from the inference module (app/src/inference/classifier.ts):
// the shared contract of common.md, plus the optional stats() the metrics read. Kept structural
// so tests can inject a stub classifier without loading a model.
import type {
  ClassifierStats as EngineStats,
  Timings as EngineTimings,
} from "./inference/classifier.js";
import type { Manifest } from "./inference/manifest.js";
import type { ProbedImage } from "./inference/probe.js";
import type { TopEntry } from "./inference/rank.js";

/** One class of an answer (inference/rank.ts). */
export type ClassScore = TopEntry;

/** A classification's stage times (inference/classifier.ts'); `queueMs` optional: stubs may leave it out. */
export type Timings = Omit<EngineTimings, "queueMs"> & Partial<Pick<EngineTimings, "queueMs">>;

/** What the routes answer from (inference/classifier.ts' Classification, without the batch size). */
export interface Prediction extends ClassScore {
  top: ClassScore[];
  timings: Timings;
}

/** The queue's figures the metrics read (inference/classifier.ts'), each optional for stubs. */
export type ClassifierStats = Partial<EngineStats>;

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
