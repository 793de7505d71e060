/**
 * The report's HTML page (report/html.ts lays it out): a verdict from the measured figures, then
 * the report's tables (report/markdown.ts's parts), its charts, what decided the numbers, and
 * how they are computed.
 */
import { formatNumber as fmt } from "../benchkit.js";
import { formatMemoryKB } from "../charts.js";
import { meanOf, rangeOf } from "../summary.js";
import { runConditions } from "./conditions.js";
import type { HtmlChart, HtmlPage } from "./html.js";
import { markdownSections } from "./html.js";
import { type Report, reportParts } from "./markdown.js";
import type { RunSummary } from "./summarize.js";

/** One stack's figures (the mean over its runs when a stack was repeated), and their spread. */
interface Entry {
  name: string;
  runs: number;
  responseTime: number;
  rate: number;
  memRequestedKB: number;
  accuracy: number;
  failed: number;
  /** Largest − smallest over the stack's runs (0 for one run). */
  spread: { responseTime: number; memRequestedKB: number };
}

/**
 * With one run per stack a difference under this share of the larger figure is not called one:
 * two runs of one stack on a shared machine differ by several per cent.
 */
const ONE_RUN_NOISE = 0.1;

/** Runs grouped by stack when a stack was run more than once, else one entry per run. */
function entries(runs: readonly RunSummary[]): Entry[] {
  const repeated = new Set(runs.map((r) => r.stack)).size < runs.length;
  const groups = new Map<string, RunSummary[]>();
  for (const r of runs) {
    const key = repeated ? r.stack : r.name;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([name, rs]) => {
    // A run with no successful request has no response time or rate: it cannot win either.
    const rt = rs.map((r) => (r.load.okay > 0 ? r.load.responseTime : Number.NaN));
    const mem = rs.map((r) => r.resources.memRequestedKB);
    return {
      name,
      runs: rs.length,
      responseTime: meanOf(rt),
      rate: meanOf(rs.map((r) => (r.load.okay > 0 ? r.load.transactionRate : Number.NaN))),
      memRequestedKB: meanOf(mem),
      accuracy: meanOf(rs.map((r) => r.accuracy.accuracy)),
      failed: rs.reduce((a, r) => a + r.load.failed, 0),
      spread: { responseTime: rangeOf(rt) || 0, memRequestedKB: rangeOf(mem) || 0 },
    };
  });
}

/** The entries with a value, best first. */
function ranked(es: Entry[], f: (e: Entry) => number, higherIsBetter: boolean): Entry[] {
  return es
    .filter((e) => Number.isFinite(f(e)))
    .sort((a, b) => (higherIsBetter ? f(b) - f(a) : f(a) - f(b)));
}

/**
 * Whether the best beats the runner-up on a figure: by more than either stack's spread between
 * its repetitions, or, with one run each, by more than ONE_RUN_NOISE of the larger figure.
 */
function clear(best: Entry, next: Entry | undefined, key: keyof Entry["spread"]): boolean {
  if (!next) return true;
  const diff = Math.abs(best[key] - next[key]);
  const spread = Math.max(best.spread[key], next.spread[key]);
  if (best.runs > 1 || next.runs > 1) return diff > spread;
  return diff > ONE_RUN_NOISE * Math.max(Math.abs(best[key]), Math.abs(next[key]));
}

/** "strategy1 0.349 s · strategy2 1.048 s": every entry on one figure, best first. */
function rankLine(label: string, es: Entry[], show: (e: Entry) => string, bold: boolean): string {
  return `${label}: ${es.map((e, i) => `${i === 0 && bold ? `**${e.name}**` : e.name} ${show(e)}`).join(" · ")}`;
}

/**
 * What the measured runs say, first: which stack answers fastest and which requests the least
 * memory (the report's two strategies are "when response time matters" and "when memory cost
 * matters most"), only where the difference is larger than the runs' noise; then each figure per
 * stack, best first.
 */
export function reportVerdict(
  runs: readonly RunSummary[],
  demo: boolean,
): { headline: string; lines: string[]; found: boolean } {
  const es = entries(runs);
  const fast = ranked(es, (e) => e.responseTime, false);
  const served = ranked(es, (e) => e.rate, true);
  const lean = ranked(es, (e) => e.memRequestedKB, false);
  const rt = (e: Entry) => `${fmt(e.responseTime, 3)} s`;
  const mem = (e: Entry) => formatMemoryKB(e.memRequestedKB);
  const [f, f2] = fast;
  const [m, m2] = lean;
  const repeated = es.some((e) => e.runs > 1);
  const noise = repeated
    ? "the spread between a stack's repetitions"
    : `${100 * ONE_RUN_NOISE} % (one run per stack)`;
  const fastClear = f !== undefined && clear(f, f2, "responseTime");
  const leanClear = m !== undefined && clear(m, m2, "memRequestedKB");
  const fastText = f
    ? `response time ${rt(f)}${f2 ? ` against ${rt(f2)} for ${f2.name}` : ""}`
    : "";
  const leanText = m ? `${mem(m)}${m2 ? ` against ${mem(m2)} for ${m2.name}` : ""}` : "";
  let headline: string;
  let found = true;
  if (es.length === 1 && es[0]) {
    const e = es[0];
    headline =
      `One stack measured, **${e.name}**: response time ${Number.isFinite(e.responseTime) ? rt(e) : "n/a (no successful request)"}, ` +
      `memory requested ${mem(e)}; run another stack beside it to compare.`;
  } else if (!f) {
    found = false;
    headline = "No run had a successful request: no stack can be recommended (see the warnings).";
  } else if (!fastClear && !leanClear) {
    found = false;
    headline =
      `No clear winner: ${fastText}, memory requested ${leanText}; ` +
      `neither differs by more than ${noise}. Repeat the runs, or measure on real pods.`;
  } else if (fastClear && leanClear && m && f.name === m.name) {
    headline = `**${f.name}** is both the fastest (${fastText}) and the one requesting the least memory (${leanText}).`;
  } else if (fastClear && leanClear && m) {
    headline =
      `**${f.name}** answers fastest (${fastText}); **${m.name}** requests the least memory (${leanText}): ` +
      `choose ${f.name} when response time matters, ${m.name} when memory cost matters most.`;
  } else if (fastClear) {
    headline = `**${f.name}** answers fastest (${fastText}); memory requested is about the same (${leanText}).`;
  } else {
    headline = `**${m?.name}** requests the least memory (${leanText}); response times are about the same (${fastText}).`;
  }
  const lines = [
    rankLine(
      "response time (s, weighted by successful requests; lower is better)",
      fast,
      rt,
      fastClear,
    ),
    rankLine(
      "successful requests per second (higher is better)",
      served,
      (e) => `${fmt(e.rate, 2)} /s`,
      false,
    ),
    rankLine("memory requested (mean over the test; lower is better)", lean, mem, leanClear),
    demo
      ? "accuracy: the untrained demo model's, about chance (9.1 %) for every stack: not a difference between stacks"
      : rankLine(
          "accuracy (higher is better)",
          ranked(es, (e) => e.accuracy, true),
          (e) => `${fmt(100 * e.accuracy, 1)} %`,
          false,
        ),
    ...es
      .filter((e) => e.failed > 0)
      .map((e) => `**${e.name}** had ${e.failed.toLocaleString("en-US")} failed requests`),
    repeated
      ? "means over each stack's repetitions: a difference within the spread between repetitions (the tables) is not called one"
      : `one run per stack: a difference under ${100 * ONE_RUN_NOISE} % is not called one (repeat the runs to see their spread)`,
  ];
  return { headline, lines, found };
}

/** The report's page: verdict, tables, charts, conditions, method. */
export function reportPage(o: Report, charts: HtmlChart[], command?: string): HtmlPage {
  const p = reportParts(o, false);
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
    sections: markdownSections([p.summary, p.load, p.config, p.clusterHead, p.clusterTail].flat()),
    charts,
    conditions: runConditions(command),
    conditionSections: markdownSections(p.conditions),
    error: markdownSections(p.method),
  };
}
