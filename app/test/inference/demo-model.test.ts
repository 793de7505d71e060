import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDemoArchitecture } from "../../lib/demo-model/build.js";
import {
  DEMO_BASE_PARAMS,
  DEMO_HEAD_PARAMS,
  DEMO_MODEL_PARAMS,
  hashModelDir,
  isDemoModelValid,
  SHARD_BYTES,
} from "../../lib/demo-model/identity.js";
import { ensureDemoModel } from "../../lib/demo-model/index.js";
import { FOOD11_LABELS } from "../../src/inference/labels.js";
import {
  isDemoManifest,
  ManifestSchema,
  verificationProblems,
} from "../../src/inference/manifest.js";

/**
 * sha256 of model.json + shards + labels.txt + model.onnx of the demo model (revision 4, tfjs
 * 4.22.0, onnx-proto 8.0.1; the tfjs files alone are as in revision 2, model.onnx names its
 * builder's revision as its producer).
 */
const GOLDEN_HASH = "6d5a9158389e2e16b3d0aec6e2eaa079778f2843ad87cd57ed085f36350614c7";

describe("demo model architecture", () => {
  let model: Awaited<ReturnType<typeof buildDemoArchitecture>>;
  beforeAll(async () => {
    model = await buildDemoArchitecture();
  });
  afterAll(() => model.dispose());

  it("has exactly 2,272,075 parameters: 2,257,984 MobileNetV2 base + 14,091 head", () => {
    expect(model.countParams()).toBe(2_272_075);
    expect(DEMO_MODEL_PARAMS).toBe(2_272_075);
    const dense = model.getLayer("dense");
    expect(dense.countParams()).toBe(14_091);
    expect(DEMO_HEAD_PARAMS).toBe(14_091);
    expect(model.countParams() - dense.countParams()).toBe(DEMO_BASE_PARAMS);
    expect(DEMO_BASE_PARAMS).toBe(2_257_984);
  });

  it("splits trainable / non-trainable like Keras (BN moving statistics: 34,112)", () => {
    const count = (ws: { shape: (number | null)[] }[]) =>
      ws.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
    expect(count(model.nonTrainableWeights)).toBe(34_112);
    expect(count(model.trainableWeights)).toBe(2_237_963);
  });

  it("has Keras MobileNetV2's layer structure (154 base layers + GAP + Dense)", () => {
    const byClass = new Map<string, number>();
    for (const l of model.layers) {
      byClass.set(l.getClassName(), (byClass.get(l.getClassName()) ?? 0) + 1);
    }
    expect(model.layers.length).toBe(156);
    expect(Object.fromEntries(byClass)).toEqual({
      InputLayer: 1,
      Conv2D: 35,
      DepthwiseConv2D: 17,
      BatchNormalization: 52,
      ReLU: 35,
      ZeroPadding2D: 4,
      Add: 10,
      GlobalAveragePooling2D: 1,
      Dense: 1,
    });
    expect(model.inputs[0]?.shape).toEqual([null, 224, 224, 3]);
    expect(model.getLayer("out_relu").output).toMatchObject({ shape: [null, 7, 7, 1280] });
    expect(model.outputs[0]?.shape).toEqual([null, 11]);
  });
});

describe("demo model files", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "demo-model-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it("are written as tensorflowjs_converter does, deterministically (same bytes each build)", async () => {
    const a = await ensureDemoModel(path.join(tmp, "a"));
    const b = await ensureDemoModel(path.join(tmp, "b"), { force: true });
    expect(a.built).toBe(true);
    expect(b.built).toBe(true);
    expect(a.hash).toBe(GOLDEN_HASH);
    expect(b.hash).toBe(GOLDEN_HASH);
    expect(await hashModelDir(path.join(tmp, "a"))).toBe(GOLDEN_HASH);

    const json = JSON.parse(await readFile(path.join(tmp, "a", "model.json"), "utf8"));
    expect(json.format).toBe("layers-model");
    expect(Object.keys(json).sort()).toEqual(
      ["convertedBy", "format", "generatedBy", "modelTopology", "weightsManifest"].sort(),
    );
    expect(json.weightsManifest).toHaveLength(1);
    const paths: string[] = json.weightsManifest[0].paths;
    expect(paths).toEqual(["group1-shard1of3.bin", "group1-shard2of3.bin", "group1-shard3of3.bin"]);
    const sizes = await Promise.all(
      paths.map(async (p) => (await readFile(path.join(tmp, "a", p))).length),
    );
    expect(sizes).toEqual([SHARD_BYTES, SHARD_BYTES, 2_272_075 * 4 - 2 * SHARD_BYTES]);
    const specs: { shape: number[]; dtype: string }[] = json.weightsManifest[0].weights;
    expect(specs.every((s) => s.dtype === "float32")).toBe(true);
    expect(specs.reduce((n, s) => n + s.shape.reduce((a, d) => a * d, 1), 0)).toBe(2_272_075);

    const labels = (await readFile(path.join(tmp, "a", "labels.txt"), "utf8")).trim().split("\n");
    expect(labels).toEqual([...FOOD11_LABELS]);

    // manifest.json: what the server reads to know it is the demo model, how to feed it, where
    // each engine's format is and how model.onnx was checked against the tfjs model
    const manifest = JSON.parse(await readFile(path.join(tmp, "a", "manifest.json"), "utf8"));
    const maxAbsDiff = manifest.verification?.formats?.onnx?.maxAbsDiff;
    expect(manifest).toEqual({
      schemaVersion: 1,
      name: "food11-mobilenetv2-demo",
      version: "demo",
      source: { kind: "demo", file: "food11 demo model builder r4", sha256: GOLDEN_HASH },
      input: { height: 224, width: 224, channels: 3, layout: "NHWC", dtype: "float32" },
      preprocess: "unit",
      output: "probabilities",
      classes: 11,
      labels: "labels.txt",
      formats: { tfjs: "model.json", onnx: "model.onnx" },
      tools: {
        "@tensorflow/tfjs-layers": "4.22.0",
        "onnx-proto": "8.0.1",
        "onnxruntime-node": "1.30.0",
        builder: "food11 demo model builder r4",
      },
      verification: {
        images: 32,
        tolerance: 1e-4,
        reference: "the tfjs model itself: tfjs 4.22.0 model.predict (wasm)",
        referenceFormat: "tfjs",
        formats: {
          onnx: { runtime: "onnxruntime-node 1.30.0 (CPU)", top1Agree: 32, maxAbsDiff },
        },
      },
    });
    // model.onnx: written only after onnxruntime-node agreed with tfjs on all 32 inputs
    expect(maxAbsDiff).toBeGreaterThan(0);
    expect(maxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect((await readFile(path.join(tmp, "a", "model.onnx"))).length).toBe(9_127_175);
    const parsed = ManifestSchema.parse(manifest);
    expect(isDemoManifest(parsed)).toBe(true);
    // servable: its tfjs format is the reference itself; without saying so it would be refused
    expect(verificationProblems(parsed)).toEqual([]);
    const unsaid = { ...parsed.verification, referenceFormat: undefined };
    expect(verificationProblems({ ...parsed, verification: unsaid } as typeof parsed)).toEqual([
      "tfjs: not verified",
    ]);
  });

  it("ensureDemoModel is idempotent, and rebuilds a damaged model", async () => {
    const dir = path.join(tmp, "a");
    const again = await ensureDemoModel(dir);
    expect(again).toEqual({ dir, built: false, hash: GOLDEN_HASH });
    await writeFile(path.join(dir, "group1-shard2of3.bin"), "broken");
    expect(await isDemoModelValid(dir)).toBe(false);
    const rebuilt = await ensureDemoModel(dir);
    expect(rebuilt).toEqual({ dir, built: true, hash: GOLDEN_HASH });
  });

  it("parallel callers build once and all get a valid model", async () => {
    const dir = path.join(tmp, "parallel");
    const results = await Promise.all([ensureDemoModel(dir), ensureDemoModel(dir)]);
    expect(results.filter((r) => r.built)).toHaveLength(1);
    expect(results.map((r) => r.hash)).toEqual([GOLDEN_HASH, GOLDEN_HASH]);
    expect(await isDemoModelValid(dir)).toBe(true);
  });
});
