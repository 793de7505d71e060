/**
 * Setup code (the demo model's builder and the tests' fixtures call it; the server never does): a
 * Keras-style tfjs LayersModel written as an ONNX model for the ONNX Runtime engine, layer for
 * layer, with the `onnx-proto` package's protobuf messages, then verified against tfjs itself on
 * fixed inputs before a byte is written (verifyOnnx / writeVerifiedOnnx). Trained models do not go
 * through here: `npm run model:import` converts them with tf2onnx.
 *
 * The layers a MobileNetV2-style classifier is made of are supported (the demo model's and the
 * test fixtures'): Conv2D, DepthwiseConv2D, BatchNormalization (moving statistics), ReLU / ReLU6,
 * Activation, ZeroPadding2D, Add, GlobalAveragePooling2D, Dense (after the pooling), Dropout; any
 * other layer is refused, naming it. The graph takes what the server feeds every engine, NHWC
 * float32 `input` [batch, H, W, 3], transposes it once to ONNX's NCHW and runs every layer there;
 * BatchNorm and ReLU6 stay separate nodes (ONNX Runtime folds them into the convolutions when it
 * loads the model, as tfjs' fuse.ts does), so the file says what the Keras model says.
 */
import { rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import onnxProto from "onnx-proto";
import type * as Ort from "onnxruntime-node";
import {
  AGREEMENT_TOLERANCE,
  type AgreementFigures,
  agrees,
  compareOutputs,
} from "../../src/inference/agreement.js";
import { isChannelsLast, isUndilated, layerInputs, symbolicId } from "../../src/inference/fuse.js";
import type { Tf } from "../../src/inference/tf.js";
import { mulberry32, smoothImage } from "./prng.js";

const { onnx } = onnxProto;
type Layer = tfTypes.layers.Layer;
type Cfg = Record<string, unknown>;

/** The opset written: every operator used here has had its current form since opset 13. */
export const ONNX_OPSET = 15;
/** The graph's input name and layout, as tf2onnx names a Keras model's (bench/peer/make_onnx_model.py). */
const ONNX_INPUT = "input";

/** Thrown for a model this exporter cannot write (a layer or a setting it does not support). */
export class OnnxExportError extends Error {
  override name = "OnnxExportError";
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

type TensorProto = onnxProto.onnx.ITensorProto;

/** A float32 initializer, its bytes as raw_data (little-endian, as ONNX stores them). */
function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return {
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

function int64Tensor(name: string, values: number[]): TensorProto {
  const v = BigInt64Array.from(values.map((x) => BigInt(x)));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(v.buffer) };
}

function attr(name: string, value: number | number[] | string): onnxProto.onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") {
    return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  }
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  return Number.isInteger(value)
    ? { name, type: A.INT, i: value }
    : { name, type: A.FLOAT, f: value };
}

/** float attributes that happen to be integral (epsilon 1, alpha 1.0) must still be FLOATs. */
function floatAttr(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

function channelsLast(cfg: Cfg, layer: Layer): void {
  if (!isChannelsLast(cfg)) {
    throw new OnnxExportError(
      `layer ${layer.name}: only channels-last (NHWC) models are supported`,
    );
  }
}

/** TensorFlow's "same" padding of one spatial axis: [begin, end] (the extra pixel at the end). */
function samePad(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/** A value of the graph: its ONNX name, its NCHW rank (4) or 2 after pooling, and its H and W at rank 4. */
interface OnnxValue {
  name: string;
  rank: number;
  hw?: [number, number];
}

/** What exportOnnx wrote. */
export interface OnnxModel {
  bytes: Uint8Array;
  /** Nodes in the graph. */
  nodes: number;
  opset: number;
  inputShape: [number, number, number];
  classes: number;
}

/**
 * The LayersModel as an ONNX ModelProto (bytes): NHWC float32 `input` [batch, H, W, 3] in, the
 * last layer's output (probabilities for a softmax head) out. Throws OnnxExportError for what it
 * does not support.
 */
export function exportOnnx(
  model: tfTypes.LayersModel,
  opts: { producer?: string; graphName?: string } = {},
): OnnxModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxExportError("only single-input, single-output models are supported");
  }
  const inShape = model.inputs[0]?.shape ?? [];
  const [, h, w, c] = inShape;
  if (inShape.length !== 4 || !h || !w || c !== 3) {
    throw new OnnxExportError(
      `the input must be [batch, H, W, 3] with H and W known, got ${JSON.stringify(inShape)}`,
    );
  }
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: TensorProto[] = [];
  /** ONNX value of each symbolic tensor. */
  const names = new Map<number, OnnxValue>();
  const node = (
    op: string,
    inputs: string[],
    output: string,
    attrs: onnxProto.onnx.IAttributeProto[] = [],
  ) => {
    nodes.push({ opType: op, input: inputs, output: [output], name: output, attribute: attrs });
    return output;
  };
  const inputId = symbolicId(model.inputs[0]);
  names.set(inputId, {
    name: node("Transpose", [ONNX_INPUT], "input_nchw", [attr("perm", [0, 3, 1, 2])]),
    rank: 4,
    hw: [h, w],
  });

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === "InputLayer") continue;
    if (layer.inboundNodes.length !== 1) {
      throw new OnnxExportError(`layer ${layer.name} is shared: not supported`);
    }
    const cfg = layer.getConfig() as Cfg;
    const ins = layerInputs(layer).map((t) => {
      const v = names.get(symbolicId(t));
      if (!v) throw new OnnxExportError(`layer ${layer.name}: its input was not exported`);
      return v;
    });
    const x = ins[0] as OnnxValue;
    const out = layer.name;
    const weights = layer.getWeights().map((t) => Float32Array.from(t.dataSync() as Float32Array));
    const shapes = layer.getWeights().map((t) => t.shape);
    let result: OnnxValue;

    const activation = (name: string, act: unknown): string => {
      if (act === undefined || act === null || act === "linear") return name;
      if (act === "relu") return node("Relu", [name], `${out}/relu`);
      if (act === "relu6") return clip(name, `${out}/relu6`, 6);
      if (act === "softmax") return node("Softmax", [name], `${out}/softmax`, [attr("axis", 1)]);
      throw new OnnxExportError(`layer ${layer.name}: activation ${String(act)} not supported`);
    };
    /** The node's inputs: x, the weights `W` (dims `wDims`) and, with a bias, `B`; both initializers. */
    const withWeights = (wDims: number[], w: Float32Array) => {
      inits.push(floatTensor(`${out}/W`, wDims, w));
      if (!(cfg.useBias && weights[1])) return [x.name, `${out}/W`];
      inits.push(floatTensor(`${out}/B`, [weights[1].length], weights[1]));
      return [x.name, `${out}/W`, `${out}/B`];
    };
    const clip = (name: string, output: string, max: number) => {
      inits.push(floatTensor(`${output}/min`, [], new Float32Array([0])));
      inits.push(floatTensor(`${output}/max`, [], new Float32Array([max])));
      return node("Clip", [name, `${output}/min`, `${output}/max`], output);
    };

    if (cls === "Conv2D" || cls === "DepthwiseConv2D") {
      channelsLast(cfg, layer);
      if (!isUndilated(cfg)) {
        throw new OnnxExportError(`layer ${layer.name}: dilated convolutions are not supported`);
      }
      if (x.rank !== 4 || !x.hw) throw new OnnxExportError(`layer ${layer.name}: input not 4-D`);
      const k = shapes[0] as [number, number, number, number];
      const [kh, kw, cin, last] = k;
      const src = weights[0] as Float32Array;
      const depthwise = cls === "DepthwiseConv2D";
      const cout = depthwise ? cin * last : last;
      // Keras [kh, kw, in, out] (depthwise: [kh, kw, in, multiplier], channel in*mult+m) to
      // ONNX [out, in/group, kh, kw].
      const wOnnx = new Float32Array(src.length);
      const perOut = depthwise ? 1 : cin;
      for (let y = 0; y < kh; y++) {
        for (let xx = 0; xx < kw; xx++) {
          for (let i = 0; i < cin; i++) {
            for (let o = 0; o < last; o++) {
              const from = ((y * kw + xx) * cin + i) * last + o;
              const oc = depthwise ? i * last + o : o;
              const ic = depthwise ? 0 : i;
              wOnnx[((oc * perOut + ic) * kh + y) * kw + xx] = src[from] as number;
            }
          }
        }
      }
      const strides = cfg.strides as [number, number];
      const [sh, sw] = strides;
      const [ih, iw] = x.hw;
      let pads = [0, 0, 0, 0];
      let oh = Math.floor((ih - kh) / sh) + 1;
      let ow = Math.floor((iw - kw) / sw) + 1;
      if (cfg.padding === "same") {
        const [pt, pb] = samePad(ih, kh, sh);
        const [pl, pr] = samePad(iw, kw, sw);
        pads = [pt, pl, pb, pr];
        oh = Math.ceil(ih / sh);
        ow = Math.ceil(iw / sw);
      } else if (cfg.padding !== "valid") {
        throw new OnnxExportError(`layer ${layer.name}: padding ${String(cfg.padding)}`);
      }
      const conv = node("Conv", withWeights([cout, perOut, kh, kw], wOnnx), `${out}/conv`, [
        attr("kernel_shape", [kh, kw]),
        attr("strides", [sh, sw]),
        attr("pads", pads),
        attr("dilations", [1, 1]),
        attr("group", depthwise ? cin : 1),
      ]);
      result = { name: activation(conv, cfg.activation), rank: 4, hw: [oh, ow] };
    } else if (cls === "BatchNormalization") {
      const axis = cfg.axis;
      if (!(axis === -1 || axis === 3 || (Array.isArray(axis) && [-1, 3].includes(axis[0])))) {
        throw new OnnxExportError(`layer ${layer.name}: only channel-axis batch norm`);
      }
      const ws = [...weights];
      const channels = (shapes[shapes.length - 1] as number[])[0] as number;
      const gamma = cfg.scale === false ? new Float32Array(channels).fill(1) : ws.shift();
      const beta = cfg.center === false ? new Float32Array(channels) : ws.shift();
      const [mean, variance] = ws;
      const parts: [string, Float32Array | undefined][] = [
        ["scale", gamma],
        ["B", beta],
        ["mean", mean],
        ["var", variance],
      ];
      for (const [p, v] of parts) {
        if (!v) throw new OnnxExportError(`layer ${layer.name}: missing ${p}`);
        inits.push(floatTensor(`${out}/${p}`, [channels], v));
      }
      const bn = node("BatchNormalization", [x.name, ...parts.map(([p]) => `${out}/${p}`)], out, [
        floatAttr("epsilon", cfg.epsilon as number),
      ]);
      result = { ...x, name: bn };
    } else if (cls === "ReLU") {
      if (cfg.negativeSlope || cfg.threshold) {
        throw new OnnxExportError(`layer ${layer.name}: leaky or thresholded ReLU`);
      }
      const name =
        cfg.maxValue == null
          ? node("Relu", [x.name], out)
          : clip(x.name, out, cfg.maxValue as number);
      result = { ...x, name };
    } else if (cls === "Activation") {
      result = { ...x, name: activation(x.name, cfg.activation) };
    } else if (cls === "Dropout") {
      result = x;
    } else if (cls === "ZeroPadding2D") {
      channelsLast(cfg, layer);
      const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
      inits.push(int64Tensor(`${out}/pads`, [0, 0, t, l, 0, 0, b, r]));
      const hw = x.hw as [number, number];
      result = {
        name: node("Pad", [x.name, `${out}/pads`], out, [attr("mode", "constant")]),
        rank: 4,
        hw: [hw[0] + t + b, hw[1] + l + r],
      };
    } else if (cls === "Add") {
      const op = ins.length === 2 ? "Add" : "Sum";
      result = {
        ...x,
        name: node(
          op,
          ins.map((v) => v.name),
          out,
        ),
      };
    } else if (cls === "GlobalAveragePooling2D") {
      channelsLast(cfg, layer);
      if (cfg.keepdims) throw new OnnxExportError(`layer ${layer.name}: keepdims not supported`);
      const pooled = node("GlobalAveragePool", [x.name], `${out}/pool`);
      result = { name: node("Flatten", [pooled], out, [attr("axis", 1)]), rank: 2 };
    } else if (cls === "Dense") {
      if (x.rank !== 2) {
        throw new OnnxExportError(
          `layer ${layer.name}: Dense must follow the pooling (a Dense on a 4-D tensor or after Flatten is not supported)`,
        );
      }
      const [kIn, kOut] = shapes[0] as [number, number];
      const gemm = node(
        "Gemm",
        withWeights([kIn, kOut], weights[0] as Float32Array),
        `${out}/gemm`,
      );
      result = { name: activation(gemm, cfg.activation), rank: 2 };
    } else {
      throw new OnnxExportError(
        `layer ${layer.name}: ${cls} is not supported by the ONNX exporter`,
      );
    }
    names.set(symbolicId(layer.output), result);
  }

  const final = names.get(symbolicId(model.outputs[0]));
  if (final?.rank !== 2) {
    throw new OnnxExportError("the model's output must be [batch, classes]");
  }
  const classes = model.outputs[0]?.shape[1] as number;
  // The graph's output is named "output" (an Identity of the last value).
  node("Identity", [final.name], "output");
  const tensorType = (dims: onnxProto.onnx.TensorShapeProto.IDimension[]) => ({
    tensorType: { elemType: FLOAT, shape: { dim: dims } },
  });
  const proto = onnx.ModelProto.create({
    irVersion: onnx.Version.IR_VERSION,
    producerName: opts.producer ?? "food11 onnx-export",
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    graph: {
      name: opts.graphName ?? model.name,
      node: nodes,
      initializer: inits,
      input: [
        {
          name: ONNX_INPUT,
          type: tensorType([
            { dimParam: "batch" },
            { dimValue: h },
            { dimValue: w },
            { dimValue: 3 },
          ]),
        },
      ],
      output: [
        { name: "output", type: tensorType([{ dimParam: "batch" }, { dimValue: classes }]) },
      ],
    },
  });
  return {
    bytes: onnx.ModelProto.encode(proto).finish(),
    nodes: nodes.length,
    opset: ONNX_OPSET,
    inputShape: [h, w, 3],
    classes,
  };
}

// ---------------------------------------------------------------------------------------------
// verification

/** What verifyOnnx found: the ONNX model's outputs next to tfjs' (the reference) on the same inputs. */
export interface OnnxVerification extends AgreementFigures {
  images: number;
  tolerance: number;
  /** What ran each side. */
  runtime: string;
  reference: string;
  ok: boolean;
}

/** Fixed inputs the check runs (issue 28: at least 32). */
const ONNX_CHECK_IMAGES = 32;

/**
 * `count` fixed NHWC inputs in [0, 1] (seeded): half smooth colour fields (photo-like), half
 * per-pixel noise, so that the check sees both kinds of activations.
 */
export function checkInputs(count: number, h: number, w: number, seed = 28): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(count * h * w * 3);
  for (let n = 0; n < count; n++) {
    const base = n * h * w * 3;
    if (n % 2 === 1) {
      for (let i = 0; i < h * w * 3; i++) out[base + i] = rnd();
      continue;
    }
    smoothImage(rnd, out, base, [h, w], { maxAmp: 0.4, maxFreq: 12, ySlope: 2 });
  }
  return out;
}

/**
 * Runs the ONNX bytes under onnxruntime-node (CPU) and the LayersModel under tfjs (model.predict,
 * the model as loaded, on whatever backend `tf` is on) on the same fixed inputs and compares them
 * (app/src/inference/agreement.ts: top-1 on every input, probabilities within its tolerance).
 */
export async function verifyOnnx(
  tf: Tf,
  ort: typeof Ort,
  model: tfTypes.LayersModel,
  exported: OnnxModel,
  images = ONNX_CHECK_IMAGES,
): Promise<OnnxVerification> {
  const [h, w] = exported.inputShape;
  const x = checkInputs(images, h, w);
  const size = h * w * 3;
  const session = await ort.InferenceSession.create(exported.bytes, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
  });
  const k = exported.classes;
  const want = new Float32Array(images * k);
  const got = new Float32Array(images * k);
  try {
    const chunk = 8;
    for (let start = 0; start < images; start += chunk) {
      const n = Math.min(chunk, images - start);
      const slice = x.subarray(start * size, (start + n) * size);
      const ref = tf.tidy(() => model.predict(tf.tensor4d(slice, [n, h, w, 3])) as tfTypes.Tensor);
      want.set(ref.dataSync() as Float32Array, start * k);
      ref.dispose();
      const res = await session.run({
        [ONNX_INPUT]: new ort.Tensor("float32", Float32Array.from(slice), [n, h, w, 3]),
      });
      got.set(res[session.outputNames[0] as string]?.data as Float32Array, start * k);
    }
  } finally {
    await session.release();
  }
  const { top1Agree, maxAbsDiff } = compareOutputs(want, got, k);
  return {
    images,
    top1Agree,
    maxAbsDiff,
    tolerance: AGREEMENT_TOLERANCE,
    runtime: `onnxruntime-node ${ort.env.versions.node ?? "?"} (CPU)`,
    reference: `tfjs ${tf.version.tfjs} model.predict (${tf.getBackend()})`,
    ok: agrees({ top1Agree, maxAbsDiff }, images, AGREEMENT_TOLERANCE),
  };
}

/** Thrown when the ONNX model's outputs differ from tfjs' beyond the tolerance: nothing is written. */
export class OnnxVerificationError extends Error {
  override name = "OnnxVerificationError";
  constructor(readonly verification: OnnxVerification) {
    super(
      `the ONNX export does not match tfjs: top-1 ${verification.top1Agree}/${verification.images}, ` +
        `max |Δp| ${verification.maxAbsDiff.toExponential(2)} (tolerance ${verification.tolerance}); model.onnx not written`,
    );
  }
}

/**
 * Exports the model, verifies it (verifyOnnx) and only then writes `<dir>/<file>` (via a
 * temporary file and a rename). Throws OnnxVerificationError, writing nothing, when it differs.
 */
export async function writeVerifiedOnnx(
  tf: Tf,
  model: tfTypes.LayersModel,
  dir: string,
  opts: { file?: string; producer?: string; ort?: typeof Ort } = {},
): Promise<{ file: string; exported: OnnxModel; verification: OnnxVerification }> {
  const exported = exportOnnx(model, opts.producer ? { producer: opts.producer } : {});
  const ort = opts.ort ?? (await import("onnxruntime-node"));
  const verification = await verifyOnnx(tf, ort, model, exported);
  if (!verification.ok) throw new OnnxVerificationError(verification);
  const file = path.join(dir, opts.file ?? "model.onnx");
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, exported.bytes);
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { file, exported, verification };
}
