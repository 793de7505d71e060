/**
 * The real engine on the demo model (MobileNetV2, 2,272,075 parameters) on the WASM backend,
 * in 1 and 2 worker threads.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Classification,
  type Classifier,
  ClassifierClosedError,
  createClassifier,
  EmptyImageError,
  ImageDecodeError,
  ImageTooLargeError,
} from "../../src/inference/classifier.js";
import { FOOD11_LABELS } from "../../src/inference/labels.js";
import { formatImages, orientationPair, pixelBombPng, truncatedJpeg } from "../fixtures/images.js";
import { demoClassifiers } from "../fixtures/models.js";

let modelDir: string;
let one: Classifier;
let two: Classifier;
const images: Record<string, Buffer> = {};

beforeAll(async () => {
  ({
    modelDir,
    classifiers: [one, two],
  } = await demoClassifiers({ backend: "wasm", threads: 1 }, { backend: "wasm", threads: 2 }));
  Object.assign(images, await formatImages());
});

afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

const probs = (r: Classification) =>
  [...r.top].sort((a, b) => a.index - b.index).map((t) => t.probability);

describe("classifier on the demo model (WASM)", () => {
  it("reports backend, input size, labels, format", () => {
    expect(one.backend).toBe("wasm");
    expect(one.inputSize).toEqual({ width: 224, height: 224 });
    expect(one.labels).toEqual(FOOD11_LABELS);
    expect(one.modelFormat).toBe("layers-model");
    expect(one.preprocess).toBe("unit");
    expect(one.stats()).toEqual({ queueDepth: 0, inFlight: 0, workers: 1, queueMax: 32 });
    expect(two.stats()).toEqual({ queueDepth: 0, inFlight: 0, workers: 2, queueMax: 64 });
  });

  it.each(["jpeg", "png", "webp"])("classifies a %s: 11 probabilities summing to 1", async (f) => {
    const r = await one.classify(images[f] as Buffer, 11);
    expect(r.top).toHaveLength(11);
    const sum = r.top.reduce((s, t) => s + t.probability, 0);
    expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-5);
    expect(r.top.map((t) => t.index).sort((a, b) => a - b)).toEqual([...Array(11).keys()]);
    for (let i = 1; i < r.top.length; i++) {
      expect(r.top[i - 1]?.probability).toBeGreaterThanOrEqual(r.top[i]?.probability as number);
    }
    expect(r.top[0]).toEqual({ label: r.label, index: r.index, probability: r.probability });
    expect(r.label).toBe(FOOD11_LABELS[r.index]);
    expect(r.batchSize).toBe(1);
    for (const v of Object.values(r.timings)) expect(v).toBeGreaterThanOrEqual(0);
    expect(r.timings.totalMs).toBeGreaterThanOrEqual(r.timings.inferenceMs);
  });

  it("gives the known answers for the generated images (seeded model, exact)", async () => {
    const got: Record<string, [string, number]> = {};
    for (const f of ["jpeg", "png", "webp"]) {
      const r = await one.classify(images[f] as Buffer, 1);
      got[f] = [r.label, Number(r.probability.toFixed(4))];
    }
    expect(got).toEqual(GOLDEN);
  });

  it("is deterministic: same probabilities on repeated calls and across 1 and 2 workers", async () => {
    for (const f of ["jpeg", "png", "webp"]) {
      const img = images[f] as Buffer;
      const a = await one.classify(img, 11);
      const b = await one.classify(img, 11);
      const [c, d] = await Promise.all([two.classify(img, 11), two.classify(img, 11)]);
      expect(probs(b)).toEqual(probs(a));
      expect(probs(c as Classification)).toEqual(probs(a));
      expect(probs(d as Classification)).toEqual(probs(a));
    }
  });

  it("honours EXIF orientation: a tagged image gives exactly the pre-rotated image's output", async () => {
    // 224x224 so that no resampling happens and the comparison can be exact (see decode tests
    // for the photo-sized case, equal within one rounding step per pixel).
    const { upright, tagged } = await orientationPair(224, 224);
    const a = await one.classify(upright, 11);
    const b = await one.classify(tagged, 11);
    expect(probs(b)).toEqual(probs(a));
    // the tag matters: the same pixels without it give another output
    const untagged = await sharp(tagged).withMetadata({ orientation: 1 }).png().toBuffer();
    const c = await one.classify(untagged, 11);
    expect(probs(c)).not.toEqual(probs(a));
  });

  it("topk is clamped to [1, 11]", async () => {
    expect((await one.classify(images.jpeg as Buffer, 3)).top).toHaveLength(3);
    expect((await one.classify(images.jpeg as Buffer, 0)).top).toHaveLength(1);
    expect((await one.classify(images.jpeg as Buffer, 50)).top).toHaveLength(11);
    expect((await one.classify(images.jpeg as Buffer)).top).toHaveLength(5);
  });

  it("rejects bad images with typed errors and keeps serving", async () => {
    await expect(two.classify(Buffer.alloc(0))).rejects.toBeInstanceOf(EmptyImageError);
    await expect(two.classify(Buffer.from("GIF89a? no, just text"))).rejects.toBeInstanceOf(
      ImageDecodeError,
    );
    await expect(two.classify(await truncatedJpeg())).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(two.classify(pixelBombPng())).rejects.toBeInstanceOf(ImageTooLargeError);
    const r = await two.classify(images.png as Buffer);
    expect(r.top).toHaveLength(5);
    expect(two.stats()).toMatchObject({ queueDepth: 0, inFlight: 0 });
  });

  it("does not leak tensors: tf.memory().numTensors constant in every worker over 20 images", async () => {
    const tensors = async () =>
      (await two.memory()).map(({ numTensors, numBytes }) => ({ numTensors, numBytes }));
    const before = await tensors();
    expect(before).toHaveLength(2);
    const jobs: Promise<Classification>[] = [];
    for (let i = 0; i < 20; i++)
      jobs.push(two.classify(images[["jpeg", "png", "webp"][i % 3] as string] as Buffer));
    await Promise.all(jobs);
    await expect(two.classify(Buffer.from("not an image"))).rejects.toThrow();
    const after = await tensors();
    expect(after).toEqual(before);
    // the fused program: 52 convolutions x (folded kernel, bias) + Dense (kernel, bias)
    expect(before[0]).toEqual({ numTensors: 106, numBytes: 8_883_628 });
  });

  it("close() waits for running work, terminates the workers and refuses new work", async () => {
    const c = await createClassifier({ modelDir, backend: "wasm", threads: 2 });
    expect(c.stats().workers).toBe(2);
    const running = c.classify(images.jpeg as Buffer);
    await c.close();
    await expect(running).resolves.toMatchObject({ label: expect.any(String) });
    expect(c.stats().workers).toBe(0);
    await expect(c.classify(images.jpeg as Buffer)).rejects.toBeInstanceOf(ClassifierClosedError);
    await c.close(); // idempotent
  });
});

/** Top label and probability (4 decimals) of the seeded demo model for the generated images. */
const GOLDEN: Record<string, [string, number]> = {
  jpeg: ["Fried food", 0.668],
  png: ["Fried food", 0.9126],
  webp: ["Fried food", 0.6738],
};
