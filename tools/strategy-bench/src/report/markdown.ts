/** The report's Markdown: the tables of every run, what decided the numbers, a cluster run's sections. */
import { formatNumber as fmt, markdownTable } from "../benchkit.js";
import { chartsMarkdown, formatMemoryKB } from "../charts.js";
import { eventCount, type TimelineKind } from "../cluster-scale.js";
import { formatStatusCodes } from "../loadtest.js";
import type { Machine } from "../machine.js";
import { LOAD_LABELS, meanOf, ORIGINAL_DIVISOR_SECONDS, rangeOf } from "../summary.js";
import type { ClusterInfo } from "./manifest.js";
import { type AccuracyFigures, type RunSummary, serverMachine } from "./summarize.js";

const pct = (n: number | undefined, digits = 2) =>
  n === undefined || !Number.isFinite(n) ? "n/a" : `${fmt(100 * n, digits)} %`;

/** "full 30-min schedule", "original-30min x0.05 (90 s)", "siege log, 1,200 s". */
export function scheduleText(r: RunSummary): string {
  if (r.meta) {
    if (r.meta.fullLength) return "the full 30-minute schedule";
    return `${r.meta.schedule} (${fmt(r.meta.plannedSeconds, 0)} s planned, time scale ${r.meta.timeScale})`;
  }
  return r.fullLength
    ? `about the full 30 minutes (${fmt(r.load.durationSeconds, 0)} s)`
    : `${fmt(r.load.durationSeconds, 0)} s of load (not the full 30-minute schedule)`;
}

/** "30 of 33 (90.9 %)" when the sample count is known, else "90.90 %". */
function accuracyText(a: AccuracyFigures): string {
  if (a.samples === undefined) return pct(a.accuracy);
  const k = Math.round(a.accuracy * a.samples);
  return `${k.toLocaleString("en-US")} of ${a.samples.toLocaleString("en-US")} (${pct(a.accuracy, 1)})`;
}

function machineText(m: Machine | undefined): string {
  if (!m) return "not recorded";
  const gib = m.memoryBytes / 1024 ** 3;
  return `${m.cores} cores, ${fmt(gib, 1)} GiB${m.hostname ? ` (${m.hostname})` : ""}`;
}

function loadText(m: Machine | undefined): string {
  if (!m?.loadBefore) return "not recorded";
  const l = (v: number[] | undefined) => (v ? v.map((x) => fmt(x, 2)).join(" / ") : "n/a");
  return `${l(m.loadBefore)} → ${l(m.loadAfter)}`;
}

/** (max − min) and its share of the mean, over the runs with a value. */
function spread(values: number[], show: (n: number) => string): string {
  const r = rangeOf(values);
  if (Number.isNaN(r)) return "";
  const mean = meanOf(values);
  return mean > 0 ? `${show(r)} (${fmt((100 * r) / mean, 1)} % of the mean)` : show(r);
}

/** What a report is made of: its runs summarised, and what the manifest says of them. */
export interface Report {
  title: string;
  runs: RunSummary[];
  /** Paragraphs under the title. */
  notes: string[];
  demo: boolean;
  /** A run on real pods: the node, the time scaling, the fits. */
  cluster?: ClusterInfo;
}

/** "time-scaled by 0.2: HPA sync period 15 s → 3 s, …" or "full length". */
function timeScalingHeader(c: ClusterInfo): string {
  const t = c.timeScaling;
  if (t.fullLength) {
    return "full length: the 30-minute schedule, the controller-manager's and metrics-server's default periods, the stacks' own windows and probe periods";
  }
  if (t.notApplied.length > 0) {
    return (
      `time-scaled by ${t.factor}, PARTLY: the schedule, the stacks' stabilization windows and probe ` +
      "periods are scaled; the controller-manager's and metrics-server's clocks are NOT (they keep " +
      "their running values, see below), so the HPA reacts more slowly, in scaled time, than at full length"
    );
  }
  return `time-scaled by ${t.factor}: ${t.lines.join("; ")}`;
}

const KIND_LABELS: Record<TimelineKind, string> = {
  "scale-up": "HPA scale-ups",
  "scale-down": "HPA scale-downs",
  unschedulable: "unschedulable pods (FailedScheduling)",
  "oom-kill": "OOM kills",
  "probe-failure": "probe failures (Unhealthy)",
  restart: "container restarts",
  "metrics-missing": "HPA without metrics (FailedGetResourceMetric)",
};

/** A Markdown list under `before` and a blank line; nothing when there is no item. */
const list = (items: string[], before: string[] = []) =>
  items.length > 0 ? [...before, ...items.map((i) => `- ${i}`), ""] : [];

/** The sections a cluster run adds: time scaling, the node's scale, events, repetitions. */
function clusterSections(
  runs: RunSummary[],
  c: ClusterInfo,
): {
  head: string[];
  tail: string[];
} {
  const head: string[] = ["## On real pods: time scaling", "", `**${timeScalingHeader(c)}.**`, ""];
  if (!c.timeScaling.fullLength) {
    head.push(
      "The schedule's phases and the users' think times are multiplied by the factor; " +
        (c.timeScaling.notApplied.length > 0
          ? "of the autoscaling loop's clocks only the stacks' own (stabilization windows, probe periods, as stack config overrides): the controller-manager's and metrics-server's stayed as the cluster ran them. "
          : "the clocks of the autoscaling loop with them (controller-manager flags given at `cluster up`; stack overrides in each run's config). ") +
        "What cannot be scaled is real: a pod's start (image, model load), an inference's CPU time, " +
        "metrics-server's window.",
      "",
    );
    head.push(
      ...list(
        Object.entries(c.timeScaling.stacks).map(([stack, l]) => `${stack}: ${l.join("; ")}`),
      ),
    );
  }
  head.push(
    ...list(c.timeScaling.notApplied.map((w) => `**Not applied:** ${w}`)),
    ...list(c.timeScaling.warnings.map((w) => `**Clamped:** ${w}`)),
    "## The scale of this cluster",
    "",
    `One node, **${c.node.name}: ${c.node.cpuCores} cores and ${formatMemoryKB(c.node.memoryKB)} allocatable**, ` +
      "shared with the control plane, the load generator and the ingress. The report's cluster was " +
      "larger: read these figures as this node's, not the report's." +
      (c.ingress ? ` Ingress: ${c.ingress}.` : ""),
    "",
    ...markdownTable(
      ["stack", "what fits on the node by requests"],
      Object.entries(c.fits).map(([stack, text]) => [stack, text]),
    ),
    "",
    "Memory and CPU requested count the Pending pods too, as the original's monitor did (pods " +
      "Pending or Running): a stack whose HPA asks for more pods than fit shows requests the node " +
      "never granted. The replicas chart shows how many were Ready.",
    "",
    ...list(c.interference, ["**Other pods on the node:**", ""]),
    ...list(c.failures, ["## Steps that failed", ""]),
  );
  const tail: string[] = [];
  const withEvents = runs.filter((r) => r.events);
  if (withEvents.length > 0) {
    tail.push(
      "## Events that matter",
      "",
      "From the namespace's events (`kubectl get events`) and the pods' container statuses, " +
        "t = seconds since the run's load test started.",
      "",
      ...markdownTable(
        ["event", ...withEvents.map((r) => r.name)],
        (Object.keys(KIND_LABELS) as TimelineKind[]).map((k) => [
          KIND_LABELS[k],
          ...withEvents.map((r) => String(eventCount(r.events ?? [], k))),
        ]),
      ),
      "",
    );
    for (const r of withEvents) {
      const ev = r.events ?? [];
      tail.push(`### ${r.name}`, "");
      if (ev.length === 0) {
        tail.push(
          "No scale-up, scale-down, unschedulable pod, OOM kill, probe failure or restart.",
          "",
        );
        continue;
      }
      const shown = ev.slice(0, 60);
      tail.push(
        ...markdownTable(
          ["t (s)", "time (UTC)", "event", "object", "count", "message"],
          shown.map((e) => [
            fmt(e.t, 0),
            e.time.slice(11, 19),
            e.kind,
            e.object,
            String(e.count),
            e.message.replace(/\|/g, "\\|").slice(0, 160),
          ]),
        ),
        "",
      );
      if (ev.length > shown.length)
        tail.push(`(${ev.length - shown.length} more in the events file)`, "");
    }
  }
  // Repetitions of a stack (an interleaved run): each figure's values, mean and spread.
  const byStack = new Map<string, RunSummary[]>();
  for (const r of runs) byStack.set(r.stack, [...(byStack.get(r.stack) ?? []), r]);
  const repeated = [...byStack].filter(([, rs]) => rs.length > 1);
  if (repeated.length > 0) {
    const figures: [string, (r: RunSummary) => number, (n: number) => string][] = [
      ["memory requested (mean)", (r) => r.resources.memRequestedKB, formatMemoryKB],
      ["memory used (mean)", (r) => r.resources.memUsedKB, formatMemoryKB],
      ["response time (s)", (r) => r.load.responseTime, (n) => fmt(n, 3)],
      ["transaction rate (/s)", (r) => r.load.transactionRate, (n) => fmt(n)],
      ["replicas (max)", (r) => r.resources.maxReplicas, (n) => fmt(n, 0)],
    ];
    const reps = Math.max(...repeated.map(([, rs]) => rs.length));
    head.push(
      "## Spread between repetitions",
      "",
      `The stacks ran interleaved${c.order.length > 0 ? ` (${c.order.join(", ")})` : ""}, so that the ` +
        "machine's drift does not decide the comparison. A difference between stacks smaller than " +
        "the spread between a stack's repetitions is not a difference between the strategies.",
      "",
      ...markdownTable(
        [
          "stack",
          "figure",
          ...Array.from({ length: reps }, (_, i) => `#${i + 1}`),
          "mean",
          "spread (max − min)",
        ],
        repeated.flatMap(([stack, rs]) =>
          figures.map(([label, f, show]) => {
            const v = rs.map(f);
            return [
              stack,
              label,
              ...Array.from({ length: reps }, (_, i) =>
                v[i] === undefined ? "" : show(v[i] as number),
              ),
              show(meanOf(v)),
              spread(v, show) || "n/a",
            ];
          }),
        ),
      ),
      "",
    );
  }
  return { head, tail };
}

/**
 * The report's parts, each a run of Markdown lines under its own `## ` heading (intro: none):
 * report.md lays them out in this order with the charts before `method`; report.html
 * (report/page.ts) picks them for its verdict-first order.
 */
export interface ReportParts {
  intro: string[];
  warnings: string[];
  clusterHead: string[];
  /** What decided these numbers: each run's machine, backend, schedule. */
  conditions: string[];
  summary: string[];
  load: string[];
  /** The original report's table, memory in KB. */
  original: string[];
  config: string[];
  clusterTail: string[];
  /** How the figures are computed. */
  method: string[];
}

export function reportMarkdown(r: Report, charts: string[]): string {
  const p = reportParts(r);
  return [
    `# ${r.title}`,
    "",
    ...p.intro,
    ...p.warnings,
    ...p.clusterHead,
    ...p.conditions,
    ...p.summary,
    ...p.load,
    ...p.original,
    ...p.config,
    ...p.clusterTail,
    ...chartsMarkdown(charts),
    ...p.method,
  ].join("\n");
}

/** `withOriginal: false` (the HTML page): no KB table, and the method does not point to one. */
export function reportParts(
  { runs, notes, demo, cluster: c }: Report,
  withOriginal = true,
): ReportParts {
  const multi = runs.length > 1;
  const head = ["metric", ...runs.map((r) => r.name), ...(multi ? ["spread between runs"] : [])];
  const row = (
    label: string,
    f: (r: RunSummary) => string,
    value?: (r: RunSummary) => number,
    show?: (n: number) => string,
  ) => [
    label,
    ...runs.map(f),
    ...(multi ? [value && show ? spread(runs.map(value), show) : ""] : []),
  ];
  const warnings = runs.flatMap((r) => r.warnings);
  const anyFull = runs.some((r) => r.fullLength);
  const cluster = c ? clusterSections(runs, c) : { head: [], tail: [] };
  const intro = [
    "Each column is one run: a stack (deployment strategy) serving a model under the load schedule,",
    "with its resources sampled throughout. Lower memory and response time and a higher transaction",
    "rate are better; accuracy is the model's, measured on a labeled image set.",
    "",
    ...notes.flatMap((n) => [`> ${n}`, ""]),
  ];
  const conditions = [
    "## What decided these numbers",
    "",
    ...markdownTable(
      ["", ...runs.map((r) => r.name)],
      [
        ["server machine", ...runs.map((r) => machineText(serverMachine(r)))],
        [
          "load generator",
          ...runs.map((r) =>
            r.meta?.machine
              ? `${r.meta.loopback ? "same machine" : machineText(r.meta.machine)}`
              : "not recorded",
          ),
        ],
        [
          "load average (1 / 5 / 15 min) before → after",
          ...runs.map((r) => loadText(serverMachine(r) ?? r.meta?.machine)),
        ],
        [
          "tfjs backend",
          ...runs.map((r) => r.environment?.backend ?? r.accuracy.backend ?? "not recorded"),
        ],
        [
          "limits.cpu of one replica (cores)",
          ...runs.map((r) =>
            Number.isFinite(r.resources.cpuLimitPerReplica)
              ? String(r.resources.cpuLimitPerReplica)
              : "n/a",
          ),
        ],
        [
          "how it ran",
          ...runs.map(
            (r) =>
              r.environment?.where ??
              (r.meta?.loopback ? "a server on the load generator's machine" : "as deployed"),
          ),
        ],
        ["schedule", ...runs.map(scheduleText)],
      ],
    ),
    "",
    demo
      ? "The model is the demo one (seeded, untrained): its accuracy is about chance, 1 in 11 " +
        "(9.1 %), whatever the stack. Compare the stacks' speed and memory only, and only within one report."
      : "Differences between runs smaller than their run-to-run spread (repeat a run to see it) are " +
        "not a difference between the strategies.",
    "",
  ];
  const summary = [
    "## Summary",
    "",
    ...markdownTable(head, [
      row(
        demo ? "accuracy (chance: 9.1 %)" : "accuracy",
        (r) => accuracyText(r.accuracy),
        (r) => 100 * r.accuracy.accuracy,
        (n) => `${fmt(n, 1)} points`,
      ),
      row("precision (support-weighted)", (r) => pct(r.accuracy.precision)),
      row("recall (support-weighted)", (r) => pct(r.accuracy.recall)),
      row("F1 (support-weighted)", (r) => pct(r.accuracy.f1)),
      row(
        "memory requested (mean over the test)",
        (r) => formatMemoryKB(r.resources.memRequestedKB),
        (r) => r.resources.memRequestedKB,
        formatMemoryKB,
      ),
      row(
        "memory used (mean)",
        (r) => formatMemoryKB(r.resources.memUsedKB),
        (r) => r.resources.memUsedKB,
        formatMemoryKB,
      ),
      row(
        LOAD_LABELS.responseTime,
        (r) => fmt(r.load.responseTime, 3),
        (r) => r.load.responseTime,
        (n) => `${fmt(n, 3)} s`,
      ),
      row(
        LOAD_LABELS.transactionRate,
        (r) => fmt(r.load.transactionRate),
        (r) => r.load.transactionRate,
        (n) => `${fmt(n)} /s`,
      ),
    ]),
    "",
  ];
  const load = [
    "## Load and resources",
    "",
    ...markdownTable(head, [
      row("transactions", (r) => r.load.transactions.toLocaleString("en-US")),
      row("OKAY", (r) => r.load.okay.toLocaleString("en-US")),
      row("failed", (r) => r.load.failed.toLocaleString("en-US")),
      row("responses by status code", (r) =>
        r.statusCodes ? formatStatusCodes(r.statusCodes, r.socketFailures) : "not recorded",
      ),
      row("test duration (s)", (r) => fmt(r.load.durationSeconds, 1)),
      row("response time, plain mean of phases (s)", (r) => fmt(r.load.responseTimePhaseMean, 3)),
      row(
        "replicas (mean / max)",
        (r) => `${fmt(r.resources.meanReplicas)} / ${r.resources.maxReplicas}`,
      ),
      row(
        "CPU used (cores, mean)",
        (r) => fmt(r.resources.meanCpuUsed, 3),
        (r) => r.resources.meanCpuUsed,
        (n) => `${fmt(n, 3)} cores`,
      ),
      row("resource samples", (r) => String(r.resources.samples)),
      row("stack", (r) => r.stack),
      row("model", (r) => r.model),
    ]),
    "",
  ];
  const original = [
    "## As the original report's table (memory in KB)",
    "",
    "The same figures in the original report's units, to set beside it: memory in KB (1 KB = 1,024",
    "bytes; 4,718,592.0 KB is 4.5 GiB).",
    "",
    ...markdownTable(
      ["metric", ...runs.map((r) => r.name)],
      [
        [
          "memory requested (KB, as the original report)",
          ...runs.map((r) => fmt(r.resources.memRequestedKB, 1)),
        ],
        [
          "memory used (KB, as the original report)",
          ...runs.map((r) => fmt(r.resources.memUsedKB, 1)),
        ],
        ...(anyFull
          ? [
              [
                LOAD_LABELS.transactionRateOriginal,
                ...runs.map((r) =>
                  r.fullLength ? fmt(r.load.transactionRateOriginal) : "n/a (shortened schedule)",
                ),
              ],
            ]
          : []),
      ],
    ),
    "",
  ];
  if (!anyFull) {
    original.push(
      `The original's "OKAY / ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")}" rate is left out: it only compares with the original for the full 30-minute schedule.`,
      "",
    );
  }
  const configKeys = [...new Set(runs.flatMap((r) => Object.keys(r.config ?? {})))];
  const config: string[] = [];
  if (configKeys.length > 0) {
    config.push(
      "## Configuration of each run",
      "",
      ...markdownTable(
        ["setting", ...runs.map((r) => r.name)],
        configKeys.map((k) => [k, ...runs.map((r) => r.config?.[k] ?? "")]),
      ),
      "",
    );
  }
  const method = [
    "## How the figures are computed",
    "",
    "- memory requested / used: the mean, over every resource sample (every 5 s by default), of",
    ...(withOriginal
      ? [
          "  the summed memory requests / usage of the app's pods; shown in MiB or GiB (1 GiB = 1,024 MiB),",
          "  and in KB (1 KB = 1,024 bytes) in the table that reproduces the original report's.",
        ]
      : [
          "  the summed memory requests / usage of the app's pods; shown in MiB or GiB (1 GiB = 1,024 MiB).",
        ]),
    "- response time: sum(OKAY × phase response time) / sum(OKAY), i.e. weighted by the successful",
    "  transactions of each phase, not the plain mean of the phases (shown above for comparison).",
    "- transaction rate: sum(OKAY) / the real duration of the test (the sum of the phases' elapsed",
    `  times). The original recipe divided by ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")} s although its`,
    "  schedule lasts 1,800 s, which halves the rate; that figure is shown only for a full-length",
    withOriginal
      ? "  run, to compare with the original report."
      : "  run, to compare with the original report, in report.md's table in the original's units.",
    "- spread between runs: (largest − smallest) over the runs, and its share of their mean.",
    "",
  ];
  return {
    intro,
    warnings: list(
      warnings.map((w) => `**Warning:** ${w}`),
      ["## Warnings", ""],
    ),
    clusterHead: cluster.head,
    conditions,
    summary,
    load,
    original: withOriginal ? original : [],
    config,
    clusterTail: cluster.tail,
    method,
  };
}
