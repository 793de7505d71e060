/** Messages between worker-pool.ts (main thread) and worker.ts (inference worker threads). */
import type * as tf from "@tensorflow/tfjs";
import type { EngineBackend } from "./backend.js";
import type { MemoryInfo } from "./infer.js";
import type { ModelFormat } from "./model-io.js";

export interface WorkerData {
  /** tfjs formats: the model's artifacts. */
  artifacts?: tf.io.ModelArtifacts;
  /** saved-model: the SavedModel directory (tfjs-node's tf.node.loadSavedModel). */
  savedModelDir?: string;
  /**
   * onnx: the ONNX model, a local file (ONNX Runtime reads it: no copy in any V8 heap) or its
   * bytes (fetched from MODEL_URL); and the session's intra-op threads.
   */
  onnx?: Uint8Array | string;
  intraOpThreads?: number;
  /** [height, width, channels] of one input, from the manifest (a SavedModel's may be dynamic). */
  inputShape?: [number, number, number];
  format: ModelFormat;
  backend: EngineBackend;
  /** Fold BatchNorm/ReLU6 into convolutions (fuse.ts). */
  fuse: boolean;
  /** Directory holding tfjs-backend-wasm's .wasm binaries (the WASM backend only). */
  wasmDir?: string;
  /** The worker's V8 young generation, MB (its `resourceLimits`; worker-pool.ts' default 4). */
  youngGenerationMb?: number;
}

export type WorkerRequest =
  | { type: "infer"; id: number; input: Float32Array; batch: number }
  | { type: "memory"; id: number }
  /** Tests only: the worker exits at once, as if it crashed. */
  | { type: "crash"; id: number };

export type WorkerReply =
  | {
      type: "ready";
      inputShape: [number, number, number];
      classes: number;
      backend: string;
    }
  | { type: "fatal"; message: string }
  | { type: "result"; id: number; probs: Float32Array; ms: number }
  | { type: "error"; id: number; message: string }
  | ({ type: "memory"; id: number } & MemoryInfo);
