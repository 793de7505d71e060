// The Fastify application, as a plugin (modelled on fastify/demo): server.ts owns the process
// (env, listen, signals), this file owns the HTTP surface. Two listeners, two Fastify instances
// sharing the model's state and the metrics registry:
//   the API (`app`, PORT):           POST /predict, GET /test, GET / (the upload page, if enabled)
//   the admin (`app.admin`, ADMIN_PORT): GET /metrics, /healthz, /readyz
// so that a route to the API (an Ingress) can never reach the admin paths. buildApp() returns the
// API instance with the admin one as `app.admin`; closing the API closes the admin after it (the
// probes and /metrics keep answering while the API drains). Tests build it with buildApp() and a
// stub or real classifier, and talk to it with app.inject() / app.admin.inject() or real ports.
import { readFileSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import multipart from "@fastify/multipart";
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import fp from "fastify-plugin";
import type { ClassifierLike } from "./classifier-contract.js";
import { TEST_IMAGE_PATH } from "./config.js";
import { errorBody, HttpError, toHttpError } from "./errors.js";
import { createMetrics, type Metrics, metricsPlugin, metricsRoute } from "./plugins/metrics.js";
import { healthRoutes } from "./routes/health.js";
import { pageRoutes } from "./routes/page.js";
import { predictRoutes, round } from "./routes/predict.js";
import { errorSchema } from "./routes/schemas.js";

export interface AppOptions {
  /** The classifier, or a promise of it: the app answers /healthz at once and /readyz once it is loaded. */
  classifier: ClassifierLike | Promise<ClassifierLike>;
  modelName: string;
  modelVersion: string;
  preprocess: string;
  /** Reported on /metrics when the classifier's stats() does not say. */
  threads?: number;
  /** The model is the untrained demo one: the upload page says so (default: from its name). */
  demoModel?: boolean;
  maxInputPixels: number;
  bodyLimitBytes: number;
  /** Image served by GET /test (default: app/assets/test.jpg). */
  testImage?: Buffer;
  /** Run one inference on the test image before turning ready (default true). */
  warmup?: boolean;
  /** prom-client default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Serve the upload page at GET / (default true; UPLOAD_PAGE, food11:uploadPage). */
  uploadPage?: boolean;
}

/** Lifecycle of the model as the probes see it. */
export class ModelState {
  classifier: ClassifierLike | undefined;
  /** Loaded and warmed up. */
  loaded = false;
  draining = false;
  failure: Error | undefined;
  get ready(): boolean {
    return this.loaded && !this.draining;
  }
  get status(): "loading" | "ready" | "draining" | "failed" {
    if (this.failure) return "failed";
    if (this.draining) return "draining";
    return this.loaded ? "ready" : "loading";
  }
}

declare module "fastify" {
  interface FastifyInstance {
    model: ModelState;
    /** The admin listener's instance (/metrics, /healthz, /readyz), on the API's instance. */
    admin: FastifyInstance;
    /** Resolves once the model is loaded and warmed up; rejects if that failed. */
    modelLoaded: Promise<void>;
    /** The app's settings (AppOptions but the classifier), the test image read. */
    appOptions: Omit<AppOptions, "classifier" | "testImage"> & { testImage: Buffer };
  }
}

/** Fastify server options for this app (the entry point adds the logger). */
export function serverOptions(opts: {
  bodyLimitBytes: number;
  logger?: FastifyServerOptions["logger"];
  /** A logger to use as is (the admin listener takes a child of the API's). */
  loggerInstance?: FastifyServerOptions["loggerInstance"];
}): FastifyServerOptions {
  return {
    ...(opts.loggerInstance
      ? { loggerInstance: opts.loggerInstance }
      : { logger: opts.logger ?? false }),
    bodyLimit: opts.bodyLimitBytes,
    // One log line per request is written by the onResponse hook below, not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // A request that still arrives on a kept-alive connection while closing is served, not
    // refused: every response while draining carries `Connection: close` (onSend hook below),
    // so each such connection brings at most one more request.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    requestTimeout: 60_000,
    ajv: { customOptions: { coerceTypes: true, useDefaults: true, removeAdditional: false } },
    // Requests Node's HTTP parser rejects (unknown method, bad framing) never reach a route:
    // answer them in the same JSON error shape.
    clientErrorHandler: (err, socket) => {
      if (socket.destroyed || !socket.writable) return;
      const code = (err as { code?: string }).code;
      const [status, ours, message] =
        code === "HPE_HEADER_OVERFLOW"
          ? [431, "headers_too_large", "request headers too large"]
          : code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? [408, "request_timeout", "request timed out"]
            : [400, "bad_http", "malformed HTTP request"];
      const body = JSON.stringify(errorBody(new HttpError(status, ours, message)));
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
  };
}

/** What both listeners share: the model's lifecycle and the metrics registry. */
interface Shared {
  state: ModelState;
  metrics: Metrics;
}

/**
 * What every listener does alike: the model's state as `fastify.model`, one log line per request,
 * `Connection: close` while draining, the one error handler, 404 and 405 in the JSON error shape,
 * and the HTTP series (both listeners count into the one registry, by route).
 */
const listener = fp<Shared>(
  async (fastify, { state, metrics }) => {
    fastify.decorate("model", state);

    // ---- logging: one line per request (never bodies) ----
    const where = (request: FastifyRequest) => ({
      method: request.method,
      route: request.routeOptions.url ?? null,
      url: request.url,
    });
    fastify.addHook("onResponse", async (request, reply) => {
      const status = reply.statusCode;
      const line = { ...where(request), statusCode: status, ms: round(reply.elapsedTime) };
      // 503 (loading, draining, queue full) is the server protecting itself, not a fault.
      if (status >= 500 && status !== 503) request.log.error(line, "request");
      else if (status >= 400) request.log.warn(line, "request");
      else request.log.info(line, "request");
    });

    fastify.addHook("onRequestAbort", async (request) => {
      request.log.warn(where(request), "request aborted by the client");
    });

    // While draining, every response closes its connection, so kept-alive clients reconnect
    // (to another replica) and close() is not held open by idle keep-alive sockets.
    fastify.addHook("onSend", async (_request, reply) => {
      if (state.draining) reply.header("connection", "close");
    });

    // ---- the one error handler ----
    fastify.setErrorHandler(async (err, request, reply) => {
      // The body limit this listener enforces, named in body_too_large's message.
      const { http, internal } = toHttpError(err, {
        bodyLimitBytes: fastify.initialConfig.bodyLimit,
      });
      if (internal) request.log.error({ err }, "unhandled error");
      else request.log.debug({ code: http.code, msg: http.message }, "client error");
      reply.code(http.statusCode).headers(http.headers);
      return errorBody(http);
    });

    // ---- unknown route: 404; known route, other method: 405 with Allow ----
    const methodsByPath = new Map<string, Set<string>>();
    fastify.addHook("onRoute", (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const set = methodsByPath.get(route.url) ?? new Set<string>();
      for (const m of methods) set.add(m);
      methodsByPath.set(route.url, set);
    });
    fastify.setNotFoundHandler(async (request, reply) => {
      const path = request.url.split("?")[0] ?? "";
      const allowed = methodsByPath.get(path);
      const e = allowed
        ? new HttpError(405, "method_not_allowed", `${request.method} is not allowed on ${path}`, {
            allow: [...allowed].sort().join(", "),
          })
        : new HttpError(404, "not_found", `no route ${request.method} ${path}`);
      reply.code(e.statusCode).headers(e.headers);
      return errorBody(e);
    });

    await fastify.register(metricsPlugin, { metrics });
  },
  { name: "food11-listener", fastify: "5.x" },
);

/** The API: POST /predict, GET /test and the upload page; the model loads here. */
const plugin: FastifyPluginAsync<AppOptions> = async (fastify, opts) => {
  const testImage = opts.testImage ?? readFileSync(TEST_IMAGE_PATH);
  const state = new ModelState();
  const { classifier: loading, ...settings } = opts;
  fastify.decorate("appOptions", { ...settings, testImage });
  fastify.addSchema(errorSchema);

  // Load (or take) the classifier in the background: the admin answers /healthz meanwhile.
  const loaded = (async () => {
    const classifier = await loading;
    state.classifier = classifier;
    if (opts.warmup !== false) await classifier.classify(testImage, 1);
    state.loaded = true;
  })();
  loaded.catch((err: unknown) => {
    state.failure = err instanceof Error ? err : new Error(String(err));
    fastify.log.error({ err }, "model failed to load");
  });
  fastify.decorate("modelLoaded", loaded);

  const metrics = createMetrics({
    classifier: () => state.classifier,
    ready: () => state.ready,
    model: { name: opts.modelName, version: opts.modelVersion, preprocess: opts.preprocess },
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.defaultMetrics === undefined ? {} : { defaultMetrics: opts.defaultMetrics }),
  });
  await fastify.register(listener, { state, metrics });

  // Only multipart and raw images are accepted: drop Fastify's JSON and text parsers, so any other
  // Content-Type gets 415 unsupported_media_type.
  fastify.removeAllContentTypeParsers();
  await fastify.register(multipart, {
    limits: {
      fileSize: opts.bodyLimitBytes,
      files: 1,
      fields: 10,
      fieldSize: 64 * 1024,
      parts: 20,
      headerPairs: 100,
    },
  });
  // Raw image bodies: image/* and application/octet-stream, read into a Buffer (bodyLimit applies).
  for (const type of ["application/octet-stream", /^image\/.+$/]) {
    fastify.addContentTypeParser(type, { parseAs: "buffer" }, (_request, body, done) =>
      done(null, body),
    );
  }

  await fastify.register(predictRoutes);
  if (opts.uploadPage !== false) await fastify.register(pageRoutes);
};

/**
 * The admin listener's routes: GET /metrics (the shared registry), /healthz and /readyz (the
 * shared model state). Never routed from outside the cluster: the kubelet and Prometheus reach it.
 */
export const admin = fp<Shared>(
  async (fastify, shared) => {
    await fastify.register(listener, shared);
    await fastify.register(metricsRoute, { metrics: shared.metrics });
    await fastify.register(healthRoutes);
  },
  { name: "food11-admin", fastify: "5.x" },
);

/** The application plugin; not encapsulated, so its decorators and hooks reach the root instance. */
export const app = fp(plugin, { name: "food11-app", fastify: "5.x" });

/** The admin listener takes no bodies: its routes are GETs. */
const ADMIN_BODY_LIMIT = 16 * 1024;

/**
 * The API's Fastify instance with the app registered, and the admin listener's as `app.admin`
 * (sharing its model state and metrics), both ready to listen (entry point and tests). Closing
 * the API closes the admin after it.
 */
export async function buildApp(
  opts: AppOptions & { logger?: FastifyServerOptions["logger"] },
): Promise<FastifyInstance> {
  const { logger, ...appOpts } = opts;
  const api = Fastify(serverOptions({ bodyLimitBytes: opts.bodyLimitBytes, logger }));
  await api.register(app, appOpts);
  const adminInstance = Fastify(
    serverOptions({
      bodyLimitBytes: ADMIN_BODY_LIMIT,
      loggerInstance: api.log.child({ listener: "admin" }),
    }),
  );
  await adminInstance.register(admin, { state: api.model, metrics: api.metrics });
  api.decorate("admin", adminInstance);
  // Runs once the API's listener is closed and its in-flight requests are answered.
  api.addHook("onClose", async () => {
    await adminInstance.close();
  });
  return api;
}
