// Server configuration: environment variables parsed and validated with zod, once, at start.
// Every variable is documented in docs/server.md. The defaults are the inference module's and
// the stack's (components/defaults.ts sets SHUTDOWN_* explicitly); where one differs, its
// reason stands beside it.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { cpuBudget } from "./inference/backend.js";
import { defaultMaxEnqueued } from "./inference/batcher.js";
import { DEFAULT_MAX_INPUT_PIXELS } from "./inference/probe.js";

/** The app package root (app/): one level above src/ or dist/, where this file lives. */
export const APP_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where `npm run model:demo` writes the demo model. */
export const DEMO_MODEL_DIR = path.join(APP_ROOT, "models", "demo");
/** File the demo model builder writes beside model.json (app/src/inference/demo-model.ts). */
const DEMO_STAMP = ".demo-model.json";
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
  PORT: int(0, 65535).default(8080),
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  MODEL_DIR: optionalString,
  MODEL_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  MODEL_NAME: optionalString,
  MODEL_VERSION: optionalString,
  LABELS_FILE: optionalString,
  PREPROCESS: z.enum(["unit", "mobilenet"]).default("unit"),
  // The engine: a tfjs backend, or onnxruntime (ONNX Runtime on the model directory's model.onnx).
  TFJS_BACKEND: z.enum(["auto", "tensorflow", "wasm", "onnxruntime"]).default("auto"),
  INFERENCE_THREADS: int(1, 256).optional(),
  // Default: one engine per thread (the classifier's); on tfjs-node fewer engines share the threads.
  INFERENCE_ENGINES: int(1, 256).optional(),
  // Default: the classifier's, 32 images per inference thread (64 on the stack's 2 CPUs).
  QUEUE_MAX: int(1, 100_000).optional(),
  MAX_BATCH_SIZE: int(1, 64).optional(),
  BODY_LIMIT_BYTES: int(1024).default(10 * 1024 * 1024),
  MAX_INPUT_PIXELS: int(1).default(DEFAULT_MAX_INPUT_PIXELS),
  // The stack's default drain (shutdownGraceSeconds), so a server run by hand drains as a pod.
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(20),
  // 0, not the stack's 5: the delay lets a Service's endpoints drop the pod before the listener
  // closes; outside Kubernetes nothing routes around the server, so waiting only delays the exit.
  SHUTDOWN_DELAY_SECONDS: z.coerce.number().min(0).max(3600).default(0),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface ServerConfig {
  port: number;
  host: string;
  /** Local tfjs model directory; undefined when MODEL_URL is used. */
  modelDir: string | undefined;
  modelUrl: string | undefined;
  modelName: string;
  modelVersion: string;
  labelsFile: string | undefined;
  preprocess: "unit" | "mobilenet";
  backend: "auto" | "tensorflow" | "wasm" | "onnxruntime";
  threads: number;
  queueMax: number;
  /** Engines (worker threads); undefined: the inference module's default (one per thread). */
  engines: number | undefined;
  /** Largest batch an engine takes from the queue; undefined: the inference module's default. */
  maxBatchSize: number | undefined;
  bodyLimitBytes: number;
  maxInputPixels: number;
  shutdownGraceSeconds: number;
  shutdownDelaySeconds: number;
  logLevel: string;
  /** True when the model is the demo one that `npm run model:demo` builds (built if absent). */
  isDemoModel: boolean;
}

/** True when dir holds a model the demo builder made (its stamp beside model.json): untrained. */
export function hasDemoStamp(dir: string): boolean {
  return existsSync(path.join(dir, DEMO_STAMP));
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parse the environment (process.env by default); throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  // MODEL_URL, when set, wins over MODEL_DIR (the image sets MODEL_DIR=/app/model).
  const modelDir = e.MODEL_URL ? undefined : path.resolve(e.MODEL_DIR ?? DEMO_MODEL_DIR);
  const isDemoModel = modelDir === DEMO_MODEL_DIR;
  // the demo builder leaves a stamp: name a baked-in demo model (the image's default) as such
  const looksDemo =
    isDemoModel || (modelDir !== undefined && existsSync(path.join(modelDir, DEMO_STAMP)));
  const source = modelDir ?? new URL(e.MODEL_URL as string).pathname.replace(/\/[^/]*$/, "");
  // default: the CPU budget the container's cgroup quota allows, else the cores available
  const threads = e.INFERENCE_THREADS ?? cpuBudget();
  return {
    port: e.PORT,
    host: e.HOST,
    modelDir,
    modelUrl: e.MODEL_URL,
    modelName: e.MODEL_NAME ?? (looksDemo ? "food11-mobilenetv2-demo" : "food11-mobilenetv2"),
    modelVersion: e.MODEL_VERSION ?? (looksDemo ? "demo" : path.posix.basename(source) || "0"),
    labelsFile: e.LABELS_FILE,
    preprocess: e.PREPROCESS,
    backend: e.TFJS_BACKEND,
    threads,
    queueMax: e.QUEUE_MAX ?? defaultMaxEnqueued(threads),
    engines: e.INFERENCE_ENGINES,
    maxBatchSize: e.MAX_BATCH_SIZE,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    maxInputPixels: e.MAX_INPUT_PIXELS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    shutdownDelaySeconds: e.SHUTDOWN_DELAY_SECONDS,
    logLevel: e.LOG_LEVEL,
    isDemoModel,
  };
}
