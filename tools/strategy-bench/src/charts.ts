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
  const values = def.points
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.accuracy))
    .map((p, i) => ({ run: p.run, x: p.x, accuracy: 100 * p.accuracy, i }));
  // From 0 to a quarter past the largest value, so every label fits on the right.
  const xMax = Math.max(0, ...values.map((v) => v.x)) * 1.25 || 1;
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
        scale: { zero: false, nice: true, padding: 30 },
      },
    },
    layer: [
      { mark: { type: "point", filled: true, size: 120, color: "#1f77b4" } },
      // Labels alternate above and below their points so that close points stay readable.
      {
        transform: [{ filter: "datum.i % 2 == 0" }],
        mark: { type: "text", align: "left", dx: 8, dy: -10, fontSize: 13 },
        encoding: { text: { field: "run", type: "nominal" } },
      },
      {
        transform: [{ filter: "datum.i % 2 == 1" }],
        mark: { type: "text", align: "left", dx: 8, dy: 14, fontSize: 13 },
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
