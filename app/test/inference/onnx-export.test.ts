/**
 * The ONNX exporter (onnx-export.ts) on small Keras-style models built here: what it writes runs
 * under onnxruntime-node with tfjs' outputs, a model it cannot write is refused by name, and a
 * model whose outputs differ is never written.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededWeights, setWeightValues } from "../../lib/demo-model/build.js";
import {
  checkInputs,
  exportOnnx,
  OnnxExportError,
  OnnxVerificationError,
  verifyOnnx,
  writeVerifiedOnnx,
} from "../../lib/demo-model/onnx-export.js";
import { mobileNetStem } from "../fixtures/models.js";

/** A MobileNetV2 block in miniature: every layer kind the demo model has, 20x20 input. */
function miniModel(seed = 3): tf.LayersModel {
  const input = tf.input({ shape: [20, 20, 3], name: "input_1" });
  let x = mobileNetStem(input);
  const skip = x;
  let y = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false, name: "dw" })
    .apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ epsilon: 1e-3, name: "dw_BN" }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ name: "dw_relu" }).apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .conv2d({ filters: 8, kernelSize: 1, padding: "same", useBias: false, name: "project" })
    .apply(y) as tf.SymbolicTensor;
  x = tf.layers.add({ name: "add" }).apply([skip, y]) as tf.SymbolicTensor;
  x = tf.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1],
      ],
      name: "pad",
    })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, strides: 2, padding: "valid", useBias: false, name: "dw2" })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: "gap" }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 5, activation: "softmax", name: "dense" })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: "mini" });
  const weights = seededWeights(model, seed);
  // non-identity batch-norm statistics, so that folding them is tested too
  model.weights.forEach((w, i) => {
    const v = weights[i] as Float32Array;
    for (let j = 0; j < v.length; j++) {
      if (w.originalName.endsWith("/moving_mean")) v[j] = 0.1 * Math.sin(j);
      if (w.originalName.endsWith("/moving_variance")) v[j] = 1 + 0.5 * Math.cos(j) ** 2;
    }
  });
  setWeightValues(model, weights);
  return model;
}

let model: tf.LayersModel;
let tmp: string;
beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend("cpu");
  model = miniModel();
  tmp = await mkdtemp(path.join(os.tmpdir(), "onnx-export-"));
});
afterAll(async () => {
  model?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe("exportOnnx", () => {
  it("writes the layers as ONNX nodes: NHWC input transposed once, softmax rows out", () => {
    const m = exportOnnx(model);
    const proto = onnxProto.onnx.ModelProto.decode(m.bytes);
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([["", 15]]);
    const g = proto.graph as onnxProto.onnx.GraphProto;
    expect(g.input.map((i) => i.name)).toEqual(["input"]);
    const dims = g.input[0]?.type?.tensorType?.shape?.dim?.map(
      (d) => d.dimParam || Number(d.dimValue),
    );
    expect(dims).toEqual(["batch", 20, 20, 3]);
    expect(g.output.map((o) => o.name)).toEqual(["output"]);
    expect(g.node.map((n) => n.opType)).toEqual([
      "Transpose",
      "Conv",
      "BatchNormalization",
      "Clip",
      "Conv",
      "BatchNormalization",
      "Relu",
      "Conv",
      "Add",
      "Pad",
      "Conv",
      "GlobalAveragePool",
      "Flatten",
      "Gemm",
      "Softmax",
      "Identity",
    ]);
    // TensorFlow's "same" padding of a stride-2 3x3 conv on 20 pixels: the extra pixel at the end
    const conv1 = g.node[1] as onnxProto.onnx.NodeProto;
    const pads = conv1.attribute.find((a) => a.name === "pads")?.ints?.map(Number);
    expect(pads).toEqual([0, 0, 1, 1]);
    // the depthwise convolution is a grouped one, one group per channel
    const dw = g.node[4] as onnxProto.onnx.NodeProto;
    expect(Number(dw.attribute.find((a) => a.name === "group")?.i)).toBe(8);
    expect(m).toMatchObject({ nodes: 16, opset: 15, inputShape: [20, 20, 3], classes: 5 });
  });

  it("runs under onnxruntime-node with tfjs' outputs (top-1 on all 32 inputs, |Δp| ≤ 1e-4)", async () => {
    const v = await verifyOnnx(tf, ort, model, exportOnnx(model));
    expect(v).toMatchObject({ images: 32, top1Agree: 32, tolerance: 1e-4, ok: true });
    expect(v.maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(v.runtime).toBe("onnxruntime-node 1.30.0 (CPU)");
    expect(v.reference).toBe("tfjs 4.22.0 model.predict (cpu)");
  });

  it("is deterministic: the same model gives the same bytes", () => {
    expect(Buffer.from(exportOnnx(model).bytes).equals(Buffer.from(exportOnnx(model).bytes))).toBe(
      true,
    );
  });

  it("refuses a layer it does not support, naming it", () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const pooled = tf.layers.maxPooling2d({ poolSize: 2, name: "maxpool" }).apply(input);
    const flat = tf.layers.flatten().apply(pooled) as tf.SymbolicTensor;
    const m = tf.model({
      inputs: input,
      outputs: tf.layers.dense({ units: 2 }).apply(flat) as tf.SymbolicTensor,
    });
    expect(() => exportOnnx(m)).toThrow(OnnxExportError);
    expect(() => exportOnnx(m)).toThrow(
      "layer maxpool: MaxPooling2D is not supported by the ONNX exporter",
    );
    m.dispose();
  });

  it("refuses a model whose input is not [batch, H, W, 3]", () => {
    const input = tf.input({ shape: [8, 8, 1] });
    const gap = tf.layers.globalAveragePooling2d({}).apply(input) as tf.SymbolicTensor;
    const m = tf.model({ inputs: input, outputs: gap });
    expect(() => exportOnnx(m)).toThrow(/the input must be \[batch, H, W, 3\]/);
    m.dispose();
  });
});

describe("writeVerifiedOnnx", () => {
  it("writes model.onnx, the exported bytes, once they agree with tfjs", async () => {
    const dir = path.join(tmp, "ok");
    await import("node:fs/promises").then((fs) => fs.mkdir(dir));
    const r = await writeVerifiedOnnx(tf, model, dir);
    expect(r.file).toBe(path.join(dir, "model.onnx"));
    expect(r.verification.ok).toBe(true);
    expect((await readFile(r.file)).equals(Buffer.from(exportOnnx(model).bytes))).toBe(true);
    expect(await readdir(dir)).toEqual(["model.onnx"]);
  });

  it("a file that differs from the model is caught: top-1 and Δp counted, nothing served", async () => {
    const exported = exportOnnx(model);
    // the model changes after the export (its head's bias): the ONNX file no longer matches it
    const dense = model.getLayer("dense");
    const [k, b] = dense.getWeights() as [tf.Tensor, tf.Tensor];
    const before = [k.clone(), b.clone()];
    dense.setWeights([k, tf.tensor1d([3, 0, 0, 0, -3])]);
    try {
      const v = await verifyOnnx(tf, ort, model, exported);
      expect(v.ok).toBe(false);
      expect(v.maxAbsDiff).toBeGreaterThan(1e-2);
      expect(() => {
        throw new OnnxVerificationError(v);
      }).toThrow(
        /the ONNX export does not match tfjs: top-1 \d+\/32, max \|Δp\| .* model\.onnx not written/,
      );
    } finally {
      dense.setWeights(before);
      tf.dispose(before);
    }
  });

  it("refuses to write a file whose outputs differ from the model's (ONNX Runtime running another file)", async () => {
    const dir = path.join(tmp, "refused");
    await import("node:fs/promises").then((fs) => fs.mkdir(dir));
    const other = miniModel(11);
    const otherBytes = exportOnnx(other).bytes;
    other.dispose();
    // the same onnxruntime-node, but every session it creates loads the other model's file
    const wrongFile = {
      ...ort,
      InferenceSession: {
        create: (_bytes: Uint8Array, o: ort.InferenceSession.SessionOptions) =>
          ort.InferenceSession.create(otherBytes, o),
      },
    } as unknown as typeof ort;
    const attempt = writeVerifiedOnnx(tf, model, dir, { ort: wrongFile });
    await expect(attempt).rejects.toThrow(OnnxVerificationError);
    await expect(attempt).rejects.toThrow(/model\.onnx not written/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("the check's inputs are fixed: the same 32 images every time", () => {
    const a = checkInputs(32, 8, 8);
    expect(a.length).toBe(32 * 8 * 8 * 3);
    expect(Array.from(checkInputs(32, 8, 8))).toEqual(Array.from(a));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
    expect(existsSync(path.join(tmp, "never.onnx"))).toBe(false);
  });
});
