/** `strategy-bench report`: a manifest's runs summarised, charted and written out. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { writeCharts } from "../charts.js";
import { zodIssues } from "../issues.js";
import { writeJson } from "../runmeta.js";
import { reportCharts } from "./charts.js";
import { readHtmlCharts, writeHtmlReport } from "./html.js";
import { type Manifest, manifestSchema } from "./manifest.js";
import { reportMarkdown } from "./markdown.js";
import { reportPage } from "./page.js";
import { isDemo, type RunSummary, summarizeRuns } from "./summarize.js";

export interface ReportFiles {
  markdown: string;
  json: string;
  /** report.html: the page a manager opens (verdict, tables, charts inline, conditions). */
  html: string;
  charts: { id: string; svg: string; png: string }[];
}

/**
 * Summaries, charts (SVG + PNG), report.md, summary.json and report.html into `outDir`.
 * `command`: the command line the page names (default: this process's, report/conditions.ts).
 */
export async function writeReport(
  manifest: Manifest,
  baseDir: string,
  outDir: string,
  o: { command?: string } = {},
): Promise<{ files: ReportFiles; runs: RunSummary[] }> {
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) {
    throw new Error(`the manifest is not valid: ${zodIssues(parsed.error).join("; ")}`);
  }
  const { title, notes, cluster } = parsed.data;
  const runs = await summarizeRuns(manifest, baseDir);
  const demo = isDemo(parsed.data, runs);
  const report = { title, runs, notes, demo, ...(cluster ? { cluster } : {}) };
  await mkdir(outDir, { recursive: true });
  const defs = reportCharts(runs, demo, cluster);
  const charts = await writeCharts(outDir, defs);
  const markdown = join(outDir, "report.md");
  await writeFile(
    markdown,
    reportMarkdown(
      report,
      defs.map((d) => d.id),
    ),
  );
  const json = join(outDir, "summary.json");
  await writeJson(json, { title, demo, ...(cluster ? { cluster } : {}), runs });
  const html = await writeHtmlReport(
    outDir,
    reportPage(report, await readHtmlCharts(defs, charts), o.command),
  );
  return { files: { markdown, json, html, charts }, runs };
}

/**
 * The end of a run of several stacks (demo, cluster run): an error when no stack's run finished;
 * else manifest.yaml and the report in `outDir`, said through `log` (with `note`), then an error
 * naming the stacks that failed, if any.
 */
export async function finishRuns(
  manifest: Manifest,
  outDir: string,
  failures: readonly string[],
  log: (line: string) => void,
  note = "",
): Promise<void> {
  if (manifest.runs.length === 0) {
    throw new Error(`no run finished${failures.length ? `: ${failures.join("; ")}` : ""}`);
  }
  await writeFile(join(outDir, "manifest.yaml"), toYaml(manifest));
  const { files } = await writeReport(manifest, outDir, outDir);
  log(`report: ${files.markdown}${note}`);
  if (failures.length > 0) throw new Error(`report written, but ${failures.join("; ")}`);
}
