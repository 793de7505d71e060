/**
 * `plan`'s and `recommend`'s report.html, through the strategy-bench HTML writer
 * (tools/strategy-bench/src/report/html.ts): the verdict first, the tables the commands print,
 * the charts inline, what the plan assumed and where it ran, the planner's error last.
 */
import {
  type HtmlChart,
  type HtmlPage,
  markdownSections,
  runConditions,
} from "../../strategy-bench/src/index.js";
import { errorBandMarkdown } from "./error-band.js";
import { compareMarkdown, planConditions, stackMarkdown } from "./output.js";
import { knobsMarkdown, type Recommendation } from "./recommend.js";
import type { PlanResult } from "./simulate.js";
import {
  againstLines,
  bandsLine,
  cheapestPassing,
  compareLines,
  costText,
  sloText,
  type VerdictOptions,
  verdictHeadline,
  verdictLines,
  verdictTable,
} from "./verdict.js";

const item = (l: string) => l.replace(/^- /, "");

const ERROR: HtmlPage["error"] = [
  { heading: "The planner's error", markdown: errorBandMarkdown().join("\n") },
];

/** Predicted figures, not measured: said under the verdict, with the estimated profile's caveat. */
function caveats(results: readonly PlanResult[]): string {
  return [
    "**Predicted** by the planner from a capacity profile of one replica, not measured: each figure " +
      "comes with the planner's error against real pods (the bands, and at the end).",
    ...(results.some((r) => r.profile.source === "estimated")
      ? [
          "",
          "**Estimated capacity profile**: derived from docs/benchmarks.md, not measured by " +
            "`strategy-bench capacity` on the image that will run; measure one and pass `--profile`.",
        ]
      : []),
  ].join("\n");
}

/** `plan`'s page: verdict (the cheapest stack meeting the SLO, or the fastest), cost, rows. */
export function planPage(o: {
  results: readonly PlanResult[];
  verdict: VerdictOptions;
  compare: boolean;
  charts: HtmlChart[];
  noCharts?: string;
  command?: string;
}): HtmlPage {
  const r = o.results;
  return {
    title: "Strategy plan: predicted report rows",
    verdict: {
      headline: verdictHeadline(r, o.verdict),
      // The pairs; the cheapest (or none) is the headline.
      lines: compareLines(r, o.verdict)
        .map(item)
        .filter((l) => !/^(cheapest meeting|no stack meets)/.test(l)),
      ...(o.verdict.slo ? { found: cheapestPassing(r, o.verdict).length > 0 } : {}),
    },
    caveats: caveats(r),
    sections: [
      {
        heading: "Cost and SLO",
        markdown: [...verdictTable(r, o.verdict), "", bandsLine()].join("\n"),
      },
      ...markdownSections(o.compare ? compareMarkdown(r) : r.flatMap(stackMarkdown)),
    ],
    charts: o.charts,
    ...(o.noCharts ? { noCharts: o.noCharts } : {}),
    conditions: [
      ...planConditions(r),
      ...(o.verdict.slo ? [["SLO", sloText(o.verdict.slo)] as [string, string]] : []),
      ...runConditions(o.command),
    ],
    error: ERROR,
  };
}

/** `recommend`'s page: the recommended stack and why, against each existing stack. */
export function recommendPage(o: {
  name: string;
  rec: Recommendation;
  /** The existing stacks under the same load and cluster. */
  existing: readonly PlanResult[];
  verdict: VerdictOptions;
  load: string;
  cluster: string;
  stackFile?: string;
  charts: HtmlChart[];
  command?: string;
}): HtmlPage {
  const best = o.rec.best;
  const slo = sloText(o.verdict.slo ?? {});
  const passing = o.rec.candidates.filter((c) => c.pass).length;
  const all = best ? [best.result, ...o.existing] : [...o.existing];
  return {
    title: `Recommendation: ${o.load}, SLO ${slo}`,
    verdict: best
      ? {
          headline:
            `Recommended: **${o.name}**, the cheapest of ${o.rec.candidates.length} candidates meeting ` +
            `the SLO (${slo}, no failed request, no Pending pod) under ${o.load}: ` +
            `p95 ${best.result.latency.p95.toFixed(3)} s, ${costText(best.cost)}.`,
          lines: [
            ...againstLines(best.result, o.existing, o.verdict),
            `${passing} of ${o.rec.candidates.length} candidates meet the SLO; the knobs table says what each other value would cost.`,
            ...(o.stackFile
              ? [`written: \`${o.stackFile}\` (validated by the project's stack loader)`]
              : []),
          ],
        }
      : {
          found: false,
          headline: `No candidate meets the SLO (${slo}, no failed request, no Pending pod) on ${o.cluster}: give more nodes, a larger --max-replicas or a looser SLO.`,
          lines: o.existing.map((r) => `${r.stack}: p95 ${r.latency.p95.toFixed(3)} s`),
        },
    caveats: caveats(all),
    sections: [
      ...(best ? [{ heading: "Knobs", markdown: knobsMarkdown(o.rec).join("\n") }] : []),
      {
        heading: "Cost and SLO against the existing stacks",
        markdown: verdictLines(all, o.verdict).join("\n"),
      },
    ],
    charts: o.charts,
    conditions: [
      ["load", o.load],
      ["SLO", `${slo}; no failed request, no Pending pod`],
      ["cluster", o.cluster],
      ["memory requests", `${o.rec.memory.quantity} (${o.rec.memory.why}), limits twice that`],
      ...planConditions(all).filter(([k]) => k !== "load" && k !== "cluster"),
      ...runConditions(o.command),
    ],
    error: ERROR,
  };
}
