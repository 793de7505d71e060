import { describe, expect, it } from "vitest";
import {
  barChart,
  constantLine,
  formatMemoryKB,
  labelWidth,
  memoryUnit,
  phaseChart,
  placeLabels,
  scatterChart,
  timeSeriesChart,
} from "../src/charts.js";

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

  it("carries a colour and shape per run, the legend, the subtitle and the reference line", () => {
    const chart = scatterChart({
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
    const spec = chart.spec as unknown as {
      title: { text: string; subtitle: string[] };
      layer: { mark: { type: string }; encoding?: Record<string, Record<string, unknown>> }[];
    };
    expect(spec.title).toMatchObject({
      text: "Accuracy against response time",
      subtitle: ["model: demo · DEMO"],
    });
    const point = spec.layer.find((l) => l.mark.type === "point");
    expect(point?.encoding?.color).toMatchObject({
      field: "run",
      title: "run",
      scale: { domain: ["b", "a"], range: ["#1f77b4", "#d62728"] },
      legend: { orient: "right" },
    });
    expect(spec.layer.filter((l) => l.mark.type === "rule")).toHaveLength(1);
  });
});

describe("time series and per-phase charts", () => {
  it("take generic per-run series, on shared axes with a legend", () => {
    const ts = timeSeriesChart({
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
    }).spec as unknown as {
      data: { values: unknown[] };
      resolve: unknown;
      spec: { encoding: { color: { legend: unknown; scale: { domain: string[] } } } };
    };
    expect(ts.data.values).toEqual([
      { run: "x", t: 0, value: 1 },
      { run: "y", t: 0, value: 2 },
    ]);
    expect(ts.resolve).toEqual({ scale: { x: "shared", y: "shared" } });
    // Lines are drawn: the legend's symbols are strokes.
    expect(ts.spec.encoding.color.legend).toEqual({
      orient: "right",
      symbolType: "stroke",
      symbolSize: 900,
    });
    expect(ts.spec.encoding.color.scale.domain).toEqual(["x", "y"]);
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

  it("labels each phase with its users and delay, on lines of their own", () => {
    const ph = phaseChart({
      id: "p",
      title: "Response time per phase",
      yTitle: "s",
      values: [
        { run: "x", phase: 1, value: 0.5, users: 20, delaySeconds: 5 },
        { run: "x", phase: 2, value: 0.6, users: 30, delaySeconds: 0.05 },
      ],
    }).spec as unknown as {
      width: number;
      data: { values: { phase: string }[] };
      encoding: { x: { title: string; scale: { domain: string[] }; axis: { labelExpr: string } } };
    };
    expect(ph.encoding.x.scale.domain).toEqual(["1|c20|d5", "2|c30|d0.05"]);
    expect(ph.data.values.map((v) => v.phase)).toEqual(["1|c20|d5", "2|c30|d0.05"]);
    expect(ph.encoding.x.axis.labelExpr).toBe("split(datum.label, '|')");
    expect(ph.encoding.x.title).toContain("its users (c) and their delay between requests (d, s)");
  });

  it("draws further lines with their own dashes and a legend naming them; whole-number ticks", () => {
    const used = [
      { t: 0, value: 1 },
      { t: 10, value: 2 },
    ];
    const ts = timeSeriesChart({
      id: "c",
      title: "CPU",
      yTitle: "cores",
      series: [{ run: "x", points: used }],
      integer: true,
      label: "used",
      lines: [{ label: "limit", series: [{ run: "x", points: constantLine(used, 3) }] }],
    }).spec as unknown as {
      data: { values: unknown[] };
      spec: {
        layer: {
          mark: { interpolate: string };
          encoding: {
            y: { axis: unknown };
            strokeDash: { scale: { domain: string[]; range: number[][] }; legend: unknown };
          };
        }[];
      };
    };
    expect(ts.data.values).toEqual([
      { run: "x", t: 0, value: 1, line: "used" },
      { run: "x", t: 10, value: 2, line: "used" },
      { run: "x", t: 0, value: 3, line: "limit" },
      { run: "x", t: 10, value: 3, line: "limit" },
    ]);
    const [main, others] = ts.spec.layer;
    expect(main?.encoding.strokeDash.scale).toEqual({
      domain: ["used", "limit"],
      range: [
        [1, 0],
        [7, 4],
      ],
    });
    expect(main?.encoding.strokeDash.legend).toMatchObject({ symbolType: "stroke" });
    expect(main?.encoding.y.axis).toEqual({ tickMinStep: 1, format: "d" });
    expect([main?.mark.interpolate, others?.mark.interpolate]).toEqual(["linear", "step-after"]);
  });

  it("draws one bar per run, named on the axis, its value over it, no legend", () => {
    const bar = barChart({
      id: "b",
      title: "Memory used per stack",
      yTitle: "MiB",
      runs: ["a", "b"],
      values: [
        { run: "a", value: 512 },
        { run: "b", value: Number.NaN },
      ],
    }).spec as unknown as {
      data: { values: unknown[] };
      layer: { mark: { type: string }; encoding: Record<string, { legend?: unknown }> }[];
    };
    expect(bar.data.values).toEqual([{ run: "a", value: 512 }]);
    expect(bar.layer.map((l) => l.mark.type)).toEqual(["bar", "text"]);
    expect(bar.layer[0]?.encoding.color?.legend).toBeNull();
  });
});
