import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  type AccuracyResult,
  accuracyMarkdown,
  type DirectOptions,
  directPredictor,
  type Predictor,
  scoreImages,
  serverPredictor,
} from "./accuracy.js";
import { writeLoadtestCsv } from "./csv.js";
import { loadLabeledSet } from "./dataset.js";
import { FOOD11_LABELS } from "./labels.js";
import { type LoadtestResult, loadtestProblem, runLoadtest } from "./loadtest.js";
import { currentLoad, thisMachine } from "./machine.js";
import { type MonitorOptions, runMonitor } from "./monitor.js";
import { progressBar } from "./progress.js";
import { type LoadtestMeta, metaPathFor, writeJson } from "./runmeta.js";
import { checkTarget, isLoopbackHost, normalizeUrlPath } from "./safety.js";
import {
  originalSchedule,
  readScheduleFile,
  type Schedule,
  scaleSchedule,
  scheduleSeconds,
} from "./schedule.js";

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
  /** Notes for the user (a normalised URL); default: none. */
  log?: (line: string) => void;
}

export async function resolveSchedule(
  file: string | undefined,
  timeScale: number,
  delayScale?: number,
): Promise<Schedule> {
  const base = file ? await readScheduleFile(file) : originalSchedule();
  return scaleSchedule(base, timeScale, delayScale ?? timeScale);
}

/**
 * Run the schedule against `o.url`, write the CSV and its meta file (loadtest.meta.json: what
 * decided the numbers). A doubled slash in the path ("$URL/test" with $URL ending in "/") is
 * made one. The result's `problem` says when most requests failed; the CLI exits non-zero then.
 */
export async function loadtestCommand(
  o: LoadtestCommand,
): Promise<LoadtestResult & { meta: LoadtestMeta; metaPath: string }> {
  const given = checkTarget(o.url, o.allowRemote);
  const { url, changed } = normalizeUrlPath(given);
  if (changed) o.log?.(`note: --url ${given.href} has a doubled slash; using ${url.href}`);
  const schedule = await resolveSchedule(o.schedule, o.timeScale, o.delayScale);
  const machine = thisMachine();
  const total = scheduleSeconds(schedule);
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
  const problem = loadtestProblem(result);
  const meta: LoadtestMeta = {
    url: url.href,
    schedule: schedule.name,
    timeScale: o.timeScale,
    delayScale: o.delayScale ?? o.timeScale,
    seed: o.seed,
    plannedSeconds: total,
    fullLength: o.schedule === undefined && o.timeScale === 1,
    loopback: isLoopbackHost(url.hostname),
    machine: { ...machine, loadAfter: currentLoad() },
    statusCodes: result.overall.statusCodes,
    socketFailures: result.overall.socketFailures,
    ...(problem ? { problem } : {}),
  };
  const metaPath = metaPathFor(o.out);
  await writeJson(metaPath, meta);
  return { ...result, meta, metaPath };
}

/** A labeled image folder that exists, or an error naming the value and the fix. */
async function checkImagesDir(dir: string): Promise<void> {
  const fix =
    "give the folder of labeled images (Food-11's evaluation/ with <classIndex>_<n>.jpg, or a " +
    "folder per class); `strategy-bench make-images --out <dir>` writes a small test set";
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch {
    throw new Error(`--images ${dir}: no such folder (${resolve(dir)}); ${fix}`);
  }
  if (!isDir) throw new Error(`--images ${dir}: not a folder; ${fix}`);
}

/** `accuracy`: a server's (`url`) or, with the direct mode's options, a model's in this process. */
export interface AccuracyCommand extends DirectOptions {
  images: string;
  url?: string;
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
  await checkImagesDir(o.images);
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
    await writeJson(o.out, result);
    if (o.markdown) {
      await mkdir(dirname(resolve(o.markdown)), { recursive: true });
      await writeFile(o.markdown, accuracyMarkdown(result));
    }
    return result;
  } finally {
    await predictor.close();
  }
}

// ---------------------------------------------------------------- a run's two steps

/**
 * A stack run's files in its folder (demo, cluster run): what its steps write (runAccuracy,
 * runLoad; a cluster run's events, cluster/events.ts), what the manifest names and the planner's
 * checks read.
 */
export const RUN_FILES = {
  accuracy: "accuracy.json",
  accuracyMarkdown: "accuracy.md",
  loadtest: "loadtest.csv",
  monitor: "monitor.csv",
  events: "events.json",
} as const;

/**
 * A stack run's files as its manifest entry names them: `dir` (the run's folder, relative to the
 * output folder), then the file.
 */
export function runEntryFiles(dir: string) {
  return {
    accuracy: `${dir}/${RUN_FILES.accuracy}`,
    loadtest: `${dir}/${RUN_FILES.loadtest}`,
    monitor: `${dir}/${RUN_FILES.monitor}`,
  };
}

/**
 * A run's accuracy step against its server (demo, cluster run): the demo model on the run's
 * image set, 2 at a time, into `dir`/accuracy.json and accuracy.md.
 */
export function runAccuracy(o: {
  images: string;
  url: string;
  dir: string;
  quiet: boolean;
}): Promise<AccuracyResult> {
  return accuracyCommand({
    images: o.images,
    url: o.url,
    concurrency: 2,
    model: "demo (seeded, untrained)",
    out: join(o.dir, RUN_FILES.accuracy),
    markdown: join(o.dir, RUN_FILES.accuracyMarkdown),
    allowRemote: false,
    quiet: o.quiet,
  });
}

/**
 * A run's load step (demo, cluster run): the original schedule (or `schedule`), scaled, into
 * `dir`/loadtest.csv while `monitor` samples into `dir`/monitor.csv until the load ends; says any
 * problem and the overall figures through `say`.
 */
export async function runLoad(
  o: Omit<LoadtestCommand, "timeout" | "inFlight" | "out" | "allowRemote" | "log"> & {
    dir: string;
    log: (line: string) => void;
    say: (line: string) => void;
  },
  monitor: Omit<MonitorOptions, "out" | "signal">,
) {
  const { dir, say, ...load } = o;
  const stopMonitor = new AbortController();
  const monitorDone = runMonitor({
    ...monitor,
    out: join(dir, RUN_FILES.monitor),
    signal: stopMonitor.signal,
  });
  try {
    const lt = await loadtestCommand({
      ...load,
      timeout: 30,
      out: join(dir, RUN_FILES.loadtest),
      allowRemote: false,
    });
    if (lt.meta.problem) say(`warning: ${lt.meta.problem}`);
    say(
      `${lt.overall.transactions} transactions, ${lt.overall.okay} OKAY, ${lt.overall.failed} failed, ` +
        `mean response ${lt.overall.responseTime.toFixed(3)} s`,
    );
    return lt;
  } finally {
    stopMonitor.abort();
    await monitorDone;
  }
}
