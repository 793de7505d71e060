// The onnxruntime engine behind the HTTP API: the same routes, error vocabulary and metrics as
// the tfjs engines, "backend": "onnxruntime" in every answer; and the real server process
// (src/server.ts through tsx) started with TFJS_BACKEND=onnxruntime on the demo model.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDemoModel } from "../../lib/demo-model/index.js";
import { type Classifier, createClassifier } from "../../src/inference/classifier.js";
import {
  demoApp,
  expectCorruptImageRefused,
  expectQueueOverflow,
  images,
  postFile,
  postRaw,
  serverProcess,
} from "./helpers.js";

const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
let ort: Classifier;
let wasm: Classifier;
let app: FastifyInstance;

beforeAll(async () => {
  const { dir } = await ensureDemoModel();
  [ort, wasm] = await Promise.all([
    createClassifier({ modelDir: dir, backend: "onnxruntime", threads: 1, queueMax: 2 }),
    createClassifier({ modelDir: dir, backend: "wasm", threads: 1 }),
  ]);
  app = await demoApp(ort, { threads: 1 });
});
afterAll(async () => {
  await app?.close();
  await Promise.all([ort?.close(), wasm?.close()]);
});

type Answer = {
  label: string;
  index: number;
  top: { index: number; probability: number }[];
  model: Record<string, string>;
  timings: Record<string, number>;
};

describe("the HTTP API on ONNX Runtime", () => {
  it('GET /test answers "backend": "onnxruntime" with the tfjs engine\'s answer', async () => {
    const res = await app.inject("/test?topk=11");
    expect(res.statusCode).toBe(200);
    const body = res.json() as Answer;
    expect(body.model).toEqual({
      name: "food11-mobilenetv2-demo",
      version: "demo",
      backend: "onnxruntime",
      preprocess: "unit",
    });
    const want = await wasm.classify(
      await import("node:fs/promises").then((fs) =>
        fs.readFile(path.join(APP_DIR, "assets", "test.jpg")),
      ),
      11,
    );
    expect(body.label).toBe(want.label);
    for (const t of want.top) {
      const got = body.top.find((x) => x.index === t.index);
      expect(Math.abs((got?.probability ?? -1) - t.probability)).toBeLessThanOrEqual(1e-4);
    }
    for (const t of ["decodeMs", "preprocessMs", "queueMs", "inferenceMs", "totalMs"]) {
      expect(body.timings[t], t).toBeGreaterThanOrEqual(0);
    }
  });

  it("POST /predict: multipart and raw bodies give the same answer", async () => {
    const png = await images.png();
    const a = await postFile(app, png, "/predict?topk=3", "image/png");
    const b = await postRaw(app, png, "image/png", "/predict?topk=3");
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect((b.json() as Answer).top).toEqual((a.json() as Answer).top);
    expect((a.json() as Answer).model.backend).toBe("onnxruntime");
  });

  it("bad input: the same codes as on tfjs (415 unsupported, 400 corrupt), the engine unharmed", async () => {
    const gif = await postRaw(app, await images.gif(), "image/gif");
    expect(gif.statusCode).toBe(415);
    await expectCorruptImageRefused(app);
  });

  it("queue overflow: 503 overloaded + Retry-After, the rest answered", async () => {
    await expectQueueOverflow(app);
  });

  it("/metrics: inference_backend_info says onnxruntime; the stages are timed as on tfjs", async () => {
    const text = (await app.admin.inject("/metrics")).body;
    const families = parsePrometheusTextFormat(text) as {
      name: string;
      metrics: { labels?: Record<string, string>; value?: string; count?: string }[];
    }[];
    const info = families.find((f) => f.name === "inference_backend_info");
    expect(info?.metrics).toEqual([
      { labels: { backend: "onnxruntime", threads: "1" }, value: "1" },
    ]);
    // the format served and its check against the tfjs model, from the demo's manifest.json
    const model = families.find((f) => f.name === "model_info")?.metrics[0]?.labels;
    expect(model?.format).toBe("onnx");
    expect(model?.verification).toMatch(
      /^32\/32 top-1, max \|dp\| \d\.\d\de-5 \(tolerance 0\.0001\) vs the tfjs model itself: tfjs 4\.22\.0 model\.predict \(wasm\)$/,
    );
    const stages = [
      ...text.matchAll(/^inference_duration_seconds_count\{stage="(\w+)"\} [1-9]/gm),
    ].map((m) => m[1]);
    expect(new Set(stages)).toEqual(
      new Set(["decode", "preprocess", "queue", "inference", "total"]),
    );
  });
});

describe("the server process with TFJS_BACKEND=onnxruntime", () => {
  it("starts on model.onnx, answers /test on onnxruntime, drains on SIGTERM", {
    timeout: 120_000,
  }, async () => {
    const { dir } = await ensureDemoModel();
    const { child, base, exited, output, ready } = await serverProcess({
      MODEL_DIR: dir,
      TFJS_BACKEND: "onnxruntime",
      INFERENCE_THREADS: "2",
      LOG_LEVEL: "info",
    });
    try {
      await ready(90_000);
      const res = await fetch(`${base}/test?topk=1`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Answer;
      expect(body.model.backend).toBe("onnxruntime");
      const loaded = output()
        .split("\n")
        .filter((l) => l.includes("model loaded and warmed up"))
        .map((l) => JSON.parse(l) as { backend: string; threads: number });
      expect(loaded).toMatchObject([{ backend: "onnxruntime", threads: 2 }]);
      child.kill("SIGTERM");
      expect(await exited).toEqual([0, null]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
