import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import {
  type AccuracyResult,
  accuracyMarkdown,
  directPredictor,
  type Predictor,
  scoreImages,
  serverPredictor,
} from "./accuracy.js";
import { writeLoadtestCsv } from "./csv.js";
import { loadLabeledSet } from "./dataset.js";
import { FOOD11_LABELS } from "./labels.js";
import { type LoadtestResult, runLoadtest } from "./loadtest.js";
import { progressBar } from "./progress.js";
import { checkTarget } from "./safety.js";
import { originalSchedule, readScheduleFile, type Schedule, scaleSchedule } from "./schedule.js";

export interface LoadtestCommand {
  url: string;
  schedule?: string;
  timeScale: number;
  delayScale?: number;
  seed: number;
  timeout: number;
  inFlight?: "drain" | "abort";
  out: string;
  allowRemote: boolean;
  quiet: boolean;
  signal?: AbortSignal;
}

export async function resolveSchedule(
  file: string | undefined,
  timeScale: number,
  delayScale?: number,
): Promise<Schedule> {
  const base = file ? await readScheduleFile(file) : originalSchedule();
  return scaleSchedule(base, timeScale, delayScale ?? timeScale);
}

export async function loadtestCommand(o: LoadtestCommand): Promise<LoadtestResult> {
  const url = checkTarget(o.url, o.allowRemote);
  const schedule = await resolveSchedule(o.schedule, o.timeScale, o.delayScale);
  const total = schedule.phases.reduce((a, p) => a + p.durationSeconds, 0);
  const bar = progressBar(
    Math.ceil(total),
    "load {bar} {value}/{total} s | phase {phase} | trans {trans} | failed {failed}",
    o.quiet,
    { phase: `1/${schedule.phases.length}`, trans: 0, failed: 0 },
  );
  let result: LoadtestResult;
  try {
    result = await runLoadtest({
      url,
      schedule,
      seed: o.seed,
      timeoutSeconds: o.timeout,
      ...(o.inFlight ? { inFlight: o.inFlight } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      onProgress: (p) =>
        bar.update(Math.floor(p.elapsedSeconds), {
          phase: `${p.phaseIndex + 1}/${p.phases}`,
          trans: p.transactions,
          failed: p.failed,
        }),
    });
  } finally {
    bar.stop();
  }
  await mkdir(dirname(resolve(o.out)), { recursive: true });
  await writeLoadtestCsv(o.out, [...result.phases, result.overall]);
  return result;
}

export interface AccuracyCommand {
  images: string;
  url?: string;
  modelDir?: string;
  modelUrl?: string;
  preprocess?: "unit" | "mobilenet";
  backend?: "auto" | "tensorflow" | "wasm";
  threads?: number;
  labels?: string[];
  perClass?: number;
  concurrency: number;
  model?: string;
  out: string;
  markdown?: string;
  allowRemote: boolean;
  quiet: boolean;
}

export async function accuracyCommand(o: AccuracyCommand): Promise<AccuracyResult> {
  let predictor: Predictor;
  let labels: readonly string[] = o.labels ?? FOOD11_LABELS;
  if (o.url) {
    predictor = serverPredictor(checkTarget(o.url, o.allowRemote));
  } else {
    const direct = await directPredictor({
      ...(o.modelDir ? { modelDir: o.modelDir } : {}),
      ...(o.modelUrl ? { modelUrl: o.modelUrl } : {}),
      ...(o.preprocess ? { preprocess: o.preprocess } : {}),
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.threads ? { threads: o.threads } : {}),
    });
    predictor = direct;
    if (!o.labels) labels = direct.labels;
  }
  try {
    const images = await loadLabeledSet(o.images, labels, o.perClass);
    const bar = progressBar(images.length, "accuracy {bar} {value}/{total} images", o.quiet);
    const result = await scoreImages(images, predictor, {
      concurrency: o.concurrency,
      labelOrder: labels,
      model: o.model ?? o.modelDir ?? o.modelUrl ?? o.url ?? "model",
      dataset: o.images,
      onProgress: (done) => bar.update(done),
    });
    bar.stop();
    await mkdir(dirname(resolve(o.out)), { recursive: true });
    await writeFile(o.out, `${JSON.stringify(result, null, 2)}\n`);
    if (o.markdown) await writeFile(o.markdown, accuracyMarkdown(result));
    return result;
  } finally {
    await predictor.close();
  }
}
