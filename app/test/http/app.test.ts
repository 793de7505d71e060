// The HTTP surface on a stub classifier: answers, probes, queue-full and internal errors, the
// upload page, request logs, and /metrics parsed as Prometheus text.
import { Writable } from "node:stream";
import { runInNewContext } from "node:vm";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { QueueFullError } from "../../src/inference/errors.js";
import { isDemoModel, uploadPage } from "../../src/routes/page.js";
import {
  buildTestApp,
  images,
  LABELS,
  multipart,
  postFile,
  postRaw,
  stubApp,
  stubClassifier,
} from "./helpers.js";

describe("POST /predict and GET /test", () => {
  it("answers a multipart upload with the top label, top-k, model and timings", async () => {
    const { app } = await stubApp();
    const jpeg = await images.jpeg();
    const res = await postFile(app, jpeg, "/predict?topk=3");
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      label: "Vegetable/Fruit",
      index: 10,
      probability: 11 / 66,
      top: [
        { label: "Vegetable/Fruit", index: 10, probability: 11 / 66 },
        { label: "Soup", index: 9, probability: 10 / 66 },
        { label: "Seafood", index: 8, probability: 9 / 66 },
      ],
      model: { name: "stub-model", version: "7", backend: "stub", preprocess: "unit" },
      image: { format: "jpeg", width: 96, height: 64, bytes: jpeg.length },
      timings: { decodeMs: 1, preprocessMs: 2, queueMs: 0, inferenceMs: 3, totalMs: 6 },
    });
    expect(body.timings.requestMs).toBeGreaterThanOrEqual(0);
    await app.close();
  });

  it("takes raw JPEG, PNG and WebP bodies (and octet-stream), default topk 5", async () => {
    const { app } = await stubApp();
    for (const [format, type] of [
      ["jpeg", "image/jpeg"],
      ["png", "image/png"],
      ["webp", "image/webp"],
      ["png", "application/octet-stream"],
      ["webp", "image/*"],
    ] as const) {
      const res = await postRaw(app, await images[format](), type);
      expect(res.statusCode, `${format} as ${type}`).toBe(200);
      expect(res.json().image).toMatchObject({ format, width: 96, height: 64 });
      expect(res.json().top).toHaveLength(5);
    }
    await app.close();
  });

  it("multipart with text fields around the file; media type parameters are fine", async () => {
    const { app } = await stubApp();
    const jpeg = await images.jpeg();
    const form = await app.inject({
      method: "POST",
      url: "/predict?topk=1",
      ...multipart([
        { name: "note", data: "lunch" },
        { name: "file", filename: "a.jpg", contentType: "image/jpeg", data: jpeg },
        { name: "submit", data: "Classify" },
      ]),
    });
    expect(form.statusCode).toBe(200);
    expect(form.json().top).toHaveLength(1);
    const raw = await postRaw(app, jpeg, "image/jpeg; charset=binary");
    expect(raw.statusCode).toBe(200);
    await app.close();
  });

  it("GET /test classifies the bundled 320x240 JPEG", async () => {
    const { app } = await stubApp();
    const res = await app.inject("/test?topk=1");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      label: "Vegetable/Fruit",
      top: [{ label: "Vegetable/Fruit" }],
      image: { format: "jpeg", width: 320, height: 240 },
    });
    expect(res.json().top).toHaveLength(1);
    await app.close();
  });

  it("queue full: 503 with Retry-After at once, then serves again", async () => {
    const { app, classifier } = await stubApp();
    const stub = classifier as ReturnType<typeof stubClassifier>;
    stub.fail = new QueueFullError(4, 2); // "inference queue full (4 waiting): retry later"
    const res = await app.inject("/test");
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("2");
    expect(res.json()).toEqual({
      statusCode: 503,
      error: "Service Unavailable",
      code: "overloaded",
      message: "inference queue full (4 waiting): retry later",
    });
    stub.fail = undefined;
    expect((await app.inject("/test")).statusCode).toBe(200);
    await app.close();
  });

  it("a server fault is a 500 JSON error that does not leak internals", async () => {
    const { app, classifier } = await stubApp();
    (classifier as ReturnType<typeof stubClassifier>).fail = new Error("secret internal detail");
    const res = await app.inject("/test");
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      statusCode: 500,
      error: "Internal Server Error",
      code: "internal_error",
      message: "internal server error",
    });
    await app.close();
  });
});

describe("probes", () => {
  it("/healthz at once; /readyz and /predict 503 until the model is loaded and warmed up", async () => {
    const stub = stubClassifier();
    let resolve!: (c: typeof stub) => void;
    const app = await buildTestApp({
      classifier: new Promise<typeof stub>((r) => {
        resolve = r;
      }),
    });
    await app.ready();
    expect((await app.admin.inject("/healthz")).json()).toEqual({ status: "ok" });
    const notReady = await app.admin.inject("/readyz");
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: "loading" });
    const early = await app.inject("/test");
    expect(early.statusCode).toBe(503);
    expect(early.json()).toMatchObject({ code: "not_ready" });
    expect(early.headers["retry-after"]).toBe("5");

    resolve(stub);
    await app.modelLoaded;
    expect(stub.calls).toBe(1); // the warm-up inference
    const ready = await app.admin.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ready" });

    app.model.draining = true;
    const draining = await app.admin.inject("/readyz");
    expect(draining.statusCode).toBe(503);
    expect(draining.json()).toEqual({ status: "draining" });
    // still serving while draining: in-flight and late requests are answered
    expect((await app.inject("/test")).statusCode).toBe(200);
    await app.close();
  });

  it("/readyz reports a failed load", async () => {
    const app = await buildTestApp({ classifier: Promise.reject(new Error("no model.json")) });
    await expect(app.modelLoaded).rejects.toThrow("no model.json");
    const res = await app.admin.inject("/readyz");
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: "failed" });
    await app.close();
  });
});

describe("upload page", () => {
  /**
   * What the page's script shows for a submitted file, run as a browser would: `answer` as
   * /predict's JSON body with HTTP `status`, the DOM reduced to the form and the result's HTML.
   */
  async function submitted(page: string, answer: unknown, status = 200): Promise<string> {
    const script = /<script>([\s\S]*)<\/script>/.exec(page)?.[1];
    if (!script) throw new Error("the page has no script");
    let onSubmit: ((event: { preventDefault(): void }) => Promise<void>) | undefined;
    const form = {
      elements: { file: { files: [{ name: "lunch.jpg" }] } },
      addEventListener: (_type: string, listener: typeof onSubmit) => {
        onSubmit = listener;
      },
    };
    const result = { textContent: "", innerHTML: "" };
    runInNewContext(script, {
      document: { getElementById: (id: string) => (id === "form" ? form : result) },
      fetch: async () => ({ ok: status < 400, status, json: async () => answer }),
      FormData: class {},
      URL: { createObjectURL: () => "blob:uploaded" },
    });
    await onSubmit?.({ preventDefault: () => undefined });
    return result.innerHTML;
  }

  it("GET / is an HTML form posting field `file` to /predict", async () => {
    const { app } = await stubApp();
    const res = await app.inject("/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toContain(
      '<form id="form" action="/predict" method="post" enctype="multipart/form-data">',
    );
    expect(res.body).toContain('<input type="file" name="file"');
    expect((await app.inject({ method: "HEAD", url: "/" })).statusCode).toBe(200);
    // Not the demo model: no demo notice; the page's script shows /predict's answer with the
    // model and version apart, and no caveat.
    expect(res.body).not.toContain('id="demo-notice"');
    const answer = (await postFile(app, await images.jpeg())).json();
    const shown = await submitted(res.body, answer);
    expect(shown).toContain("<h2>Vegetable/Fruit (16.7 %)</h2>");
    expect(shown).toContain("<tr><td>Soup</td><td>15.2 %</td></tr>");
    expect(shown).toContain("<small>model stub-model, version 7 on stub, 6 ms</small>");
    expect(shown).not.toContain("Untrained demo model");
    // an error answer is shown escaped
    const error = await submitted(res.body, { code: "bad<input>", message: "no" }, 415);
    expect(error).toBe('<p class="error">415 bad&#60;input&#62;: no</p>');
    await app.close();
  });

  it("says when the model is the untrained demo one, above the form and beside every answer", async () => {
    const page = uploadPage("food11-mobilenetv2-demo", "demo");
    expect(page).toContain('<p id="demo-notice" class="notice"><strong>Demo model:</strong>');
    const { app } = await stubApp();
    const answer = (await postFile(app, await images.jpeg())).json();
    await app.close();
    const shown = await submitted(page, answer);
    expect(shown).toContain(
      '<p class="notice">Untrained demo model: this label means nothing (about 1 in 11 is right, by chance).</p>',
    );
    expect(shown).toContain("<small>untrained demo model (stub-model) on stub, 6 ms</small>");
    expect(isDemoModel("food11-mobilenetv2-demo", "demo")).toBe(true);
    expect(isDemoModel("food11-mobilenetv2", "1")).toBe(false);
    // A baked-in demo model served under the stack's name (the server passes demoModel).
    expect(uploadPage("food11-mobilenetv2", "1", true)).toContain('id="demo-notice"');
    expect(uploadPage("food11-mobilenetv2", "1")).not.toContain('id="demo-notice"');
  });
});

describe("logs", () => {
  it("one JSON line per request with route, status and latency; never image bytes", async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split("\n")) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const app = await buildTestApp({ logger: { level: "info", stream } });
    await app.modelLoaded;
    // JPEG decoders ignore bytes after the end-of-image marker: hide a marker there
    const marker = "IMAGE-BYTES-MUST-NOT-BE-LOGGED";
    const jpeg = Buffer.concat([await images.jpeg(), Buffer.from(marker)]);
    await postRaw(app, jpeg);
    await postFile(app, jpeg);
    await postRaw(app, jpeg, "image/png");
    await app.inject("/nope");
    await app.close();

    const requests = lines.filter((l) => l.msg === "request");
    expect(requests.map((l) => [l.method, l.route, l.url, l.statusCode, l.level])).toEqual([
      ["POST", "/predict", "/predict", 200, 30],
      ["POST", "/predict", "/predict", 200, 30],
      ["POST", "/predict", "/predict", 415, 40],
      ["GET", null, "/nope", 404, 40],
    ]);
    for (const l of requests) {
      expect(typeof l.ms).toBe("number");
      expect(typeof l.reqId).toBe("string");
    }
    const all = JSON.stringify(lines);
    expect(all).not.toContain(marker);
    expect(all).not.toContain(jpeg.subarray(0, 64).toString("base64"));
  });
});

describe("/metrics", () => {
  it("is Prometheus text with the request, latency, inference, queue, model and backend series", async () => {
    const app = await buildTestApp({
      modelName: "food11-test",
      modelVersion: "3",
      preprocess: "mobilenet",
      threads: 2,
      defaultMetrics: true,
    });
    await app.modelLoaded;
    for (let i = 0; i < 3; i++) expect((await app.inject("/test")).statusCode).toBe(200);
    await app.inject({ method: "POST", url: "/predict" }); // 400 empty_body
    await app.inject("/nope"); // 404
    await app.inject({ method: "DELETE", url: "/test" }); // 405

    const res = await app.admin.inject("/metrics");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    type Family = {
      name: string;
      type: string;
      metrics: {
        value?: string;
        labels?: Record<string, string>;
        count?: string;
        buckets?: Record<string, string>;
      }[];
    };
    const families = new Map(
      (parsePrometheusTextFormat(res.body) as Family[]).map((f) => [f.name, f]),
    );
    const series = (name: string) => families.get(name)?.metrics ?? [];

    expect(families.get("http_requests_total")?.type).toBe("COUNTER");
    const counts = Object.fromEntries(
      series("http_requests_total").map((m) => [
        `${m.labels?.method} ${m.labels?.route} ${m.labels?.status_code}`,
        Number(m.value),
      ]),
    );
    expect(counts).toEqual({
      "GET /test 200": 3,
      "POST /predict 400": 1,
      "GET unmatched 404": 1,
      "DELETE /test 405": 1,
    });
    // parse-prometheus-text-format folds a histogram's label sets into one, so the per-series
    // counts of the histograms are read from prom-client's JSON view of the same registry.
    expect(families.get("http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(families.get("inference_duration_seconds")?.type).toBe("HISTOGRAM");
    const json = await app.metrics.registry.getMetricsAsJSON();
    const histogramCounts = (name: string, key: (l: Record<string, unknown>) => string) =>
      Object.fromEntries(
        (json.find((m) => m.name === name)?.values ?? [])
          .filter((v) => (v as { metricName?: string }).metricName === `${name}_count`)
          .map((v) => [key(v.labels), v.value]),
      );
    expect(
      histogramCounts(
        "http_request_duration_seconds",
        (l) => `${l.method} ${l.route} ${l.status_code}`,
      ),
    ).toEqual({ ...counts, "GET /metrics 200": 1 }); // the scrape above (admin), now answered
    // 3 requests (the warm-up is not a request and is not counted)
    expect(histogramCounts("inference_duration_seconds", (l) => String(l.stage))).toEqual({
      decode: 3,
      preprocess: 3,
      queue: 3,
      inference: 3,
      total: 3,
    });

    expect(series("inference_queue_depth")).toEqual([{ value: "0" }]);
    expect(series("inference_queue_max")).toEqual([{ value: "4" }]);
    expect(series("inference_in_flight")).toEqual([{ value: "0" }]);
    // the /metrics request itself (on the admin listener) is in flight while it is collected
    expect(series("http_requests_in_flight")).toEqual([{ value: "1" }]);
    expect(series("model_ready")).toEqual([{ value: "1" }]);
    expect(series("model_info")).toEqual([
      {
        value: "1",
        labels: {
          name: "food11-test",
          version: "3",
          preprocess: "mobilenet",
          input_size: "224x224",
          classes: String(LABELS.length),
          // the stub has no manifest.json (a bare tfjs model's case)
          format: "",
          source_kind: "",
          source_sha256: "",
          verification: "no manifest",
        },
      },
    ]);
    expect(series("inference_backend_info")).toEqual([
      { value: "1", labels: { backend: "stub", threads: "1" } },
    ]);
    // prom-client's default process metrics
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    await app.close();
  });

  it("a request the client aborts leaves the in-flight gauge and is counted as 499", async () => {
    const { app, classifier } = await stubApp();
    const stub = classifier as ReturnType<typeof stubClassifier>;
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as { port: number };
    let release!: () => void;
    stub.gate = new Promise((r) => {
      release = r;
    });
    const calls = stub.calls;
    const ac = new AbortController();
    const pending = fetch(`http://127.0.0.1:${port}/test`, { signal: ac.signal }).catch(
      (e: Error) => e.name,
    );
    while (stub.calls === calls) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    expect(await pending).toBe("AbortError");
    // the server notices the closed socket, then the classifier answers into the void
    const json = async () => app.metrics.registry.getMetricsAsJSON();
    for (let i = 0; i < 200; i++) {
      const m = (await json()).find((x) => x.name === "http_requests_total");
      if (m?.values.some((v) => v.labels.status_code === "499")) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    release();
    stub.gate = undefined;
    await new Promise((r) => setTimeout(r, 50));
    const metrics = await json();
    expect(metrics.find((m) => m.name === "http_requests_in_flight")?.values[0]?.value).toBe(0);
    const total = metrics.find((m) => m.name === "http_requests_total")?.values ?? [];
    expect(total.map((v) => [v.labels.route, v.labels.status_code, v.value])).toEqual([
      ["/test", "499", 1],
    ]);
    await app.close();
  });
});
