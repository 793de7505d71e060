/**
 * The fused program (BatchNorm + ReLU6 folded into convolutions) against the model as loaded.
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureDemoModel } from "../../lib/demo-model/index.js";
import { fuseLayersModel } from "../../src/inference/fuse.js";
import { loadFromDir } from "../../src/inference/model-io.js";
import { makeImage } from "../fixtures/images.js";
import { wasmClassifier } from "../fixtures/models.js";

let demoDir: string;

beforeAll(async () => {
  demoDir = (await ensureDemoModel()).dir;
  tf.enableProdMode();
  await tf.setBackend("cpu");
});

describe("fuseLayersModel", () => {
  it("folds all 52 BatchNorm and 35 ReLU6 layers of MobileNetV2, with no fallback layer", async () => {
    const { artifacts } = await loadFromDir(demoDir);
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const program = fuseLayersModel(tf, model);
    expect(program).toBeDefined();
    expect(program?.folded).toBe(52 + 35);
    expect(program?.fallback).toBe(0);
    program?.dispose();
    model.dispose();
  });

  it("runs unknown layers unchanged (fallback) and matches model.predict", async () => {
    const input = tf.input({ shape: [12, 12, 3] });
    let x = tf.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: "same", useBias: true, name: "c1" })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: "bn1" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ maxValue: 6, name: "r1" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: "pool" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.flatten({ name: "flat" }).apply(x) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 5, activation: "softmax", name: "d" })
      .apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    // non-trivial BN statistics
    const bn = model.getLayer("bn1");
    bn.setWeights([
      tf.tensor1d([1.5, 0.5, 2, 1]),
      tf.tensor1d([0.1, -0.2, 0.3, 0]),
      tf.tensor1d([0.2, -0.1, 0.05, 0.4]),
      tf.tensor1d([0.5, 2, 1, 0.25]),
    ]);
    const program = fuseLayersModel(tf, model);
    expect(program?.folded).toBe(2);
    expect(program?.fallback).toBe(2); // maxPooling2d, flatten
    const xs = tf.randomUniform([2, 12, 12, 3], 0, 1, "float32", 42);
    const a = (model.predict(xs) as tf.Tensor).dataSync();
    tf.dispose(program?.predict(xs)); // the first run creates the folded weights
    const before = tf.memory().numTensors;
    const y = program?.predict(xs) as tf.Tensor;
    const b = y.dataSync();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(b.length).toBe(10);
    b.forEach((v, i) => {
      expect(v).toBeCloseTo(a[i] as number, 5);
    });
    program?.dispose();
    model.dispose();
    xs.dispose();
  });

  it("classifier: fused and unfused demo model agree within 1e-4 (same top label)", async () => {
    const fused = await wasmClassifier(demoDir);
    const plain = await wasmClassifier(demoDir, { fuse: false });
    try {
      for (const [f, v] of [
        ["jpeg", 0],
        ["png", 1],
        ["webp", 2],
      ] as const) {
        const img = await makeImage(f, 320, 240, v);
        const a = await fused.classify(img, 11);
        const b = await plain.classify(img, 11);
        expect(a.label).toBe(b.label);
        const pb = [...b.top].sort((p, q) => p.index - q.index);
        for (const t of a.top) {
          expect(Math.abs(t.probability - (pb[t.index]?.probability as number))).toBeLessThan(1e-4);
        }
      }
      const [fm] = await fused.memory();
      const [pm] = await plain.memory();
      expect(fm?.numTensors).toBe(106); // 52 convolutions x (kernel, bias) + Dense (kernel, bias)
      expect(pm?.numTensors).toBe(262);
      expect(fm?.wasmHeapBytes).toBeLessThan(pm?.wasmHeapBytes as number);
    } finally {
      await Promise.all([fused.close(), plain.close()]);
    }
  });
});

describe("fuseLayersModel on nested models", () => {
  it("fuses a base model used as a layer (Sequential([base, GAP, Dense]) style)", async () => {
    const bin = tf.input({ shape: [10, 10, 3] });
    let b = tf.layers
      .conv2d({
        filters: 6,
        kernelSize: 3,
        strides: 2,
        padding: "same",
        useBias: false,
        name: "bc",
      })
      .apply(bin) as tf.SymbolicTensor;
    b = tf.layers.batchNormalization({ name: "bbn" }).apply(b) as tf.SymbolicTensor;
    b = tf.layers.activation({ activation: "relu6", name: "bact" }).apply(b) as tf.SymbolicTensor;
    b = tf.layers
      .depthwiseConv2d({ kernelSize: 3, padding: "same", useBias: false, name: "bdw" })
      .apply(b) as tf.SymbolicTensor;
    b = tf.layers.batchNormalization({ name: "bbn2" }).apply(b) as tf.SymbolicTensor;
    b = tf.layers.reLU({ name: "brelu" }).apply(b) as tf.SymbolicTensor;
    const base = tf.model({ inputs: bin, outputs: b, name: "base" });
    const model = tf.sequential({
      layers: [
        base,
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 4, activation: "softmax" }),
      ],
    });
    for (const name of ["bbn", "bbn2"]) {
      const bn = base.getLayer(name);
      const n = bn.getWeights()[0]?.shape[0] as number;
      bn.setWeights([
        tf.randomUniform([n], 0.5, 1.5, "float32", 1),
        tf.randomUniform([n], -0.3, 0.3, "float32", 2),
        tf.randomUniform([n], -0.2, 0.2, "float32", 3),
        tf.randomUniform([n], 0.5, 2, "float32", 4),
      ]);
    }
    const program = fuseLayersModel(tf, model);
    expect(program?.folded).toBe(4);
    expect(program?.fallback).toBe(0);
    const xs = tf.randomUniform([3, 10, 10, 3], 0, 1, "float32", 7);
    expectSameOutputs(model, program, xs);
  });

  it("runs a nested model it cannot fuse (a shared layer) through layer.apply", async () => {
    const bin = tf.input({ shape: [6, 6, 3] });
    // the same layer applied twice: the nested model is not fused (fuseLayersModel: shared layers)
    const shared = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: "same", name: "sc" });
    const b = shared.apply(shared.apply(bin)) as tf.SymbolicTensor;
    const base = tf.model({ inputs: bin, outputs: b, name: "sharedbase" });
    expect(fuseLayersModel(tf, base)).toBeUndefined();
    const model = tf.sequential({
      layers: [
        base,
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 4, activation: "softmax" }),
      ],
    });
    const program = fuseLayersModel(tf, model);
    expect(program?.folded).toBe(0);
    expect(program?.fallback).toBe(1);
    const xs = tf.randomUniform([2, 6, 6, 3], 0, 1, "float32", 9);
    expectSameOutputs(model, program, xs);
  });
});

/** The fused program's outputs on `xs` equal the model's (5 decimals); then all three disposed. */
function expectSameOutputs(
  model: tf.LayersModel,
  program: ReturnType<typeof fuseLayersModel>,
  xs: tf.Tensor,
): void {
  const a = (model.predict(xs) as tf.Tensor).dataSync();
  const y = program?.predict(xs) as tf.Tensor;
  const got = y.dataSync();
  y.dispose();
  got.forEach((v, i) => {
    expect(v).toBeCloseTo(a[i] as number, 5);
  });
  program?.dispose();
  model.dispose();
  xs.dispose();
}
