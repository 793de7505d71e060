import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { markdownTable } from "./benchkit.js";
import { seriesCharts } from "./chart-list.js";
import { accuracyScatters, type Chart, formatMemoryKB, memoryUnit, renderChart } from "./charts.js";
import {
  sortTimeline,
  type TimelineEntry,
  type TimelineKind,
  timelineCounts,
} from "./cluster-scale.js";
import { readLoadtestCsv } from "./csv.js";
import { formatStatusCodes } from "./loadtest.js";
import { type Machine, machineSchema } from "./machine.js";
import { parseMonitorCsv } from "./monitor-csv.js";
import { type LoadtestMeta, readLoadtestMeta } from "./runmeta.js";
import {
  clusterSeries,
  type LoadSummary,
  loadSeries,
  monitorSeries,
  ORIGINAL_DIVISOR_SECONDS,
  type ResourceSummary,
  type RunSeries,
  summarizeLoad,
  summarizeResources,
} from "./summary.js";

/** What decided a run's numbers beyond its files: where it ran and on what. */
const environmentSchema = z
  .object({
    /** The machine the server ran on (the demo's, or a node's). */
    machine: machineSchema.optional(),
    /** tfjs backend of the server ("tensorflow", "wasm"). */
    backend: z.string().optional(),
    /** How the stack ran, e.g. "one local server process". */
    where: z.string().optional(),
  })
  .strict();

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
    environment: environmentSchema.optional(),
    /** The cluster run's events.json: the events that matter, with their times. */
    events: z.string().min(1).optional(),
    /** Which repetition of its stack this run is (an interleaved run repeats each stack). */
    repetition: z.number().int().positive().optional(),
  })
  .strict();

/** What a run on real pods adds: the node, the time scaling, what each stack fits. */
const clusterSchema = z
  .object({
    node: z.object({ name: z.string(), cpuCores: z.number(), memoryKB: z.number() }).strict(),
    timeScaling: z
      .object({
        factor: z.number(),
        fullLength: z.boolean(),
        lines: z.array(z.string()),
        warnings: z.array(z.string()).default([]),
        /** Cluster flags the scaling wanted but the cluster could not be given, and why. */
        notApplied: z.array(z.string()).default([]),
        /** Per stack: its overrides (stabilization windows, probe periods), in words. */
        stacks: z.record(z.string(), z.array(z.string())).default({}),
      })
      .strict(),
    /** Per stack: how many of its pods fit on the node by requests, in words. */
    fits: z.record(z.string(), z.string()).default({}),
    /** What served the Ingress. */
    ingress: z.string().optional(),
    /** The order the runs were made in ("strategy1 #1", …). */
    order: z.array(z.string()).default([]),
    /** Steps that failed, named ("strategy2 #1: up: …"). */
    failures: z.array(z.string()).default([]),
    /** Other pods that held node capacity during a run. */
    interference: z.array(z.string()).default([]),
  })
  .strict();

/** A report manifest (YAML or JSON); paths are relative to the manifest. */
export const manifestSchema = z
  .object({
    title: z.string().default("Deployment strategies: accuracy against cost and speed"),
    /** Paragraphs printed under the title (e.g. what the demo can and cannot show). */
    notes: z.array(z.string()).default([]),
    /** A demo (untrained model, one machine); default: a run's model name contains "demo". */
    demo: z.boolean().optional(),
    /** Set by a cluster run (strategy-bench run, demo --cluster). */
    cluster: clusterSchema.optional(),
    runs: z.array(runSchema).min(1),
  })
  .strict();

export type Manifest = z.input<typeof manifestSchema>;
export type RunSpec = z.output<typeof runSchema>;

/** Chance accuracy of an 11-class classifier. */
export const CHANCE_ACCURACY = 1 / 11;

export async function readManifest(path: string): Promise<{ manifest: Manifest; baseDir: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new Error(
      `--manifest ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
        "give the YAML file listing the runs (docs/measuring.md, 'A report manifest')",
    );
  }
  return { manifest: parseYaml(text) as Manifest, baseDir: dirname(resolve(path)) };
}

interface AccuracyFigures {
  accuracy: number;
  precision?: number;
  recall?: number;
  f1?: number;
  samples?: number;
  backend?: string;
  /** The model the server said it serves (name, version), when scored through a server. */
  serverModel?: { name: string; version: string };
}

async function readAccuracy(spec: number | string, baseDir: string): Promise<AccuracyFigures> {
  if (typeof spec === "number") return { accuracy: spec };
  const j = JSON.parse(await readInput(resolve(baseDir, spec), "accuracy")) as {
    backend?: string;
    serverModel?: { name: string; version: string };
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
    ...(j.backend ? { backend: j.backend } : {}),
    ...(j.serverModel ? { serverModel: j.serverModel } : {}),
  };
}

async function readInput(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(
      `${what} file ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}; ` +
        "paths in a manifest are relative to the manifest's folder",
    );
  }
}

export interface RunSummary {
  name: string;
  stack: string;
  model: string;
  accuracy: AccuracyFigures;
  load: LoadSummary;
  resources: ResourceSummary;
  config?: Record<string, string>;
  /** The load test's meta file (this tool's loadtest), when present. */
  meta?: LoadtestMeta;
  environment?: z.output<typeof environmentSchema>;
  /** Total responses by status code, when known. */
  statusCodes?: Record<string, number>;
  socketFailures: number;
  /** The original 30-minute schedule at full length (the "/ 3,600" figure means something). */
  fullLength: boolean;
  /** Series for the charts over time and per phase (chart-list.ts). */
  series: RunSeries;
  /** Anything that makes this run's numbers doubtful, in words. */
  warnings: string[];
  /** The events that matter (cluster runs), in time order. */
  events?: TimelineEntry[];
  repetition?: number;
  /** The HPA's CPU target (% of requests), from the config rows. */
  hpaTarget?: number;
}

/** The machine the server of a run ran on, when known. */
export function serverMachine(r: Pick<RunSummary, "environment" | "meta">): Machine | undefined {
  return r.environment?.machine ?? (r.meta?.loopback ? r.meta.machine : undefined);
}

function runWarnings(r: Omit<RunSummary, "warnings">): string[] {
  const w: string[] = [];
  const attempts = r.load.transactions + r.socketFailures;
  if (r.load.okay === 0) {
    const codes = r.statusCodes ? `; ${formatStatusCodes(r.statusCodes, r.socketFailures)}` : "";
    w.push(
      `${r.name}: no successful request (0 OKAY of ${attempts.toLocaleString("en-US")} requests${codes}): ` +
        "its response time and transaction rate are not measured (n/a), and its load figures mean " +
        "nothing; check the load test's URL (a 404 means a wrong path) and the server's log.",
    );
  } else if (r.meta?.problem) {
    w.push(`${r.name}: ${r.meta.problem}.`);
  }
  const machine = serverMachine(r);
  const limit = r.resources.cpuLimitPerReplica;
  if (machine && Number.isFinite(limit) && limit > machine.cores) {
    w.push(
      `${r.name}: limits.cpu ${limit} exceeds the ${machine.cores} cores of the machine it ran on` +
        `${machine.hostname ? ` (${machine.hostname})` : ""}: it could not use its CPU limit, so its ` +
        "speed figures measure the machine, not the strategy.",
    );
  }
  const before = machine?.loadBefore?.[0] ?? r.meta?.machine?.loadBefore?.[0];
  const cores = machine?.cores ?? r.meta?.machine?.cores;
  if (before !== undefined && cores !== undefined && before > cores) {
    w.push(
      `${r.name}: the machine was busy before the run (load average ${before} on ${cores} cores): ` +
        "its speed figures are partly other work's.",
    );
  }
  if (servedDemoModel(r) && !/demo/i.test(r.model)) {
    w.push(
      `${r.name}: the model is named "${r.model}" but the server answered with the untrained demo ` +
        `model (${r.accuracy.serverModel?.name}): its accuracy is about chance (9.1 %).`,
    );
  }
  if (r.resources.samples === 0) {
    w.push(`${r.name}: the monitor CSV has no sample: memory and CPU figures are n/a.`);
  }
  return w;
}

export async function summarizeRuns(manifest: Manifest, baseDir: string): Promise<RunSummary[]> {
  const m = manifestSchema.parse(manifest);
  return Promise.all(
    m.runs.map(async (r) => {
      const loadPath = resolve(baseDir, r.loadtest);
      await readInput(loadPath, "loadtest");
      const loadRows = await readLoadtestCsv(loadPath);
      const monitorPath = resolve(baseDir, r.monitor);
      const monitorRows = parseMonitorCsv(await readInput(monitorPath, "monitor"));
      const events = r.events
        ? sortTimeline(
            JSON.parse(await readInput(resolve(baseDir, r.events), "events")) as TimelineEntry[],
          )
        : undefined;
      const target = Number(r.config?.["HPA target CPU utilization (%)"]);
      const meta = await readLoadtestMeta(loadPath);
      const load = summarizeLoad(loadRows);
      const haveCodes = loadRows.some((x) => x.statusCodes !== undefined);
      const statusCodes: Record<string, number> = {};
      for (const row of loadRows) {
        for (const [c, n] of Object.entries(row.statusCodes ?? {})) {
          statusCodes[c] = (statusCodes[c] ?? 0) + n;
        }
      }
      const base = {
        name: r.name ?? `${r.stack} / ${r.model}`,
        stack: r.stack,
        model: r.model,
        accuracy: await readAccuracy(r.accuracy, baseDir),
        load,
        resources: summarizeResources(monitorRows),
        ...(r.config ? { config: r.config } : {}),
        ...(meta ? { meta } : {}),
        ...(r.environment ? { environment: r.environment } : {}),
        ...(haveCodes ? { statusCodes } : meta ? { statusCodes: meta.statusCodes } : {}),
        socketFailures: loadRows.reduce((a, x) => a + x.socketFailures, 0),
        // Without a meta file (a siege log), a run of about 1,800 s is taken as the full schedule.
        fullLength: meta ? meta.fullLength : Math.abs(load.durationSeconds - 1800) <= 90,
        series: {
          time: { ...monitorSeries(monitorRows), ...clusterSeries(monitorRows) },
          phase: loadSeries(loadRows),
        },
        ...(events ? { events } : {}),
        ...(r.repetition ? { repetition: r.repetition } : {}),
        ...(Number.isFinite(target) ? { hpaTarget: target } : {}),
      };
      return { ...base, warnings: runWarnings(base) };
    }),
  );
}

// ---------------------------------------------------------------- charts

/** The server answered with the untrained demo model (app/src/config.ts names it so). */
export function servedDemoModel(r: Pick<RunSummary, "accuracy">): boolean {
  const m = r.accuracy.serverModel;
  return m !== undefined && (m.version === "demo" || /-demo$/.test(m.name));
}

/**
 * True when the report is a demo: the manifest says so, else a run's model is named "demo" or
 * its server answered with the demo model.
 */
export function isDemo(manifest: { demo?: boolean | undefined }, runs: RunSummary[]): boolean {
  return manifest.demo ?? runs.some((r) => /demo/i.test(r.model) || servedDemoModel(r));
}

const fmt = (n: number, digits = 2) =>
  Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
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

/** The lines under every chart's title: model, schedule, and "DEMO" where it is one. */
export function chartSubtitle(runs: RunSummary[], demo: boolean, cluster?: ClusterInfo): string[] {
  const models = [...new Set(runs.map((r) => r.model))].join(", ");
  const schedules = [...new Set(runs.map(scheduleText))].join("; ");
  const lines = [`model: ${models} · schedule: ${schedules}`];
  if (cluster) {
    const t = cluster.timeScaling;
    lines.push(
      `REAL PODS on ${cluster.node.name} (${cluster.node.cpuCores} cores, ${formatMemoryKB(cluster.node.memoryKB)}) · ` +
        (t.fullLength
          ? "full length"
          : (t.notApplied?.length ?? 0) > 0
            ? `time-scaled by ${t.factor}, PARTLY (the controller-manager's clocks not)`
            : `time-scaled by ${t.factor}, the HPA's clocks with it`),
    );
    if (demo)
      lines.push(
        "DEMO MODEL: untrained (accuracy ≈ chance); compare speed, memory and scaling only",
      );
  } else if (demo) {
    lines.push(
      "DEMO: untrained model (accuracy ≈ chance), one local process per stack on a shared machine; not real figures",
    );
  }
  return lines;
}

export function reportCharts(runs: RunSummary[], demo: boolean, cluster?: ClusterInfo): Chart[] {
  const subtitle = chartSubtitle(runs, demo, cluster);
  const names = runs.map((r) => r.name);
  const reference = demo
    ? { value: 100 * CHANCE_ACCURACY, label: "chance: 1 in 11 (9.1 %)" }
    : undefined;
  // Each memory chart in the unit that suits its own values (MiB below 1 GiB).
  const memUnit = (f: (r: RunSummary) => number) =>
    memoryUnit(Math.max(0, ...runs.map(f).filter(Number.isFinite)));
  const used = memUnit((r) => r.resources.memUsedKB);
  const requested = memUnit((r) => r.resources.memRequestedKB);
  const charts: Chart[] = accuracyScatters({
    points: runs.map((r) => ({
      run: r.name,
      accuracy: 100 * r.accuracy.accuracy,
      memUsedKB: r.resources.memUsedKB,
      memRequestedKB: r.resources.memRequestedKB,
      transactionRate: r.load.transactionRate,
      responseTime: r.load.responseTime,
    })),
    runs: names,
    subtitle,
    used,
    requested,
    requestedNote: "mean over the test",
    ...(reference ? { referenceY: reference } : {}),
  });
  charts.push(...seriesCharts(runs, subtitle));
  return charts;
}

// ---------------------------------------------------------------- markdown

/** "30 of 33 (90.9 %)" when the sample count is known, else "90.90 %". */
export function accuracyText(a: AccuracyFigures): string {
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
  const ok = values.filter(Number.isFinite);
  if (ok.length < 2) return "";
  const lo = Math.min(...ok);
  const hi = Math.max(...ok);
  const mean = ok.reduce((a, b) => a + b, 0) / ok.length;
  return mean > 0
    ? `${show(hi - lo)} (${fmt((100 * (hi - lo)) / mean, 1)} % of the mean)`
    : show(hi - lo);
}

export interface ReportContext {
  demo: boolean;
  /** A run on real pods: the node, the time scaling, the fits. */
  cluster?: ClusterInfo;
}

export type ClusterInfo = z.output<typeof clusterSchema>;

/** "time-scaled by 0.2: HPA sync period 15 s → 3 s, …" or "full length". */
export function timeScalingHeader(c: ClusterInfo): string {
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

/** The sections a cluster run adds: time scaling, the node's scale, events, repetitions. */
export function clusterSections(
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
    for (const [stack, lines] of Object.entries(c.timeScaling.stacks)) {
      head.push(`- ${stack}: ${lines.join("; ")}`);
    }
    if (Object.keys(c.timeScaling.stacks).length > 0) head.push("");
  }
  for (const w of c.timeScaling.notApplied) head.push(`- **Not applied:** ${w}`);
  if (c.timeScaling.notApplied.length > 0) head.push("");
  for (const w of c.timeScaling.warnings) head.push(`- **Clamped:** ${w}`);
  if (c.timeScaling.warnings.length > 0) head.push("");
  head.push(
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
  );
  head.push(
    "Memory and CPU requested count the Pending pods too, as the original's monitor did (pods " +
      "Pending or Running): a stack whose HPA asks for more pods than fit shows requests the node " +
      "never granted. The replicas chart shows how many were Ready.",
    "",
  );
  if (c.interference.length > 0) {
    head.push("**Other pods on the node:**", "", ...c.interference.map((f) => `- ${f}`), "");
  }
  if (c.failures.length > 0) {
    head.push("## Steps that failed", "", ...c.failures.map((f) => `- ${f}`), "");
  }
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
          ...withEvents.map((r) => String(timelineCounts(r.events ?? [])[k])),
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
            const ok = v.filter(Number.isFinite);
            const mean = ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
            return [
              stack,
              label,
              ...Array.from({ length: reps }, (_, i) =>
                v[i] === undefined ? "" : show(v[i] as number),
              ),
              show(mean),
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

export function reportMarkdown(
  title: string,
  runs: RunSummary[],
  charts: string[],
  notes: string[] = [],
  ctx: ReportContext = { demo: false },
): string {
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
  const cluster = ctx.cluster ? clusterSections(runs, ctx.cluster) : { head: [], tail: [] };
  const out = [
    `# ${title}`,
    "",
    "Each column is one run: a stack (deployment strategy) serving a model under the load schedule,",
    "with its resources sampled throughout. Lower memory and response time and a higher transaction",
    "rate are better; accuracy is the model's, measured on a labeled image set.",
    "",
    ...notes.flatMap((n) => [`> ${n}`, ""]),
    ...(warnings.length > 0
      ? ["## Warnings", "", ...warnings.map((w) => `- **Warning:** ${w}`), ""]
      : []),
    ...cluster.head,
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
    ctx.demo
      ? "The model is the demo one (seeded, untrained): its accuracy is about chance, 1 in 11 " +
        "(9.1 %), whatever the stack. Compare the stacks' speed and memory only, and only within one report."
      : "Differences between runs smaller than their run-to-run spread (repeat a run to see it) are " +
        "not a difference between the strategies.",
    "",
    "## Summary",
    "",
    ...markdownTable(head, [
      row(
        ctx.demo ? "accuracy (chance: 9.1 %)" : "accuracy",
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
        "response time (s, weighted by OKAY)",
        (r) => fmt(r.load.responseTime, 3),
        (r) => r.load.responseTime,
        (n) => `${fmt(n, 3)} s`,
      ),
      row(
        "transaction rate (/s, OKAY / real duration)",
        (r) => fmt(r.load.transactionRate),
        (r) => r.load.transactionRate,
        (n) => `${fmt(n)} /s`,
      ),
    ]),
    "",
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
                `transaction rate (/s, OKAY / ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")}, as the original)`,
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
    out.push(
      `The original's "OKAY / ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")}" rate is left out: it only compares with the original for the full 30-minute schedule.`,
      "",
    );
  }
  const configKeys = [...new Set(runs.flatMap((r) => Object.keys(r.config ?? {})))];
  if (configKeys.length > 0) {
    out.push(
      "## Configuration of each run",
      "",
      ...markdownTable(
        ["setting", ...runs.map((r) => r.name)],
        configKeys.map((k) => [k, ...runs.map((r) => r.config?.[k] ?? "")]),
      ),
      "",
    );
  }
  out.push(
    ...cluster.tail,
    "## Charts",
    "",
    ...charts.flatMap((c) => [`![${c}](${c}.png)`, ""]),
    "## How the figures are computed",
    "",
    "- memory requested / used: the mean, over every resource sample (every 5 s by default), of",
    "  the summed memory requests / usage of the app's pods; shown in MiB or GiB (1 GiB = 1,024 MiB),",
    "  and in KB (1 KB = 1,024 bytes) in the table that reproduces the original report's.",
    "- response time: sum(OKAY × phase response time) / sum(OKAY), i.e. weighted by the successful",
    "  transactions of each phase, not the plain mean of the phases (shown above for comparison).",
    "- transaction rate: sum(OKAY) / the real duration of the test (the sum of the phases' elapsed",
    `  times). The original recipe divided by ${ORIGINAL_DIVISOR_SECONDS.toLocaleString("en-US")} s although its`,
    "  schedule lasts 1,800 s, which halves the rate; that figure is shown only for a full-length",
    "  run, to compare with the original report.",
    "- spread between runs: (largest − smallest) over the runs, and its share of their mean.",
    "",
  );
  return out.join("\n");
}

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
  const charts: ReportFiles["charts"] = [];
  for (const def of defs) {
    const { svg, png } = await renderChart(def);
    const svgPath = join(outDir, `${def.id}.svg`);
    const pngPath = join(outDir, `${def.id}.png`);
    await writeFile(svgPath, svg);
    await writeFile(pngPath, png);
    charts.push({ id: def.id, svg: svgPath, png: pngPath });
  }
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

export function relativeTo(from: string, p: string): string {
  return relative(from, p) || ".";
}
