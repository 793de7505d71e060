import { figureTable, formatMemoryKB, formatNumber } from "../../strategy-bench/src/index.js";
import { type NodeShape, type Prices, planCost } from "./cost.js";
import {
  type Band,
  distinguishable,
  ERROR_BANDS,
  REPLICAS_MAE,
  signedPercent,
  trueRange,
  WITHIN_ERROR,
  withBand,
} from "./error-band.js";
import { type PlanResult, samplePeak } from "./simulate.js";

/**
 * What a manager reads first: per stack the SLO's PASS/FAIL, the cost of what it requests, and
 * the verdict between stacks, each predicted figure with the planner's error band.
 */

export interface Slo {
  /** Seconds the 95th (50th) percentile of the responses must stay at or under. */
  p95?: number;
  p50?: number;
  /**
   * Judge the percentiles with the planner's error: a stack passes only if the largest value the
   * measured percentile can take within this band of the prediction is within the SLO
   * (`plan` and `recommend` give the response-time band unless --no-error-margin).
   */
  margin?: Band;
}

export interface VerdictOptions {
  slo?: Slo;
  shape?: NodeShape;
  prices?: Prices;
}

/**
 * The SLO of the command-line flags: the percentiles given, judged with the planner's
 * response-time band unless --no-error-margin (`errorMargin` false).
 */
export function sloOf(o: { sloP95?: number; sloP50?: number; errorMargin?: boolean }): Slo {
  return {
    ...(o.sloP95 !== undefined ? { p95: o.sloP95 } : {}),
    ...(o.sloP50 !== undefined ? { p50: o.sloP50 } : {}),
    ...(o.errorMargin !== false ? { margin: ERROR_BANDS.responseTime } : {}),
  };
}

/** PASS when every given percentile is within its SLO, no request failed and no pod was Pending. */
export function sloVerdict(r: PlanResult, slo: Slo): { pass: boolean; why: string[] } {
  const why: string[] = [];
  const worst = (x: number) => (slo.margin ? trueRange(x, slo.margin)[1] : x);
  const shown = (x: number) =>
    slo.margin
      ? `${x.toFixed(3)} s (up to ${worst(x).toFixed(3)} s within the planner's error)`
      : `${x.toFixed(3)} s`;
  if (slo.p95 !== undefined && !(worst(r.latency.p95) <= slo.p95))
    why.push(`p95 ${shown(r.latency.p95)} > ${slo.p95} s`);
  if (slo.p50 !== undefined && !(worst(r.latency.p50) <= slo.p50))
    why.push(`p50 ${shown(r.latency.p50)} > ${slo.p50} s`);
  if (r.load.failed > 0) why.push(`${r.load.failed} failed requests`);
  const pending = samplePeak(r.samples, "pending");
  if (pending > 0) why.push(`${pending} pod${pending === 1 ? "" : "s"} Pending`);
  else if (r.pending.length > 0) why.push(`${r.pending.length} Pending episodes`);
  return { pass: why.length === 0, why };
}

/** A table with one column per stack, the bands, then the verdict lines. */
export function verdictLines(results: readonly PlanResult[], o: VerdictOptions): string[] {
  return [...verdictTable(results, o), "", bandsLine(), "", ...compareLines(results, o)];
}

/** The "Cost and verdict" section: {@link verdictLines} under its heading. */
export function verdictMarkdown(results: readonly PlanResult[], o: VerdictOptions): string[] {
  if (results.length === 0) return [];
  return ["## Cost and verdict", "", ...verdictLines(results, o), ""];
}

/** The bands beside the figures, in a sentence (their source: error-band.ts). */
export function bandsLine(): string {
  return (
    `Bands: the range of the planner's whole-run error against real pods (docs/planning.md, "Against real pods"): ` +
    `response time ${withBand("", ERROR_BANDS.responseTime).trim()}, rate ${withBand("", ERROR_BANDS.rate).trim()}; cost is what the pods request, exact for the predicted pods.`
  );
}

/** The verdict's table: SLO, figures with their bands, and cost, one column per stack. */
export function verdictTable(results: readonly PlanResult[], o: VerdictOptions): string[] {
  const costs = results.map((r) => planCost(r, o));
  const rt = ERROR_BANDS.responseTime;
  const rows: string[][] = [];
  if (o.slo && (o.slo.p95 !== undefined || o.slo.p50 !== undefined)) {
    rows.push([
      `SLO (${sloText(o.slo)}; no failed request, no Pending pod)`,
      ...results.map((r) => {
        const v = sloVerdict(r, o.slo as Slo);
        return v.pass ? "PASS" : `FAIL: ${v.why.join("; ")}`;
      }),
    ]);
  }
  rows.push(
    [
      "response time p50 (s; band: the validation's response-time error)",
      ...results.map((r) => withBand(formatNumber(r.latency.p50, 3), rt)),
    ],
    ["response time p95 (s)", ...results.map((r) => withBand(formatNumber(r.latency.p95, 3), rt))],
    [
      "requests served (/s, OKAY / duration)",
      ...results.map((r) => withBand(formatNumber(r.load.transactionRate), ERROR_BANDS.rate)),
    ],
    [
      `pods (peak / mean; mean ± ${REPLICAS_MAE} pod)`,
      ...costs.map((c) => `${c.peakPods} / ${formatNumber(c.meanPods)}`),
    ],
    ["pods Pending (max at once)", ...costs.map((c) => String(c.maxPending))],
    [
      "CPU requested (cores, peak / mean)",
      ...costs.map(
        (c) => `${formatNumber(c.peakCpuRequested)} / ${formatNumber(c.meanCpuRequested)}`,
      ),
    ],
    [
      "memory requested (peak / mean)",
      ...costs.map(
        (c) =>
          `${formatMemoryKB(c.peakMemoryGiB * 2 ** 20)} / ${formatMemoryKB(c.meanMemoryGiB * 2 ** 20)}`,
      ),
    ],
    [
      "CPU-hours requested (core-h, over the schedule)",
      ...costs.map((c) => formatNumber(c.cpuHours, 3)),
    ],
    ["memory GiB-hours requested (GiB-h)", ...costs.map((c) => formatNumber(c.gibHours, 3))],
  );
  if (o.shape) {
    rows.push([
      `nodes of ${o.shape.spec} at peak`,
      ...costs.map((c) =>
        Number.isFinite(c.nodesAtPeak) ? String(c.nodesAtPeak) : "a pod does not fit one",
      ),
    ]);
  }
  if (o.prices?.cpuHour !== undefined && o.prices.gibHour !== undefined) {
    rows.push([
      `cost (${o.prices.cpuHour}/core-h × CPU-h + ${o.prices.gibHour}/GiB-h × GiB-h, your currency)`,
      ...costs.map((c) => formatNumber(c.money ?? Number.NaN, 4)),
    ]);
  }
  return figureTable(["metric", ...results.map((r) => r.stack)], rows);
}

/**
 * The stacks meeting the SLO, cheapest first (money when priced, else CPU-hours, then
 * GiB-hours), with their cost; none without an SLO.
 */
export function cheapestPassing(
  results: readonly PlanResult[],
  o: VerdictOptions,
): { r: PlanResult; c: ReturnType<typeof planCost> }[] {
  if (!o.slo) return [];
  return results
    .filter((r) => sloVerdict(r, o.slo as Slo).pass)
    .map((r) => ({ r, c: planCost(r, o) }))
    .sort(
      (x, y) =>
        (x.c.money ?? x.c.cpuHours) - (y.c.money ?? y.c.cpuHours) || x.c.gibHours - y.c.gibHours,
    );
}

/** "p95 ≤ 0.5 s, p50 ≤ 0.2 s", and "with the planner's error" when judged with its margin. */
export function sloText(slo: Slo): string {
  return (
    [
      slo.p95 !== undefined ? `p95 ≤ ${slo.p95} s` : "",
      slo.p50 !== undefined ? `p50 ≤ ${slo.p50} s` : "",
    ]
      .filter(Boolean)
      .join(", ") + (slo.margin ? " with the planner's error" : "")
  );
}

/** A stack's cost in words: "1.250 CPU-hours and 5.625 GiB-hours requested, 3 pods at peak on 1 node". */
export function costText(c: ReturnType<typeof planCost>): string {
  return (
    `${formatNumber(c.cpuHours, 3)} CPU-hours and ${formatNumber(c.gibHours, 3)} GiB-hours requested, ${c.peakPods} pod${c.peakPods === 1 ? "" : "s"} at peak` +
    (c.nodesAtPeak !== undefined && Number.isFinite(c.nodesAtPeak)
      ? ` on ${c.nodesAtPeak} node${c.nodesAtPeak === 1 ? "" : "s"}`
      : "") +
    (c.money !== undefined ? `, cost ${formatNumber(c.money, 4)}` : "")
  );
}

/**
 * The verdict in one sentence (Markdown, the stack in bold): with an SLO the cheapest stack
 * meeting it, else the fastest at p95 — and whether the planner's error can tell it apart.
 */
export function verdictHeadline(results: readonly PlanResult[], o: VerdictOptions): string {
  if (results.length === 0) return "No stack was planned.";
  if (o.slo) {
    const passing = cheapestPassing(results, o);
    const best = passing[0];
    if (!best)
      return `No stack meets the SLO (${sloText(o.slo)}, no failed request, no Pending pod) on this cluster: give more nodes, a larger maxReplicas or a looser SLO.`;
    const next = passing[1];
    return (
      `**${best.r.stack}**: the cheapest stack meeting the SLO (${sloText(o.slo)}, no failed request, no Pending pod), ` +
      `p95 ${best.r.latency.p95.toFixed(3)} s, ${costText(best.c)}` +
      (next
        ? `; ${next.r.stack} meets it too at ${formatNumber(next.c.cpuHours, 3)} CPU-hours.`
        : `; ${results.length === 1 ? "the only stack planned" : "no other stack meets it"}.`)
    );
  }
  const [fast, second] = [...results].sort((a, b) => a.latency.p95 - b.latency.p95);
  if (!fast) return "No stack was planned.";
  if (!second)
    return `**${fast.stack}**: p95 ${fast.latency.p95.toFixed(3)} s, ${costText(planCost(fast, o))}. Give --slo-p95 for a PASS/FAIL.`;
  const told = distinguishable(fast.latency.p95, second.latency.p95, ERROR_BANDS.responseTime);
  return (
    `**${fast.stack}** answers fastest (p95 ${fast.latency.p95.toFixed(3)} s against ${second.latency.p95.toFixed(3)} s for ${second.stack}` +
    (told ? ", beyond the planner's error)" : `: ${WITHIN_ERROR})`) +
    "; give --slo-p95 to pick the cheapest stack that is fast enough."
  );
}

/** Pairwise: which stack is faster on p95, and whether the planner can tell. */
export function compareLines(results: readonly PlanResult[], o: VerdictOptions): string[] {
  const out: string[] = [];
  for (let i = 0; i < results.length; i++) {
    for (let j = i + 1; j < results.length; j++) {
      const a = results[i] as PlanResult;
      const b = results[j] as PlanResult;
      const [fast, slow] = a.latency.p95 <= b.latency.p95 ? [a, b] : [b, a];
      const told = distinguishable(a.latency.p95, b.latency.p95, ERROR_BANDS.responseTime);
      out.push(
        `- ${fast.stack} vs ${slow.stack}: p95 ${fast.latency.p95.toFixed(3)} s against ${slow.latency.p95.toFixed(3)} s` +
          (told ? ` — ${fast.stack} is faster beyond the planner's error` : ` — ${WITHIN_ERROR}`),
      );
    }
  }
  if (o.slo) {
    const cheapest = cheapestPassing(results, o)[0];
    if (!cheapest) out.push("- no stack meets the SLO on this cluster");
    else
      out.push(
        `- cheapest meeting the SLO: **${cheapest.r.stack}** (by ${cheapest.c.money !== undefined ? "cost" : "CPU-hours, then GiB-hours"})`,
      );
  }
  return out;
}

/**
 * Why `best` beats each of `others`, figure by figure: the SLO, p95, CPU-hours, GiB-hours and
 * pods at peak, each other stack's figure against the best's (Markdown, one line per stack).
 */
export function againstLines(
  best: PlanResult,
  others: readonly PlanResult[],
  o: VerdictOptions,
): string[] {
  const b = planCost(best, o);
  const rel = (x: number, y: number) => (y > 0 ? ` (${signedPercent((100 * (x - y)) / y)})` : "");
  return others.map((r) => {
    const c = planCost(r, o);
    const slo = o.slo ? sloVerdict(r, o.slo) : undefined;
    return [
      `**${r.stack}**: ${slo ? (slo.pass ? "meets the SLO too" : `FAIL (${slo.why.join("; ")})`) : "no SLO given"}`,
      `p95 ${formatNumber(r.latency.p95, 3)} s against ${formatNumber(best.latency.p95, 3)} s`,
      `CPU-hours ${formatNumber(c.cpuHours, 3)} against ${formatNumber(b.cpuHours, 3)}${rel(c.cpuHours, b.cpuHours)}`,
      `GiB-hours ${formatNumber(c.gibHours, 3)} against ${formatNumber(b.gibHours, 3)}${rel(c.gibHours, b.gibHours)}`,
      `pods at peak ${c.peakPods} against ${b.peakPods}`,
      ...(c.money !== undefined && b.money !== undefined
        ? [`cost ${formatNumber(c.money, 4)} against ${formatNumber(b.money, 4)}`]
        : []),
    ].join(" · ");
  });
}
