// Environment parsing (app/src/config.ts): defaults, validation, MODEL_URL over MODEL_DIR.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, DEMO_MODEL_DIR, loadConfig } from "../../src/config.js";
import { cpuBudget } from "../../src/inference/backend.js";

describe("loadConfig", () => {
  it("defaults: 0.0.0.0:8080 (admin 8081), the page, the demo model, unit preprocessing, auto backend", () => {
    // QUEUE_MAX: the classifier's 32 per thread; SHUTDOWN_GRACE_SECONDS: the stack's 20
    expect(loadConfig({})).toEqual({
      port: 8080,
      adminPort: 8081,
      host: "0.0.0.0",
      uploadPage: true,
      modelDir: DEMO_MODEL_DIR,
      modelUrl: undefined,
      modelName: "food11-mobilenetv2-demo",
      modelVersion: "demo",
      labelsFile: undefined,
      preprocess: "unit",
      backend: "auto",
      threads: cpuBudget(),
      queueMax: 32 * cpuBudget(),
      maxBatchSize: undefined,
      bodyLimitBytes: 10 * 1024 * 1024,
      maxInputPixels: 4096 * 4096,
      shutdownGraceSeconds: 20,
      shutdownDelaySeconds: 0,
      logLevel: "info",
      isDemoModel: true,
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
      bodyLimitBytes: 2048,
      maxInputPixels: 1000,
      shutdownGraceSeconds: 30,
      shutdownDelaySeconds: 5,
      logLevel: "warn",
      isDemoModel: false,
    });
  });

  it("names a model by its directory, or as the demo when the demo builder's stamp is there", () => {
    expect(loadConfig({ MODEL_DIR: "/srv/models/v3" })).toMatchObject({
      modelName: "food11-mobilenetv2",
      modelVersion: "v3",
    });
    const dir = mkdtempSync(path.join(tmpdir(), "baked-"));
    writeFileSync(path.join(dir, ".demo-model.json"), "{}");
    expect(loadConfig({ MODEL_DIR: dir })).toMatchObject({
      modelName: "food11-mobilenetv2-demo",
      modelVersion: "demo",
      isDemoModel: false, // not rebuilt: only the default directory is
    });
  });

  it("MODEL_URL wins over MODEL_DIR (the image sets MODEL_DIR)", () => {
    const c = loadConfig({
      MODEL_DIR: "/app/model",
      MODEL_URL: "https://models.example/food11/v4/model.json",
    });
    expect(c).toMatchObject({
      modelDir: undefined,
      modelUrl: "https://models.example/food11/v4/model.json",
      modelVersion: "v4",
      isDemoModel: false,
    });
  });

  it("empty strings count as unset (Dockerfile ENV with empty build args)", () => {
    expect(loadConfig({ MODEL_URL: "", MODEL_NAME: "", MODEL_VERSION: "" })).toMatchObject({
      modelDir: DEMO_MODEL_DIR,
      modelName: "food11-mobilenetv2-demo",
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
    ])
      expect(msg).toContain(v);
  });
});
