// Server configuration: environment variables parsed and validated with zod, once, at start.
// Every variable is documented in docs/server.md. The defaults are the inference module's and
// the stack's (components/defaults.ts sets SHUTDOWN_* explicitly); where one differs, its
// reason stands beside it.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { BACKEND_CHOICES, cpuBudget } from "./inference/backend.js";
import { defaultQueueMax } from "./inference/batcher.js";
import {
  isDemoManifest,
  type Manifest,
  PREPROCESS_MODES,
  PreprocessMismatchError,
  resolvePreprocess,
} from "./inference/manifest.js";
import type { PreprocessMode } from "./inference/normalize.js";
import { DEFAULT_MAX_INPUT_PIXELS } from "./inference/probe.js";

/** The app package root (app/): one level above src/ or dist/, where this file lives. */
export const APP_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where `npm run model:demo` (run by `npm ci`) writes the demo model: the default MODEL_DIR. */
export const DEMO_MODEL_DIR = path.join(APP_ROOT, "models", "demo");
/** The image GET /test classifies. */
export const TEST_IMAGE_PATH = path.join(APP_ROOT, "assets", "test.jpg");

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === "" ? undefined : s))
  .optional();

const EnvSchema = z.object({
  // The API: /predict, /test and the upload page.
  PORT: int(0, 65535).default(8080),
  // The admin listener: /metrics, /healthz, /readyz; never routed from outside the cluster.
  // 8081 (the API's port + 1, Dropwizard's admin port), not 9090: that is Prometheus' own port,
  // often taken on the machine of someone who runs one to scrape this server.
  ADMIN_PORT: int(0, 65535).default(8081),
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  // The upload page at GET / (a demo feature; the stacks set it from food11:uploadPage).
  UPLOAD_PAGE: z.stringbool().default(true),
  MODEL_DIR: optionalString,
  MODEL_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  MODEL_NAME: optionalString,
  MODEL_VERSION: optionalString,
  LABELS_FILE: optionalString,
  // Unset: the model directory's manifest.json decides (a bare tfjs model: unit).
  PREPROCESS: optionalString.pipe(z.enum(PREPROCESS_MODES).optional()),
  // The engine: a tfjs backend, or onnxruntime (ONNX Runtime on the manifest's formats.onnx).
  TFJS_BACKEND: z.enum(BACKEND_CHOICES).exclude(["cpu"]).default("auto"),
  INFERENCE_THREADS: int(1, 256).optional(),
  // Default: one engine per thread on tfjs, one on ONNX Runtime (the classifier's); fewer engines share the threads.
  INFERENCE_ENGINES: int(1, 256).optional(),
  // Default: the classifier's, 32 images per inference thread (64 on the stack's 2 CPUs).
  QUEUE_MAX: int(1, 100_000).optional(),
  MAX_BATCH_SIZE: int(1, 64).optional(),
  // Default: the inference module's (4 MB: a worker allocates little on its JS heap).
  INFERENCE_WORKER_YOUNG_MB: int(1, 1024).optional(),
  BODY_LIMIT_BYTES: int(1024).default(10 * 1024 * 1024),
  MAX_INPUT_PIXELS: int(1).default(DEFAULT_MAX_INPUT_PIXELS),
  // The stack's default drain (shutdownGraceSeconds), so a server run by hand drains as a pod.
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(20),
  // 0, not the stack's 5: the delay lets a Service's endpoints drop the pod before the listener
  // closes; outside Kubernetes nothing routes around the server, so waiting only delays the exit.
  SHUTDOWN_DELAY_SECONDS: z.coerce.number().min(0).max(3600).default(0),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parse the environment (process.env by default); throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  if (e.PORT === e.ADMIN_PORT && e.PORT !== 0) {
    throw new ConfigError(
      `invalid environment:\n  ADMIN_PORT: ${e.ADMIN_PORT} equals PORT: the API and the admin listener need a port each; set ADMIN_PORT to another (default 8081)`,
    );
  }
  // MODEL_URL, when set, wins over MODEL_DIR (the image sets MODEL_DIR=/app/model).
  const modelDir = e.MODEL_URL ? undefined : path.resolve(e.MODEL_DIR ?? DEMO_MODEL_DIR);
  // default: the CPU budget the container's cgroup quota allows, else the cores available
  const threads = e.INFERENCE_THREADS ?? cpuBudget();
  return {
    /** The API's port (PORT). */
    port: e.PORT,
    /** The admin listener's port (ADMIN_PORT): /metrics, /healthz, /readyz. */
    adminPort: e.ADMIN_PORT,
    /** Both listeners' address (HOST). */
    host: e.HOST,
    /** Serve the upload page at GET / (UPLOAD_PAGE). */
    uploadPage: e.UPLOAD_PAGE,
    /** Local model directory; undefined when MODEL_URL is used. */
    modelDir,
    modelUrl: e.MODEL_URL,
    /** MODEL_NAME; undefined: the manifest's name (servedModel). */
    modelName: e.MODEL_NAME,
    /** MODEL_VERSION; undefined: the manifest's version (servedModel). */
    modelVersion: e.MODEL_VERSION,
    labelsFile: e.LABELS_FILE,
    /** PREPROCESS; undefined: the manifest's (servedModel). */
    preprocess: e.PREPROCESS,
    /** TFJS_BACKEND: any engine but tfjs' CPU backend (tests only). */
    backend: e.TFJS_BACKEND,
    threads,
    queueMax: e.QUEUE_MAX ?? defaultQueueMax(threads),
    /** Engines (worker threads); undefined: the inference module's default (one per thread). */
    engines: e.INFERENCE_ENGINES,
    /** Largest batch an engine takes from the queue; undefined: the inference module's default. */
    maxBatchSize: e.MAX_BATCH_SIZE,
    /** Each engine worker's V8 young generation, MB; undefined: the inference module's default. */
    workerYoungGenerationMb: e.INFERENCE_WORKER_YOUNG_MB,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    maxInputPixels: e.MAX_INPUT_PIXELS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    shutdownDelaySeconds: e.SHUTDOWN_DELAY_SECONDS,
    logLevel: e.LOG_LEVEL,
  };
}

/** The server's configuration: what loadConfig makes of the environment, each field once. */
export type ServerConfig = ReturnType<typeof loadConfig>;

/** What the server serves, decided once at start from the environment and the manifest. */
export interface ServedModel {
  name: string;
  version: string;
  preprocess: PreprocessMode;
  /** Where `preprocess` came from. */
  preprocessFrom: "manifest" | "PREPROCESS" | "default";
  /** The untrained demo model (its manifest's source kind `demo`): the upload page says so. */
  demo: boolean;
}

/**
 * Name, version, preprocessing and "is this the demo model" for the model being served: the
 * environment where set, else the manifest (a bare tfjs model without one: `food11-mobilenetv2`,
 * its directory's name, `unit`). A PREPROCESS that disagrees with the manifest is a ConfigError.
 */
export function servedModel(c: ServerConfig, manifest: Manifest | undefined): ServedModel {
  let preprocess: ReturnType<typeof resolvePreprocess>;
  try {
    preprocess = resolvePreprocess(manifest, c.preprocess);
  } catch (err) {
    if (err instanceof PreprocessMismatchError) throw new ConfigError(err.message);
    throw err;
  }
  const source = c.modelDir ?? new URL(c.modelUrl as string).pathname.replace(/\/[^/]*$/, "");
  return {
    name: c.modelName ?? manifest?.name ?? "food11-mobilenetv2",
    version: c.modelVersion ?? manifest?.version ?? (path.posix.basename(source) || "0"),
    preprocess: preprocess.mode,
    preprocessFrom: preprocess.from,
    demo: isDemoManifest(manifest),
  };
}
