import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm } from "node:fs/promises";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { food11CacheDir } from "../lib/cache";
import { keyViolation, MODEL_FILE_EXTENSION, type StackSettings } from "../stacks/schema";
import { ArgsCheck } from "./contract";
import { show } from "./rules";

/** The type token of {@link ImportedModel}. */
const TYPE = "food11:model:ImportedModel";

/** Where, inside the image's build context, imported models are placed (MODEL_DIR). */
export const IMPORTED_MODELS_DIR = "models/imported";

/** What the import reports: the model directory's manifest.json (app/src/inference/manifest.ts). */
export interface ImportedManifest {
  name: string;
  version: string;
  source: { kind: string; file: string; sha256: string };
  preprocess: string;
  classes: number;
  formats: { savedmodel?: string; tfjs?: string; onnx?: string };
  verification?: {
    images: number;
    tolerance: number;
    reference: string;
    formats: Record<string, { runtime: string; top1Agree: number; maxAbsDiff: number }>;
  };
}

/** One import: `npm run model:import -- <source> --out <out> ...`; resolves with its manifest. */
export type ModelImporter = (request: {
  source: string;
  out: string;
  labels?: string;
  preprocess: string;
}) => Promise<ImportedManifest>;

/**
 * Arguments of {@link ImportedModel}. `preprocess` and `backend` as a stack's settings hold them
 * (food11:preprocess: auto, raw, unit or mobilenet, which the import checks against the model;
 * food11:tfjsBackend: `wasm` needs the tfjs format; food11:inferenceEngine `onnxruntime`, the
 * ONNX format); the paths absolute.
 */
export interface ImportedModelArgs extends Pick<StackSettings["model"], "preprocess" | "backend"> {
  /** The trained model, an absolute path: food11:modelSource. */
  source: string;
  /** Its labels file, an absolute path: food11:modelLabels. Defaults to none. */
  labels?: string;
  /** The image's build context, an absolute path: the verified directory is placed inside it. */
  context: string;
  /**
   * Runs one import. Defaults to {@link runModelImport} (the model:import CLI in a child process,
   * with its pinned Python environment); tests pass a stand-in.
   */
  importer?: ModelImporter;
  /** Where verified imports are kept between runs. Defaults to `${FOOD11_CACHE:-~/.cache/food11}/imported`. */
  cacheDir?: string;
}

/**
 * A trained model imported and verified (tools/model-import: every format against Keras' own
 * outputs) before the image is built, and placed in the build context as
 * `models/imported/<name>-<key>` for `docker.Image` to bake in (MODEL_DIR).
 *
 * The import runs in the program, on the machine running `pulumi up`, not in a Docker build stage:
 * the verification needs the pinned Python environment (1.7 GB, cached once per machine) and the
 * server's own engines, the same command users run by hand; a build stage would download that
 * environment into every cold builder and hide the verification table in the build log. The
 * import is cached by the source's content: an unchanged model leaves the directory (so the build
 * context) unchanged, hence no diff; a changed one changes it, hence a new image and a rollout.
 * Only this stack's model stays under models/imported, so another stack's import does not change
 * this stack's context.
 */
export class ImportedModel extends pulumi.ComponentResource {
  /** MODEL_DIR for the build: the directory relative to the build context (POSIX). */
  public readonly modelDir: pulumi.Output<string>;
  /** sha256 of the imported source file. */
  public readonly sourceSha256: pulumi.Output<string>;
  /** The formats written and verified, e.g. `savedmodel,tfjs,onnx`. */
  public readonly formats: pulumi.Output<string>;
  /** The verification record, one line per format. */
  public readonly verification: pulumi.Output<string>;

  /**
   * @throws pulumi.InputPropertiesError when the args break their contract (see
   * {@link checkImportedModelArgs}); nothing is registered then.
   */
  constructor(name: string, args: ImportedModelArgs, opts?: pulumi.ComponentResourceOptions) {
    checkImportedModelArgs(name, args);
    super(TYPE, name, {}, opts);
    // <file name without its extension, as a path component>-<8 hex of the source's path>
    const stem = path.basename(args.source).replace(MODEL_FILE_EXTENSION, "");
    const hash = createHash("sha256").update(args.source).digest("hex").slice(0, 8);
    const key = `${stem.replace(/[^\w.-]+/g, "_")}-${hash}`;
    const cache = args.cacheDir ?? path.join(food11CacheDir(), "imported");
    const importer = args.importer ?? runModelImport;
    const done = (async () => {
      const out = path.join(cache, key);
      const manifest = await importer({
        source: args.source,
        out,
        ...(args.labels !== undefined ? { labels: args.labels } : {}),
        preprocess: args.preprocess,
      });
      const unfit = backendProblem(args.backend, manifest);
      if (unfit) {
        throw new Error(`${TYPE} ${name} (stack ${pulumi.getStack()}): ${args.source} ${unfit}`);
      }
      await placeInContext(out, path.join(args.context, IMPORTED_MODELS_DIR), key);
      return manifest;
    })();
    const manifest = pulumi.output(done);
    this.modelDir = pulumi.output(done.then(() => `${IMPORTED_MODELS_DIR}/${key}`));
    this.sourceSha256 = manifest.apply((m) => m.source.sha256);
    this.formats = manifest.apply((m) => Object.keys(m.formats).join(","));
    this.verification = manifest.apply((m) => verificationSummary(m));
    this.registerOutputs({
      modelDir: this.modelDir,
      sourceSha256: this.sourceSha256,
      formats: this.formats,
      verification: this.verification,
    });
  }
}

/** Why the server on `backend` could not serve the import (undefined: it can). */
export function backendProblem(backend: string, m: ImportedManifest): string | undefined {
  if (backend === "wasm" && !m.formats.tfjs) {
    return (
      "imported without a tfjs format, which food11:tfjsBackend wasm needs (tensorflowjs could not " +
      "convert it; see the import's notes). Fix: pulumi config set food11:tfjsBackend auto"
    );
  }
  if (backend === "onnxruntime") {
    if (m.formats.onnx) return undefined;
    return (
      `imported without an ONNX format (it has ${Object.keys(m.formats).join(", ")}), which ` +
      "food11:inferenceEngine onnxruntime runs (tf2onnx could not convert it; see the import's " +
      "notes: npm run model:import -- <source> --out <dir> writes model.onnx when it can). " +
      "Fix: pulumi config set food11:inferenceEngine tensorflow"
    );
  }
  if (!m.formats.savedmodel && !m.formats.tfjs) {
    return (
      `has only ${Object.keys(m.formats).join(", ")}: the tfjs engines cannot serve it. ` +
      "Fix: pulumi config set food11:inferenceEngine onnxruntime"
    );
  }
  return undefined;
}

/** `savedmodel: 48/48 top-1, max |dp| 5.96e-8 (tfjs-node 4.22.0 ...)`, one per format. */
export function verificationSummary(m: ImportedManifest): string {
  const v = m.verification;
  if (!v) return "none";
  return Object.entries(v.formats)
    .map(
      ([f, c]) =>
        `${f}: ${c.top1Agree}/${v.images} top-1, max |dp| ${c.maxAbsDiff.toExponential(2)} <= ${v.tolerance} (${c.runtime})`,
    )
    .join("; ");
}

/**
 * Copies the verified directory to `<dir>/<key>` when it differs (by manifest.json) and removes
 * every other import there, so the build context holds this stack's model only.
 */
async function placeInContext(from: string, dir: string, key: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const target = path.join(dir, key);
  const manifest = (p: string) => readFile(path.join(p, "manifest.json"), "utf8").catch(() => "");
  if (!existsSync(target) || (await manifest(target)) !== (await manifest(from))) {
    await rm(target, { recursive: true, force: true });
    await cp(from, target, { recursive: true, preserveTimestamps: true });
  }
  for (const other of await readdir(dir)) {
    if (other !== key) await rm(path.join(dir, other), { recursive: true, force: true });
  }
}

/**
 * The real importer: `tsx tools/model-import/src/cli.ts <source> --out <out> --json` from the
 * project root (the same code `npm run model:import` runs); its progress goes to the Pulumi log.
 */
export const runModelImport: ModelImporter = (r) =>
  new Promise((resolve, reject) => {
    const root = path.resolve(__dirname, "..");
    const args = [
      path.join(root, "tools", "model-import", "src", "cli.ts"),
      r.source,
      "--out",
      r.out,
      "--preprocess",
      r.preprocess,
      ...(r.labels !== undefined ? ["--labels", r.labels] : []),
      "--json",
    ];
    const child = spawn(path.join(root, "node_modules", ".bin", "tsx"), args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      stderr += s;
      for (const line of s.split("\n")) {
        if (line.startsWith("[model:import]") || line.startsWith("[python-env]")) {
          void pulumi.log.info(line);
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        const refused = stderr.slice(stderr.indexOf("model:import: refused:"));
        reject(
          new Error(refused.startsWith("model:import") ? refused.trim() : stderr.slice(-4000)),
        );
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split("\n").pop() as string) as ImportedManifest);
      } catch (err) {
        reject(new Error(`model:import printed no manifest: ${(err as Error).message}`));
      }
    });
  });

/**
 * The contract of {@link ImportedModelArgs}: absolute `source`, `context` (and `labels` when
 * given), a `preprocess` that food11:preprocess allows and a known `backend`. Throws a `pulumi.InputPropertiesError` listing every
 * violation.
 */
export function checkImportedModelArgs(name: string, args: ImportedModelArgs): void {
  const check = new ArgsCheck(TYPE, name);
  for (const [key, value] of [
    ["source", args.source],
    ["context", args.context],
    ...(args.labels !== undefined ? [["labels", args.labels]] : []),
  ] as [string, unknown][]) {
    if (typeof value !== "string" || !path.isAbsolute(value)) {
      check.fail(key, `${show(value)} is not allowed: must be an absolute path`);
    }
  }
  check.failIf("preprocess", keyViolation("preprocess", args.preprocess));
  if (!["auto", "tensorflow", "wasm", "onnxruntime"].includes(args.backend)) {
    check.fail(
      "backend",
      `${show(args.backend)} is not allowed: auto, tensorflow, wasm or onnxruntime`,
    );
  }
  check.throwIfInvalid();
}
