/**
 * Engine behaviour that needs no big model: a tiny LayersModel and a hand-written GraphModel,
 * loaded from a directory or over HTTP from 127.0.0.1.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Classification,
  createClassifier,
  QueueFullError,
} from "../../src/inference/classifier.js";
import { decodeImage } from "../../src/inference/decode.js";
import { FOOD11_LABELS } from "../../src/inference/labels.js";
import { ManifestSchema } from "../../src/inference/manifest.js";
import { normalize } from "../../src/inference/normalize.js";
import { makeImage } from "../fixtures/images.js";
import {
  GRAPH_SIZE,
  graphWeights,
  TINY_SIZE,
  wasmClassifier,
  writeTinyGraphModel,
  writeTinyLayersModel,
} from "../fixtures/models.js";

let tmp: string;
let layersDir: string;
let graphDir: string;
let labelledDir: string;
let server: Server;
let baseUrl: string;
const requested: string[] = [];
let img: Buffer;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "tiny-models-"));
  layersDir = await writeTinyLayersModel(path.join(tmp, "layers"));
  graphDir = await writeTinyGraphModel(path.join(tmp, "graph"));
  labelledDir = await writeTinyLayersModel(path.join(tmp, "labelled"), {
    classes: 3,
    labels: ["cat", "dog", "bird"],
  });
  img = await makeImage("jpeg", 120, 90, 1);
  // A static file server for the http(s) model source.
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requested.push(url.pathname);
    const file = path.join(tmp, path.normalize(url.pathname));
    const st = await stat(file).catch(() => undefined);
    if (!file.startsWith(tmp) || !st?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": st.size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rm(tmp, { recursive: true, force: true });
});

const byIndex = (r: Classification) =>
  [...r.top].sort((a, b) => a.index - b.index).map((t) => t.probability);

/** Every probability of `got` within `digits` decimals of `want`'s (by class index). */
function expectClose(got: number[], want: number[], digits: number) {
  got.forEach((p, i) => {
    expect(p).toBeCloseTo(want[i] as number, digits);
  });
}

describe("model sources and formats", () => {
  it("loads a LayersModel from a directory; input size comes from the model", async () => {
    const c = await wasmClassifier(layersDir);
    try {
      expect(c.modelFormat).toBe("layers-model");
      expect(c.inputSize).toEqual({ width: TINY_SIZE, height: TINY_SIZE });
      expect(c.labels).toEqual(FOOD11_LABELS); // no labels.txt: the Food-11 default
      const r = await c.classify(img, 11);
      expect(r.top).toHaveLength(11);
      expect(Math.abs(r.top.reduce((s, t) => s + t.probability, 0) - 1)).toBeLessThan(1e-5);
    } finally {
      await c.close();
    }
  });

  it("takes the manifest its caller read already (the server's) and reads none itself", async () => {
    // layersDir has no manifest.json: the classifier serves by the one it is given
    const manifest = ManifestSchema.parse({
      schemaVersion: 1,
      name: "tiny",
      version: "1",
      source: { kind: "keras", file: "tiny.keras", sha256: "0".repeat(64) },
      input: { height: TINY_SIZE, width: TINY_SIZE, channels: 3, layout: "NHWC", dtype: "float32" },
      preprocess: "raw",
      classes: 11,
      formats: { tfjs: "model.json" },
      tools: {},
    });
    const c = await wasmClassifier(layersDir, { manifest });
    try {
      expect(c.manifest).toEqual(manifest);
      expect(c.preprocess).toBe("raw"); // the manifest's, not a bare model's default (unit)
      expect((await c.classify(img, 11)).top).toHaveLength(11);
    } finally {
      await c.close();
    }
  });

  it("loads a GraphModel and softmaxes its logits (exact against a JS computation)", async () => {
    const c = await wasmClassifier(graphDir);
    try {
      expect(c.modelFormat).toBe("graph-model");
      expect(c.inputSize).toEqual({ width: GRAPH_SIZE, height: GRAPH_SIZE });
      const r = await c.classify(img, 11);
      // expected: softmax(mean_rgb . w + b) over the same preprocessed pixels
      const x = normalize((await decodeImage(img, GRAPH_SIZE, GRAPH_SIZE)).rgb, "unit");
      const mean = [0, 0, 0];
      for (let i = 0; i < x.length; i++)
        mean[i % 3] = (mean[i % 3] ?? 0) + (x[i] as number) / (x.length / 3);
      const { w, b } = graphWeights();
      const logits = Array.from(b, (bk, k) =>
        [0, 1, 2].reduce((z, ch) => z + (mean[ch] as number) * (w[ch * 11 + k] as number), bk),
      );
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const z = e.reduce((s, v) => s + v, 0);
      expectClose(
        byIndex(r),
        e.map((v) => v / z),
        5,
      );
    } finally {
      await c.close();
    }
  });

  it("loads the same model over http from 127.0.0.1, with labels.txt beside it", async () => {
    const local = await wasmClassifier(labelledDir);
    const remote = await createClassifier({
      modelUrl: `${baseUrl}/labelled/model.json`,
      backend: "wasm",
      threads: 1,
    });
    try {
      expect(requested).toEqual(
        expect.arrayContaining([
          "/labelled/model.json",
          "/labelled/group1-shard1of1.bin",
          "/labelled/labels.txt",
        ]),
      );
      expect(remote.modelSource).toBe(`${baseUrl}/labelled/model.json`);
      expect(remote.labels).toEqual(["cat", "dog", "bird"]);
      expect(local.labels).toEqual(["cat", "dog", "bird"]);
      const a = await local.classify(img, 3);
      const b = await remote.classify(img, 3);
      expect(b.top).toEqual(a.top);
      // a directory URL works too
      const dirUrl = await createClassifier({
        modelUrl: `${baseUrl}/labelled/`,
        backend: "wasm",
        threads: 1,
      });
      expect((await dirUrl.classify(img, 3)).top).toEqual(a.top);
      await dirUrl.close();
    } finally {
      await Promise.all([local.close(), remote.close()]);
    }
  });

  it("fails clearly on a missing model, a 404 URL and mismatched labels", async () => {
    await expect(createClassifier({ modelDir: path.join(tmp, "nope") })).rejects.toThrow(
      /cannot read model/,
    );
    await expect(createClassifier({ modelUrl: `${baseUrl}/nope/model.json` })).rejects.toThrow(
      /HTTP 404/,
    );
    await expect(wasmClassifier(layersDir, { labels: ["a", "b"] })).rejects.toThrow(
      /11 outputs but 2 labels/,
    );
  });

  it("explicit labels and labelsFile override labels.txt", async () => {
    const file = path.join(tmp, "other-labels.txt");
    await writeFile(file, "x\ny\nz\n");
    const c = await wasmClassifier(labelledDir, { labelsFile: file });
    expect(c.labels).toEqual(["x", "y", "z"]);
    await c.close();
    const d = await wasmClassifier(labelledDir, { labels: ["1", "2", "3"] });
    expect((await d.classify(img, 1)).label).toMatch(/^[123]$/);
    await d.close();
  });
});

describe("backends and preprocessing", () => {
  it("WASM and tfjs' CPU backend agree (1e-6)", async () => {
    const wasm = await wasmClassifier(layersDir);
    const cpu = await createClassifier({ modelDir: layersDir, backend: "cpu", threads: 1 });
    try {
      expect([wasm.backend, cpu.backend]).toEqual(["wasm", "cpu"]);
      const a = await wasm.classify(img, 11);
      const b = await cpu.classify(img, 11);
      expect(b.label).toBe(a.label);
      expectClose(byIndex(b), byIndex(a), 6);
    } finally {
      await Promise.all([wasm.close(), cpu.close()]);
    }
  });

  it("auto uses tfjs-node when it loads (agreeing with WASM), else WASM; forcing a missing tfjs-node fails", async () => {
    const auto = await createClassifier({ modelDir: layersDir, threads: 1 });
    const wasm = await wasmClassifier(layersDir);
    try {
      expect(["tensorflow", "wasm"]).toContain(auto.backend);
      const a = await auto.classify(img, 11);
      const b = await wasm.classify(img, 11);
      expect(a.label).toBe(b.label);
      expectClose(byIndex(a), byIndex(b), 5);
      if (auto.backend === "wasm") {
        expect(auto.fallbackReason).toMatch(/^tfjs-node unavailable \(.+\); using WASM$/s);
        await expect(
          createClassifier({ modelDir: layersDir, backend: "tensorflow", threads: 1 }),
        ).rejects.toThrow(/tfjs-node is not installed or failed to load/);
      } else {
        expect(auto.fallbackReason).toBeUndefined();
        const tensors = async () => (await auto.memory()).map((m) => m.numTensors);
        const mem = await tensors();
        for (let i = 0; i < 10; i++) await auto.classify(img);
        expect(await tensors()).toEqual(mem);
      }
    } finally {
      await Promise.all([auto.close(), wasm.close()]);
    }
  });

  it("preprocess 'mobilenet' feeds [-1, 1] inputs (different output from 'unit')", async () => {
    const unit = await wasmClassifier(graphDir);
    const mob = await wasmClassifier(graphDir, { preprocess: "mobilenet" });
    try {
      expect(mob.preprocess).toBe("mobilenet");
      const a = byIndex(await unit.classify(img, 11));
      const b = byIndex(await mob.classify(img, 11));
      expect(b).not.toEqual(a);
    } finally {
      await Promise.all([unit.close(), mob.close()]);
    }
  });
});

describe("queue, batching, hooks", () => {
  it("rejects at once with QueueFullError when queueMax images are already waiting", async () => {
    const c = await wasmClassifier(layersDir, { queueMax: 2 });
    try {
      const p1 = c.classify(img);
      const p2 = c.classify(img);
      expect(c.stats()).toMatchObject({ queueDepth: 2, queueMax: 2, workers: 1 });
      const p3 = c.classify(img);
      let settled = false;
      const err = await p3.catch((e: unknown) => {
        settled = true;
        return e;
      });
      expect(settled).toBe(true);
      expect(err).toBeInstanceOf(QueueFullError);
      expect(err).toMatchObject({ code: "QUEUE_FULL", statusCode: 503, retryAfterSeconds: 1 });
      // the admitted ones are served normally
      const [r1, r2] = await Promise.all([p1, p2]);
      expect(r2?.top).toEqual(r1?.top);
      expect(c.stats()).toMatchObject({ queueDepth: 0, inFlight: 0 });
      await expect(c.classify(img)).resolves.toMatchObject({ label: r1.label });
    } finally {
      await c.close();
    }
  });

  it("batched runs (maxBatchSize 8) give the same probabilities; onInference sees each run", async () => {
    const runs: [number, number][] = [];
    const single = await wasmClassifier(layersDir);
    const batched = await wasmClassifier(layersDir, {
      maxBatchSize: 8,
      onInference: (ms, n) => runs.push([ms, n]),
    });
    try {
      const inputs = await Promise.all(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((v) => makeImage("png", 64, 48, v)),
      );
      const expected: number[][] = [];
      for (const i of inputs) expected.push(byIndex(await single.classify(i, 11)));
      const got = await Promise.all(inputs.map((i) => batched.classify(i, 11)));
      got.forEach((r, i) => {
        expectClose(byIndex(r), expected[i] as number[], 6);
      });
      expect(runs.reduce((n, [, b]) => n + b, 0)).toBe(10);
      for (const [ms, n] of runs) {
        expect(ms).toBeGreaterThan(0);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(8);
      }
      expect(got.every((r) => r.batchSize >= 1)).toBe(true);
    } finally {
      await Promise.all([single.close(), batched.close()]);
    }
  });

  it("by default an engine takes one image per run, also with images waiting (tfjs-node too)", async () => {
    const runs: number[] = [];
    // auto: tfjs-node where it loads, else WASM; one engine, so the other images wait
    const c = await createClassifier({
      modelDir: layersDir,
      threads: 1,
      onInference: (_ms, n) => runs.push(n),
    });
    try {
      const got = await Promise.all(Array.from({ length: 6 }, () => c.classify(img, 11)));
      expect(got.map((r) => r.batchSize)).toEqual([1, 1, 1, 1, 1, 1]);
      // the warm-up is not a run of the batcher: exactly one run per image
      expect(runs).toEqual([1, 1, 1, 1, 1, 1]);
    } finally {
      await c.close();
    }
  });

  it("a crashed worker is replaced and the classifier keeps serving", async () => {
    const c = await wasmClassifier(layersDir, { threads: 2 });
    try {
      const before = await c.classify(img, 11);
      c._crashWorker?.(0);
      // wait for the exit and the replacement worker
      for (let i = 0; i < 100 && c.stats().workers === 2; i++)
        await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 300 && c.stats().workers < 2; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(c.stats().workers).toBe(2);
      const after = await Promise.all([
        c.classify(img, 11),
        c.classify(img, 11),
        c.classify(img, 11),
      ]);
      for (const r of after) expect(byIndex(r)).toEqual(byIndex(before));
    } finally {
      await c.close();
    }
  });

  it("a throwing onInference hook does not break inference", async () => {
    const c = await wasmClassifier(layersDir, {
      onInference: () => {
        throw new Error("metrics down");
      },
    });
    await expect(c.classify(img)).resolves.toMatchObject({ batchSize: 1 });
    await c.close();
  });
});
