/**
 * Chart construction (vega-lite specs) and rendering (vega → SVG → PNG). Every function takes
 * plain typed data and returns a `Chart` (an id and a vega-lite spec), so other tools (the
 * planner) can build charts without the report:
 *
 * - `scatterChart`: one marker per run, y against x (accuracy against a cost), colour and shape per
 *   run with a legend, labels placed where they cannot collide (else dropped: the legend names
 *   the run), an optional reference line (chance accuracy);
 * - `timeSeriesChart`: one panel per run on shared axes, a value over time (replicas, CPU, memory);
 * - `phaseChart`: grouped bars, one per run and phase, on shared axes (response time, rate).
 *
 * Memory is given in KB (1 KB = 1,024 bytes, the monitor's unit) and drawn in MiB or GiB
 * (`memoryUnit`).
 */
import sharp from "sharp";
import type { TopLevelSpec } from "vega-lite";

export interface Chart {
  /** File stem, e.g. "accuracy-vs-memory-used". */
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** Lines under a chart's title: what decided its numbers (model, schedule scale, "demo"). */
export type Subtitle = string | string[] | undefined;

/** Colour-blind-safe enough, high contrast on white (Tableau 10, reordered). */
export const RUN_COLORS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
] as const;
export const RUN_SHAPES = [
  "circle",
  "square",
  "triangle-up",
  "diamond",
  "cross",
  "triangle-down",
  "triangle-left",
  "triangle-right",
] as const;

const FONT = "DejaVu Sans";
const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

// ---------------------------------------------------------------- units

export interface Unit {
  /** Shown in axis titles and tables: "MiB", "GiB", "s", "cores"… */
  label: string;
  /** Divide a value in the base unit by this to get it in `label`. */
  divisor: number;
}

export const KB_PER_MIB = 1024;
export const KB_PER_GIB = 1024 * 1024;

/** MiB below 1 GiB, GiB from there (values in KB, 1 KB = 1,024 bytes). */
export function memoryUnit(maxKB: number): Unit {
  return Number.isFinite(maxKB) && maxKB >= KB_PER_GIB
    ? { label: "GiB", divisor: KB_PER_GIB }
    : { label: "MiB", divisor: KB_PER_MIB };
}

/** "2.00 GiB", "512.0 MiB": a memory figure in KB for a table. */
export function formatMemoryKB(kb: number): string {
  if (!Number.isFinite(kb)) return "n/a";
  const u = memoryUnit(kb);
  const v = kb / u.divisor;
  return `${v.toLocaleString("en-US", {
    minimumFractionDigits: u.label === "GiB" ? 2 : 1,
    maximumFractionDigits: u.label === "GiB" ? 2 : 1,
  })} ${u.label}`;
}

function runScale(runs: readonly string[]) {
  return {
    domain: [...runs],
    range: runs.map((_, i) => RUN_COLORS[i % RUN_COLORS.length] as string),
  };
}

/** The colour channel by run, its legend on the right. */
function runColor(runs: readonly string[]) {
  return {
    field: "run",
    type: "nominal" as const,
    title: "run",
    scale: runScale(runs),
    legend: { orient: "right" as const },
  };
}

function shapeScale(runs: readonly string[]) {
  return {
    domain: [...runs],
    range: runs.map((_, i) => RUN_SHAPES[i % RUN_SHAPES.length] as string),
  };
}

/** Words wrapped into lines of at most `max` characters (a long subtitle would widen the image). */
export function wrapText(text: string, max = 80): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function titleOf(text: string, subtitle: Subtitle) {
  const given = subtitle === undefined ? [] : Array.isArray(subtitle) ? subtitle : [subtitle];
  const lines = given.flatMap((l) => wrapText(l));
  return lines.length === 0
    ? { text, anchor: "start" as const, fontSize: 15 }
    : {
        text,
        subtitle: lines,
        anchor: "start" as const,
        fontSize: 15,
        subtitleFontSize: 11,
        subtitleColor: "#444",
      };
}

const BASE_CONFIG = {
  font: FONT,
  view: { stroke: "#ddd" },
  legend: { labelFontSize: 12, titleFontSize: 12, symbolSize: 120, symbolStrokeWidth: 2 },
  axis: { labelFontSize: 11, titleFontSize: 12 },
};

// ---------------------------------------------------------------- scatter

export interface ScatterPoint {
  run: string;
  x: number;
  y: number;
}

export interface ScatterOptions {
  id: string;
  title: string;
  subtitle?: Subtitle;
  xTitle: string;
  yTitle: string;
  /** Runs in legend order (colour i, shape i); default: the points' order. */
  runs?: readonly string[];
  points: ScatterPoint[];
  /** A horizontal reference line, e.g. chance accuracy. */
  referenceY?: { value: number; label: string };
  /** y domain bounds (e.g. 0..100 for a percentage). */
  yBounds?: [number, number];
  width?: number;
  height?: number;
}

/** One run's place on the four accuracy-against-cost scatters. */
export interface AccuracyCosts {
  run: string;
  /** Percent. */
  accuracy: number;
  memUsedKB: number;
  memRequestedKB: number;
  transactionRate: number;
  responseTime: number;
}

/**
 * The report's four scatters, accuracy against memory used, memory requested, transaction rate
 * and response time (the planner draws the same four, `(predicted)`).
 */
export function accuracyScatters(o: {
  points: readonly AccuracyCosts[];
  runs: readonly string[];
  subtitle: Subtitle;
  used: Unit;
  requested: Unit;
  /** After the unit in the memory-requested axis title: "mean over the test". */
  requestedNote: string;
  /** After each title: " (predicted)". */
  titleSuffix?: string;
  referenceY?: { value: number; label: string };
}): Chart[] {
  const suffix = o.titleSuffix ?? "";
  const scatter = (id: string, title: string, xTitle: string, x: (p: AccuracyCosts) => number) =>
    scatterChart({
      id,
      title: `${title}${suffix}`,
      subtitle: o.subtitle,
      xTitle,
      yTitle: "accuracy (%)",
      runs: o.runs,
      yBounds: [0, 100],
      ...(o.referenceY ? { referenceY: o.referenceY } : {}),
      points: o.points.map((p) => ({ run: p.run, x: x(p), y: p.accuracy })),
    });
  return [
    scatter(
      "accuracy-vs-memory-used",
      "Accuracy against memory used",
      `memory used (${o.used.label}, mean over the test)`,
      (p) => p.memUsedKB / o.used.divisor,
    ),
    scatter(
      "accuracy-vs-memory-requested",
      "Accuracy against memory requested",
      `memory requested (${o.requested.label}, ${o.requestedNote})`,
      (p) => p.memRequestedKB / o.requested.divisor,
    ),
    scatter(
      "accuracy-vs-transaction-rate",
      "Accuracy against transaction rate",
      "transaction rate (OKAY per second of the test)",
      (p) => p.transactionRate,
    ),
    scatter(
      "accuracy-vs-response-time",
      "Accuracy against response time",
      "response time (s, weighted by OKAY)",
      (p) => p.responseTime,
    ),
  ];
}

export type LabelPosition = "ne" | "nw" | "se" | "sw" | "n" | "s" | "none";

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** Offsets of each label position from its point, pixels: dx, dy (baseline), text alignment. */
const POSITIONS: Record<
  Exclude<LabelPosition, "none">,
  { dx: number; dy: number; align: "left" | "right" | "center" }
> = {
  ne: { dx: 12, dy: -10, align: "left" },
  nw: { dx: -12, dy: -10, align: "right" },
  se: { dx: 12, dy: 20, align: "left" },
  sw: { dx: -12, dy: 20, align: "right" },
  n: { dx: 0, dy: -15, align: "center" },
  s: { dx: 0, dy: 27, align: "center" },
};
const LABEL_FONT = 12;
/** DejaVu Sans is about 0.6 em per character; a little more, so estimates err on the safe side. */
export const labelWidth = (text: string) => Math.ceil(0.66 * LABEL_FONT * text.length) + 2;

function labelBox(px: number, py: number, pos: Exclude<LabelPosition, "none">, w: number): Box {
  const p = POSITIONS[pos];
  const x = px + p.dx;
  const x0 = p.align === "left" ? x : p.align === "right" ? x - w : x - w / 2;
  const base = py + p.dy;
  return { x0, x1: x0 + w, y0: base - LABEL_FONT, y1: base + 3 };
}

/**
 * Place one label per point (in pixels) so that no label overlaps another label, any marker or
 * the plot's edge; a point whose label fits nowhere gets "none" (its legend entry names it).
 */
export function placeLabels(
  points: { px: number; py: number; text: string }[],
  width: number,
  height: number,
  markerRadius = 8,
  obstacles: Box[] = [],
): LabelPosition[] {
  const markers: Box[] = [
    ...points.map((p) => ({
      x0: p.px - markerRadius,
      x1: p.px + markerRadius,
      y0: p.py - markerRadius,
      y1: p.py + markerRadius,
    })),
    ...obstacles,
  ];
  const placed: Box[] = [];
  const order: (keyof typeof POSITIONS)[] = ["ne", "nw", "se", "sw", "n", "s"];
  return points.map((p) => {
    const w = labelWidth(p.text);
    for (const pos of order) {
      const b = labelBox(p.px, p.py, pos, w);
      if (b.x0 < 0 || b.x1 > width || b.y0 < 0 || b.y1 > height) continue;
      if (markers.some((m) => overlaps(b, m)) || placed.some((q) => overlaps(b, q))) continue;
      placed.push(b);
      return pos;
    }
    return "none";
  });
}

/**
 * Marker area per run, largest first: hollow markers of decreasing size nest inside each other,
 * so runs with equal values stay visible (circle around square around triangle).
 */
export function markerSize(index: number): number {
  return Math.max(40, 360 - 100 * index);
}

/** One marker per run: colour and shape per run, a legend, labels that cannot collide. */
export function scatterChart(o: ScatterOptions): Chart {
  const width = o.width ?? 540;
  const height = o.height ?? 300;
  const runs = o.runs ?? [...new Set(o.points.map((p) => p.run))];
  const finite = o.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  // x from 0 to a quarter past the largest value (room for labels); y 5 units around the values
  // (and the reference line), within the bounds.
  const xMax = Math.max(0, ...finite.map((p) => p.x)) * 1.25 || 1;
  const ys = [...finite.map((p) => p.y), ...(o.referenceY ? [o.referenceY.value] : [])];
  const [lo, hi] = o.yBounds ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  let yMin = Math.max(lo, Math.floor(Math.min(...ys, hi) - 5));
  let yMax = Math.min(hi, Math.ceil(Math.max(...ys, lo) + 5));
  if (!(yMax > yMin)) {
    yMin = Number.isFinite(yMin) ? yMin - 1 : 0;
    yMax = yMin + 2;
  }
  const px = (x: number) => (x / xMax) * width;
  const py = (y: number) => height - ((y - yMin) / (yMax - yMin)) * height;
  // The reference line's label sits at the left end of the line, above it; run labels avoid it.
  const refBox = o.referenceY
    ? [
        {
          x0: 0,
          x1: 4 + labelWidth(o.referenceY.label),
          y0: py(o.referenceY.value) - 5 - LABEL_FONT,
          y1: py(o.referenceY.value) - 2,
        },
      ]
    : [];
  const positions = placeLabels(
    finite.map((p) => ({ px: px(p.x), py: py(p.y), text: p.run })),
    width,
    height,
    11,
    refBox,
  );
  const values = finite.map((p, i) => ({
    run: p.run,
    x: p.x,
    y: p.y,
    pos: positions[i],
    size: markerSize(Math.max(0, runs.indexOf(p.run))),
  }));
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: o.xTitle,
    scale: { domain: [0, xMax], nice: false },
  };
  const y = {
    field: "y",
    type: "quantitative" as const,
    title: o.yTitle,
    scale: { domain: [yMin, yMax], nice: false },
  };
  const labelLayers = (Object.keys(POSITIONS) as (keyof typeof POSITIONS)[]).map((pos) => ({
    transform: [{ filter: `datum.pos == '${pos}'` }],
    mark: {
      type: "text" as const,
      align: POSITIONS[pos].align,
      dx: POSITIONS[pos].dx,
      dy: POSITIONS[pos].dy,
      baseline: "alphabetic" as const,
      fontSize: LABEL_FONT,
    },
    encoding: {
      x,
      y,
      text: { field: "run", type: "nominal" as const },
      color: { field: "run", type: "nominal" as const, title: "run", scale: runScale(runs) },
    },
  }));
  const reference = o.referenceY
    ? [
        {
          data: { values: [{ y: o.referenceY.value, label: o.referenceY.label }] },
          mark: { type: "rule" as const, strokeDash: [6, 4], color: "#666" },
          encoding: { y },
        },
        {
          data: { values: [{ y: o.referenceY.value, label: o.referenceY.label }] },
          mark: {
            type: "text" as const,
            align: "left" as const,
            baseline: "alphabetic" as const,
            dy: -5,
            x: 4,
            fontSize: 11,
            color: "#444",
          },
          encoding: { y, text: { field: "label", type: "nominal" as const } },
        },
      ]
    : [];
  const spec = {
    $schema: SCHEMA,
    title: titleOf(o.title, o.subtitle),
    width,
    height,
    padding: 12,
    background: "white",
    config: BASE_CONFIG,
    data: { values },
    layer: [
      ...reference,
      {
        mark: { type: "point" as const, filled: false, strokeWidth: 2.5, opacity: 1 },
        encoding: {
          x,
          y,
          size: { field: "size", type: "quantitative" as const, scale: null, legend: null },
          color: runColor(runs),
          shape: {
            field: "run",
            type: "nominal" as const,
            title: "run",
            scale: shapeScale(runs),
          },
        },
      },
      ...labelLayers,
    ],
  } as TopLevelSpec;
  return { id: o.id, title: o.title, spec };
}

// ---------------------------------------------------------------- time series

/** One run's values over time; t in seconds since the run's start. */
export interface RunSeries {
  run: string;
  points: { t: number; value: number }[];
}

/** What a time-series or per-phase chart is called and shows, and its runs in legend order. */
interface ChartText {
  id: string;
  title: string;
  subtitle?: Subtitle;
  yTitle: string;
  xTitle?: string;
  runs?: readonly string[];
}

export interface TimeSeriesOptions extends ChartText {
  series: RunSeries[];
  /** "step" for counts that change in steps (replicas); default "linear". */
  interpolate?: "linear" | "step-after";
  width?: number;
  panelHeight?: number;
  /**
   * A second series per run drawn dashed in the same panel (e.g. memory requested beside memory
   * used); `label` says so under the title.
   */
  overlay?: { label: string; series: RunSeries[] };
  /** A horizontal rule per run's panel (e.g. that run's HPA CPU target); `label` names it. */
  references?: { label: string; values: { run: string; value: number }[] };
}

/**
 * A value over time, one panel per run on shared x and y axes (so equal values stay visible as
 * equal, and no run hides another), colour per run with a legend.
 */
export function timeSeriesChart(o: TimeSeriesOptions): Chart {
  const runs = o.runs ?? o.series.map((s) => s.run);
  const values = o.series.flatMap((s) =>
    s.points
      .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.value))
      .map((p) => ({ run: s.run, t: p.t, value: p.value })),
  );
  // A y title beside each short panel would run into the next one: it goes under the title.
  const given =
    o.subtitle === undefined ? [] : Array.isArray(o.subtitle) ? o.subtitle : [o.subtitle];
  const layered = o.overlay !== undefined || o.references !== undefined;
  if (layered) {
    // One data set for the facet: each row says which layer draws it.
    for (const v of values) (v as Record<string, unknown>).layer = "main";
    for (const s of o.overlay?.series ?? []) {
      for (const p of s.points) {
        if (Number.isFinite(p.t) && Number.isFinite(p.value)) {
          values.push({ run: s.run, t: p.t, value: p.value, layer: "overlay" } as never);
        }
      }
    }
    for (const r of o.references?.values ?? []) {
      if (Number.isFinite(r.value)) {
        values.push({ run: r.run, t: 0, value: r.value, layer: "reference" } as never);
      }
    }
  }
  const legendLines = [
    ...(o.overlay ? [`solid: ${o.yTitle}; dashed: ${o.overlay.label}`] : []),
    ...(o.references ? [`grey rule: ${o.references.label}`] : []),
  ];
  const spec = {
    $schema: SCHEMA,
    title: titleOf(o.title, [
      `y: ${o.yTitle}, every run on the same axes`,
      ...legendLines,
      ...given,
    ]),
    padding: 12,
    background: "white",
    config: { ...BASE_CONFIG, header: { labelFontSize: 12, labelAngle: 0, labelAlign: "left" } },
    data: { values },
    facet: {
      row: {
        field: "run",
        type: "nominal",
        sort: [...runs],
        title: null,
        header: { labelOrient: "top", labelAnchor: "start", labelAngle: 0 },
      },
    },
    resolve: { scale: { x: "shared", y: "shared" } },
    spacing: 8,
    spec: layered
      ? layeredPanel(o, runs)
      : {
          width: o.width ?? 560,
          height: o.panelHeight ?? 80,
          mark: {
            type: "line",
            interpolate: o.interpolate ?? "linear",
            strokeWidth: 2,
            point: { filled: true, size: 18 },
          },
          encoding: {
            x: {
              field: "t",
              type: "quantitative",
              title: o.xTitle ?? "time since the run's start (s)",
              scale: { zero: true },
            },
            y: { field: "value", type: "quantitative", title: null, scale: { zero: true } },
            color: runColor(runs),
          },
        },
  } as unknown as TopLevelSpec;
  return { id: o.id, title: o.title, spec };
}

/** A panel of timeSeriesChart with its overlay (dashed) and reference (rule) layers. */
function layeredPanel(o: TimeSeriesOptions, runs: readonly string[]): Record<string, unknown> {
  const x = {
    field: "t",
    type: "quantitative",
    title: o.xTitle ?? "time since the run's start (s)",
    scale: { zero: true },
  };
  const y = { field: "value", type: "quantitative", title: null, scale: { zero: true } };
  const color = runColor(runs);
  const line = (layer: string, dash?: number[]) => ({
    transform: [{ filter: `datum.layer === '${layer}'` }],
    mark: {
      type: "line",
      interpolate: o.interpolate ?? "linear",
      strokeWidth: 2,
      ...(dash ? { strokeDash: dash } : { point: { filled: true, size: 18 } }),
    },
    encoding: { x, y, color },
  });
  return {
    width: o.width ?? 560,
    height: o.panelHeight ?? 80,
    layer: [
      line("main"),
      ...(o.overlay ? [line("overlay", [6, 3])] : []),
      ...(o.references
        ? [
            {
              transform: [{ filter: "datum.layer === 'reference'" }],
              mark: { type: "rule", color: "#555555", strokeDash: [2, 2], strokeWidth: 1.5 },
              encoding: { y },
            },
          ]
        : []),
    ],
  };
}

// ---------------------------------------------------------------- per phase

export interface PhaseValue {
  run: string;
  /** 1-based phase number. */
  phase: number;
  value: number;
}

export interface PhaseOptions extends ChartText {
  values: PhaseValue[];
  width?: number;
  height?: number;
}

/** Grouped bars: one bar per run in each phase, shared y axis, colour per run with a legend. */
export function phaseChart(o: PhaseOptions): Chart {
  const runs = o.runs ?? [...new Set(o.values.map((v) => v.run))];
  const values = o.values.filter((v) => Number.isFinite(v.value));
  const phases = [...new Set(o.values.map((v) => v.phase))].sort((a, b) => a - b);
  const spec = {
    $schema: SCHEMA,
    title: titleOf(o.title, o.subtitle),
    width: o.width ?? Math.max(360, Math.min(900, phases.length * runs.length * 9)),
    height: o.height ?? 240,
    padding: 12,
    background: "white",
    config: BASE_CONFIG,
    data: { values },
    mark: { type: "bar" },
    encoding: {
      x: {
        field: "phase",
        type: "ordinal",
        title: o.xTitle ?? "phase of the schedule",
        scale: { domain: phases, paddingInner: 0.25 },
        axis: { labelAngle: 0 },
      },
      xOffset: { field: "run", type: "nominal", sort: [...runs], scale: { domain: [...runs] } },
      y: { field: "value", type: "quantitative", title: o.yTitle },
      color: runColor(runs),
    },
  } as unknown as TopLevelSpec;
  return { id: o.id, title: o.title, spec };
}

// ---------------------------------------------------------------- rendering

/** vega-lite → vega → SVG (headless, no canvas), then PNG through sharp (librsvg). */
export async function renderChart(chart: Chart): Promise<{ svg: string; png: Buffer }> {
  const vl = await import("vega-lite");
  const vega = await import("vega");
  const compiled = vl.compile(chart.spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
    return { svg, png };
  } finally {
    view.finalize();
  }
}
