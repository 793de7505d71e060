/**
 * A model directory's manifest.json: what the directory holds and how it must be fed, written by
 * `npm run model:import` (tools/model-import, verified against the framework that trained the
 * model) or by the demo model's builder (app/lib/demo-model). The contract every engine reads
 * (docs/models.md):
 *
 *   <model dir>/manifest.json   this file
 *               labels.txt      one label per line, in output order (`labels`)
 *               saved_model/    TensorFlow SavedModel: tfjs-node's native loader (`formats.savedmodel`)
 *               tfjs/model.json tfjs graph or layers model + shards: WASM, or tfjs-node (`formats.tfjs`;
 *                               the demo model keeps its files at the top: `model.json`)
 *               model.onnx      ONNX: the ONNX Runtime engine (`formats.onnx`)
 *
 * A directory without manifest.json (a tfjs model converted by hand) is still served, as before:
 * unverified, fed as PREPROCESS says.
 */
import path from "node:path";
import { z } from "zod";
import { agreementProblems } from "./agreement.js";
import { PREPROCESS_MODES, type PreprocessMode } from "./normalize.js";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_SCHEMA_VERSION = 1;
export { PREPROCESS_MODES };
export const SOURCE_KINDS = ["keras", "h5", "savedmodel", "onnx", "demo"] as const;
export const MODEL_FORMATS = ["savedmodel", "tfjs", "onnx"] as const;
export type ModelFormatName = (typeof MODEL_FORMATS)[number];
/** Where each format is in a model directory unless `formats` says otherwise. */
export const DEFAULT_FORMAT_PATHS: Record<ModelFormatName, string> = {
  savedmodel: "saved_model",
  tfjs: "tfjs/model.json",
  onnx: "model.onnx",
};

const relativePath = z
  .string()
  .min(1)
  .refine(
    (p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes(".."),
    "must be a path inside the model directory (relative, no '..')",
  );
const count = z.number().int().min(1);

/** One format's verification: its outputs next to the reference's on the same inputs. */
export const FormatVerificationSchema = z.object({
  /** What ran it, e.g. `tfjs-node 4.22.0 (TensorFlow 2.18.1)`. */
  runtime: z.string().min(1),
  /** Inputs on which its top-1 class equals the reference's. */
  top1Agree: z.number().int().min(0),
  /** Largest |p_format - p_reference| over every input and class. */
  maxAbsDiff: z.number().min(0),
});

export const ManifestSchema = z.looseObject({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  name: z.string().min(1),
  version: z.string().min(1),
  source: z.object({
    kind: z.enum(SOURCE_KINDS),
    /** The file (or directory) imported, as given; the demo model: its builder. */
    file: z.string().min(1),
    /** sha256 of the source file (a SavedModel directory: of its files); demo: of its own files. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 in hex"),
  }),
  input: z.object({
    height: count,
    width: count,
    channels: z.literal(3),
    layout: z.literal("NHWC"),
    dtype: z.literal("float32"),
  }),
  /** raw: 0..255; unit: x / 255; mobilenet: x / 127.5 - 1 (normalize.ts). */
  preprocess: z.enum(PREPROCESS_MODES),
  /** How `preprocess` was decided at import: what was asked, what the model says, and why. */
  preprocessFrom: z
    .object({
      given: z.enum(["auto", ...PREPROCESS_MODES]),
      detected: z.enum(PREPROCESS_MODES).nullable(),
      evidence: z.string(),
    })
    .optional(),
  /** Output units; the model's own output is `probabilities` (softmax) or `logits`. */
  output: z.enum(["probabilities", "logits"]).optional(),
  classes: count,
  labels: relativePath.default("labels.txt"),
  formats: z
    .object({
      savedmodel: relativePath.optional(),
      tfjs: relativePath.optional(),
      onnx: relativePath.optional(),
    })
    .refine((f) => Object.values(f).some(Boolean), "must name at least one format"),
  /** Versions of what wrote the directory (Python packages, converters, the builder). */
  tools: z.record(z.string(), z.string()),
  /** Absent only from a bare demo model of an older builder (nothing was converted then). */
  verification: z
    .object({
      images: count,
      tolerance: z.number().positive(),
      /** What the formats were compared with, e.g. `Keras 3.15.1 model(x)`. */
      reference: z.string().min(1),
      /**
       * The format the reference itself ran, which needs no check against it: the demo model's
       * `tfjs` (its model.onnx is exported from that model and checked against it). Absent for an
       * import, whose reference is the source in its own framework.
       */
      referenceFormat: z.enum(MODEL_FORMATS).optional(),
      formats: z.partialRecord(z.enum(MODEL_FORMATS), FormatVerificationSchema),
    })
    .optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;

export class ManifestError extends Error {
  override name = "ManifestError";
}

/** Parses and checks a manifest; `where` names it in errors (a path or URL). */
export function parseManifest(text: string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${where}: not JSON (${(err as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ManifestError(`${where}: not a model manifest:\n  ${lines.join("\n  ")}`);
  }
  return parsed.data;
}

/**
 * A manifest the server may serve: every verified format agreed with the reference (agreement.ts:
 * top-1 on every input, probabilities within the tolerance). The importer never writes one that
 * did not; this refuses a hand-edited or stale one. Returns the problems (empty: servable).
 */
export function verificationProblems(m: Manifest): string[] {
  const v = m.verification;
  if (!v) return [];
  const problems: string[] = [];
  for (const [format, check] of Object.entries(v.formats)) {
    if (!check) continue;
    for (const p of agreementProblems(check, v.images, v.tolerance))
      problems.push(`${format}: ${p}`);
  }
  for (const format of Object.keys(m.formats) as ModelFormatName[]) {
    if (m.formats[format] && !v.formats[format] && format !== v.referenceFormat) {
      problems.push(`${format}: not verified`);
    }
  }
  return problems;
}

/** The demo model (seeded random weights, made by app/lib/demo-model), decided by its manifest. */
export function isDemoManifest(m: Manifest | undefined): boolean {
  return m?.source.kind === "demo";
}

export class PreprocessMismatchError extends Error {
  override name = "PreprocessMismatchError";
}

/**
 * The preprocessing to serve with: the manifest's (recorded, and checked, at import) unless none
 * is recorded; an explicit `requested` that disagrees with the manifest is refused, saying why
 * (feeding a model what it was not trained on, e.g. normalising twice, gives confident nonsense).
 */
export function resolvePreprocess(
  manifest: Manifest | undefined,
  requested: PreprocessMode | undefined,
): { mode: PreprocessMode; from: "manifest" | "PREPROCESS" | "default" } {
  if (!manifest)
    return requested ? { mode: requested, from: "PREPROCESS" } : { mode: "unit", from: "default" };
  if (requested && requested !== manifest.preprocess) {
    const why = manifest.preprocessFrom?.evidence ? ` (${manifest.preprocessFrom.evidence})` : "";
    throw new PreprocessMismatchError(
      `PREPROCESS=${requested} but the model's manifest.json says preprocess "${manifest.preprocess}"${why}: ` +
        `the model was imported and verified with ${manifest.preprocess}, and ${requested} would feed it ` +
        `${describePreprocess(requested)} instead of ${describePreprocess(manifest.preprocess)}. Fix: unset ` +
        "PREPROCESS (the manifest decides), or import the model again with --preprocess if the manifest is wrong.",
    );
  }
  return { mode: manifest.preprocess, from: "manifest" };
}

export function describePreprocess(mode: PreprocessMode): string {
  return mode === "raw"
    ? "pixels 0..255"
    : mode === "unit"
      ? "pixels / 255 in [0, 1]"
      : "pixels / 127.5 - 1 in [-1, 1]";
}
