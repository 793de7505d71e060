// What the HTTP layer needs from the inference module (app/src/inference/classifier.ts):
// the shared contract of common.md, plus the optional stats() the metrics read. Kept structural
// so tests can inject a stub classifier without loading a model.
import type {
  Classifier,
  ClassifierStats as EngineStats,
  Timings as EngineTimings,
} from "./inference/classifier.js";
import type { ProbedImage } from "./inference/probe.js";
import type { TopEntry } from "./inference/rank.js";

/** A classification's stage times (inference/classifier.ts'); `queueMs` optional: stubs may leave it out. */
export type Timings = Omit<EngineTimings, "queueMs"> & Partial<Pick<EngineTimings, "queueMs">>;

/** What the routes answer from (inference/classifier.ts' Classification, without the batch size). */
export interface Prediction extends TopEntry {
  top: TopEntry[];
  timings: Timings;
}

/** The queue's figures the metrics read (inference/classifier.ts'), each optional for stubs. */
export type ClassifierStats = Partial<EngineStats>;

/** The classifier's fields the HTTP layer reads (inference/classifier.ts'); a stub may leave out the optional ones. */
export interface ClassifierLike
  extends Pick<Classifier, "backend" | "inputSize" | "labels" | "close">,
    Partial<Pick<Classifier, "threads" | "manifest">> {
  /** The routes pass an image probed already (inference/probe.ts); the warm-up, raw bytes. */
  classify(image: Buffer | ProbedImage, topk?: number): Promise<Prediction>;
  /** What the engines run: `saved-model`, `graph-model` or `layers-model`. */
  readonly modelFormat?: string;
  stats?(): ClassifierStats;
}
