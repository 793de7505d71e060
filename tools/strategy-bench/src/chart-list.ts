/**
 * The one list of the charts: which exist, their ids (file stems), titles and the data each
 * plots; charts.ts builds them, one builder per kind. The report's accuracy-against-cost
 * scatters ({@link SCATTER_METRICS}), then the charts over time and per phase, for the report
 * (measured runs) and the planner (predicted stacks) alike: add an entry to draw a new series in
 * both. Each of those names the series it draws by its key in {@link SeriesRun}'s `series`; a run
 * without that series has an empty panel, a chart no run has a series for is not drawn. An entry
 * with `predicted` is drawn by the planner too, with those fields in place of the report's.
 */
import {
  barChart,
  type Chart,
  constantLine,
  memoryUnit,
  phaseChart,
  scatterChart,
  timeSeriesChart,
  type Unit,
} from "./charts.js";
import type { RunSummary } from "./report/summarize.js";
import type { LoadSummary, ResourceSummary, RunSeries, TimePoint } from "./summary.js";

/** A run (or a predicted stack) as the chart list reads it. */
export interface SeriesRun {
  name: string;
  series: RunSeries;
  /** The HPA's CPU target (% of requests), when known. */
  hpaTarget?: number;
}

/** A time-series chart: its main series, and the lines drawn beside it. */
interface TimeSeriesMetric {
  /** Key in `series.time`: the chart's main (solid) series. */
  key: string;
  id: string;
  title: string;
  yTitle: string;
  /** "memoryKB": drawn in MiB or GiB. */
  unit?: "memoryKB";
  interpolate?: "linear" | "step-after";
  /** Whole-number ticks (replicas, pods). */
  integer?: boolean;
  /** The main series' name in the line legend, when `lines` are drawn beside it. */
  label?: string;
  /** A line under the title saying what the chart's lines mean. */
  note?: string;
  /** Lines beside it in each run's panel, each with its own dash, when the run has them. */
  lines?: { label: string; points: (r: SeriesRun) => TimePoint[] | undefined }[];
  /** The planner draws this chart too, with these fields changed (its title says "predicted"). */
  predicted?: Partial<Omit<TimeSeriesMetric, "predicted">> & { title: string };
}

/** A per-phase chart. */
interface PhaseMetric {
  /** Key in `series.phase`. */
  key: string;
  id: string;
  title: string;
  yTitle: string;
  /** The planner's title for it. */
  predictedTitle: string;
}

/** CPU requested x the run's HPA target: the CPU at which the HPA adds a replica. */
function hpaTargetCores(r: SeriesRun): TimePoint[] | undefined {
  const target = r.hpaTarget;
  if (target === undefined) return undefined;
  return r.series.time.cpuRequested?.map((p) => ({ t: p.t, value: (p.value * target) / 100 }));
}

/** The "requested" and "limit" lines beside a usage series: the series under these keys. */
function requestedAndLimit(
  requested: string,
  limit: string,
): NonNullable<TimeSeriesMetric["lines"]> {
  return [
    { label: "requested", points: (r) => r.series.time[requested] },
    { label: "limit", points: (r) => r.series.time[limit] },
  ];
}

/** What a cost figure is read from: a measured run's summary, or a predicted stack's. */
export interface CostFigures {
  name: string;
  load: LoadSummary;
  resources: ResourceSummary;
}

/**
 * An accuracy-against-cost scatter: each run's accuracy (%) against `x`; and the planner's bar of
 * the same figure per stack (`perStack`: accuracy is its input, not a prediction).
 */
interface ScatterMetric {
  id: string;
  title: string;
  /** The x axis' title, with the unit a memory figure is drawn in. */
  xTitle: (unit: string) => string;
  x: (r: CostFigures) => number;
  /** "memoryKB": drawn in MiB or GiB. */
  unit?: "memoryKB";
  /** The bar chart's id and title, and its y title where it differs from `xTitle`. */
  perStack: { id: string; title: string; yTitle?: (unit: string) => string };
}

export const SCATTER_METRICS: readonly ScatterMetric[] = [
  {
    id: "accuracy-vs-memory-used",
    title: "Accuracy against memory used",
    xTitle: (u) => `memory used (${u}, mean over the test)`,
    x: (r) => r.resources.memUsedKB,
    unit: "memoryKB",
    perStack: { id: "memory-used-per-stack", title: "Memory used per stack" },
  },
  {
    id: "accuracy-vs-memory-requested",
    title: "Accuracy against memory requested",
    xTitle: (u) => `memory requested (${u}, mean over the test)`,
    x: (r) => r.resources.memRequestedKB,
    unit: "memoryKB",
    // The planner passes the scheduled pods' requests (what the report's strategy 2 counted).
    perStack: {
      id: "memory-requested-per-stack",
      title: "Memory requested per stack",
      yTitle: (u) => `memory requested (${u}, mean; scheduled pods)`,
    },
  },
  {
    id: "accuracy-vs-transaction-rate",
    title: "Accuracy against successful requests per second",
    xTitle: () => "successful requests per second (mean over the test)",
    x: (r) => r.load.transactionRate,
    perStack: {
      id: "successful-requests-per-second-per-stack",
      title: "Successful requests per second per stack",
    },
  },
  {
    id: "accuracy-vs-response-time",
    title: "Accuracy against response time",
    xTitle: () => "response time (s, mean weighted by successful requests)",
    x: (r) => r.load.responseTime,
    perStack: { id: "response-time-per-stack", title: "Response time per stack" },
  },
];

/** MiB or GiB for a memory figure (in KB), chosen by the largest of `values`; else none. */
function unitOf(unit: "memoryKB" | undefined, values: number[]): Unit | undefined {
  return unit && memoryUnit(Math.max(0, ...values.filter(Number.isFinite)));
}

/** The report's scatters of measured runs; `referenceY`: a line across, e.g. chance accuracy. */
export function scatterCharts(
  runs: readonly RunSummary[],
  subtitle: string[],
  referenceY?: { value: number; label: string },
): Chart[] {
  return SCATTER_METRICS.map((m) => {
    // Each memory chart in the unit that suits its own values (MiB below 1 GiB).
    const unit = unitOf(m.unit, runs.map(m.x));
    return scatterChart({
      id: m.id,
      title: m.title,
      subtitle,
      xTitle: m.xTitle(unit?.label ?? ""),
      yTitle: "accuracy (%)",
      runs: runs.map((r) => r.name),
      yBounds: [0, 100],
      ...(referenceY ? { referenceY } : {}),
      points: runs.map((r) => ({
        run: r.name,
        x: m.x(r) / (unit?.divisor ?? 1),
        y: 100 * r.accuracy.accuracy,
      })),
    });
  });
}

/** The planner's bars: each scatter's figure per predicted stack, in the scatter's unit. */
export function perStackCharts(stacks: readonly CostFigures[], subtitle: string[]): Chart[] {
  return SCATTER_METRICS.map((m) => {
    const unit = unitOf(m.unit, stacks.map(m.x));
    return barChart({
      id: m.perStack.id,
      title: `${m.perStack.title} (predicted)`,
      subtitle,
      yTitle: (m.perStack.yTitle ?? m.xTitle)(unit?.label ?? ""),
      runs: stacks.map((r) => r.name),
      values: stacks.map((r) => ({ run: r.name, value: m.x(r) / (unit?.divisor ?? 1) })),
    });
  });
}

export const TIME_SERIES_METRICS: readonly TimeSeriesMetric[] = [
  {
    key: "replicas",
    id: "replicas-over-time",
    title: "Replicas over time",
    yTitle: "replicas (pods Pending or Running)",
    interpolate: "step-after",
    integer: true,
    // The planner knows which of its pods are Ready: it draws them, and the Pending ones beside.
    predicted: {
      key: "readyReplicas",
      title: "Replicas Ready and Pending over time (predicted)",
      yTitle: "pods",
      label: "Ready",
      lines: [{ label: "Pending", points: (r) => r.series.time.pendingReplicas }],
    },
  },
  {
    key: "cpuUsed",
    id: "cpu-over-time",
    title: "CPU used, requested and limit over time",
    yTitle: "CPU (cores, all pods)",
    note: "HPA target: the stack's CPU target % of the CPU requested, where the HPA adds a replica",
    label: "used",
    lines: [
      ...requestedAndLimit("cpuRequested", "cpuLimit"),
      { label: "HPA target", points: hpaTargetCores },
    ],
    predicted: {
      title: "CPU used, requested and limit over time (predicted, as metrics-server reports it)",
    },
  },
  {
    key: "memUsedKB",
    id: "memory-over-time",
    title: "Memory used, requested and limit over time",
    yTitle: "memory, all pods",
    unit: "memoryKB",
    label: "used",
    lines: requestedAndLimit("memRequestedKB", "memLimitKB"),
    predicted: { title: "Memory used, requested and limit over time (predicted)" },
  },
  // Cluster runs only (the monitor's extended columns):
  {
    key: "readyReplicas",
    id: "replicas-ready-pending-over-time",
    title: "Replicas ready and pending over time",
    yTitle: "pods",
    interpolate: "step-after",
    integer: true,
    label: "Ready",
    lines: [
      {
        label: "Pending (not running yet, or unschedulable)",
        points: (r) => r.series.time.pendingReplicas,
      },
    ],
  },
  {
    key: "cpuUtilization",
    id: "cpu-vs-hpa-target-over-time",
    title: "CPU used against the HPA target over time",
    yTitle: "CPU used (% of the Ready pods' requested CPU, as the HPA computes it)",
    label: "used",
    lines: [
      {
        label: "the run's HPA CPU target (%)",
        points: (r) =>
          r.hpaTarget === undefined
            ? undefined
            : constantLine(r.series.time.cpuUtilization ?? [], r.hpaTarget),
      },
    ],
  },
];

export const PHASE_METRICS: readonly PhaseMetric[] = [
  {
    key: "responseTime",
    id: "response-time-per-phase",
    title: "Response time per phase",
    yTitle: "response time (s, mean of the phase)",
    predictedTitle: "Response time per phase (predicted)",
  },
  {
    key: "okayRate",
    id: "transaction-rate-per-phase",
    title: "Successful requests per second, per phase",
    yTitle: "successful requests per second",
    predictedTitle: "Successful requests per second, per phase (predicted)",
  },
];

/**
 * The list's charts for these runs: every entry the runs have a series for, as measured, or with
 * `predicted` the planner's entries under its titles.
 */
export function seriesCharts(
  runs: readonly SeriesRun[],
  subtitle: string[],
  predicted = false,
): Chart[] {
  const names = runs.map((r) => r.name);
  const charts: Chart[] = [];
  const metrics = predicted
    ? TIME_SERIES_METRICS.flatMap((m) => (m.predicted ? [{ ...m, ...m.predicted }] : []))
    : TIME_SERIES_METRICS;
  for (const m of metrics) {
    const all = runs.flatMap((r) => r.series.time[m.key] ?? []);
    if (all.length === 0) continue;
    // Each line only in the panels of runs that have the main series and the line.
    const lines = (m.lines ?? [])
      .map((l) => ({
        label: l.label,
        series: runs.map((r) => ({
          run: r.name,
          points: (r.series.time[m.key] ?? []).length > 0 ? (l.points(r) ?? []) : [],
        })),
      }))
      .filter((l) => l.series.some((x) => x.points.length > 0));
    const unit = unitOf(
      m.unit,
      [...all, ...lines.flatMap((l) => l.series.flatMap((x) => x.points))].map((p) => p.value),
    );
    const scaled = (points: { t: number; value: number }[]) =>
      points.map((p) => ({ t: p.t, value: unit ? p.value / unit.divisor : p.value }));
    charts.push(
      timeSeriesChart({
        id: m.id,
        title: m.title,
        subtitle: m.note ? [m.note, ...subtitle] : subtitle,
        yTitle: unit ? `${m.yTitle} (${unit.label})` : m.yTitle,
        runs: names,
        ...(m.interpolate ? { interpolate: m.interpolate } : {}),
        ...(m.integer ? { integer: true } : {}),
        series: runs.map((r) => ({ run: r.name, points: scaled(r.series.time[m.key] ?? []) })),
        ...(lines.length > 0
          ? {
              label: m.label ?? m.yTitle,
              lines: lines.map((l) => ({
                label: l.label,
                series: l.series.map((x) => ({ run: x.run, points: scaled(x.points) })),
              })),
            }
          : {}),
      }),
    );
  }
  for (const m of PHASE_METRICS) {
    const values = runs.flatMap((r) =>
      (r.series.phase[m.key] ?? []).map((p) => ({ ...p, run: r.name })),
    );
    if (values.length === 0) continue;
    charts.push(
      phaseChart({
        id: m.id,
        title: predicted ? m.predictedTitle : m.title,
        subtitle,
        yTitle: m.yTitle,
        runs: names,
        values,
      }),
    );
  }
  return charts;
}
