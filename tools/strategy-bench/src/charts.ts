import sharp from "sharp";
import type { TopLevelSpec } from "vega-lite";

export interface ChartPoint {
  run: string;
  x: number;
  accuracy: number;
}

export interface ChartDef {
  /** File stem, e.g. "accuracy-vs-memory-used". */
  id: string;
  title: string;
  xTitle: string;
  points: ChartPoint[];
}

/** One labeled point per run: accuracy (y, %) against a measured figure (x). */
export function chartSpec(def: ChartDef): TopLevelSpec {
  const finite = def.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.accuracy));
  // From 0 to a quarter past the largest value, so labels fit on the right.
  const xMax = Math.max(0, ...finite.map((p) => p.x)) * 1.25 || 1;
  // Labels sit above their points, alternately left and right in order of x, so two close points
  // get their labels on opposite sides; points near the y axis keep theirs on the right.
  const rank = new Map([...finite].sort((a, b) => a.x - b.x).map((p, i) => [p, i] as const));
  const values = finite.map((p) => ({
    run: p.run,
    x: p.x,
    accuracy: 100 * p.accuracy,
    side: (rank.get(p) ?? 0) % 2 === 1 || p.x < 0.25 * xMax ? "right" : "left",
  }));
  // Accuracy from 5 points below the lowest to 5 above the highest, within 0..100, so equal
  // accuracies still give a readable axis.
  const accs = values.map((v) => v.accuracy);
  const yMin = Math.max(0, Math.floor(Math.min(100, ...accs) - 5));
  const yMax = Math.min(100, Math.ceil(Math.max(0, ...accs) + 5));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: def.title,
    width: 480,
    height: 300,
    padding: 12,
    background: "white",
    config: { font: "DejaVu Sans", view: { stroke: "#ddd" } },
    data: { values },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: def.xTitle,
        scale: { domain: [0, xMax], nice: true },
      },
      y: {
        field: "accuracy",
        type: "quantitative",
        title: "accuracy (%)",
        scale: { domain: [yMin, yMax], nice: true },
      },
    },
    layer: [
      { mark: { type: "point", filled: true, size: 120, color: "#1f77b4" } },
      {
        transform: [{ filter: "datum.side == 'right'" }],
        mark: { type: "text", align: "left", dx: 8, dy: -12, fontSize: 13 },
        encoding: { text: { field: "run", type: "nominal" } },
      },
      {
        transform: [{ filter: "datum.side == 'left'" }],
        mark: { type: "text", align: "right", dx: -8, dy: -12, fontSize: 13 },
        encoding: { text: { field: "run", type: "nominal" } },
      },
    ],
  };
}

/** vega-lite → vega → SVG (headless, no canvas), then PNG through sharp (librsvg). */
export async function renderChart(def: ChartDef): Promise<{ svg: string; png: Buffer }> {
  const vl = await import("vega-lite");
  const vega = await import("vega");
  const compiled = vl.compile(chartSpec(def)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const png = await sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
    return { svg, png };
  } finally {
    view.finalize();
  }
}
