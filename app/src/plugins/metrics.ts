// Prometheus metrics (prom-client), one registry per app instance (tests build many apps).
// Series (all documented in docs/server.md):
//   http_requests_total{method,route,status_code}            counter
//   http_request_duration_seconds{method,route,status_code}  histogram
//   http_requests_in_flight                                  gauge
//   inference_duration_seconds{stage}                        histogram (decode|preprocess|queue|inference|total)
//   inference_queue_depth, inference_queue_max, inference_in_flight  gauges (from the classifier)
//   model_info{name,version,preprocess,input_size,classes,format,source_kind,source_sha256,verification}  gauge = 1
//   inference_backend_info{backend,threads}                  gauge = 1
//   model_ready                                              gauge 0/1
//   process_* and nodejs_*                                   prom-client default metrics
import type { FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from "prom-client";
import type { ClassifierLike, Timings } from "../classifier-contract.js";
import { MANIFEST_FORMAT, type ModelFormat } from "../inference/model-io.js";

export interface MetricsOptions {
  /** Reads the live classifier (undefined while the model loads). */
  classifier: () => ClassifierLike | undefined;
  ready: () => boolean;
  model: { name: string; version: string; preprocess: string };
  threads?: number;
  /** Collect prom-client's default process metrics (default true). */
  defaultMetrics?: boolean;
}

/** The labels of the HTTP series (http_requests_total, http_request_duration_seconds). */
const HTTP_LABELS = ["method", "route", "status_code"] as const;

export interface Metrics {
  registry: Registry;
  observeRequest(labels: LabelValues<(typeof HTTP_LABELS)[number]>, seconds: number): void;
  observeInference(t: Timings): void;
  requestStarted(): void;
  requestEnded(): void;
}

declare module "fastify" {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 2, 5, 10];

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route template and status code.",
    labelNames: HTTP_LABELS,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency from first byte received to response sent.",
    labelNames: HTTP_LABELS,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "http_requests_in_flight",
    help: "HTTP requests being handled right now.",
    registers: [registry],
  });
  const inference = new Histogram({
    name: "inference_duration_seconds",
    help: "Time per image in each classifier stage: decode, preprocess, queue, inference (the model run), total.",
    labelNames: ["stage"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  /** A gauge without labels set at each scrape to `value()` (left as it is when undefined). */
  const gauge = (name: string, help: string, value: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const v = value();
        if (v !== undefined) this.set(v);
      },
    });
  const stats = () => opts.classifier()?.stats?.();
  gauge(
    "inference_queue_depth",
    "Images admitted but not running yet (decoding or waiting for an inference engine).",
    () => stats()?.queueDepth ?? 0,
  );
  gauge(
    "inference_queue_max",
    "Bound of the inference queue (QUEUE_MAX); past it requests get 503.",
    () => stats()?.queueMax,
  );
  gauge(
    "inference_in_flight",
    "Images running on an inference engine right now.",
    () => stats()?.inFlight ?? 0,
  );
  gauge(
    "model_ready",
    "1 once the model is loaded and warmed up and the server is not draining, else 0.",
    () => (opts.ready() ? 1 : 0),
  );
  new Gauge({
    name: "model_info",
    help: "The model served (value 1): its format, source (from manifest.json) and the verification of the format served.",
    labelNames: [
      "name",
      "version",
      "preprocess",
      "input_size",
      "classes",
      "format",
      "source_kind",
      "source_sha256",
      "verification",
    ] as const,
    registers: [registry],
    collect() {
      const c = opts.classifier();
      if (!c) return;
      this.reset();
      this.set(
        {
          ...opts.model,
          input_size: `${c.inputSize.width}x${c.inputSize.height}`,
          classes: String(c.labels.length),
          format: c.modelFormat ?? "",
          source_kind: c.manifest?.source.kind ?? "",
          source_sha256: c.manifest?.source.sha256 ?? "",
          verification: verificationLabel(c),
        },
        1,
      );
    },
  });
  new Gauge({
    name: "model_verification_max_abs_diff",
    help: "Largest |p_format - p_reference| the import measured for each format of the model directory (manifest.json verification; none for the demo model or a bare tfjs model).",
    labelNames: ["format", "runtime"] as const,
    registers: [registry],
    collect() {
      const v = opts.classifier()?.manifest?.verification;
      if (!v) return;
      this.reset();
      for (const [format, check] of Object.entries(v.formats)) {
        if (check) this.set({ format, runtime: check.runtime }, check.maxAbsDiff);
      }
    },
  });
  new Gauge({
    name: "inference_backend_info",
    help: "The inference engine in use (tensorflow = tfjs-node, wasm, onnxruntime) and its threads: WASM workers, tfjs-node or ONNX Runtime intra-op threads (value 1).",
    labelNames: ["backend", "threads"] as const,
    registers: [registry],
    collect() {
      const c = opts.classifier();
      if (!c) return;
      this.reset();
      const threads = c.threads ?? c.stats?.().workers ?? opts.threads;
      this.set({ backend: c.backend, threads: threads === undefined ? "" : String(threads) }, 1);
    },
  });

  return {
    registry,
    observeRequest(labels, seconds) {
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    observeInference(t) {
      inference.observe({ stage: "decode" }, t.decodeMs / 1000);
      inference.observe({ stage: "preprocess" }, t.preprocessMs / 1000);
      if (t.queueMs !== undefined) inference.observe({ stage: "queue" }, t.queueMs / 1000);
      inference.observe({ stage: "inference" }, t.inferenceMs / 1000);
      inference.observe({ stage: "total" }, t.totalMs / 1000);
    },
    requestStarted: () => inFlight.inc(),
    requestEnded: () => inFlight.dec(),
  };
}

/**
 * model_info's `verification`: for the format served, `<agreeing>/<inputs> top-1, max |dp| <d>
 * (tolerance <t>) vs <reference>`; `the reference: <reference>` for the format the reference is
 * (the demo model's tfjs); `none` when the manifest records none, `no manifest` for a bare model.
 */
function verificationLabel(c: ClassifierLike): string {
  const m = c.manifest;
  if (!m) return "no manifest";
  const v = m.verification;
  // the manifest's name of the format served (a stub's unknown one: tfjs)
  const format = MANIFEST_FORMAT[c.modelFormat as ModelFormat] ?? "tfjs";
  if (v && format === v.referenceFormat) return `the reference: ${v.reference}`;
  const check = v?.formats[format];
  if (!v || !check) return "none";
  return `${check.top1Agree}/${v.images} top-1, max |dp| ${check.maxAbsDiff.toExponential(2)} (tolerance ${v.tolerance}) vs ${v.reference}`;
}

/**
 * The request hooks feeding the HTTP series, registered on each listener (API and admin): both
 * count into the one registry, by route.
 */
export const metricsPlugin = fp<{ metrics: Metrics }>(
  async (fastify, { metrics }) => {
    fastify.decorate("metrics", metrics);
    // Each request is counted once: when its response is sent, or when the client goes away
    // first (aborted requests get status_code 499, as nginx logs them, and leave the in-flight
    // gauge too).
    const open = new WeakMap<FastifyRequest, number>(); // request -> start (performance.now())
    const finish = (request: FastifyRequest, status: string, seconds?: number) => {
      const start = open.get(request);
      if (start === undefined) return;
      open.delete(request);
      metrics.requestEnded();
      metrics.observeRequest(
        {
          method: request.method,
          // A 405 matched no handler, but its path is a route (app.ts answers 405 only for a
          // known path with another method): counted under that route, not "unmatched".
          route: routeLabel(
            request.routeOptions.url ?? (status === "405" ? request.url.split("?")[0] : undefined),
          ),
          status_code: status,
        },
        seconds ?? (performance.now() - start) / 1000,
      );
    };
    fastify.addHook("onRequest", async (request) => {
      open.set(request, performance.now());
      metrics.requestStarted();
    });
    fastify.addHook("onResponse", async (request, reply) => {
      finish(request, String(reply.statusCode), reply.elapsedTime / 1000);
    });
    fastify.addHook("onRequestAbort", async (request) => finish(request, "499"));
  },
  { name: "metrics" },
);

/** GET /metrics: the registry as Prometheus text (on the admin listener). */
export const metricsRoute = fp<{ metrics: Metrics }>(
  async (fastify, { metrics }) => {
    fastify.get(
      "/metrics",
      {
        schema: {
          response: { 200: { type: "string" } },
        },
      },
      async (_request, reply) => {
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
  },
  { name: "metrics-route" },
);

/** The route template for a matched route; "unmatched" otherwise (keeps label cardinality bounded). */
export function routeLabel(template: string | undefined): string {
  return template && template !== "*" && template !== "/*" ? template : "unmatched";
}
