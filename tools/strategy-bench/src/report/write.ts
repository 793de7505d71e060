/** `strategy-bench report`: a manifest's runs summarised, charted and written out. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeCharts } from "../charts.js";
import { reportCharts } from "./charts.js";
import { type Manifest, manifestSchema } from "./manifest.js";
import { reportMarkdown } from "./markdown.js";
import { isDemo, type RunSummary, summarizeRuns } from "./summarize.js";

export interface ReportFiles {
  markdown: string;
  json: string;
  charts: { id: string; svg: string; png: string }[];
}

/** Summaries, charts (SVG + PNG) and report.md/summary.json into `outDir`. */
export async function writeReport(
  manifest: Manifest,
  baseDir: string,
  outDir: string,
): Promise<{ files: ReportFiles; runs: RunSummary[] }> {
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) {
    throw new Error(
      `the manifest is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`,
    );
  }
  const { title, notes, cluster } = parsed.data;
  const runs = await summarizeRuns(manifest, baseDir);
  const demo = isDemo(parsed.data, runs);
  await mkdir(outDir, { recursive: true });
  const defs = reportCharts(runs, demo, cluster);
  const charts = await writeCharts(outDir, defs);
  const markdown = join(outDir, "report.md");
  await writeFile(
    markdown,
    reportMarkdown(
      title,
      runs,
      defs.map((d) => d.id),
      notes,
      { demo, ...(cluster ? { cluster } : {}) },
    ),
  );
  const json = join(outDir, "summary.json");
  await writeFile(
    json,
    `${JSON.stringify({ title, demo, ...(cluster ? { cluster } : {}), runs }, null, 2)}\n`,
  );
  return { files: { markdown, json, charts }, runs };
}
