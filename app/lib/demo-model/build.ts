/**
 * Building the demo model (see index.ts): the architecture, seeded weights, head calibration,
 * writing tfjs LayersModel artifacts as tensorflowjs_converter does, the verified model.onnx
 * (onnx-export.ts), and its manifest.json.
 * Loaded on demand, so a caller that finds a valid model never loads tfjs for it.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { wasmBinariesDir } from "../../src/inference/backend.js";
import { FOOD11_LABELS } from "../../src/inference/labels.js";
import {
  MANIFEST_FILE,
  MANIFEST_SCHEMA_VERSION,
  type ManifestInput,
} from "../../src/inference/manifest.js";
import {
  BUILDER,
  DEMO_MODEL_PARAMS,
  DEMO_SEED,
  hashModelDir,
  isDemoModelValid,
  SHARD_BYTES,
} from "./identity.js";
import { type OnnxVerification, writeVerifiedOnnx } from "./onnx-export.js";
import { mulberry32, smoothImage } from "./prng.js";

/** Switches this thread's tfjs to the WASM backend (registered by importing the package). */
async function useWasmBackend(): Promise<void> {
  if (tf.getBackend() === "wasm") return;
  setWasmPaths(`${wasmBinariesDir()}${path.sep}`);
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs WASM backend failed to initialise");
}

/** Standard normal samples (Box-Muller) from a seeded uniform PRNG. */
class Gaussian {
  private spare: number | undefined;
  constructor(private readonly uniform: () => number) {}
  next(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

const relu6 = (name: string) => tf.layers.reLU({ maxValue: 6, name });
const bn = (name: string) =>
  tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name });

/** A convolution without bias, zero-initialised (seededWeights sets the weights). */
const conv = (
  filters: number,
  kernelSize: number,
  name: string,
  more: { strides?: number; padding?: "same" } = {},
) =>
  tf.layers.conv2d({
    filters,
    kernelSize,
    ...more,
    useBias: false,
    kernelInitializer: "zeros",
    name,
  });

/** A 1x1 convolution without bias (a block's expansion and projection). */
const pointwiseConv = (filters: number, name: string) =>
  conv(filters, 1, name, { padding: "same" });

/** `x` through `layers`, one after the other. */
function chain(x: tf.SymbolicTensor, ...layers: tf.layers.Layer[]): tf.SymbolicTensor {
  return layers.reduce((y, layer) => layer.apply(y) as tf.SymbolicTensor, x);
}

function invertedResBlock(
  inputs: tf.SymbolicTensor,
  filters: number,
  stride: 1 | 2,
  expansion: number,
  blockId: number,
): tf.SymbolicTensor {
  const inChannels = inputs.shape[inputs.shape.length - 1] as number;
  const pointwise = makeDivisible(filters);
  let prefix = `block_${blockId}_`;
  let x = inputs;
  if (blockId) {
    const expand = pointwiseConv(expansion * inChannels, `${prefix}expand`);
    x = chain(x, expand, bn(`${prefix}expand_BN`), relu6(`${prefix}expand_relu`));
  } else {
    prefix = "expanded_conv_";
  }
  if (stride === 2) {
    // imagenet_utils.correct_pad for an even input and a 3x3 kernel: ((0, 1), (0, 1)).
    const pad: [[number, number], [number, number]] = [
      [0, 1],
      [0, 1],
    ];
    x = chain(x, tf.layers.zeroPadding2d({ padding: pad, name: `${prefix}pad` }));
  }
  x = chain(
    x,
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      strides: stride,
      useBias: false,
      padding: stride === 1 ? "same" : "valid",
      depthwiseInitializer: "zeros",
      name: `${prefix}depthwise`,
    }),
    bn(`${prefix}depthwise_BN`),
    relu6(`${prefix}depthwise_relu`),
    pointwiseConv(pointwise, `${prefix}project`),
    bn(`${prefix}project_BN`),
  );
  if (inChannels === pointwise && stride === 1) {
    x = tf.layers.add({ name: `${prefix}add` }).apply([inputs, x]) as tf.SymbolicTensor;
  }
  return x;
}

/** The demo model's input: INPUT_SIZE x INPUT_SIZE RGB images (Keras MobileNetV2's default size). */
const INPUT_SIZE = 224;

/** Keras' MobileNetV2 (alpha 1.0, include_top=False) layer for layer, plus the Food-11 head. */
export async function buildDemoArchitecture(
  inputSize = INPUT_SIZE,
  classes = FOOD11_LABELS.length,
): Promise<tf.LayersModel> {
  // Needs an initialised backend for the (zero) initial weights: WASM, as used for calibration.
  tf.enableProdMode();
  await useWasmBackend();
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: "input_1" });
  const stem = conv(makeDivisible(32), 3, "Conv1", { strides: 2, padding: "same" });
  let x = chain(input, stem, bn("bn_Conv1"), relu6("Conv1_relu"));
  const blocks: [filters: number, stride: 1 | 2, expansion: number][] = [
    [16, 1, 1],
    [24, 2, 6],
    [24, 1, 6],
    [32, 2, 6],
    [32, 1, 6],
    [32, 1, 6],
    [64, 2, 6],
    [64, 1, 6],
    [64, 1, 6],
    [64, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [160, 2, 6],
    [160, 1, 6],
    [160, 1, 6],
    [320, 1, 6],
  ];
  blocks.forEach(([filters, stride, expansion], i) => {
    x = invertedResBlock(x, filters, stride, expansion, i);
  });
  const output = chain(
    x,
    conv(1280, 1, "Conv_1"),
    bn("Conv_1_bn"),
    relu6("out_relu"),
    tf.layers.globalAveragePooling2d({ name: "global_average_pooling2d" }),
    tf.layers.dense({
      units: classes,
      activation: "softmax",
      kernelInitializer: "zeros",
      name: "dense",
    }),
  );
  return tf.model({ inputs: input, outputs: output, name: "food11_mobilenetv2_demo" });
}

/**
 * Seeded weights. Convolutions: He-normal (std sqrt(2 / fan_in)), except the linear projections
 * that feed residual additions, which use LeCun-normal (std sqrt(1 / fan_in)) so the residual
 * stream stays of order 1. BatchNorm: gamma ~ 1 + 0.05 N, beta ~ 0.05 N, moving mean 0, moving
 * variance 1 (identity statistics). Dense: standard normal here, rescaled by calibrate().
 */
export function seededWeights(model: tf.LayersModel, seed = DEMO_SEED): Float32Array[] {
  const g = new Gaussian(mulberry32(seed));
  return model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    const name = w.originalName;
    const fill = (std: number, mean = 0) => {
      for (let i = 0; i < size; i++) out[i] = mean + std * g.next();
    };
    if (name.endsWith("/gamma")) fill(0.05, 1);
    else if (name.endsWith("/beta")) fill(0.05, 0);
    else if (name.endsWith("/moving_mean")) out.fill(0);
    else if (name.endsWith("/moving_variance")) out.fill(1);
    else if (name.endsWith("/bias")) out.fill(0);
    else if (name.startsWith("dense/")) fill(1);
    else if (name.endsWith("/depthwise_kernel")) fill(Math.sqrt(2 / 9));
    else if (name.endsWith("/kernel")) {
      // [kh, kw, in, out]
      const fanIn = (shape[0] as number) * (shape[1] as number) * (shape[2] as number);
      const linear = name.includes("project");
      fill(Math.sqrt((linear ? 1 : 2) / fanIn));
    } else {
      throw new Error(`demo model: no initialiser for weight ${name}`);
    }
    return out;
  });
}

/** Smooth synthetic RGB images in [0, 1] (colour gradients and waves) from a seeded PRNG. */
function calibrationImages(count: number, size: number, seed = DEMO_SEED + 1): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(count * size * size * 3);
  for (let n = 0; n < count; n++) {
    smoothImage(u, out, n * size * size * 3, [size, size], { maxAmp: 0.3, maxFreq: 8, ySlope: 1 });
  }
  return out;
}

/**
 * Random deep features share a large image-independent mean, which would make every image the same
 * class. Calibrate the head on synthetic images: centre the logits (bias = -W^T mean feature) and
 * scale W so the logits spread by about LOGIT_SD across images. Values are rounded (1e-4 relative)
 * so the saved bytes do not depend on the last bits of the forward pass.
 */
const LOGIT_SD = 2.5;
async function calibrateHead(model: tf.LayersModel): Promise<void> {
  const size = model.inputs[0]?.shape[1] as number;
  const count = 8;
  const gap = tf.model({
    inputs: model.inputs,
    outputs: model.getLayer("global_average_pooling2d").output as tf.SymbolicTensor,
  });
  const feats = tf.tidy(
    () =>
      gap.predict(tf.tensor4d(calibrationImages(count, size), [count, size, size, 3])) as tf.Tensor,
  );
  const f = feats.dataSync() as Float32Array;
  feats.dispose();
  const d = f.length / count;
  const mean = new Float64Array(d);
  let sdSum = 0;
  for (let j = 0; j < d; j++) {
    let s = 0;
    let s2 = 0;
    for (let n = 0; n < count; n++) {
      const v = f[n * d + j] as number;
      s += v;
      s2 += v * v;
    }
    mean[j] = s / count;
    sdSum += Math.sqrt(Math.max(0, s2 / count - (s / count) ** 2));
  }
  const featureSd = Math.max(1e-3, sdSum / d);
  const round = (v: number, digits: number) => Number(v.toPrecision(digits));
  const scale = round(LOGIT_SD / (featureSd * Math.sqrt(d)), 3);
  const dense = model.getLayer("dense");
  const [kernel] = dense.getWeights() as [tf.Tensor];
  const w = kernel.dataSync() as Float32Array;
  const classes = kernel.shape[1] as number;
  const scaled = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) scaled[i] = (w[i] as number) * scale;
  const bias = new Float32Array(classes);
  for (let k = 0; k < classes; k++) {
    let z = 0;
    for (let j = 0; j < d; j++) z += (scaled[j * classes + k] as number) * (mean[j] as number);
    bias[k] = Math.round(-z * 1000) / 1000;
  }
  const tensors = [tf.tensor2d(scaled, [d, classes]), tf.tensor1d(bias)];
  dense.setWeights(tensors);
  tf.dispose(tensors);
}

/** Sets `model`'s weights to `values`: one array per weight, in the order of `model.weights`. */
export function setWeightValues(model: tf.LayersModel, values: Float32Array[]): void {
  const tensors = values.map((w, i) => tf.tensor(w, model.weights[i]?.shape as number[]));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** Writes `model` as tensorflowjs_converter does: model.json + groupN-shardMofK.bin. */
export async function writeLayersModel(
  model: tf.LayersModel,
  dir: string,
  generatedBy: string,
): Promise<string[]> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: "JSON" } };
    }),
  );
  if (!artifacts) throw new Error("model.save produced no artifacts");
  if (!artifacts.weightSpecs || !artifacts.weightData || !artifacts.modelTopology) {
    throw new Error("model artifacts without topology or weights");
  }
  const data = new Uint8Array(new tf.io.CompositeArrayBuffer(artifacts.weightData).slice());
  const shards = Math.max(1, Math.ceil(data.byteLength / SHARD_BYTES));
  const paths: string[] = [];
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < shards; i++) {
    const name = `group1-shard${i + 1}of${shards}.bin`;
    paths.push(name);
    await writeFile(
      path.join(dir, name),
      data.subarray(i * SHARD_BYTES, Math.min(data.byteLength, (i + 1) * SHARD_BYTES)),
    );
  }
  const modelJson = {
    format: "layers-model",
    generatedBy,
    convertedBy: `TensorFlow.js tfjs-layers ${tf.version_layers}`,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
  };
  await writeFile(path.join(dir, "model.json"), JSON.stringify(modelJson));
  return ["model.json", ...paths];
}

/**
 * The demo model's manifest.json: source kind `demo`; its formats, the tfjs layers model (the
 * model itself: nothing to compare it with, the verification's reference) and model.onnx with its
 * check against that model (onnx-export.ts).
 */
function demoManifest(
  hash: string,
  onnx: { verification: OnnxVerification; tools: Record<string, string> },
): ManifestInput {
  const v = onnx.verification;
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    name: "food11-mobilenetv2-demo",
    version: "demo",
    source: { kind: "demo", file: BUILDER, sha256: hash },
    input: { height: INPUT_SIZE, width: INPUT_SIZE, channels: 3, layout: "NHWC", dtype: "float32" },
    preprocess: "unit",
    output: "probabilities",
    classes: FOOD11_LABELS.length,
    labels: "labels.txt",
    // tensorflowjs_converter's layout at the top of the directory, as before manifests existed
    formats: { tfjs: "model.json", onnx: "model.onnx" },
    tools: { "@tensorflow/tfjs-layers": tf.version_layers, ...onnx.tools, builder: BUILDER },
    verification: {
      images: v.images,
      tolerance: v.tolerance,
      reference: `the tfjs model itself: ${v.reference}`,
      referenceFormat: "tfjs",
      formats: { onnx: { runtime: v.runtime, top1Agree: v.top1Agree, maxAbsDiff: v.maxAbsDiff } },
    },
  };
}

/** Versions of what writes model.onnx and checks it, for the manifest's tools. */
function onnxTools(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
  return { "onnx-proto": version("onnx-proto"), "onnxruntime-node": version("onnxruntime-node") };
}

/**
 * Builds the demo model into dir (written into a temporary sibling, then renamed, so a reader never
 * sees a half-written model). Returns the sha256 of the files.
 */
export async function buildDemoModel(dir: string): Promise<{ hash: string; params: number }> {
  const prevBackend = tf.getBackend();
  const model = await buildDemoArchitecture();
  try {
    const params = model.countParams();
    if (params !== DEMO_MODEL_PARAMS) {
      throw new Error(`demo model has ${params} parameters, expected ${DEMO_MODEL_PARAMS}`);
    }
    setWeightValues(model, seededWeights(model));
    await calibrateHead(model);
    const parent = path.dirname(path.resolve(dir));
    await mkdir(parent, { recursive: true });
    const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${randomUUID()}`);
    await writeLayersModel(model, tmp, BUILDER);
    await writeFile(path.join(tmp, "labels.txt"), `${FOOD11_LABELS.join("\n")}\n`);
    // The ONNX Runtime engine's model.onnx (issue 28): the same weights, written only once
    // onnxruntime-node's outputs equal tfjs' on 32 fixed inputs (onnx-export.ts).
    const { verification } = await writeVerifiedOnnx(tf, model, tmp, { producer: BUILDER });
    const hash = await hashModelDir(tmp);
    const manifest = demoManifest(hash, { verification, tools: onnxTools() });
    await writeFile(path.join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another builder (a parallel test worker) won the race: keep its identical output.
      await rm(tmp, { recursive: true, force: true });
      if (!(await isDemoModelValid(dir))) throw err;
    }
    return { hash, params };
  } finally {
    model.dispose();
    if (prevBackend && prevBackend !== "wasm") await tf.setBackend(prevBackend);
  }
}
