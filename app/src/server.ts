// Entry point: parse the environment, read the model directory's manifest.json (what it is, how
// it must be fed, how it was verified: inference/manifest.ts), start both listeners at once -- the
// API on PORT, the admin (/metrics, /healthz, /readyz) on ADMIN_PORT, so /healthz answers while
// the model loads -- load the model, turn ready after a warm-up inference, and drain on
// SIGTERM/SIGINT:
//   /readyz -> 503 at once, keep serving SHUTDOWN_DELAY_SECONDS (default 0) so endpoints update,
//   stop accepting on the API, let its in-flight requests finish, then close the admin listener
//   (which answered probes and scrapes throughout), close the workers, exit 0 -- or exit 1 if
//   that takes longer than SHUTDOWN_GRACE_SECONDS.
// Nothing here builds a model: the demo model is made at setup (`npm ci`, `npm run model:demo`)
// or by the image build; a trained one by `npm run model:import`.
import { existsSync } from "node:fs";
import { buildApp } from "./app.js";
import {
  ConfigError,
  DEMO_MODEL_DIR,
  loadConfig,
  type ServedModel,
  type ServerConfig,
  servedModel,
} from "./config.js";
import { createClassifier } from "./inference/classifier.js";
import { type Manifest, ManifestError, verificationProblems } from "./inference/manifest.js";
import { readManifest } from "./inference/model-io.js";

let config: ServerConfig;
let manifest: Manifest | undefined;
let served: ServedModel;
try {
  config = loadConfig();
  if (config.modelDir && !existsSync(config.modelDir)) {
    throw new ConfigError(
      config.modelDir === DEMO_MODEL_DIR
        ? `no model in ${DEMO_MODEL_DIR}: the demo model is made at setup. Fix: npm run model:demo ` +
            "(npm ci runs it), or MODEL_DIR=<a model directory> (npm run model:import makes one)"
        : `MODEL_DIR=${config.modelDir}: no such directory`,
    );
  }
  manifest = await readManifest(
    config.modelUrl ? { modelUrl: config.modelUrl } : { modelDir: config.modelDir as string },
  );
  const problems = manifest ? verificationProblems(manifest) : [];
  if (problems.length > 0) {
    throw new ConfigError(
      `the model's manifest.json records a failed verification, so it is not served:\n  ${problems.join("\n  ")}\n` +
        "Fix: import the model again (npm run model:import), which writes only what it verified",
    );
  }
  served = servedModel(config, manifest);
} catch (err) {
  if (err instanceof ConfigError || err instanceof ManifestError) {
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
  modelName: served.name,
  modelVersion: served.version,
  demoModel: served.demo,
  preprocess: served.preprocess,
  threads: config.threads,
  maxInputPixels: config.maxInputPixels,
  bodyLimitBytes: config.bodyLimitBytes,
  uploadPage: config.uploadPage,
});
const log = app.log;
// The model's record, once at start: where it came from and how it was verified (docs/models.md).
log.info(
  manifest
    ? {
        model: config.modelUrl ?? config.modelDir,
        source: manifest.source,
        formats: manifest.formats,
        preprocess: { mode: served.preprocess, from: served.preprocessFrom },
        verification: manifest.verification ?? (served.demo ? "none: the demo model" : "none"),
      }
    : { model: config.modelUrl ?? config.modelDir, preprocess: served.preprocess },
  manifest
    ? "model manifest"
    : "no manifest.json: a bare tfjs model, not verified (npm run model:import verifies a model)",
);

async function loadClassifier(c: ServerConfig) {
  // An unset variable is undefined here: the classifier's default.
  return createClassifier({
    modelDir: c.modelDir,
    modelUrl: c.modelUrl,
    // read above: the classifier does not read (or fetch) manifest.json again
    manifest,
    preprocess: served.preprocess,
    backend: c.backend,
    threads: c.threads,
    queueMax: c.queueMax,
    engines: c.engines,
    maxBatchSize: c.maxBatchSize,
    workerYoungGenerationMb: c.workerYoungGenerationMb,
    maxInputPixels: c.maxInputPixels,
    labelsFile: c.labelsFile,
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
      name: served.name,
      version: served.version,
      format: c?.modelFormat,
      backend: c?.backend,
      inputSize: c?.inputSize,
      classes: c?.labels.length,
      preprocess: served.preprocess,
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
