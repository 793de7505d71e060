/**
 * The onnxruntime engine (infer-onnxruntime.ts) on the demo model's model.onnx, against the tfjs
 * WASM engine on its tfjs files: the same answers on real images, through the same stages.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Classification,
  type Classifier,
  createClassifier,
  ImageDecodeError,
} from "../../src/inference/classifier.js";
import { FOOD11_LABELS } from "../../src/inference/labels.js";
import { formatImages, makeImage, truncatedJpeg } from "../fixtures/images.js";
import { demoClassifiers } from "../fixtures/models.js";

let modelDir: string;
let tmp: string;
let ort: Classifier;
let ortTwo: Classifier;
let wasm: Classifier;
const images: Record<string, Buffer> = {};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "ort-classifier-"));
  ({
    modelDir,
    classifiers: [ort, ortTwo, wasm],
  } = await demoClassifiers(
    { backend: "onnxruntime", threads: 2 },
    { backend: "onnxruntime", threads: 2, engines: 2, maxBatchSize: 4 },
    { backend: "wasm", threads: 1 },
  ));
  Object.assign(images, await formatImages());
  images.small = await makeImage("png", 224, 224, 3);
});

afterAll(async () => {
  await Promise.all([ort?.close(), ortTwo?.close(), wasm?.close()]);
  await rm(tmp, { recursive: true, force: true });
});

const probs = (r: Classification) =>
  [...r.top].sort((a, b) => a.index - b.index).map((t) => t.probability);

describe("classifier on ONNX Runtime (the demo model's model.onnx)", () => {
  it("reports its engine, the ONNX format, input size, labels and engines", () => {
    expect(ort.backend).toBe("onnxruntime");
    expect(ort.modelFormat).toBe("onnx");
    expect(ort.modelSource).toBe(path.join(modelDir, "model.onnx"));
    expect(ort.inputSize).toEqual({ width: 224, height: 224 });
    expect(ort.labels).toEqual(FOOD11_LABELS);
    // One session on both threads by default (engines: 1), two when asked.
    expect(ort.stats()).toEqual({ queueDepth: 0, inFlight: 0, workers: 1, queueMax: 64 });
    expect(ortTwo.stats()).toEqual({ queueDepth: 0, inFlight: 0, workers: 2, queueMax: 64 });
  });

  it.each(["jpeg", "png", "webp", "small"])(
    "a %s: the same top-1 as tfjs and every probability within 1e-4",
    async (f) => {
      const img = images[f] as Buffer;
      const a = await ort.classify(img, 11);
      const b = await wasm.classify(img, 11);
      expect(a.label).toBe(b.label);
      expect(a.index).toBe(b.index);
      const pa = probs(a);
      const pb = probs(b);
      for (let i = 0; i < 11; i++)
        expect(Math.abs((pa[i] as number) - (pb[i] as number))).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(pa.reduce((s, p) => s + p, 0) - 1)).toBeLessThanOrEqual(1e-5);
      expect(a.batchSize).toBe(1);
      expect(a.timings.inferenceMs).toBeGreaterThan(0);
      expect(a.timings.totalMs).toBeGreaterThanOrEqual(a.timings.inferenceMs);
    },
  );

  it("batches: images run together give their own answers (within float rounding)", async () => {
    const list = ["jpeg", "png", "webp", "small", "jpeg", "png", "webp", "small"].map(
      (f) => images[f] as Buffer,
    );
    const alone = await Promise.all(list.map((img) => ort.classify(img, 11)));
    const together = await Promise.all(list.map((img) => ortTwo.classify(img, 11)));
    expect(Math.max(...together.map((r) => r.batchSize))).toBeGreaterThan(1);
    together.forEach((r, i) => {
      const want = alone[i] as Classification;
      expect(r.index).toBe(want.index);
      probs(r).forEach((p, k) => {
        expect(Math.abs(p - (probs(want)[k] as number))).toBeLessThanOrEqual(1e-5);
      });
    });
  });

  it("bad images get the same typed errors, and the engine keeps serving", async () => {
    await expect(ort.classify(await truncatedJpeg())).rejects.toBeInstanceOf(ImageDecodeError);
    expect((await ort.classify(images.jpeg as Buffer, 1)).top).toHaveLength(1);
  });

  it("a session whose worker dies is restarted from model.onnx and serves the same answers", async () => {
    const c = await createClassifier({ modelDir, backend: "onnxruntime", threads: 1 });
    try {
      const before = await c.classify(images.png as Buffer, 11);
      c._crashWorker?.(0);
      const deadline = Date.now() + 60_000;
      let after: Classification | undefined;
      while (!after && Date.now() < deadline) {
        try {
          after = await c.classify(images.png as Buffer, 11);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(after && probs(after)).toEqual(probs(before));
      expect(c.stats().workers).toBe(1);
    } finally {
      await c.close();
    }
  });
});

describe("what the onnxruntime engine refuses", () => {
  it("a model directory without model.onnx: names the file and where it comes from", async () => {
    const dir = path.join(tmp, "tfjs-only");
    await mkdir(dir);
    await copyFile(path.join(modelDir, "model.json"), path.join(dir, "model.json"));
    await expect(createClassifier({ modelDir: dir, backend: "onnxruntime" })).rejects.toThrow(
      `no ONNX model at ${path.join(dir, "model.onnx")}: the onnxruntime engine serves model.onnx`,
    );
  });

  it("a manifest locates the ONNX file (formats.onnx); one without ONNX is refused, naming the fix", async () => {
    const manifest = JSON.parse(await readFile(path.join(modelDir, "manifest.json"), "utf8"));
    // formats.onnx elsewhere than model.onnx: the engine loads that file
    const moved = path.join(tmp, "moved-onnx");
    await mkdir(path.join(moved, "onnx"), { recursive: true });
    await copyFile(path.join(modelDir, "model.onnx"), path.join(moved, "onnx", "food.onnx"));
    await copyFile(path.join(modelDir, "labels.txt"), path.join(moved, "labels.txt"));
    await writeFile(
      path.join(moved, "manifest.json"),
      JSON.stringify({ ...manifest, formats: { onnx: "onnx/food.onnx" } }),
    );
    const c = await createClassifier({ modelDir: moved, backend: "onnxruntime", threads: 1 });
    try {
      expect(c.modelSource).toBe(path.join(moved, "onnx", "food.onnx"));
      expect(probs(await c.classify(images.jpeg as Buffer, 11))).toEqual(
        probs(await ort.classify(images.jpeg as Buffer, 11)),
      );
    } finally {
      await c.close();
    }
    // a manifest without formats.onnx (model.onnx beside it is not taken): refused at start
    const tfjsOnly = path.join(tmp, "manifest-tfjs-only");
    await mkdir(tfjsOnly);
    for (const f of ["model.json", "model.onnx", "labels.txt"]) {
      await copyFile(path.join(modelDir, f), path.join(tfjsOnly, f));
    }
    const { onnx: _, ...tfjs } = manifest.formats;
    await writeFile(
      path.join(tfjsOnly, "manifest.json"),
      JSON.stringify({ ...manifest, formats: tfjs }),
    );
    await expect(
      createClassifier({ modelDir: tfjsOnly, backend: "onnxruntime", threads: 1 }),
    ).rejects.toThrow(
      `${path.join(tfjsOnly, "manifest.json")}: no ONNX format, which the onnxruntime engine runs (it has tfjs). Fix: import the model again with npm run model:import`,
    );
  });

  it("a file that is not an ONNX model: the engine fails to start, saying so", async () => {
    const dir = path.join(tmp, "garbage");
    await mkdir(dir);
    await writeFile(path.join(dir, "model.onnx"), "not a protobuf at all");
    await expect(
      createClassifier({ modelDir: dir, backend: "onnxruntime", threads: 1 }),
    ).rejects.toThrow(/TFJS_BACKEND=onnxruntime: inference worker failed to start: .*protobuf/i);
  });
});
