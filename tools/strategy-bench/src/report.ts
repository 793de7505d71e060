import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { type ChartDef, renderChart } from "./charts.js";
import { readLoadtestCsv } from "./csv.js";
import {
  type LoadSummary,
  ORIGINAL_DIVISOR_SECONDS,
  type ResourceSummary,
  readMonitorCsv,
  summarizeLoad,
  summarizeResources,
} from "./summary.js";

const runSchema = z
  .object({
    /** The point's label; default "<stack> / <model>". */
    name: z.string().min(1).optional(),
    stack: z.string().min(1),
    model: z.string().min(1),
    /** An accuracy JSON written by `strategy-bench accuracy`, or a fraction (0.8787). */
    accuracy: z.union([z.string().min(1), z.number().min(0).max(1)]),
    loadtest: z.string().min(1),
    monitor: z.string().min(1),
    /** Optional recipe rows for the configuration table (e.g. from the stack file). */
    config: z.record(z.string(), z.string()).optional(),
  })
  .strict();

/** A report manifest (YAML or JSON); paths are relative to the manifest. */
export const manifestSchema = z
  .object({
    title: z.string().default("Deployment strategies: accuracy against cost and speed"),
    /** Paragraphs printed under the title (e.g. what the demo can and cannot show). */
    notes: z.array(z.string()).default([]),
    runs: z.array(runSchema).min(1),
  })
  .strict();

export type Manifest = z.input<typeof manifestSchema>;
export type RunSpec = z.output<typeof runSchema>;

export async function readManifest(path: string): Promise<{ manifest: Manifest; baseDir: string }> {
  const text = await readFile(path, "utf8");
  return { manifest: parseYaml(text) as Manifest, baseDir: dirname(resolve(path)) };
}

interface AccuracyFigures {
  accuracy: number;
  precision?: number;
  recall?: number;
  f1?: number;
  samples?: number;
}

async function readAccuracy(spec: number | string, baseDir: string): Promise<AccuracyFigures> {
  if (typeof spec === "number") return { accuracy: spec };
  const j = JSON.parse(await readFile(resolve(baseDir, spec), "utf8")) as {
    metrics?: {
      accuracy: number;
      samples: number;
      weighted: { precision: number; recall: number; f1: number };
    };
  };
  if (!j.metrics || typeof j.metrics.accuracy !== "number") {
    throw new Error(`${spec}: not an accuracy result (no metrics.accuracy)`);
  }
  return {
    accuracy: j.metrics.accuracy,
    precision: j.metrics.weighted.precision,
    recall: j.metrics.weighted.recall,
    f1: j.metrics.weighted.f1,
    samples: j.metrics.samples,
  };
}

export interface RunSummary {
  name: string;
  stack: string;
  model: string;
  accuracy: AccuracyFigures;
  load: LoadSummary;
  resources: ResourceSummary;
  config?: Record<string, string>;
}

export async function summarizeRuns(manifest: Manifest, baseDir: string): Promise<RunSummary[]> {
  const m = manifestSchema.parse(manifest);
  return Promise.all(
    m.runs.map(async (r) => ({
      name: r.name ?? `${r.stack} / ${r.model}`,
      stack: r.stack,
      model: r.model,
      accuracy: await readAccuracy(r.accuracy, baseDir),
      load: summarizeLoad(await readLoadtestCsv(resolve(baseDir, r.loadtest))),
      resources: summarizeResources(await readMonitorCsv(resolve(baseDir, r.monitor))),
      ...(r.config ? { config: r.config } : {}),
    })),
  );
}

export function chartDefs(runs: RunSummary[]): ChartDef[] {
  const pts = (f: (r: RunSummary) => number) =>
    runs.map((r) => ({ run: r.name, x: f(r), accuracy: r.accuracy.accuracy }));
  return [
    {
      id: "accuracy-vs-memory-used",
      title: "Accuracy against memory used",
      xTitle: "memory used (KB, mean over the test)",
      points: pts((r) => r.resources.memUsedKB),
    },
    {
      id: "accuracy-vs-memory-requested",
      title: "Accuracy against memory requested",
      xTitle: "memory requested (KB, mean over the test)",
      points: pts((r) => r.resources.memRequestedKB),
    },
    {
      id: "accuracy-vs-transaction-rate",
      title: "Accuracy against transaction rate",
      xTitle: "transaction rate (OKAY per second of the test)",
      points: pts((r) => r.load.transactionRate),
    },
    {
      id: "accuracy-vs-response-time",
      title: "Accuracy against response time",
      xTitle: "response time (s, weighted by OKAY)",
      points: pts((r) => r.load.responseTime),
    },
  ];
}

const fmt = (n: number, digits = 2) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
const pct = (n: number | undefined) => (n === undefined ? "n/a" : `${fmt(100 * n)}%`);

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

export function reportMarkdown(
  title: string,
  runs: RunSummary[],
  charts: string[],
  notes: string[] = [],
): string {
  const head = ["metric", ...runs.map((r) => r.name)];
  const row = (label: string, f: (r: RunSummary) => string) => [label, ...runs.map(f)];
  const out = [
    `# ${title}`,
    "",
    "Each column is one run: a stack (deployment strategy) serving a model under the load schedule,",
    "with its resources sampled throughout. Lower memory and response time and a higher transaction",
    "rate are better; accuracy is the model's, measured on a labeled image set.",
    "",
    ...notes.flatMap((n) => [`> ${n}`, ""]),
    "## Summary",
    "",
    ...table(head, [
      row("accuracy", (r) => pct(r.accuracy.accuracy)),
      row("precision (support-weighted)", (r) => pct(r.accuracy.precision)),
      row("recall (support-weighted)", (r) => pct(r.accuracy.recall)),
      row("F1 (support-weighted)", (r) => pct(r.accuracy.f1)),
      row("memory requested (KB, mean over the test)", (r) => fmt(r.resources.memRequestedKB)),
      row("memory used (KB, mean)", (r) => fmt(r.resources.memUsedKB)),
      row("response time (s, weighted by OKAY)", (r) => fmt(r.load.responseTime)),
      row("transaction rate (/s, OKAY / real duration)", (r) => fmt(r.load.transactionRate)),
      row(
        `transaction rate (/s, OKAY / ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")}, as the original)`,
        (r) => fmt(r.load.transactionRateOriginal),
      ),
    ]),
    "",
    "## Load and resources",
    "",
    ...table(head, [
      row("transactions", (r) => String(r.load.transactions)),
      row("OKAY", (r) => String(r.load.okay)),
      row("failed", (r) => String(r.load.failed)),
      row("test duration (s)", (r) => fmt(r.load.durationSeconds, 1)),
      row("response time, plain mean of phases (s)", (r) => fmt(r.load.responseTimePhaseMean)),
      row(
        "replicas (mean / max)",
        (r) => `${fmt(r.resources.meanReplicas)} / ${r.resources.maxReplicas}`,
      ),
      row("CPU used (cores, mean)", (r) => fmt(r.resources.meanCpuUsed, 3)),
      row("resource samples", (r) => String(r.resources.samples)),
      row("stack", (r) => r.stack),
      row("model", (r) => r.model),
    ]),
    "",
  ];
  const configKeys = [...new Set(runs.flatMap((r) => Object.keys(r.config ?? {})))];
  if (configKeys.length > 0) {
    out.push(
      "## Configuration of each run",
      "",
      ...table(
        ["setting", ...runs.map((r) => r.name)],
        configKeys.map((k) => [k, ...runs.map((r) => r.config?.[k] ?? "")]),
      ),
      "",
    );
  }
  out.push(
    "## Charts",
    "",
    ...charts.flatMap((c) => [`![${c}](${c}.png)`, ""]),
    "## How the figures are computed",
    "",
    "- memory requested / used: the mean, over every resource sample (every 5 s by default), of",
    "  the summed memory requests / usage of the app's pods, in KB (1 KB = 1,024 bytes).",
    "- response time: sum(OKAY × phase response time) / sum(OKAY), i.e. weighted by the successful",
    "  transactions of each phase, not the plain mean of the phases (shown above for comparison).",
    "- transaction rate: sum(OKAY) / the real duration of the test (the sum of the phases' elapsed",
    `  times). The original recipe divided by ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")} s although its`,
    "  schedule lasts 1,800 s, which halves the rate; that figure is shown beside it, to compare",
    "  with the original report only.",
    "",
  );
  return out.join("\n");
}

export interface ReportFiles {
  markdown: string;
  json: string;
  charts: { svg: string; png: string }[];
}

/** Summaries, charts (SVG + PNG) and report.md/summary.json into `outDir`. */
export async function writeReport(
  manifest: Manifest,
  baseDir: string,
  outDir: string,
): Promise<{ files: ReportFiles; runs: RunSummary[] }> {
  const { title, notes } = manifestSchema.parse(manifest);
  const runs = await summarizeRuns(manifest, baseDir);
  await mkdir(outDir, { recursive: true });
  const defs = chartDefs(runs);
  const charts: { svg: string; png: string }[] = [];
  for (const def of defs) {
    const { svg, png } = await renderChart(def);
    const svgPath = join(outDir, `${def.id}.svg`);
    const pngPath = join(outDir, `${def.id}.png`);
    await writeFile(svgPath, svg);
    await writeFile(pngPath, png);
    charts.push({ svg: svgPath, png: pngPath });
  }
  const markdown = join(outDir, "report.md");
  await writeFile(
    markdown,
    reportMarkdown(
      title,
      runs,
      defs.map((d) => d.id),
      notes,
    ),
  );
  const json = join(outDir, "summary.json");
  await writeFile(json, `${JSON.stringify({ title, runs }, null, 2)}\n`);
  return { files: { markdown, json, charts }, runs };
}

export function relativeTo(from: string, p: string): string {
  return relative(from, p) || ".";
}
