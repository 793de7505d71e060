// Entry point: parse the environment, start both listeners at once -- the API on PORT, the admin
// (/metrics, /healthz, /readyz) on ADMIN_PORT, so /healthz answers while the model loads -- load
// the model (building the demo model first if it is the default and absent), turn ready after a
// warm-up inference, and drain on SIGTERM/SIGINT:
//   /readyz -> 503 at once, keep serving SHUTDOWN_DELAY_SECONDS (default 0) so endpoints update,
//   stop accepting on the API, let its in-flight requests finish, then close the admin listener
//   (which answered probes and scrapes throughout), close the workers, exit 0 -- or exit 1 if
//   that takes longer than SHUTDOWN_GRACE_SECONDS.
import { buildApp } from "./app.js";
import { ConfigError, hasDemoStamp, loadConfig, type ServerConfig } from "./config.js";
import { createClassifier } from "./inference/classifier.js";

let config: ServerConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const app = await buildApp({
  logger: {
    level: config.logLevel,
    // Never log request bodies (images) or credentials; Fastify logs no bodies by default.
    redact: ["req.headers.authorization", "req.headers.cookie"],
  },
  classifier: loadClassifier(config),
  modelName: config.modelName,
  modelVersion: config.modelVersion,
  demoModel: config.isDemoModel || (config.modelDir !== undefined && hasDemoStamp(config.modelDir)),
  preprocess: config.preprocess,
  threads: config.threads,
  maxInputPixels: config.maxInputPixels,
  bodyLimitBytes: config.bodyLimitBytes,
  uploadPage: config.uploadPage,
});
const log = app.log;

async function loadClassifier(c: ServerConfig) {
  if (c.isDemoModel && c.modelDir) {
    const t0 = performance.now();
    // imported only here: the builder is not needed (nor loaded) when serving another model
    const { ensureDemoModel } = await import("./inference/demo-model.js");
    const demo = await ensureDemoModel(c.modelDir);
    log.info(
      { modelDir: demo.dir, built: demo.built, ms: Math.round(performance.now() - t0) },
      demo.built ? "demo model built" : "demo model present",
    );
  }
  return createClassifier({
    ...(c.modelUrl ? { modelUrl: c.modelUrl } : { modelDir: c.modelDir }),
    preprocess: c.preprocess,
    backend: c.backend,
    threads: c.threads,
    queueMax: c.queueMax,
    ...(c.engines ? { engines: c.engines } : {}),
    ...(c.maxBatchSize ? { maxBatchSize: c.maxBatchSize } : {}),
    maxInputPixels: c.maxInputPixels,
    ...(c.labelsFile ? { labelsFile: c.labelsFile } : {}),
  });
}

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) {
    log.warn({ signal }, "second signal while draining: exiting now");
    process.exit(1);
  }
  shuttingDown = true;
  app.model.draining = true;
  log.info(
    {
      signal,
      graceSeconds: config.shutdownGraceSeconds,
      delaySeconds: config.shutdownDelaySeconds,
    },
    "draining: readiness is now false",
  );
  const force = setTimeout(() => {
    log.error(
      { graceSeconds: config.shutdownGraceSeconds },
      "grace period over: exiting with requests unfinished",
    );
    process.exit(1);
  }, config.shutdownGraceSeconds * 1000);
  force.unref();
  try {
    if (config.shutdownDelaySeconds > 0) {
      await new Promise((r) => setTimeout(r, config.shutdownDelaySeconds * 1000));
    }
    log.info("closing: no new connections, waiting for in-flight requests");
    // Connections that were busy when close() began and went idle after are closed too.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 250);
    sweep.unref();
    // Stops accepting on the API; resolves when its in-flight requests have been answered and
    // then the admin listener is closed too (app.ts: the API's onClose hook).
    await app.close();
    clearInterval(sweep);
    await app.model.classifier?.close();
    log.info("drained: bye");
    clearTimeout(force);
    process.exit(0);
  } catch (err) {
    log.error({ err }, "error while draining");
    process.exit(1);
  }
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

/** Listen, or exit 1 saying which variable names the port (a port in use: one line, the fix). */
async function listen(
  instance: typeof app,
  variable: "PORT" | "ADMIN_PORT",
  port: number,
): Promise<void> {
  try {
    await instance.listen({ port, host: config.host });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      console.error(
        `${variable} ${port} is already in use on ${config.host}: stop what listens there, or choose another port with ${variable}=<port>`,
      );
    } else {
      log.fatal({ err, variable, port }, "cannot listen");
    }
    process.exit(1);
  }
}
await listen(app, "PORT", config.port);
await listen(app.admin, "ADMIN_PORT", config.adminPort);

try {
  await app.modelLoaded;
  const c = app.model.classifier;
  log.info(
    {
      model: config.modelUrl ?? config.modelDir,
      name: config.modelName,
      version: config.modelVersion,
      backend: c?.backend,
      inputSize: c?.inputSize,
      classes: c?.labels.length,
      preprocess: config.preprocess,
      threads: config.threads,
      queueMax: config.queueMax,
      maxBatchSize: config.maxBatchSize ?? "default",
    },
    "model loaded and warmed up: ready",
  );
} catch (err) {
  log.fatal({ err }, "model failed to load: exiting");
  await app.close().catch(() => {});
  process.exit(1);
}
