/**
 * The report's HTML page (report/html.ts lays it out): a verdict from the measured figures, then
 * the report's tables (report/markdown.ts's parts), its charts, what decided the numbers, and
 * how they are computed.
 */
import { formatMemoryKB } from "../charts.js";
import { runConditions } from "./conditions.js";
import type { HtmlChart, HtmlPage } from "./html.js";
import { markdownSections } from "./html.js";
import type { ClusterInfo } from "./manifest.js";
import { reportParts } from "./markdown.js";
import type { RunSummary } from "./summarize.js";

/** One stack's figures (the mean over its runs when a stack was repeated). */
interface Entry {
  name: string;
  runs: number;
  responseTime: number;
  rate: number;
  memRequestedKB: number;
  accuracy: number;
  failed: number;
}

const mean = (xs: number[]) => {
  const ok = xs.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
};

/** Runs grouped by stack when a stack was run more than once, else one entry per run. */
function entries(runs: readonly RunSummary[]): Entry[] {
  const repeated = new Set(runs.map((r) => r.stack)).size < runs.length;
  const groups = new Map<string, RunSummary[]>();
  for (const r of runs) {
    const key = repeated ? r.stack : r.name;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([name, rs]) => ({
    name,
    runs: rs.length,
    // A run with no successful request has no response time or rate: it cannot win either.
    responseTime: mean(rs.map((r) => (r.load.okay > 0 ? r.load.responseTime : Number.NaN))),
    rate: mean(rs.map((r) => (r.load.okay > 0 ? r.load.transactionRate : Number.NaN))),
    memRequestedKB: mean(rs.map((r) => r.resources.memRequestedKB)),
    accuracy: mean(rs.map((r) => r.accuracy.accuracy)),
    failed: rs.reduce((a, r) => a + r.load.failed, 0),
  }));
}

const num = (n: number, d: number) =>
  n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });

/** The entries with a value, best first. */
function ranked(es: Entry[], f: (e: Entry) => number, higherIsBetter: boolean): Entry[] {
  return es
    .filter((e) => Number.isFinite(f(e)))
    .sort((a, b) => (higherIsBetter ? f(b) - f(a) : f(a) - f(b)));
}

/** "strategy1 0.349 s · strategy2 1.048 s": every entry on one figure, best first. */
function rankLine(label: string, es: Entry[], show: (e: Entry) => string): string {
  return `${label}: ${es.map((e, i) => `${i === 0 ? `**${e.name}**` : e.name} ${show(e)}`).join(" · ")}`;
}

/**
 * What the measured runs say, first: which stack answers fastest and which requests the least
 * memory (the report's two strategies are "when response time matters" and "when memory cost
 * matters most"), and each figure per stack, best first.
 */
export function reportVerdict(
  runs: readonly RunSummary[],
  demo: boolean,
): { headline: string; lines: string[] } {
  const es = entries(runs);
  const fast = ranked(es, (e) => e.responseTime, false);
  const served = ranked(es, (e) => e.rate, true);
  const lean = ranked(es, (e) => e.memRequestedKB, false);
  const rt = (e: Entry) => `${num(e.responseTime, 3)} s`;
  const mem = (e: Entry) => formatMemoryKB(e.memRequestedKB);
  const f = fast[0];
  const m = lean[0];
  let headline: string;
  if (es.length === 1 && es[0]) {
    const e = es[0];
    headline =
      `One stack measured, **${e.name}**: response time ${Number.isFinite(e.responseTime) ? rt(e) : "n/a (no successful request)"}, ` +
      `memory requested ${mem(e)}; run another stack beside it to compare.`;
  } else if (!f) {
    headline = "No run had a successful request: no stack can be recommended (see the warnings).";
  } else if (m && f.name === m.name) {
    headline =
      `**${f.name}** is both the fastest (response time ${rt(f)}${fast[1] ? ` against ${rt(fast[1])} for ${fast[1].name}` : ""}) ` +
      `and the one requesting the least memory (${mem(m)}${lean[1] ? ` against ${mem(lean[1])}` : ""}).`;
  } else {
    headline =
      `**${f.name}** answers fastest (response time ${rt(f)}${fast[1] ? ` against ${rt(fast[1])} for ${fast[1].name}` : ""}); ` +
      `${m ? `**${m.name}** requests the least memory (${mem(m)}${lean[1] ? ` against ${mem(lean[1])}` : ""}): ` : ""}` +
      `choose ${f.name} when response time matters${m ? `, ${m.name} when memory cost matters most` : ""}.`;
  }
  const repeated = es.some((e) => e.runs > 1);
  const lines = [
    rankLine("response time (s, weighted by successful requests; lower is better)", fast, rt),
    rankLine(
      "successful requests per second (higher is better)",
      served,
      (e) => `${num(e.rate, 2)} /s`,
    ),
    rankLine("memory requested (mean over the test; lower is better)", lean, mem),
    demo
      ? "accuracy: the untrained demo model's, about chance (9.1 %) for every stack: not a difference between stacks"
      : rankLine(
          "accuracy (higher is better)",
          ranked(es, (e) => e.accuracy, true),
          (e) => `${num(100 * e.accuracy, 1)} %`,
        ),
    ...es
      .filter((e) => e.failed > 0)
      .map((e) => `**${e.name}** had ${e.failed.toLocaleString("en-US")} failed requests`),
    repeated
      ? "means over each stack's repetitions: a difference smaller than the spread between repetitions (the tables) is not a difference"
      : "one run per stack: a difference smaller than the run-to-run spread (repeat the runs to see it) is not a difference",
  ];
  return { headline, lines };
}

/** The report's page: verdict, tables, charts, conditions, method. */
export function reportPage(o: {
  title: string;
  runs: RunSummary[];
  notes: string[];
  demo: boolean;
  cluster?: ClusterInfo;
  charts: HtmlChart[];
  command?: string;
}): HtmlPage {
  const ctx = { demo: o.demo, ...(o.cluster ? { cluster: o.cluster } : {}) };
  const p = reportParts(o.runs, o.notes, ctx, false);
  const md = (lines: string[]) => markdownSections(lines.join("\n"));
  return {
    title: o.title,
    verdict: reportVerdict(o.runs, o.demo),
    intro: p.intro.join("\n"),
    caveats: [
      ...(o.demo
        ? [
            o.cluster
              ? "**Demo model:** untrained (accuracy ≈ chance): compare the stacks' speed, memory and scaling only."
              : "**Demo:** an untrained model (accuracy ≈ chance), one local process per stack on a shared machine: compare speed and memory only, within this report; these are not real figures.",
            "",
          ]
        : []),
      ...p.warnings.filter((l) => !l.startsWith("## ")),
    ].join("\n"),
    sections: md([...p.summary, ...p.load, ...p.config, ...p.clusterHead, ...p.clusterTail]),
    charts: o.charts,
    conditions: runConditions(o.command),
    conditionSections: md(p.conditions),
    error: md(p.method),
  };
}
