/**
 * Stage 5, infer: one model instance on one tfjs backend, inside each inference worker thread
 * (worker.ts), whichever the backend (tfjs-node, WASM or tfjs' CPU backend). Takes the tfjs
 * namespace as a parameter so the same code serves `@tensorflow/tfjs-core` (+ WASM or CPU) and
 * `@tensorflow/tfjs-node`. Its output rows are probabilities (rank.ts).
 */
import type * as tfTypes from "@tensorflow/tfjs";
import { fuseLayersModel } from "./fuse.js";
import type { ModelFormat } from "./model-io.js";
import { ensureProbabilities } from "./rank.js";
import type { Tf } from "./tf.js";

export interface EngineInfo {
  /** [height, width, channels] of one input image. */
  inputShape: [number, number, number];
  classes: number;
  /** tfjs' model formats, a SavedModel, or `onnx` (infer-onnxruntime.ts). */
  format: ModelFormat;
  backend: string;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  /** WASM backend: size of its linear memory (it grows, never shrinks). */
  wasmHeapBytes?: number;
  /** This thread's V8 heap (used / total) in bytes. */
  heapUsedBytes?: number;
  heapTotalBytes?: number;
}

export interface Engine extends EngineInfo {
  /**
   * Runs the model on `batch` images (NHWC float32); returns batch x classes probabilities (tfjs
   * at once, ONNX Runtime through a promise).
   */
  run(input: Float32Array, batch: number): Float32Array | Promise<Float32Array>;
  memory(): MemoryInfo;
  dispose(): void;
}

/** Loads the model from its artifacts into `tf`, warms it up once and returns the engine. */
export async function createEngine(
  tf: Tf,
  artifacts: tfTypes.io.ModelArtifacts,
  format: ModelFormat,
  opts: { fuse?: boolean } = {},
): Promise<Engine> {
  const handler = tf.io.fromMemory(artifacts);
  let predict: (x: tfTypes.Tensor) => tfTypes.Tensor;
  let shape: (number | null)[] | undefined;
  let dispose: () => void;
  if (format === "graph-model") {
    const model = await tf.loadGraphModel(handler);
    shape = model.inputs[0]?.shape;
    predict = (x) => firstOutput(tf, model.predict(x));
    dispose = () => model.dispose();
  } else {
    const model = await tf.loadLayersModel(handler);
    shape = model.inputs[0]?.shape;
    const program = opts.fuse !== false ? fuseLayersModel(tf, model) : undefined;
    if (program) {
      predict = (x) => program.predict(x);
      if (program.fallback === 0) {
        // every layer runs from the program's own (folded) weights: free the model's
        model.dispose();
        dispose = () => program.dispose();
      } else {
        dispose = () => {
          program.dispose();
          model.dispose();
        };
      }
    } else {
      predict = (x) => firstOutput(tf, model.predict(x));
      dispose = () => model.dispose();
    }
  }
  return finishEngine(tf, predict, shape, format, dispose);
}

/** The first output of a model run: a Tensor, or the first of several (array or named map). */
function firstOutput(tf: Tf, y: tfTypes.Tensor | tfTypes.Tensor[] | tfTypes.NamedTensorMap) {
  return (
    Array.isArray(y) ? y[0] : y instanceof tf.Tensor ? y : Object.values(y)[0]
  ) as tfTypes.Tensor;
}

/** tfjs-node's SavedModel API (`tf.node`), absent from the other backends' namespaces. */
interface SavedModelApi {
  loadSavedModel(
    path: string,
    tags?: string[],
    signature?: string,
  ): Promise<{
    predict(x: tfTypes.Tensor): tfTypes.Tensor | tfTypes.Tensor[] | tfTypes.NamedTensorMap;
    dispose(): void;
  }>;
}

/**
 * A SavedModel on tfjs-node: loaded by TensorFlow's own C library (`tf.node.loadSavedModel`, tag
 * `serve`, signature `serving_default`, as Keras' `model.export()` writes), so the graph that runs
 * is the one TensorFlow exported, not a conversion. `inputShape` is the manifest's.
 */
export async function createSavedModelEngine(
  tf: Tf,
  dir: string,
  inputShape: [number, number, number],
): Promise<Engine> {
  const node = (tf as unknown as { node?: SavedModelApi }).node;
  if (!node) throw new Error("a SavedModel runs on tfjs-node only (tf.node.loadSavedModel)");
  const model = await node.loadSavedModel(dir, ["serve"], "serving_default");
  return finishEngine(
    tf,
    (x) => firstOutput(tf, model.predict(x)),
    [null, ...inputShape],
    "saved-model",
    () => model.dispose(),
  );
}

/** The engine around a model's predict function: input checks, run, warm-up, memory. */
function finishEngine(
  tf: Tf,
  predict: (x: tfTypes.Tensor) => tfTypes.Tensor,
  shape: (number | null)[] | undefined,
  format: ModelFormat,
  dispose: () => void,
): Promise<Engine> {
  if (shape?.length !== 4) {
    throw new Error(`model input must be NHWC images, got shape ${JSON.stringify(shape)}`);
  }
  const [, hRaw, wRaw, cRaw] = shape;
  const h = hRaw && hRaw > 0 ? hRaw : 224;
  const w = wRaw && wRaw > 0 ? wRaw : 224;
  const c = cRaw && cRaw > 0 ? cRaw : 3;
  if (c !== 3) throw new Error(`model expects ${c} channels; only RGB (3) is supported`);
  const run = (input: Float32Array, batch: number): Float32Array => {
    const y = tf.tidy(() => predict(tf.tensor4d(input, [batch, h, w, c], "float32")));
    try {
      const data = y.dataSync() as Float32Array;
      const classes = y.shape[y.shape.length - 1] as number;
      return ensureProbabilities(new Float32Array(data), classes);
    } finally {
      y.dispose();
    }
  };
  const memory = () => {
    const m = tf.memory();
    const wasm = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
    return {
      numTensors: m.numTensors,
      numBytes: m.numBytes,
      ...(wasm?.HEAPU8 ? { wasmHeapBytes: wasm.HEAPU8.length } : {}),
      ...heapBytes(),
    };
  };
  return warmUp({ inputShape: [h, w, c], format, backend: tf.getBackend() }, run, memory, dispose);
}

/** This thread's V8 heap (used / total) in bytes, for an engine's memory(). */
export function heapBytes(): Pick<MemoryInfo, "heapUsedBytes" | "heapTotalBytes"> {
  const heap = process.memoryUsage();
  return { heapUsedBytes: heap.heapUsed, heapTotalBytes: heap.heapTotal };
}

/**
 * Every engine's last step (tfjs here, ONNX Runtime in infer-onnxruntime.ts): the warm-up, one run
 * on a blank image. The first run compiles kernels or allocates; it also tells the number of classes.
 */
export async function warmUp(
  info: Omit<EngineInfo, "classes">,
  run: Engine["run"],
  memory: Engine["memory"],
  dispose: () => void,
): Promise<Engine> {
  const [h, w, c] = info.inputShape;
  const warm = await run(new Float32Array(h * w * c), 1);
  return { ...info, classes: warm.length, run, memory, dispose };
}
