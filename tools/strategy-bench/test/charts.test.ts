import { describe, expect, it } from "vitest";
import {
  barChart,
  type Chart,
  constantLine,
  formatMemoryKB,
  labelWidth,
  memoryUnit,
  phaseChart,
  placeLabels,
  renderChart,
  scatterChart,
  timeSeriesChart,
} from "../src/charts.js";
import { ariaLabels, axisLabels, marks } from "./helpers.js";

/** The SVG of `kind`'s chart for `options`, rendered as the reports render it. */
async function draw<O>(kind: (options: O) => Chart, options: O): Promise<string> {
  return (await renderChart(kind(options))).svg;
}

/** The dashes of the last legend's symbols. */
function legendDashes(svg: string): string[] {
  const legend = svg.slice(svg.lastIndexOf('aria-roledescription="legend"'));
  return [
    ...legend.matchAll(/<path transform="[^"]*" d="[^"]*"[^>]*stroke-dasharray="([^"]*)"/g),
  ].map((m) => m[1] ?? "");
}

/** The paths of the legend's symbols (a line is "M-15,0L15,0"). */
function legendSymbols(svg: string): string[] {
  const legend = svg.slice(svg.indexOf('aria-roledescription="legend"'));
  return [...legend.matchAll(/<path transform="[^"]*" d="([^"]*)"/g)].map((m) => m[1] ?? "");
}

describe("chart units", () => {
  it("draws memory in MiB below 1 GiB and in GiB from there", () => {
    expect(memoryUnit(1_048_575)).toEqual({ label: "MiB", divisor: 1024 });
    expect(memoryUnit(1_048_576)).toEqual({ label: "GiB", divisor: 1_048_576 });
    expect(formatMemoryKB(2_097_152)).toBe("2.00 GiB");
    expect(formatMemoryKB(4_718_592)).toBe("4.50 GiB");
    expect(formatMemoryKB(456_681.4)).toBe("446.0 MiB");
    expect(formatMemoryKB(Number.NaN)).toBe("n/a");
  });
});

describe("scatter labels", () => {
  it("never overlap each other or a marker; a label with no room is dropped", () => {
    // Three points 4 px apart (near-equal values) and a fourth far away.
    const pts = [
      { px: 300, py: 150, text: "baseline" },
      { px: 304, py: 150, text: "strategy1" },
      { px: 308, py: 150, text: "strategy2" },
      { px: 60, py: 60, text: "far" },
    ];
    const pos = placeLabels(pts, 480, 300, 11);
    expect(pos).toEqual(["nw", "s", "ne", "ne"]);
    // Six points on one spot: only six positions exist around it, minus the blocked ones.
    const crowd = Array.from({ length: 8 }, (_, i) => ({ px: 240, py: 150, text: `run ${i}` }));
    const crowded = placeLabels(crowd, 480, 300, 11);
    expect(crowded.filter((p) => p === "none").length).toBeGreaterThan(0);
    expect(labelWidth("strategy1")).toBe(74);
  });

  it("carries a colour and shape per run, the legend, the subtitle and the reference line", async () => {
    const svg = await draw(scatterChart, {
      id: "a",
      title: "Accuracy against response time",
      subtitle: "model: demo · DEMO",
      xTitle: "response time (s)",
      yTitle: "accuracy (%)",
      runs: ["b", "a"],
      yBounds: [0, 100],
      referenceY: { value: 100 / 11, label: "chance" },
      points: [
        { run: "a", x: 0.5, y: 9 },
        { run: "b", x: 0.51, y: 9 },
      ],
    });
    expect(ariaLabels(svg, "title")).toEqual(["Title text 'Accuracy against response time'"]);
    expect(ariaLabels(svg, "subtitle")).toEqual(["Subtitle text 'model: demo · DEMO'"]);
    // one legend for both channels, the runs in the order given
    expect(ariaLabels(svg, "legend")).toEqual([
      "Symbol legend titled 'run' for shape and stroke color with 2 values: b, a",
    ]);
    const points = marks(svg, "point");
    expect(points.map((p) => p.label)).toEqual([
      "response time (s): 0.5; accuracy (%): 9; run: a; size: 260",
      "response time (s): 0.51; accuracy (%): 9; run: b; size: 360",
    ]);
    const [a, b] = points;
    expect(a?.stroke).not.toBe(b?.stroke);
    expect(a?.shape).not.toBe(b?.shape);
    // the reference line, at 100/11 %
    expect(marks(svg, "rule mark").map((r) => r.label)).toEqual(["accuracy (%): 9.09090909091"]);
  });
});

describe("time series and per-phase charts", () => {
  it("take generic per-run series, on shared axes with a legend", async () => {
    const chart = timeSeriesChart({
      id: "r",
      title: "Replicas over time",
      yTitle: "replicas",
      series: [
        { run: "x", points: [{ t: 0, value: 1 }] },
        {
          run: "y",
          points: [
            { t: 0, value: 2 },
            { t: 5, value: Number.NaN },
          ],
        },
      ],
    });
    expect((chart.spec as unknown as { data: { values: unknown[] } }).data.values).toEqual([
      { run: "x", t: 0, value: 1 },
      { run: "y", t: 0, value: 2 },
    ]);
    const { svg } = await renderChart(chart);
    // one panel per run on shared axes: x's y axis reaches y's 2 too
    expect(ariaLabels(svg, "axis").filter((l) => l.startsWith("Y-axis"))).toEqual([
      "Y-axis for a linear scale with values from 0.0 to 2.0",
      "Y-axis for a linear scale with values from 0.0 to 2.0",
    ]);
    // lines are drawn, and the legend shows lines, one per run in the order given
    expect(ariaLabels(svg, "legend")).toEqual([
      "Symbol legend titled 'run' for stroke color with 2 values: x, y",
    ]);
    expect(legendSymbols(svg)).toEqual(["M-15,0L15,0", "M-15,0L15,0"]);
    const ph = phaseChart({
      id: "p",
      title: "Response time per phase",
      yTitle: "s",
      values: [
        { run: "x", phase: 2, value: 0.5 },
        { run: "y", phase: 1, value: 0.6 },
      ],
    }).spec as unknown as { encoding: Record<string, { scale?: { domain: unknown[] } }> };
    expect(ph.encoding.x?.scale?.domain).toEqual(["1", "2"]);
    expect(ph.encoding.xOffset?.scale?.domain).toEqual(["x", "y"]);
  });

  it("labels each phase with its users and delay, on lines of their own", async () => {
    const svg = await draw(phaseChart, {
      id: "p",
      title: "Response time per phase",
      yTitle: "s",
      values: [
        { run: "x", phase: 1, value: 0.5, users: 20, delaySeconds: 5 },
        { run: "x", phase: 2, value: 0.6, users: 30, delaySeconds: 0.05 },
      ],
    });
    // the rendered labels of more than one line: the x axis', in phase order
    const lines = [...svg.matchAll(/<text[^>]*>((?:<tspan[^>]*>[^<]*<\/tspan>)+)<\/text>/g)].map(
      (label) => [...(label[1] ?? "").matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((l) => l[1]),
    );
    expect(lines).toEqual([
      ["1", "c20", "d5"],
      ["2", "c30", "d0.05"],
    ]);
    expect(svg).toContain("its users (c) and their delay between requests (d, s)");
  });

  it("draws further lines with their own dashes and a legend naming them; whole-number ticks", async () => {
    const used = [
      { t: 0, value: 1 },
      { t: 10, value: 2 },
    ];
    const chart = timeSeriesChart({
      id: "c",
      title: "CPU",
      yTitle: "cores",
      series: [{ run: "x", points: used }],
      integer: true,
      label: "used",
      lines: [{ label: "limit", series: [{ run: "x", points: constantLine(used, 3) }] }],
    });
    expect((chart.spec as unknown as { data: { values: unknown[] } }).data.values).toEqual([
      { run: "x", t: 0, value: 1, line: "used" },
      { run: "x", t: 10, value: 2, line: "used" },
      { run: "x", t: 0, value: 3, line: "limit" },
      { run: "x", t: 10, value: 3, line: "limit" },
    ]);
    const { svg } = await renderChart(chart);
    expect(ariaLabels(svg, "legend")).toEqual([
      "Symbol legend titled 'run' for stroke color with 1 value: x",
      "Symbol legend titled 'line' for strokeDash with 2 values: used, limit",
    ]);
    // used: a straight line, solid; limit: steps (a point more), dashed; each as its legend entry
    const lines = marks(svg, "line mark");
    expect(lines.map((l) => [l.label, l.shape])).toEqual([
      ["time since the run's start (s): 0; value: 1; run: x; line: used", "M0,73.333L560,36.667"],
      ["time since the run's start (s): 0; value: 3; run: x; line: limit", "M0,0L560,0L560,0"],
    ]);
    const dashes = lines.map((l) => l.dash);
    expect(dashes[0]).toBe("1,0");
    expect(dashes[1]).not.toBe(dashes[0]);
    expect(legendDashes(svg)).toEqual(dashes);
    // both legends show lines: x's colour, then used and limit
    expect(legendSymbols(svg)).toEqual(Array(3).fill("M-15,0L15,0"));
    // whole-number ticks on the y axis
    expect(ariaLabels(svg, "axis")[0]).toBe("Y-axis for a linear scale with values from 0 to 3");
    expect(axisLabels(svg, "Y")).toEqual(["0", "1", "2", "3"]);
  });

  it("draws one bar per run, named on the axis, its value over it, no legend", async () => {
    const chart = barChart({
      id: "b",
      title: "Memory used per stack",
      yTitle: "MiB",
      runs: ["a", "b"],
      values: [
        { run: "a", value: 512 },
        { run: "b", value: Number.NaN },
      ],
    });
    const { svg } = await renderChart(chart);
    // b has no value: named on the axis, no bar
    expect(ariaLabels(svg, "axis")[0]).toBe("X-axis for a discrete scale with 2 values: a, b");
    expect(marks(svg, "bar").map((m) => m.label)).toEqual(["run: a; MiB: 512"]);
    expect(marks(svg, "text mark").map((m) => m.label)).toEqual(["run: a; MiB: 512; value: 512"]);
    expect(ariaLabels(svg, "legend")).toEqual([]);
  });
});
