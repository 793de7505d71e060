/**
 * Chart construction (vega-lite specs) and rendering (vega → SVG → PNG). Every function takes
 * plain typed data and returns a `Chart` (an id and a vega-lite spec), so other tools (the
 * planner) can build charts without the report:
 *
 * - `scatterChart`: one marker per run, y against x (accuracy against a cost), colour and shape per
 *   run with a legend, labels placed where they cannot collide (else dropped: the legend names
 *   the run), an optional reference line (chance accuracy);
 * - `timeSeriesChart`: one panel per run on shared axes, a value over time (replicas, CPU, memory),
 *   with further lines beside it (requested, limit, the HPA target) told apart by their dashes;
 * - `phaseChart`: grouped bars, one per run and phase, on shared axes (response time, rate), each
 *   phase labelled with its users and delay;
 * - `barChart`: one bar per run (a figure per stack, where a scatter would have one constant axis).
 *
 * Which charts a report or a plan draws, with what data, is chart-list.ts's; every builder here
 * wraps its layers in the one frame (`chart`: schema, title and subtitle, padding, fonts).
 *
 * Every legend shows the mark the chart draws: hollow shapes on the scatters, strokes on the
 * lines, squares on the bars.
 *
 * Memory is given in KB (1 KB = 1,024 bytes, the monitor's unit) and drawn in MiB or GiB
 * (`memoryUnit`).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import type { TopLevelSpec } from "vega-lite";
import { formatNumber } from "./benchkit.js";
import type { PhasePoint, TimePoint } from "./summary.js";

export interface Chart {
  /** File stem, e.g. "accuracy-vs-memory-used". */
  id: string;
  title: string;
  spec: TopLevelSpec;
}

/** Lines under a chart's title: what decided its numbers (model, schedule scale, "demo"). */
export type Subtitle = string | string[] | undefined;

/** Colour-blind-safe enough, high contrast on white (Tableau 10, reordered). */
const RUN_COLORS = [
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
const RUN_SHAPES = [
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

/** MiB below 1 GiB, GiB from there (values in KB, 1 KB = 1,024 bytes). */
export function memoryUnit(maxKB: number): Unit {
  return Number.isFinite(maxKB) && maxKB >= 1024 ** 2
    ? { label: "GiB", divisor: 1024 ** 2 }
    : { label: "MiB", divisor: 1024 };
}

/** "2.00 GiB", "512.0 MiB": a memory figure in KB for a table. */
export function formatMemoryKB(kb: number): string {
  if (!Number.isFinite(kb)) return "n/a";
  const u = memoryUnit(kb);
  return `${formatNumber(kb / u.divisor, u.label === "GiB" ? 2 : 1)} ${u.label}`;
}

/** Each run its entry of `palette` (colours, shapes), in legend order. */
function runScale(runs: readonly string[], palette: readonly string[] = RUN_COLORS) {
  return { domain: [...runs], range: runs.map((_, i) => palette[i % palette.length] as string) };
}

/** The colour channel by run, its legend on the right (`symbolType`: as the marks are drawn). */
function runColor(runs: readonly string[], symbolType?: "stroke") {
  return {
    field: "run",
    type: "nominal" as const,
    title: "run",
    scale: runScale(runs),
    legend: {
      orient: "right" as const,
      // A stroke symbol as long as a dash pattern needs to be told apart.
      ...(symbolType ? { symbolType, symbolSize: 900 } : {}),
    },
  };
}

/** Words wrapped into lines of at most `max` characters (a long subtitle would widen the image). */
function wrapText(text: string, max = 80): string[] {
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
  const lines = [subtitle ?? []].flat().flatMap((l) => wrapText(l));
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

/** What a chart is called and shows, and its runs in legend order (default: the data's order). */
interface ChartText {
  id: string;
  title: string;
  subtitle?: Subtitle;
  yTitle: string;
  runs?: readonly string[];
}

/**
 * A chart: `body` (size, data, marks) in the frame every chart shares: the schema, the title with
 * its subtitle lines, the padding, the white background and the fonts.
 */
function chart(o: ChartText, body: object, subtitle = o.subtitle, config = {}): Chart {
  const spec = {
    $schema: SCHEMA,
    title: titleOf(o.title, subtitle),
    padding: 12,
    background: "white",
    config: { ...BASE_CONFIG, ...config },
    ...body,
  };
  return { id: o.id, title: o.title, spec: spec as unknown as TopLevelSpec };
}

// ---------------------------------------------------------------- scatter

interface ScatterPoint {
  run: string;
  x: number;
  y: number;
}

export interface ScatterOptions extends ChartText {
  xTitle: string;
  points: ScatterPoint[];
  /** A horizontal reference line, e.g. chance accuracy. */
  referenceY?: { value: number; label: string };
  /** y domain bounds (e.g. 0..100 for a percentage). */
  yBounds?: [number, number];
}

type LabelPosition = "ne" | "nw" | "se" | "sw" | "n" | "s" | "none";

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
function markerSize(index: number): number {
  return Math.max(40, 360 - 100 * index);
}

/** One marker per run: colour and shape per run, a legend, labels that cannot collide. */
export function scatterChart(o: ScatterOptions): Chart {
  const width = 540;
  const height = 300;
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
  // One text layer per labelled point, its colour a constant of the mark: no colour channel, so
  // the one legend is the points' (hollow shapes, as drawn).
  const labelLayers = values.flatMap((v) => {
    if (v.pos === undefined || v.pos === "none") return [];
    const at = POSITIONS[v.pos];
    return [
      {
        transform: [{ filter: `datum.run == ${JSON.stringify(v.run)}` }],
        mark: {
          type: "text" as const,
          align: at.align,
          dx: at.dx,
          dy: at.dy,
          baseline: "alphabetic" as const,
          fontSize: LABEL_FONT,
          color: RUN_COLORS[Math.max(0, runs.indexOf(v.run)) % RUN_COLORS.length],
        },
        encoding: { x, y, text: { field: "run", type: "nominal" as const } },
      },
    ];
  });
  const ref = o.referenceY && {
    data: { values: [{ y: o.referenceY.value, label: o.referenceY.label }] },
  };
  const reference = ref
    ? [
        { ...ref, mark: { type: "rule", strokeDash: [6, 4], color: "#666" }, encoding: { y } },
        {
          ...ref,
          mark: {
            type: "text",
            align: "left",
            baseline: "alphabetic",
            dy: -5,
            x: 4,
            fontSize: 11,
            color: "#444",
          },
          encoding: { y, text: { field: "label", type: "nominal" } },
        },
      ]
    : [];
  return chart(o, {
    width,
    height,
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
            scale: runScale(runs, RUN_SHAPES),
          },
        },
      },
      ...labelLayers,
    ],
  });
}

// ---------------------------------------------------------------- time series

/** One run's values over time; t in seconds since the run's start. */
interface RunPoints {
  run: string;
  points: TimePoint[];
}

/** Further lines of a time-series chart: one series per run, named in the line legend. */
interface TimeSeriesLine {
  label: string;
  series: RunPoints[];
}

export interface TimeSeriesOptions extends ChartText {
  series: RunPoints[];
  /** "step-after" for counts that change in steps (replicas); default "linear". */
  interpolate?: "linear" | "step-after";
  /** Whole-number ticks on the y axis (0, 1, 2, ...): replicas, pods. */
  integer?: boolean;
  /** The main series' name in the line legend when `lines` are drawn too (e.g. "used"). */
  label?: string;
  /**
   * Lines drawn beside the main series in each run's panel, in the run's colour with a dash of
   * their own (e.g. CPU requested, the limit, the HPA target); step-wise, as they change when pods
   * come and go.
   */
  lines?: TimeSeriesLine[];
}

/** Dash patterns of a time-series chart's lines: the main series solid, then each line's. */
const LINE_DASHES: readonly (readonly number[])[] = [
  [1, 0],
  [7, 4],
  [2, 3],
  [12, 3, 2, 3],
  [5, 2, 1, 2],
];

/**
 * A value over time, one panel per run on shared x and y axes (so equal values stay visible as
 * equal, and no run hides another), colour per run with a legend; with `lines`, a second legend
 * names each dash.
 */
export function timeSeriesChart(o: TimeSeriesOptions): Chart {
  const runs = o.runs ?? o.series.map((s) => s.run);
  const lines = o.lines ?? [];
  const mainLabel = o.label ?? o.yTitle;
  const labels = [mainLabel, ...lines.map((l) => l.label)];
  const rows = (series: RunPoints[], line: string) =>
    series.flatMap((s) =>
      s.points
        .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.value))
        .map((p) => ({ run: s.run, t: p.t, value: p.value, ...(lines.length ? { line } : {}) })),
    );
  const values = [...rows(o.series, mainLabel), ...lines.flatMap((l) => rows(l.series, l.label))];
  const x = {
    field: "t",
    type: "quantitative",
    title: "time since the run's start (s)",
    scale: { zero: true },
  };
  const y = {
    field: "value",
    type: "quantitative",
    title: null,
    scale: { zero: true },
    ...(o.integer ? { axis: { tickMinStep: 1, format: "d" } } : {}),
  };
  const encoding = {
    x,
    y,
    color: runColor(runs, "stroke"),
    ...(lines.length
      ? {
          strokeDash: {
            field: "line",
            type: "nominal",
            title: "line",
            sort: labels,
            scale: {
              domain: labels,
              range: labels.map((_, i) => LINE_DASHES[i % LINE_DASHES.length]),
            },
            legend: {
              orient: "right",
              symbolType: "stroke",
              symbolStrokeColor: "#333",
              symbolSize: 900,
              labelLimit: 400,
            },
          },
        }
      : {}),
  };
  const line = (filter: string | undefined, interpolate: string) => ({
    ...(filter ? { transform: [{ filter }] } : {}),
    mark: { type: "line", interpolate, strokeWidth: 2 },
    encoding,
  });
  const panel = {
    width: 560,
    height: lines.length ? 110 : 80,
    ...(lines.length
      ? {
          layer: [
            line(`datum.line === ${JSON.stringify(mainLabel)}`, o.interpolate ?? "linear"),
            line(`datum.line !== ${JSON.stringify(mainLabel)}`, "step-after"),
          ],
        }
      : line(undefined, o.interpolate ?? "linear")),
  };
  return chart(
    o,
    {
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
      spec: panel,
    },
    // A y title beside each short panel would run into the next one: it goes under the title.
    [`y: ${o.yTitle}, every run on the same axes`, o.subtitle ?? []].flat(),
    { header: { labelFontSize: 12, labelAngle: 0, labelAlign: "left" } },
  );
}

/** A constant value over the time a run's series covers (a target, a fixed limit) as a line. */
export function constantLine(points: readonly { t: number }[], value: number): TimePoint[] {
  const ts = points.map((p) => p.t).filter(Number.isFinite);
  if (ts.length === 0 || !Number.isFinite(value)) return [];
  return [
    { t: Math.min(...ts), value },
    { t: Math.max(...ts), value },
  ];
}

// ---------------------------------------------------------------- per phase

/** A run's value for a phase; the phase's users and delay, or its rate, label it. */
export interface PhaseValue extends PhasePoint {
  run: string;
}

export interface PhaseOptions extends ChartText {
  values: PhaseValue[];
}

/**
 * "c20 d5": a phase's users and delay as siege's -c and -d say them; "30/s": its rate (2 decimals
 * at most), the chart's phase labels' and the planner's per-phase table's.
 */
export function phaseLoad(
  v: Pick<PhasePoint, "users" | "delaySeconds" | "rate"> | undefined,
): string[] {
  if (v?.rate !== undefined) return [`${Number(v.rate.toFixed(2))}/s`];
  if (v?.users === undefined) return [];
  const d = v.delaySeconds;
  return [`c${v.users}`, ...(d === undefined ? [] : [`d${Number(d.toFixed(2))}`])];
}

/**
 * Grouped bars: one bar per run in each phase, shared y axis, colour per run with a legend. Each
 * phase's axis label is its number, its users (c) and delay (d, seconds) under it, when known.
 */
export function phaseChart(o: PhaseOptions): Chart {
  const runs = o.runs ?? [...new Set(o.values.map((v) => v.run))];
  const phases = [...new Set(o.values.map((v) => v.phase))].sort((a, b) => a - b);
  const first = new Map<number, PhaseValue>();
  for (const v of o.values)
    if ((v.users !== undefined || v.rate !== undefined) && !first.has(v.phase))
      first.set(v.phase, v);
  // The axis's key per phase: its label lines joined by "|", split again by the axis.
  const key = (phase: number) => [String(phase), ...phaseLoad(first.get(phase))].join("|");
  const values = o.values
    .filter((v) => Number.isFinite(v.value))
    .map((v) => ({ run: v.run, phase: key(v.phase), value: v.value }));
  const withLoad = first.size > 0;
  const byRate = [...first.values()].every((v) => v.rate !== undefined);
  // Room for each label ("c255", "d0.25") and each run's bar.
  const slot = Math.max(withLoad ? 34 : 20, runs.length * 12);
  return chart(o, {
    width: Math.max(360, phases.length * slot),
    height: 240,
    data: { values },
    mark: { type: "bar" },
    encoding: {
      x: {
        field: "phase",
        type: "ordinal",
        title: !withLoad
          ? "phase of the schedule"
          : byRate
            ? "phase of the schedule; under each: its arrival rate (requests per second, open loop)"
            : "phase of the schedule; under each: its users (c) and their delay between requests (d, s)",
        scale: { domain: phases.map(key), paddingInner: 0.25 },
        axis: { labelAngle: 0, labelExpr: "split(datum.label, '|')", labelLineHeight: 13 },
      },
      xOffset: { field: "run", type: "nominal", sort: [...runs], scale: { domain: [...runs] } },
      y: { field: "value", type: "quantitative", title: o.yTitle },
      color: runColor(runs),
    },
  });
}

// ---------------------------------------------------------------- one bar per run

export interface BarOptions extends ChartText {
  values: { run: string; value: number }[];
}

/** One bar per run, named on the x axis and coloured as in the other charts, its value over it. */
export function barChart(o: BarOptions): Chart {
  const runs = o.runs ?? o.values.map((v) => v.run);
  const values = o.values.filter((v) => Number.isFinite(v.value));
  const x = {
    field: "run",
    type: "nominal",
    title: null,
    sort: [...runs],
    scale: { domain: [...runs], paddingInner: 0.35 },
    axis: { labelAngle: 0, labelFontSize: 12 },
  };
  // A y title longer than the axis would push the plot down and leave blank space: in lines.
  const y = { field: "value", type: "quantitative", title: wrapText(o.yTitle, 42) };
  return chart(o, {
    width: Math.max(300, runs.length * 110),
    // Tall enough for a y title line of 42 characters along the axis.
    height: 320,
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        // The runs are named on the axis: no legend.
        encoding: { x, y, color: { ...runColor(runs), legend: null } },
      },
      {
        mark: { type: "text", baseline: "bottom", dy: -4, fontSize: 12 },
        encoding: {
          x,
          y,
          // 3 significant digits.
          text: { field: "value", type: "quantitative", format: ".3~r" },
        },
      },
    ],
  });
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

/** The `## Charts` section of a Markdown file beside the charts: each chart's `<id>.png`. */
export function chartsMarkdown(ids: readonly string[]): string[] {
  return ["## Charts", "", ...ids.flatMap((c) => [`![${c}](${c}.png)`, ""])];
}

/** Render each chart to `<id>.svg` and `<id>.png` in `outDir`. */
export async function writeCharts(
  outDir: string,
  charts: readonly Chart[],
): Promise<{ id: string; svg: string; png: string }[]> {
  const files: { id: string; svg: string; png: string }[] = [];
  for (const c of charts) {
    const { svg, png } = await renderChart(c);
    files.push({ id: c.id, svg: join(outDir, `${c.id}.svg`), png: join(outDir, `${c.id}.png`) });
    await writeFile(join(outDir, `${c.id}.svg`), svg);
    await writeFile(join(outDir, `${c.id}.png`), png);
  }
  return files;
}
