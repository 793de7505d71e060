import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { markdownTable } from "./benchkit.js";
import type { LabeledImage } from "./dataset.js";
import { FormData, request } from "./http.js";
import { type ClassificationMetrics, classificationMetrics } from "./metrics.js";

/** Something that names the class of an image: a running server, or the model loaded here. */
export interface Predictor {
  describe: string;
  /** The tfjs backend that answered ("tensorflow", "wasm"), once known. */
  backend?: string;
  /** The model the server says it serves (its /predict answer), once known. */
  serverModel?: { name: string; version: string };
  predict(image: Buffer, file: string): Promise<string>;
  close(): Promise<void>;
}

/** POST each image to `<url>/predict` (multipart field `file`) and read `label` from the JSON. */
export function serverPredictor(baseUrl: URL, timeoutSeconds = 60): Predictor {
  const predictUrl = new URL("predict", baseUrl.href.endsWith("/") ? baseUrl : `${baseUrl.href}/`);
  const p: Predictor = {
    describe: `server ${predictUrl.href}`,
    async predict(image, file) {
      const form = new FormData();
      form.append("file", new Blob([image], { type: mimeOf(file) }), basename(file));
      const res = await request(predictUrl, {
        method: "POST",
        body: form,
        headersTimeout: timeoutSeconds * 1000,
        bodyTimeout: timeoutSeconds * 1000,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) {
        throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      }
      const body = JSON.parse(text) as {
        label?: unknown;
        model?: { backend?: unknown; name?: unknown; version?: unknown };
      };
      if (typeof body.label !== "string") throw new Error("response has no label");
      if (typeof body.model?.backend === "string") p.backend = body.model.backend;
      if (typeof body.model?.name === "string") {
        p.serverModel = { name: body.model.name, version: String(body.model.version ?? "") };
      }
      return body.label;
    },
    async close() {},
  };
  return p;
}

function mimeOf(file: string): string {
  if (/\.png$/i.test(file)) return "image/png";
  if (/\.webp$/i.test(file)) return "image/webp";
  return "image/jpeg";
}

export interface DirectOptions {
  modelDir?: string;
  modelUrl?: string;
  preprocess?: "raw" | "unit" | "mobilenet";
  backend?: "auto" | "tensorflow" | "wasm" | "onnxruntime";
  threads?: number;
}

/** The inference module's contract (app/src/inference/classifier.ts, common.md). */
interface ClassifierModule {
  createClassifier(opts: DirectOptions): Promise<{
    classify(image: Buffer, topk?: number): Promise<{ label: string }>;
    backend: string;
    labels: readonly string[];
    close(): Promise<void>;
  }>;
}

const CLASSIFIER_MODULE = resolve(import.meta.dirname, "../../../app/src/inference/classifier.ts");

/** Load the model in this process through the server's own inference module. */
export async function directPredictor(
  opts: DirectOptions,
): Promise<Predictor & { labels: string[] }> {
  // A path known only at run time: the app package is type-checked on its own (tsconfig in app/).
  const mod = (await import(pathToFileURL(CLASSIFIER_MODULE).href)) as ClassifierModule;
  const clf = await mod.createClassifier(opts);
  return {
    describe: `model ${opts.modelDir ?? opts.modelUrl ?? "(default)"} on ${clf.backend}`,
    backend: clf.backend,
    labels: [...clf.labels],
    predict: async (image) => (await clf.classify(image, 1)).label,
    close: () => clf.close(),
  };
}

export interface Prediction {
  file: string;
  label: string;
  predicted?: string;
  error?: string;
}

export interface AccuracyResult {
  model: string;
  source: string;
  dataset: string;
  images: number;
  errors: number;
  /** The tfjs backend that answered, when the predictor said. */
  backend?: string;
  /** The model the server said it serves. */
  serverModel?: { name: string; version: string };
  metrics: ClassificationMetrics;
  predictions: Prediction[];
}

/** Score every image with at most `concurrency` in flight; failures are counted, not scored. */
export async function scoreImages(
  images: LabeledImage[],
  predictor: Predictor,
  opts: {
    concurrency?: number;
    labelOrder?: readonly string[];
    model: string;
    dataset: string;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<AccuracyResult> {
  const results: Prediction[] = new Array(images.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    for (let i = next++; i < images.length; i = next++) {
      const img = images[i] as LabeledImage;
      try {
        const predicted = await predictor.predict(await readFile(img.path), img.path);
        results[i] = { file: img.path, label: img.label, predicted };
      } catch (err) {
        results[i] = { file: img.path, label: img.label, error: (err as Error).message };
      }
      opts.onProgress?.(++done, images.length);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, images.length));
  await Promise.all(Array.from({ length: n }, worker));
  const scored = results.filter((r) => r.predicted !== undefined);
  if (scored.length === 0) {
    throw new Error(`no image could be scored: ${results[0]?.error ?? "empty set"}`);
  }
  const metrics = classificationMetrics(
    scored.map((r) => r.label),
    scored.map((r) => r.predicted as string),
    opts.labelOrder,
  );
  return {
    model: opts.model,
    source: predictor.describe,
    dataset: opts.dataset,
    images: images.length,
    errors: images.length - scored.length,
    ...(predictor.backend ? { backend: predictor.backend } : {}),
    ...(predictor.serverModel ? { serverModel: predictor.serverModel } : {}),
    metrics,
    predictions: results,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export function accuracyMarkdown(r: AccuracyResult): string {
  const m = r.metrics;
  const lines = [
    `# Accuracy: ${r.model}`,
    "",
    `Scored ${m.samples} of ${r.images} images from \`${r.dataset}\` through ${r.source}` +
      (r.errors > 0 ? ` (${r.errors} failed and are not scored).` : "."),
    "",
    "| metric | support-weighted (the report's) | macro |",
    "|---|---|---|",
    `| accuracy | ${pct(m.accuracy)} | |`,
    `| precision | ${pct(m.weighted.precision)} | ${pct(m.macro.precision)} |`,
    `| recall | ${pct(m.weighted.recall)} | ${pct(m.macro.recall)} |`,
    `| F1 | ${pct(m.weighted.f1)} | ${pct(m.macro.f1)} |`,
    "",
    "## Per class",
    "",
    ...markdownTable(
      ["class", "precision", "recall", "F1", "support", "predicted"],
      m.perClass.map((c) => [
        c.label,
        pct(c.precision),
        pct(c.recall),
        pct(c.f1),
        String(c.support),
        String(c.predicted),
      ]),
    ),
    "",
    "## Confusion matrix (rows: true class, columns: predicted)",
    "",
    ...markdownTable(
      ["true \\ predicted", ...m.labels],
      m.labels.map((l, i) => [l, ...(m.confusion[i] ?? []).map(String)]),
    ),
    "",
  ];
  if (m.warnings.length > 0) {
    lines.push(
      "## Warnings (zero_division: set to 0, as scikit-learn does)",
      "",
      ...m.warnings.map((w) => `- ${w}`),
      "",
    );
  }
  return lines.join("\n");
}
