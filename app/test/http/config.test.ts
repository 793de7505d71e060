// Environment parsing (app/src/config.ts): defaults, validation, MODEL_URL over MODEL_DIR; what is
// served (name, version, preprocessing, demo or not) decided once from the environment and the
// model's manifest.json.
import { describe, expect, it } from "vitest";
import { ConfigError, DEMO_MODEL_DIR, loadConfig, servedModel } from "../../src/config.js";
import { cpuBudget } from "../../src/inference/backend.js";
import { type Manifest, ManifestSchema } from "../../src/inference/manifest.js";

/** A verified import's manifest (what tools/model-import writes), for `servedModel`. */
export function importedManifest(over: Partial<Manifest> = {}): Manifest {
  return ManifestSchema.parse({
    schemaVersion: 1,
    name: "best",
    version: "3f2a9c1e",
    source: { kind: "keras", file: "best.keras", sha256: "a".repeat(64) },
    input: { height: 96, width: 96, channels: 3, layout: "NHWC", dtype: "float32" },
    preprocess: "raw",
    preprocessFrom: {
      given: "auto",
      detected: "raw",
      evidence: "the model's first layer 'rescaling' (Rescaling) computes x * 0.00392157 + 0",
    },
    classes: 11,
    formats: { savedmodel: "saved_model", onnx: "model.onnx" },
    tools: { keras: "3.15.1" },
    verification: {
      images: 32,
      tolerance: 1e-4,
      reference: "Keras 3.15.1 model(x)",
      formats: {
        savedmodel: { runtime: "tfjs-node 4.22.0", top1Agree: 32, maxAbsDiff: 0 },
        onnx: { runtime: "onnxruntime 1.32.0", top1Agree: 32, maxAbsDiff: 3e-7 },
      },
    },
    ...over,
  });
}

describe("loadConfig", () => {
  it("defaults: 0.0.0.0:8080 (admin 8081), the page, the demo model's directory, the manifest's name and preprocessing, auto backend", () => {
    // QUEUE_MAX: the classifier's 32 per thread; SHUTDOWN_GRACE_SECONDS: the stack's 20
    expect(loadConfig({})).toEqual({
      port: 8080,
      adminPort: 8081,
      host: "0.0.0.0",
      uploadPage: true,
      modelDir: DEMO_MODEL_DIR,
      modelUrl: undefined,
      modelName: undefined,
      modelVersion: undefined,
      labelsFile: undefined,
      preprocess: undefined,
      backend: "auto",
      threads: cpuBudget(),
      queueMax: 32 * cpuBudget(),
      maxBatchSize: undefined,
      bodyLimitBytes: 10 * 1024 * 1024,
      maxInputPixels: 4096 * 4096,
      shutdownGraceSeconds: 20,
      shutdownDelaySeconds: 0,
      logLevel: "info",
    });
  });

  it("reads every variable", () => {
    const c = loadConfig({
      PORT: "9000",
      ADMIN_PORT: "9001",
      HOST: "127.0.0.1",
      UPLOAD_PAGE: "false",
      MODEL_DIR: "/srv/model",
      MODEL_NAME: "food11",
      MODEL_VERSION: "2026-11-28",
      LABELS_FILE: "classes.txt",
      PREPROCESS: "mobilenet",
      TFJS_BACKEND: "wasm",
      INFERENCE_THREADS: "3",
      INFERENCE_ENGINES: "1",
      QUEUE_MAX: "10",
      MAX_BATCH_SIZE: "4",
      INFERENCE_WORKER_YOUNG_MB: "8",
      BODY_LIMIT_BYTES: "2048",
      MAX_INPUT_PIXELS: "1000",
      SHUTDOWN_GRACE_SECONDS: "30",
      SHUTDOWN_DELAY_SECONDS: "5",
      LOG_LEVEL: "warn",
    });
    expect(c).toMatchObject({
      port: 9000,
      adminPort: 9001,
      host: "127.0.0.1",
      uploadPage: false,
      modelDir: "/srv/model",
      modelName: "food11",
      modelVersion: "2026-11-28",
      labelsFile: "classes.txt",
      preprocess: "mobilenet",
      backend: "wasm",
      threads: 3,
      engines: 1,
      queueMax: 10,
      maxBatchSize: 4,
      workerYoungGenerationMb: 8,
      bodyLimitBytes: 2048,
      maxInputPixels: 1000,
      shutdownGraceSeconds: 30,
      shutdownDelaySeconds: 5,
      logLevel: "warn",
    });
    expect(loadConfig({ PREPROCESS: "raw" }).preprocess).toBe("raw");
  });

  it("serves a bare tfjs model (no manifest) by its directory's name, unit unless PREPROCESS says", () => {
    const c = loadConfig({ MODEL_DIR: "/srv/models/v3" });
    expect(servedModel(c, undefined)).toEqual({
      name: "food11-mobilenetv2",
      version: "v3",
      preprocess: "unit",
      preprocessFrom: "default",
      demo: false,
    });
    expect(
      servedModel(loadConfig({ MODEL_DIR: "/m", PREPROCESS: "mobilenet" }), undefined),
    ).toMatchObject({
      preprocess: "mobilenet",
      preprocessFrom: "PREPROCESS",
    });
  });

  it("takes name, version and preprocessing from the manifest; the demo model is its source kind", () => {
    const m = importedManifest();
    expect(servedModel(loadConfig({ MODEL_DIR: "/srv/best" }), m)).toEqual({
      name: "best",
      version: "3f2a9c1e",
      preprocess: "raw",
      preprocessFrom: "manifest",
      demo: false,
    });
    // the stack sets MODEL_NAME / MODEL_VERSION: labels, they win
    expect(
      servedModel(loadConfig({ MODEL_DIR: "/m", MODEL_NAME: "food11", MODEL_VERSION: "7" }), m),
    ).toMatchObject({ name: "food11", version: "7" });
    const demo = importedManifest({
      source: { kind: "demo", file: "food11 demo model builder r2", sha256: "b".repeat(64) },
    });
    expect(servedModel(loadConfig({ MODEL_DIR: "/anywhere" }), demo).demo).toBe(true);
  });

  it("refuses a PREPROCESS that disagrees with the manifest, saying why (normalising twice)", () => {
    const m = importedManifest();
    expect(servedModel(loadConfig({ MODEL_DIR: "/m", PREPROCESS: "raw" }), m).preprocess).toBe(
      "raw",
    );
    expect(() => servedModel(loadConfig({ MODEL_DIR: "/m", PREPROCESS: "unit" }), m)).toThrow(
      ConfigError,
    );
    expect(() => servedModel(loadConfig({ MODEL_DIR: "/m", PREPROCESS: "unit" }), m)).toThrow(
      /PREPROCESS=unit but the model's manifest.json says preprocess "raw" \(the model's first layer 'rescaling' \(Rescaling\) computes x \* 0.00392157 \+ 0\).*pixels \/ 255 in \[0, 1\] instead of pixels 0..255\. Fix: unset PREPROCESS/,
    );
  });

  it("MODEL_URL wins over MODEL_DIR (the image sets MODEL_DIR)", () => {
    const c = loadConfig({
      MODEL_DIR: "/app/model",
      MODEL_URL: "https://models.example/food11/v4/model.json",
    });
    expect(c).toMatchObject({
      modelDir: undefined,
      modelUrl: "https://models.example/food11/v4/model.json",
    });
    expect(servedModel(c, undefined).version).toBe("v4");
  });

  it("empty strings count as unset (Dockerfile ENV with empty build args)", () => {
    expect(
      loadConfig({ MODEL_URL: "", MODEL_NAME: "", MODEL_VERSION: "", PREPROCESS: "" }),
    ).toMatchObject({
      modelDir: DEMO_MODEL_DIR,
      modelName: undefined,
      preprocess: undefined,
    });
  });

  it("the API and the admin listener need a port each (0, any free port, for both is fine)", () => {
    expect(() => loadConfig({ PORT: "8081" })).toThrow(
      new ConfigError(
        "invalid environment:\n  ADMIN_PORT: 8081 equals PORT: the API and the admin listener need a port each; set ADMIN_PORT to another (default 8081)",
      ),
    );
    expect(loadConfig({ PORT: "0", ADMIN_PORT: "0" })).toMatchObject({ port: 0, adminPort: 0 });
  });

  it("rejects bad values, naming every bad variable", () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: "http",
        PREPROCESS: "imagenet",
        MODEL_URL: "ftp://x/model.json",
        QUEUE_MAX: "0",
        INFERENCE_ENGINES: "0",
        INFERENCE_WORKER_YOUNG_MB: "0",
        ADMIN_PORT: "70000",
        UPLOAD_PAGE: "maybe",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const v of [
      "PORT",
      "ADMIN_PORT",
      "UPLOAD_PAGE",
      "PREPROCESS",
      "MODEL_URL",
      "QUEUE_MAX",
      "INFERENCE_ENGINES",
      "INFERENCE_WORKER_YOUNG_MB",
    ])
      expect(msg).toContain(v);
  });
});
