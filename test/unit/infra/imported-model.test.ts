/**
 * ImportedModel (components/ImportedModel.ts) under setMocks with a stand-in importer: the verified
 * directory lands in the build context as models/imported/<key> (MODEL_DIR), the only import there;
 * an unchanged import leaves it byte for byte (so the context, hence the image, has no diff); WASM
 * without a tfjs format and bad args are refused. The real import (Python, the engines) runs in
 * npm run test:models.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  backendProblem,
  type ImportedManifest,
  ImportedModel,
  type ModelImporter,
  verificationSummary,
} from "../../../components";
import {
  importedModelArgs,
  inferenceImageArgs,
  parseStackConfig,
  readStackConfig,
} from "../../../stacks";
import { promiseOf } from "./mocks";

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
      call: (args) => args.inputs,
    },
    "food11",
    "strategy1",
    false,
  );
});

const MANIFEST: ImportedManifest = {
  name: "best",
  version: "3f2a9c1e0b7d",
  source: { kind: "keras", file: "best.keras", sha256: "c".repeat(64) },
  preprocess: "raw",
  classes: 11,
  formats: { savedmodel: "saved_model", onnx: "model.onnx" },
  verification: {
    images: 48,
    tolerance: 1e-4,
    reference: "Keras 3.15.1 model(x)",
    formats: {
      savedmodel: { runtime: "tfjs-node 4.22.0", top1Agree: 48, maxAbsDiff: 5.96e-8 },
      onnx: { runtime: "ONNX Runtime 1.32.0", top1Agree: 48, maxAbsDiff: 2.4e-7 },
    },
  },
};

/** Writes what an import writes into `out` and records each call. */
function stubImporter(calls: Parameters<ModelImporter>[0][], manifest = MANIFEST): ModelImporter {
  return async (r) => {
    calls.push(r);
    mkdirSync(path.join(r.out, "saved_model"), { recursive: true });
    writeFileSync(path.join(r.out, "manifest.json"), JSON.stringify(manifest));
    writeFileSync(path.join(r.out, "saved_model", "saved_model.pb"), "pb");
    return manifest;
  };
}

function dirs() {
  const root = mkdtempSync(path.join(tmpdir(), "imported-model-"));
  const context = path.join(root, "app");
  mkdirSync(path.join(context, "models", "imported", "other-stack-model"), { recursive: true });
  return {
    root,
    context,
    cacheDir: path.join(root, "cache"),
    source: path.join(root, "best.keras"),
  };
}

describe("ImportedModel", () => {
  it("imports once per run into the cache and places the verified directory in the build context, alone", async () => {
    const d = dirs();
    const calls: Parameters<ModelImporter>[0][] = [];
    const m = new ImportedModel("food11", {
      source: d.source,
      preprocess: "auto",
      context: d.context,
      backend: "auto",
      cacheDir: d.cacheDir,
      importer: stubImporter(calls),
    });
    const modelDir = await promiseOf(m.modelDir);
    expect(modelDir).toMatch(/^models\/imported\/best-[0-9a-f]{8}$/);
    expect(calls).toEqual([
      { source: d.source, out: path.join(d.cacheDir, path.basename(modelDir)), preprocess: "auto" },
    ]);
    expect(readdirSync(path.join(d.context, "models", "imported"))).toEqual([
      path.basename(modelDir),
    ]);
    const placed = path.join(d.context, modelDir, "manifest.json");
    expect(JSON.parse(readFileSync(placed, "utf8"))).toEqual(MANIFEST);
    expect(await promiseOf(m.formats)).toBe("savedmodel,onnx");
    expect(await promiseOf(m.sourceSha256)).toBe("c".repeat(64));
    expect(await promiseOf(m.verification)).toBe(verificationSummary(MANIFEST));
    expect(verificationSummary(MANIFEST)).toBe(
      "savedmodel: 48/48 top-1, max |dp| 5.96e-8 <= 0.0001 (tfjs-node 4.22.0); onnx: 48/48 top-1, max |dp| 2.40e-7 <= 0.0001 (ONNX Runtime 1.32.0)",
    );

    // the same import again: the placed files are left as they are (no new context, no diff)
    const before = statSync(placed).mtimeMs;
    const again = new ImportedModel("food11-again", {
      source: d.source,
      preprocess: "auto",
      context: d.context,
      backend: "auto",
      cacheDir: d.cacheDir,
      importer: stubImporter([]),
    });
    expect(await promiseOf(again.modelDir)).toBe(modelDir);
    expect(statSync(placed).mtimeMs).toBe(before);
  });

  it("refuses WASM for an import without a tfjs format, and a directory the tfjs engines cannot run", () => {
    expect(backendProblem("auto", MANIFEST)).toBeUndefined();
    expect(backendProblem("wasm", MANIFEST)).toMatch(
      /imported without a tfjs format, which food11:tfjsBackend wasm needs.*Fix: pulumi config set food11:tfjsBackend auto/,
    );
    expect(
      backendProblem("wasm", {
        ...MANIFEST,
        formats: { ...MANIFEST.formats, tfjs: "tfjs/model.json" },
      }),
    ).toBeUndefined();
    expect(backendProblem("auto", { ...MANIFEST, formats: { onnx: "model.onnx" } })).toBe(
      "has only onnx: the tfjs engines cannot serve it",
    );
  });

  it("checks its args", () => {
    expect(
      () =>
        new ImportedModel("bad", {
          source: "best.keras",
          preprocess: "imagenet" as never,
          context: "/app",
          backend: "gpu" as never,
        }),
    ).toThrow(/source.*absolute path[\s\S]*preprocess[\s\S]*backend/);
  });
});

describe("food11:modelSource in a stack", () => {
  it("resolves the import's paths and bakes its directory in as MODEL_DIR", async () => {
    const settings = parseStackConfig("strategy1", {
      ...readStackConfig("strategy1"),
      "food11:modelSource": "models/best.keras",
      "food11:modelLabels": "models/labels.txt",
      "food11:preprocess": "mobilenet",
    });
    const args = importedModelArgs(settings);
    const root = path.resolve(__dirname, "../../..");
    expect(args).toEqual({
      source: path.join(root, "models/best.keras"),
      labels: path.join(root, "models/labels.txt"),
      preprocess: "mobilenet",
      context: path.join(root, "app"),
      backend: "auto",
    });
    const image = inferenceImageArgs(settings, "models/imported/best-12345678");
    expect(image.build?.args).toMatchObject({ MODEL_DIR: "models/imported/best-12345678" });
    // rendering YAML builds nothing, so nothing is imported either
    expect(
      importedModelArgs(
        parseStackConfig("strategy1", {
          ...readStackConfig("strategy1"),
          "food11:modelSource": "models/best.keras",
          "food11:renderYamlToDirectory": "out/render/strategy1",
        }),
      ),
    ).toBeUndefined();
    // without modelSource: nothing to import
    expect(
      importedModelArgs(parseStackConfig("strategy1", readStackConfig("strategy1"))),
    ).toBeUndefined();
  });
});
