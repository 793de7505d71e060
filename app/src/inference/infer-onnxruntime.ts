/**
 * Stage 5, infer, on ONNX Runtime: one onnxruntime-node session (CPU execution provider) inside
 * an inference worker thread (worker.ts), fed the same NHWC float32 batches as the tfjs engines
 * (infer.ts) and answering the same probability rows (rank.ts). The session's run is synchronous
 * inside onnxruntime-node (it blocks the thread that calls it), which is why it lives in a worker,
 * as the tfjs engines do, and never in the thread that serves HTTP.
 *
 * Session settings (measured: docs/benchmarks.md, `npm run bench:onnxruntime`): graph optimisation
 * `all` (BatchNorm and Clip folded into the convolutions at load), sequential execution, one
 * inter-op thread, `intraOpThreads` intra-op threads, and those threads do not spin between runs
 * (session.intra_op.allow_spinning 0): a spinning pool thread burns a core while the worker waits
 * for the next image, which the HPA would read as load and sharp's decode would lose.
 */
import type * as Ort from "onnxruntime-node";
import { type Engine, heapBytes, warmUp } from "./infer.js";
import { ensureProbabilities } from "./rank.js";

export type OrtModule = typeof Ort;

export interface OnnxEngineOptions {
  /** Intra-op threads of the session (1: the worker's own thread runs every operator). */
  intraOpThreads: number;
  /** Let idle intra-op threads spin (ONNX Runtime's default); off here unless asked. */
  spinning?: boolean;
  /** ONNX Runtime's CPU memory arena (its default, and the engine's: see sessionOptions). */
  memArena?: boolean;
  /** Pre-pack the weights for the kernels at load (ONNX Runtime's default, and the engine's). */
  prepacking?: boolean;
}

/** The session options the engine uses (exported for the benchmark, which varies them). */
export function sessionOptions(opts: OnnxEngineOptions): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: Math.max(1, Math.floor(opts.intraOpThreads)),
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    enableCpuMemArena: opts.memArena !== false,
    extra: {
      session: {
        intra_op: { allow_spinning: opts.spinning ? "1" : "0" },
        ...(opts.prepacking === false ? { disable_prepacking: "1" } : {}),
      },
    },
  };
}

/**
 * Loads an ONNX model (a file ONNX Runtime reads itself, or bytes) into a session, checks that it takes NHWC float32 images of 3
 * channels and gives one row per image, warms it up once and returns the engine.
 */
export async function createOnnxEngine(
  ort: OrtModule,
  model: Uint8Array | string,
  opts: OnnxEngineOptions,
): Promise<Engine> {
  const session =
    typeof model === "string"
      ? await ort.InferenceSession.create(model, sessionOptions(opts))
      : await ort.InferenceSession.create(model, sessionOptions(opts));
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const meta = session.inputMetadata[0];
  if (session.inputNames.length !== 1 || !inputName || !outputName || !meta?.isTensor) {
    await session.release();
    throw new Error(
      `model.onnx must have one tensor input, got ${JSON.stringify(session.inputNames)}`,
    );
  }
  const dims = meta.shape;
  const [, hDim, wDim, cDim] = dims;
  const known = (d: unknown) => (typeof d === "number" && d > 0 ? d : undefined);
  if (
    meta.type !== "float32" ||
    dims.length !== 4 ||
    known(cDim) !== 3 ||
    !known(hDim) ||
    !known(wDim)
  ) {
    await session.release();
    throw new Error(
      `model.onnx input ${inputName} must be NHWC float32 [batch, H, W, 3] images, got ${meta.type} ${JSON.stringify(dims)}`,
    );
  }
  const h = hDim as number;
  const w = wDim as number;
  const run = async (input: Float32Array, batch: number): Promise<Float32Array> => {
    const x = new ort.Tensor("float32", input, [batch, h, w, 3]);
    const out = await session.run({ [inputName]: x });
    const y = out[outputName] as Ort.Tensor | undefined;
    try {
      if (y?.type !== "float32" || y.dims.length !== 2 || y.dims[0] !== batch) {
        throw new Error(
          `model.onnx output ${outputName} must be [batch, classes] float32, got ${y?.type} ${JSON.stringify(y?.dims)}`,
        );
      }
      const classes = y.dims[1] as number;
      return ensureProbabilities(Float32Array.from(y.data as Float32Array), classes);
    } finally {
      y?.dispose();
    }
  };
  // ONNX Runtime's arena is native memory: RSS shows it; there are no tfjs tensors to count.
  const memory = () => ({ numTensors: 0, numBytes: 0, ...heapBytes() });
  const release = () => void session.release();
  return warmUp(
    { inputShape: [h, w, 3], format: "onnx", backend: "onnxruntime" },
    run,
    memory,
    release,
  );
}
