import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  chartsMarkdown,
  figureTable,
  formatNumber as fmt,
  formatMemoryKB,
  LOAD_LABELS,
  ORIGINAL_SCHEDULE_FILE,
  phaseLoad,
} from "../../strategy-bench/src/index.js";
import { type PlanResult, samplePeak } from "./simulate.js";

/**
 * The planner's output: per stack the report's row (with the report's formulas, from
 * src/summary.ts) and the time series behind it, as JSON and markdown; `--compare` lays the
 * stacks side by side.
 */

/** Pods Pending: the longest simultaneous count, pod-seconds, and the scheduler's reasons. */
function pendingSummary(r: PlanResult) {
  const maxPending = samplePeak(r.samples, "pending");
  const podSeconds = r.pending.reduce((a, p) => a + ((p.until ?? 0) - p.since), 0);
  const reasons = [...new Set(r.pending.map((p) => p.reason))];
  return { maxPending, podSeconds, reasons };
}

/** Why a stack's numbers are what they are, in a sentence or two. */
export function explain(r: PlanResult): string[] {
  const out: string[] = [];
  const p = pendingSummary(r);
  const maxDesired = r.decisions.reduce((a, d) => Math.max(a, d.desiredReplicas), 0);
  const maxReady = samplePeak(r.samples, "ready");
  if (p.maxPending > 0) {
    out.push(
      `pods Pending: the HPA asked for up to ${maxDesired} replicas, at most ${maxReady} were ready; ` +
        `up to ${p.maxPending} pods Pending (${fmt(p.podSeconds, 0)} pod-seconds) because ` +
        `${p.reasons.join(" / ")}`,
    );
  } else {
    out.push(
      `no pod Pending: the HPA asked for up to ${maxDesired} replicas, ${maxReady} ready at most`,
    );
  }
  return out;
}

type Row = [label: string, value: (r: PlanResult) => string];

const SUMMARY_ROWS: Row[] = [
  [
    "memory requested (mean; scheduled pods, as the report counted)",
    (r) => formatMemoryKB(r.resourcesScheduled.memRequestedKB),
  ],
  [
    "memory requested (mean; Pending + Running, as `monitor` counts)",
    (r) => formatMemoryKB(r.resources.memRequestedKB),
  ],
  ["memory used (working set, mean)", (r) => formatMemoryKB(r.resources.memUsedKB)],
  [LOAD_LABELS.responseTime, (r) => fmt(r.load.responseTime, 3)],
  [LOAD_LABELS.transactionRate, (r) => fmt(r.load.transactionRate)],
  [LOAD_LABELS.transactionRateOriginal, (r) => fmt(r.load.transactionRateOriginal)],
  [
    "replicas ready (mean / max)",
    (r) =>
      `${fmt(r.samples.reduce((a, x) => a + x.ready, 0) / Math.max(1, r.samples.length))} / ${samplePeak(r.samples, "ready")}`,
  ],
  ["pods Pending (max at once)", (r) => String(pendingSummary(r).maxPending)],
  ["OKAY / failed", (r) => `${r.load.okay} / ${r.load.failed}`],
  ["test duration (s)", (r) => fmt(r.load.durationSeconds, 1)],
  ["new pod ready after (s)", (r) => fmt(r.readyDelaySeconds, 1)],
];

/**
 * The rows for these results: "as the original" (OKAY / 3,600) only for the original 30-minute
 * schedule, as `report` prints it.
 */
function summaryRows(results: readonly PlanResult[]): Row[] {
  const original = results.every((r) => r.schedule === ORIGINAL_SCHEDULE_FILE.name);
  return original
    ? SUMMARY_ROWS
    : SUMMARY_ROWS.filter(([label]) => label !== LOAD_LABELS.transactionRateOriginal);
}

/** What a plan assumed, as label/value pairs (report.html's conditions). */
export function planConditions(results: readonly PlanResult[]): [string, string][] {
  const first = results[0];
  if (!first) return [];
  return [
    ["load", first.schedule],
    ["seed", String(first.seed)],
    ["cluster", first.cluster],
    ["capacity profile", [...new Set(results.map((r) => r.profile.description))].join("; ")],
  ];
}

function header(results: readonly PlanResult[]): string[] {
  if (results.length === 0) return [];
  // What the plan assumed, as report.html's conditions say it.
  const c = Object.fromEntries(planConditions(results));
  const estimated = results.some((r) => r.profile.source === "estimated");
  const lines = [
    `Schedule: ${c.load}; seed ${c.seed}; cluster: ${c.cluster}.`,
    "",
    `Capacity profile: ${c["capacity profile"]}.`,
  ];
  if (estimated) {
    lines.push(
      "",
      "> **Estimated capacity profile**: the figures below come from a profile derived from docs/benchmarks.md,",
      "> not from `strategy-bench capacity` on the image that will run. Measure one and pass `--profile`.",
    );
  }
  return [...lines, ""];
}

function phaseTable(r: PlanResult): string[] {
  return figureTable(
    [
      "phase",
      "users (or arrival rate)",
      "delay (s)",
      "OKAY",
      "response (s)",
      "p95 (s)",
      "rate (/s)",
      "ready (mean)",
      "Pending (mean)",
      "CPU (% of requests)",
    ],
    r.phases.map((p) => [
      p.phase,
      p.rate !== undefined ? `${p.rate}/s open loop` : String(p.users),
      p.rate !== undefined ? "–" : String(p.delaySeconds),
      String(p.okay),
      fmt(p.responseTime, 3),
      fmt(p.p95, 3),
      fmt(p.transactionRate),
      fmt(p.meanReady, 1),
      fmt(p.meanPending, 1),
      fmt(p.cpuUtilization, 0),
    ]),
  );
}

/** One stack: its row, why, its notes, its phases. */
export function stackMarkdown(r: PlanResult): string[] {
  return [
    `## ${r.stack}`,
    "",
    ...figureTable(
      ["metric", "predicted"],
      summaryRows([r]).map(([label, f]) => [label, f(r)]),
    ),
    "",
    ...explain(r).map((l) => `- ${l}`),
    ...r.notes.filter((n) => !n.startsWith("capacity profile:")).map((n) => `- ${n}`),
    "",
    ...phaseTable(r),
    "",
  ];
}

/** The stacks side by side: the summary rows, then response time and ready replicas per phase. */
export function compareMarkdown(results: readonly PlanResult[]): string[] {
  const names = results.map((r) => r.stack);
  const first = results[0];
  const out = [
    "## Side by side",
    "",
    ...figureTable(
      ["metric", ...names],
      summaryRows(results).map(([label, f]) => [label, ...results.map(f)]),
    ),
    "",
    ...results.flatMap((r) => explain(r).map((l) => `- ${r.stack}: ${l}`)),
    ...results.flatMap((r) =>
      r.notes.filter((n) => !n.startsWith("capacity profile:")).map((n) => `- ${r.stack}: ${n}`),
    ),
    "",
  ];
  if (first) {
    out.push(
      "### Per phase: response time (s) / ready replicas (mean)",
      "",
      ...figureTable(
        ["phase", "users / delay", ...names],
        first.phases.map((p, i) => [
          p.phase,
          phaseLoad(p).join(" "),
          ...results.map((r) => {
            const q = r.phases[i];
            return q ? `${fmt(q.responseTime, 3)} / ${fmt(q.meanReady, 1)}` : "";
          }),
        ]),
      ),
      "",
    );
  }
  return out;
}

export function planMarkdown(
  results: readonly PlanResult[],
  o: { compare: boolean; charts?: string[]; title?: string; verdict?: string[] },
): string {
  const out = [`# ${o.title ?? "Strategy plan: predicted report rows"}`, "", ...header(results)];
  if (o.verdict) out.push(...o.verdict);
  if (o.compare) out.push(...compareMarkdown(results));
  else for (const r of results) out.push(...stackMarkdown(r));
  if (o.charts?.length) out.push(...chartsMarkdown(o.charts));
  out.push(
    "Predicted by `strategy-bench plan` (docs/planning.md: the model, its sources and its error).",
    "",
  );
  return out.join("\n");
}

/** The whole result as JSON: rows, series, HPA decisions and Pending episodes per stack. */
export function planJson(results: readonly PlanResult[]): string {
  return `${JSON.stringify(
    {
      kind: "strategy-bench/plan",
      version: 1,
      stacks: results.map((r) => ({
        ...r,
        row: Object.fromEntries(SUMMARY_ROWS.map(([label, f]) => [label, f(r)])),
        why: explain(r),
      })),
    },
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
    2,
  )}\n`;
}

export async function writePlan(
  outDir: string,
  results: readonly PlanResult[],
  markdown: string,
): Promise<{ markdown: string; json: string }> {
  await mkdir(outDir, { recursive: true });
  const md = join(outDir, "plan.md");
  const json = join(outDir, "plan.json");
  await writeFile(md, markdown);
  await writeFile(json, planJson(results));
  return { markdown: md, json };
}
