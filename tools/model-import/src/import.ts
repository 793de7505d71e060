/**
 * `npm run model:import`: a trained model (Keras 3 .keras, legacy .h5, a SavedModel directory or
 * an .onnx file) into a model directory the server and the image take as they are
 * (app/src/inference/manifest.ts). Verification is part of the import: every format written runs
 * on the same inputs as the reference (Keras' own model(x)) in the runtime that serves it, and
 * unless each agrees (top-1 on every input, probabilities within the tolerance) nothing is written.
 *
 * Steps: hash the source (an unchanged source, options and importer: nothing to do) → the Python
 * environment (tools/python, made on first use) → inspect (input size, classes, what the model
 * says about its preprocessing) → decide the preprocessing (refusing a contradiction) and the
 * labels → the inputs (inputs.ts) → Python: the formats + the reference's outputs → the server's
 * own classifier on the staged directory (SavedModel on tfjs-node, tfjs on WASM) → compare
 * (verify.ts) → manifest.json, then the staged directory renamed into place.
 */
import { spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { AGREEMENT_TOLERANCE } from "../../../app/src/inference/agreement.js";
import type { EngineBackend } from "../../../app/src/inference/backend.js";
import { createClassifier } from "../../../app/src/inference/classifier.js";
import { FOOD11_LABELS, parseLabels } from "../../../app/src/inference/labels.js";
import {
  describePreprocess,
  MANIFEST_FILE,
  MANIFEST_SCHEMA_VERSION,
  type Manifest,
  ManifestSchema,
  PREPROCESS_MODES,
  parseManifest,
} from "../../../app/src/inference/manifest.js";
import type { PreprocessMode } from "../../../app/src/inference/normalize.js";
import { ensureProbabilities } from "../../../app/src/inference/rank.js";
import { pythonEnv, REQUIREMENTS, REQUIREMENTS_NO_DEPS } from "../../python/env.js";
import { verificationInputs } from "./inputs.js";
import { compare, type FormatCheck, verificationTable } from "./verify.js";

const HERE = import.meta.dirname;
const PYTHON_SCRIPT = path.join(HERE, "..", "python", "food11_model.py");
const APP = path.resolve(HERE, "..", "..", "..", "app");

type SourceKind = "keras" | "h5" | "savedmodel" | "onnx";
export type PreprocessChoice = "auto" | PreprocessMode;
export const PREPROCESS_CHOICES: readonly PreprocessChoice[] = ["auto", ...PREPROCESS_MODES];

export interface ImportOptions {
  /** A .keras or .h5 file, a SavedModel directory or an .onnx file. */
  source: string;
  /** The model directory to write (replaced only once the new one is verified). */
  out: string;
  /** labels.txt, one label per line in output order; default: Food-11's 11 for an 11-output model. */
  labels?: string;
  /** How the server must scale pixels; `auto` (default): what the model says, else refused. */
  preprocess?: PreprocessChoice;
  /** manifest name (default: the source's file name) and version (default: sha256, 12 hex). */
  name?: string;
  version?: string;
  /** Largest |p_format - p_reference| allowed (default AGREEMENT_TOLERANCE, 1e-4). */
  tolerance?: number;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
}

export interface ImportResult {
  dir: string;
  manifest: Manifest;
  /** The directory was already this import's: nothing was done. */
  upToDate: boolean;
  /** The verification table (Markdown); empty when up to date. */
  table: string;
  seconds: { pythonEnv: number; total: number };
  pythonEnvCreated: boolean;
}

/** A refusal or a failed verification: the message says why and what to do; nothing was written. */
export class ImportError extends Error {
  override name = "ImportError";
}

/** The source's kind from its name (a directory: a SavedModel). */
async function sourceKind(source: string): Promise<SourceKind> {
  const st = await stat(source).catch(() => undefined);
  if (!st) throw new ImportError(`${source}: no such file or directory`);
  if (st.isDirectory()) {
    if (!existsSync(path.join(source, "saved_model.pb"))) {
      throw new ImportError(
        `${source}: a directory, but not a SavedModel (no saved_model.pb). Fix: give a .keras, .h5 or .onnx file, or the directory model.export() wrote`,
      );
    }
    return "savedmodel";
  }
  const ext = path.extname(source).toLowerCase();
  if (ext === ".keras") return "keras";
  if (ext === ".h5" || ext === ".hdf5") return "h5";
  if (ext === ".onnx") return "onnx";
  throw new ImportError(
    `${source}: unknown model file "${ext}". Fix: a Keras 3 .keras file, a legacy .h5, a SavedModel directory or an .onnx file`,
  );
}

/** sha256 of a file, or of a directory's files (relative path and bytes, in sorted order). */
async function sha256Of(source: string): Promise<string> {
  const h = createHash("sha256");
  const st = await stat(source);
  if (!st.isDirectory()) {
    for await (const chunk of createReadStream(source)) h.update(chunk as Buffer);
    return h.digest("hex");
  }
  const files = (await readdir(source, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => path.relative(source, path.join(d.parentPath, d.name)))
    .sort();
  for (const f of files) {
    h.update(`${f}\0`);
    h.update(await readFile(path.join(source, f)));
  }
  return h.digest("hex");
}

/** What the importer is: its Python half and the pinned environment (a change re-imports). */
async function importerRevision(): Promise<string> {
  const h = createHash("sha256");
  for (const f of [
    PYTHON_SCRIPT,
    REQUIREMENTS,
    REQUIREMENTS_NO_DEPS,
    path.join(HERE, "inputs.ts"),
  ]) {
    h.update(await readFile(f));
  }
  return `food11-model-import ${h.digest("hex").slice(0, 12)}`;
}

/**
 * The preprocessing to record: the model's own (a leading Rescaling layer: raw) or the one given;
 * a given one that contradicts the model is refused (it would normalise twice), and `auto` on a
 * model that says nothing is refused too (a guess would be silent).
 */
function decidePreprocess(
  given: PreprocessChoice,
  detected: PreprocessMode | null,
  evidence: string,
): PreprocessMode {
  if (given === "auto") {
    if (detected) return detected;
    throw new ImportError(
      `cannot tell how to scale pixels for this model: ${evidence}. Fix: --preprocess unit (pixels / 255, ` +
        "the report's recipe), mobilenet (keras.applications.mobilenet_v2.preprocess_input: x / 127.5 - 1) " +
        "or raw (0..255): what its training fed it",
    );
  }
  if (detected && detected !== given) {
    throw new ImportError(
      `--preprocess ${given} contradicts the model: ${evidence}. Feeding it ${describePreprocess(given)} ` +
        `would normalise twice (the classic silent failure: confident, wrong answers). Fix: --preprocess ${detected} ` +
        "(or auto)",
    );
  }
  return given;
}

interface Inspection {
  input: [number, number, number];
  classes: number;
  outputRank: number;
  name: string;
  detected: PreprocessMode | null;
  evidence: string;
}

interface Conversion {
  reference: string;
  formats: Record<string, { path?: string; error?: string; opset?: number }>;
  runtimes: Record<string, string>;
  tools: Record<string, string>;
}

/** Runs the Python half; a refusal (exit 3) becomes an ImportError with its message. */
function python<T>(py: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn("nice", ["-n", "10", py, PYTHON_SCRIPT, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2", PYTHONUNBUFFERED: "1" },
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      err = (err + s).slice(-20_000);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const refused = /FOOD11_REFUSED: (.*)/.exec(err);
      if (refused) reject(new ImportError(refused[1] as string));
      else if (code !== 0) {
        reject(
          new ImportError(
            `the Python step (${args[0]}) failed (exit ${code}):\n${err.slice(-3000)}`,
          ),
        );
      } else {
        try {
          resolve(JSON.parse(out.trim().split("\n").pop() as string) as T);
        } catch {
          reject(new Error(`the Python step (${args[0]}) printed no result:\n${out.slice(-2000)}`));
        }
      }
    });
  });
}

/** The labels when none are given: Food-11's 11 for an 11-output model, else none. */
function defaultLabels(classes: number): string[] | undefined {
  return classes === FOOD11_LABELS.length ? [...FOOD11_LABELS] : undefined;
}

/** tfjs-node's version and its TensorFlow, when it loads in app/ (it is an optional dependency). */
function tfjsNodeVersion(): string | undefined {
  return appPackageVersion("@tensorflow/tfjs-node");
}

/** The version of a package the server (app/) resolves, undefined when it is not installed. */
function appPackageVersion(pkg: string): string | undefined {
  try {
    const require = createRequire(path.join(APP, "package.json"));
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** The server's engines a format is checked on (`cpu`, tfjs' test-only backend, is not one). */
type ServerBackend = Exclude<EngineBackend, "cpu">;

const ENGINE_RUNTIME: Record<ServerBackend, (format: string) => string> = {
  tensorflow: (f) => `tfjs-node ${tfjsNodeVersion()} (${f}, the server's engine)`,
  wasm: (f) => `tfjs WASM (${f}, the server's engine)`,
  onnxruntime: (f) =>
    `onnxruntime-node ${appPackageVersion("onnxruntime-node")} (${f}, the server's engine)`,
};

/** Every probability of every input, from the server's own classifier on a backend. */
async function classifierOutputs(
  dir: string,
  backend: ServerBackend,
  images: { bytes: Buffer }[],
  classes: number,
  preprocess: PreprocessMode,
): Promise<{ probs: Float32Array; runtime: string }> {
  const c = await createClassifier({ modelDir: dir, backend, threads: 1, preprocess, queueMax: 4 });
  try {
    if (c.backend !== backend) throw new Error(`ran on ${c.backend}, not ${backend}`);
    const probs = new Float32Array(images.length * classes);
    for (const [i, img] of images.entries()) {
      const r = await c.classify(img.bytes, classes);
      for (const t of r.top) probs[i * classes + t.index] = t.probability;
    }
    return { probs, runtime: ENGINE_RUNTIME[backend](c.modelFormat) };
  } finally {
    await c.close();
  }
}

const readF32 = async (file: string): Promise<Float32Array> => {
  const b = await readFile(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice();
};

/** The import; see the file's comment. Throws ImportError (nothing written) on a refusal. */
export async function importModel(o: ImportOptions): Promise<ImportResult> {
  const t0 = performance.now();
  const log = o.log ?? ((l: string) => console.error(l));
  const say = (l: string) => log(`[model:import] ${l}`);
  const source = path.resolve(o.source);
  const out = path.resolve(o.out);
  const given = o.preprocess ?? "auto";
  if (!PREPROCESS_CHOICES.includes(given)) {
    throw new ImportError(`--preprocess ${given}: must be one of ${PREPROCESS_CHOICES.join(", ")}`);
  }
  const tolerance = o.tolerance ?? AGREEMENT_TOLERANCE;
  const kind = await sourceKind(source);
  const sha256 = await sha256Of(source);
  const givenLabels = o.labels
    ? parseLabels(
        await readFile(path.resolve(o.labels), "utf8").catch(() => {
          throw new ImportError(`--labels ${o.labels}: cannot read it`);
        }),
      )
    : undefined;
  const revision = await importerRevision();

  const current = await readFile(path.join(out, MANIFEST_FILE), "utf8")
    .then((t) => parseManifest(t, out))
    .catch(() => undefined);
  if (
    current &&
    (await upToDate(current, out, { sha256, given, tolerance, revision, givenLabels, o }))
  ) {
    say(`${out} is already this import (source sha256 ${sha256.slice(0, 12)}): nothing to do`);
    return {
      dir: out,
      manifest: current,
      upToDate: true,
      table: "",
      seconds: { pythonEnv: 0, total: (performance.now() - t0) / 1000 },
      pythonEnvCreated: false,
    };
  }

  const env = await pythonEnv(log);
  say(`inspecting ${path.basename(source)} (${kind})`);
  const info = await python<Inspection>(env.python, ["inspect", source, "--kind", kind]);
  if (info.outputRank !== 2) {
    throw new ImportError(
      `the model's output has rank ${info.outputRank}; one row of class scores per image (rank 2) is needed`,
    );
  }
  const preprocess = decidePreprocess(given, info.detected, info.evidence);
  const labels = givenLabels ?? defaultLabels(info.classes);
  if (!labels) {
    throw new ImportError(
      `the model has ${info.classes} outputs: give --labels <file> with ${info.classes} labels, one per line in output order`,
    );
  }
  if (labels.length !== info.classes) {
    throw new ImportError(
      `--labels ${o.labels} has ${labels.length} labels but the model has ${info.classes} outputs. Fix: one label per output, in output order`,
    );
  }
  const [height, width] = info.input;
  say(
    `input ${width}x${height}x3, ${info.classes} classes, preprocess ${preprocess} (${given === "auto" ? info.evidence : `given; ${info.evidence}`})`,
  );

  const parent = path.dirname(out);
  await mkdir(parent, { recursive: true });
  const stage = path.join(parent, `.${path.basename(out)}.import-${randomUUID().slice(0, 8)}`);
  const work = await mkdtemp(path.join(os.tmpdir(), "food11-import-"));
  try {
    const inputs = await verificationInputs(width, height, preprocess);
    const n = inputs.images.length;
    await writeFile(path.join(work, "inputs.f32"), inputs.floats);
    say(
      `converting and running the reference on ${n} inputs (Python: TensorFlow, tf2onnx, tensorflowjs)`,
    );
    const conv = await python<Conversion>(env.python, [
      "convert",
      source,
      "--kind",
      kind,
      "--out",
      stage,
      "--work",
      work,
      "--inputs",
      path.join(work, "inputs.f32"),
      "--count",
      String(n),
      "--shape",
      `${height},${width},3`,
    ]);
    const formats: Manifest["formats"] = {};
    const notes: string[] = [];
    for (const [f, r] of Object.entries(conv.formats)) {
      if (r.path) formats[f as keyof Manifest["formats"]] = r.path;
      else if (r.error) notes.push(`${f}: not written (${r.error})`);
    }
    for (const note of notes) say(note);
    const reference = await readF32(path.join(work, "reference.f32"));
    const rawRef = reference.slice();
    ensureProbabilities(reference, info.classes);
    const output = rawRef.every((v, i) => v === reference[i]) ? "probabilities" : "logits";

    const name = o.name ?? path.basename(source).replace(/\.(keras|h5|hdf5|onnx)$/i, "");
    const base: Omit<Manifest, "verification"> = {
      schemaVersion: MANIFEST_SCHEMA_VERSION,
      name,
      version: o.version ?? sha256.slice(0, 12),
      source: { kind, file: path.basename(source), sha256 },
      input: { height, width, channels: 3, layout: "NHWC", dtype: "float32" },
      preprocess,
      preprocessFrom: { given, detected: info.detected, evidence: info.evidence },
      output,
      classes: info.classes,
      labels: "labels.txt",
      formats,
      tools: {
        ...conv.tools,
        ...(tfjsNodeVersion() ? { "@tensorflow/tfjs-node": tfjsNodeVersion() as string } : {}),
        importer: revision,
      },
    };
    await writeFile(path.join(stage, "labels.txt"), `${labels.join("\n")}\n`);
    await writeFile(path.join(stage, MANIFEST_FILE), `${JSON.stringify(base, null, 2)}\n`);

    const checks: FormatCheck[] = [];
    const names = inputs.images.map((i) => i.name);
    const check = (f: string, runtime: string, probs: Float32Array) =>
      checks.push(
        compare(
          f,
          runtime,
          reference,
          ensureProbabilities(probs, info.classes),
          info.classes,
          names,
          tolerance,
        ),
      );
    /** A format's outputs from the server's own classifier on `backend`, checked. */
    const checkOnServer = async (f: string, backend: ServerBackend) => {
      const r = await classifierOutputs(stage, backend, inputs.images, info.classes, preprocess);
      check(f, r.runtime, r.probs);
    };
    /** A format's outputs as the Python step ran it (`<run>.f32` in work, runtimes[run]), checked. */
    const checkInPython = async (f: string, run: string) =>
      check(f, conv.runtimes[run] as string, await readF32(path.join(work, `${run}.f32`)));
    if (formats.savedmodel) {
      say("running saved_model/ on tfjs-node (the server's engine)");
      try {
        await checkOnServer("savedmodel", "tensorflow");
      } catch (err) {
        // tfjs-node is optional (docs/tfjs-node.md): then TensorFlow itself, in Python, runs it.
        say(
          `tfjs-node did not run it here (${(err as Error).message.split("\n")[0]}): checking it in Python's TensorFlow`,
        );
        await checkInPython("savedmodel", "savedmodel-python");
      }
    }
    if (formats.tfjs) {
      say("running tfjs/ on WASM (the server's engine)");
      await checkOnServer("tfjs", "wasm");
    }
    if (formats.onnx) {
      // Python's onnxruntime (beside tf2onnx) and onnxruntime-node, what the server runs with
      // TFJS_BACKEND=onnxruntime: both rows in the table, both must pass; the manifest records
      // the server engine's (the last check of a format).
      await checkInPython("onnx", "onnx");
      say("running model.onnx on onnxruntime-node (the server's engine)");
      await checkOnServer("onnx", "onnxruntime");
    }
    const table = verificationTable(checks, n, tolerance, conv.reference);
    if (checks.some((c) => !c.passed)) {
      throw new ImportError(`verification failed: nothing written.\n\n${table}`);
    }
    const manifest = ManifestSchema.parse({
      ...base,
      verification: {
        images: n,
        tolerance,
        reference: conv.reference,
        // one record per format: a later check of a format (the server's engine) replaces one before
        formats: Object.fromEntries(
          checks.map((c) => [
            c.format,
            { runtime: c.runtime, top1Agree: c.top1Agree, maxAbsDiff: c.maxAbsDiff },
          ]),
        ),
      },
    });
    await writeFile(path.join(stage, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(out, { recursive: true, force: true });
    await rename(stage, out);
    const total = (performance.now() - t0) / 1000;
    say(`${out}: ${Object.keys(formats).join(", ")} verified in ${total.toFixed(1)} s`);
    return {
      dir: out,
      manifest,
      upToDate: false,
      table: notes.length ? `${table}\n\n${notes.join("\n")}` : table,
      seconds: { pythonEnv: env.seconds, total },
      pythonEnvCreated: env.created,
    };
  } finally {
    await rm(stage, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

/** The directory already holds this import: same source, options, labels and importer. */
async function upToDate(
  m: Manifest,
  out: string,
  want: {
    sha256: string;
    given: PreprocessChoice;
    tolerance: number;
    revision: string;
    givenLabels: string[] | undefined;
    o: ImportOptions;
  },
): Promise<boolean> {
  if (m.source.sha256 !== want.sha256 || m.tools.importer !== want.revision) return false;
  if (m.preprocessFrom?.given !== want.given) return false;
  if (want.o.name !== undefined && m.name !== want.o.name) return false;
  if (want.o.version !== undefined && m.version !== want.o.version) return false;
  if (want.tolerance !== m.verification?.tolerance) return false;
  const labels = parseLabels(await readFile(path.join(out, m.labels), "utf8").catch(() => ""));
  const expected = want.givenLabels ?? defaultLabels(m.classes) ?? [];
  return labels.join("\n") === expected.join("\n");
}
