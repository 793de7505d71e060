import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { reportCharts } from "../src/report/charts.js";
import { readManifest } from "../src/report/manifest.js";
import { isDemo, summarizeRuns } from "../src/report/summarize.js";
import { writeReport } from "../src/report/write.js";
import { ariaLabels, axisLabels, expectContains, marks } from "./helpers.js";
import { type FakeRun, NEAR_EQUAL, writeRuns } from "./runs.js";

const manifestPath = resolve(import.meta.dirname, "fixtures/manifest.yaml");

describe("report summary formulas on known CSVs", () => {
  it("equals the hand-computed figures", async () => {
    const { manifest, baseDir } = await readManifest(manifestPath);
    const [a, b] = await summarizeRuns(manifest, baseDir);
    // Run A (this tool's CSV; its "all" row is not a phase): OKAY 8 + 30 + 4 = 42 over
    // 60 + 60 + 59.5 = 179.5 s.
    expect(a?.load.okay).toBe(42);
    expect(a?.load.transactions).toBe(45);
    expect(a?.load.failed).toBe(3);
    expect(a?.load.durationSeconds).toBe(179.5);
    expect(a?.load.transactionRate).toBeCloseTo(42 / 179.5, 12); // 0.2339832869
    expect(a?.load.transactionRateOriginal).toBeCloseTo(42 / 3600, 12); // 0.0116666667
    // Weighted by OKAY: (8*0.5 + 30*1.0 + 4*2.5) / 42 = 44/42, not the phase mean 4/3.
    expect(a?.load.responseTime).toBeCloseTo(44 / 42, 12); // 1.0476190476
    expect(a?.load.responseTimePhaseMean).toBeCloseTo(4 / 3, 12);
    // Memory: requested (2097152 + 4194304 + 6291456) / 3; used over the 2 samples with a value.
    expect(a?.resources.memRequestedKB).toBe(4_194_304);
    expect(a?.resources.memUsedKB).toBe(500_000);
    expect(a?.resources.maxReplicas).toBe(3);
    expect(a?.accuracy).toEqual({
      accuracy: 0.8787,
      precision: 0.8835,
      recall: 0.8787,
      f1: 0.879,
      samples: 1000,
    });
    // Run B (a siege log, siege's own header): OKAY 100 + 290 over 120 s.
    expect(b?.load.okay).toBe(390);
    expect(b?.load.transactionRate).toBeCloseTo(3.25, 12);
    expect(b?.load.transactionRateOriginal).toBeCloseTo(390 / 3600, 12);
    expect(b?.load.responseTime).toBeCloseTo((100 * 0.2 + 290 * 0.4) / 390, 12); // 0.3487179487
    expect(b?.resources.memRequestedKB).toBe(4_718_592);
    expect(b?.resources.memUsedKB).toBe(450_000.5);
    expect(b?.accuracy.accuracy).toBe(0.75);
  });
});

describe("report files", () => {
  it("renders charts that open as images and contain every run's point", async () => {
    const out = await mkdtemp(join(tmpdir(), "sb-report-"));
    const { manifest, baseDir } = await readManifest(manifestPath);
    const { files } = await writeReport(manifest, baseDir, out);
    expect(files.charts.map((c) => c.png.slice(out.length + 1))).toEqual([
      "accuracy-vs-memory-used.png",
      "accuracy-vs-memory-requested.png",
      "accuracy-vs-transaction-rate.png",
      "accuracy-vs-response-time.png",
      "replicas-over-time.png",
      "cpu-over-time.png",
      "memory-over-time.png",
      "response-time-per-phase.png",
      "transaction-rate-per-phase.png",
    ]);
    for (const c of files.charts) {
      const meta = await sharp(c.png).metadata();
      expect(meta.format).toBe("png");
      expect(meta.width).toBeGreaterThan(400);
      expect(meta.height).toBeGreaterThan(300);
    }
    for (const c of files.charts.slice(0, 4)) {
      const svg = await readFile(c.svg, "utf8");
      expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(2);
      // The legend names both runs (whether or not a label fits beside the point).
      expect(svg).toContain("strategy A");
      expect(svg).toContain("strategy B");
      expect(svg).toContain('aria-roledescription="legend"');
    }
    const md = await readFile(files.markdown, "utf8");
    expect(md).toContain("| memory requested (mean over the test) | 4.00 GiB | 4.50 GiB |");
    expect(md).toContain("| memory used (mean) | 488.3 MiB | 439.5 MiB |");
    expect(md).toContain(
      "| memory requested (KB, as the original report) | 4,194,304.0 | 4,718,592.0 |",
    );
    expect(md).toContain("| accuracy | 879 of 1,000 (87.9 %) | 75.00 % |");
    expect(md).toContain("| response time (s, weighted by OKAY) | 1.048 | 0.349 |");
    expect(md).toContain("| transaction rate (/s, OKAY / real duration) | 0.23 | 3.25 |");
    // Neither run is the full 30-minute schedule: no "/ 3,600" figure.
    expect(md).not.toContain("OKAY / 3,600, as the original) |");
    expect(md).toContain("| limits: memory | 6Gi |  |");
    expect(md).toContain("![accuracy-vs-response-time](accuracy-vs-response-time.png)");
    expect(md).not.toContain("## Warnings");
    const json = JSON.parse(await readFile(files.json, "utf8"));
    expect(json.runs).toHaveLength(2);
  });
});

describe("a three-run report whose runs have near-equal values", () => {
  it("shows every run distinctly: a colour and shape per run, a legend, MiB/GiB, chance line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-near-"));
    const manifestFile = await writeRuns(dir, NEAR_EQUAL, { demo: true });
    const { manifest, baseDir } = await readManifest(manifestFile);
    const runs = await summarizeRuns(manifest, baseDir);
    const charts = reportCharts(runs, true);
    const scatter = charts[0]?.spec as unknown as {
      title: { subtitle: string[] };
      layer: { mark: { type: string }; encoding: Record<string, Record<string, unknown>> }[];
      data: { values: { run: string; x: number; pos: string; size: number }[] };
    };
    const points = scatter.layer.find((l) => l.mark.type === "point");
    expect((points?.encoding.color?.scale as { domain?: string[] } | undefined)?.domain).toEqual([
      "baseline",
      "strategy1",
      "strategy2",
    ]);
    // Nested hollow markers: equal values stay visible.
    expect(scatter.data.values.map((v) => v.size)).toEqual([360, 260, 160]);
    expect(points?.encoding.x?.title).toBe("memory used (MiB, mean over the test)");
    // Memory used (1,010,000 / 1,011,667 / 1,014,333 KB) in MiB on the axis (below 1 GiB).
    expect(scatter.data.values.map((v) => Number(v.x.toFixed(4)))).toEqual([
      986.3281, 987.9557, 990.5599,
    ]);
    const requested = (charts[1]?.spec as unknown as typeof scatter | undefined)?.layer.find(
      (l) => l.mark.type === "point",
    );
    expect(requested?.encoding.x?.title).toBe("memory requested (GiB, mean over the test)");
    const rule = scatter.layer.find((l) => l.mark.type === "rule");
    expect(rule).toBeDefined();
    expect(scatter.title.subtitle.join(" ")).toContain("DEMO: untrained model");
    expect(scatter.title.subtitle.join(" ")).toContain("time scale 0.01");
    // The labels add no legend of their own.
    for (const l of scatter.layer.filter((x) => x.mark.type === "text")) {
      expect(l.encoding.color).toBeUndefined();
    }
    const memOverTime = charts.find((c) => c.id === "memory-over-time");
    expect(JSON.stringify(memOverTime?.spec)).toContain("y: memory, all pods (GiB), every run");
    // CPU over time: used, with the pods' request, limit and (for a run whose stack has one) the
    // HPA target = the stack's target % of the CPU requested, each a line of its own dash.
    const withTarget = runs.map((r, i) => (i === 1 ? { ...r, hpaTarget: 80 } : r));
    const cpu = reportCharts(withTarget, true).find((c) => c.id === "cpu-over-time")
      ?.spec as unknown as {
      data: { values: { run: string; t: number; value: number; line: string }[] };
      spec: { layer: { encoding: { strokeDash: { scale: { domain: string[] } } } }[] };
    };
    expect(cpu.spec.layer[0]?.encoding.strokeDash.scale.domain).toEqual([
      "used",
      "requested",
      "limit",
      "HPA target",
    ]);
    const line = (run: string, name: string) =>
      cpu.data.values.filter((v) => v.run === run && v.line === name).map((v) => v.value);
    expect(line("strategy1", "HPA target")).toEqual([0.8, 0.8, 0.8]);
    expect(line("baseline", "HPA target")).toEqual([]);
    expect(line("strategy1", "requested")).toEqual([1, 1, 1]);
    expect(line("strategy1", "limit")).toEqual([3, 3, 3]);
    // Render: each run's point in the SVG, hollow, in a colour and shape of its own; the legend
    // with every name.
    const out = join(dir, "report");
    const { files } = await writeReport(manifest, baseDir, out);
    for (const c of files.charts.slice(0, 4)) {
      const svg = await readFile(c.svg, "utf8");
      const drawn = marks(svg, "point");
      expect(drawn).toHaveLength(3);
      expect(new Set(drawn.map((p) => p.stroke)).size).toBe(3);
      expect(new Set(drawn.map((p) => p.shape)).size).toBe(3);
      expect(drawn.map((p) => p.fill)).toEqual([undefined, undefined, undefined]);
      expect(ariaLabels(svg, "legend")).toEqual([
        "Symbol legend titled 'run' for shape and stroke color with 3 values: baseline, strategy1, strategy2",
      ]);
      for (const name of ["baseline", "strategy1", "strategy2"]) {
        expect(svg).toContain(`>${name}</text>`);
      }
      const png = await sharp(c.png).metadata();
      expect(png.width).toBeGreaterThan(800);
    }
    // Replicas on whole-number ticks.
    const replicas = files.charts.find((c) => c.id === "replicas-over-time");
    const ticks = axisLabels(await readFile(replicas?.svg ?? "", "utf8"), "Y");
    expect(ticks.length).toBeGreaterThan(1);
    for (const tick of ticks) expect(tick).toMatch(/^\d+$/);
    const md = await readFile(files.markdown, "utf8");
    expectContains(md, [
      "| accuracy (chance: 9.1 %) | 3 of 33 (9.1 %) | 3 of 33 (9.1 %) | 3 of 33 (9.1 %) | 0.0 points (0.0 % of the mean) |",
      "| memory used (mean) | 986.3 MiB | 988.0 MiB | 990.6 MiB | 4.2 MiB (0.4 % of the mean) |",
      "- **Warning:** strategy1: limits.cpu 3 exceeds the 2 cores of the machine it ran on (testhost)",
      "| server machine | 2 cores, 8.0 GiB (testhost) |",
      "| load average (1 / 5 / 15 min) before → after | 0.50 / 0.60 / 0.70 → 1.50 / 0.90 / 0.80 |",
      "| tfjs backend | wasm | wasm | wasm |",
    ]);
  });
});

describe("report warnings and the original's rate", () => {
  it("warns on a run with no successful request, and shows '/ 3,600' only at full length", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-warn-"));
    const [ok, other] = NEAR_EQUAL as [FakeRun, FakeRun];
    const manifestFile = await writeRuns(dir, [
      { ...ok, meta: { fullLength: true, plannedSeconds: 1800 } },
      {
        ...other,
        okay: [0, 0, 0],
        errors: { status: 404, count: [40, 50, 45] },
        meta: { problem: "most requests failed" },
      },
    ]);
    const { manifest, baseDir } = await readManifest(manifestFile);
    const { files, runs } = await writeReport(manifest, baseDir, join(dir, "report"));
    expect(runs[1]?.warnings[0]).toBe(
      "strategy1: no successful request (0 OKAY of 135 requests; 404: 135): its response time " +
        "and transaction rate are not measured (n/a), and its load figures mean nothing; check the " +
        "load test's URL (a 404 means a wrong path) and the server's log.",
    );
    const md = await readFile(files.markdown, "utf8");
    expect(md).toContain("## Warnings");
    expect(md).toContain("- **Warning:** strategy1: no successful request (0 OKAY of 135 requests");
    expect(md).toContain("| response time (s, weighted by OKAY) | 0.520 | n/a |");
    expect(md).toContain("| responses by status code | 200: 165 | 404: 135 |");
    // 165 OKAY / 3,600 for the full-length run; the other is shortened.
    expect(md).toContain(
      "| transaction rate (/s, OKAY / 3,600, as the original) | 0.05 | n/a (shortened schedule) |",
    );
  });
});

describe("a model that is the demo one under another name", () => {
  it("is flagged, and its charts get the chance line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-served-"));
    const manifestFile = await writeRuns(dir, NEAR_EQUAL.slice(0, 1));
    // As `accuracy --url` writes it: the server said which model answered.
    const accFile = join(dir, "baseline", "accuracy.json");
    const acc = JSON.parse(await readFile(accFile, "utf8"));
    acc.serverModel = { name: "food11-mobilenetv2-demo", version: "demo" };
    await writeFile(accFile, JSON.stringify(acc));
    const text = (await readFile(manifestFile, "utf8")).replace("model: demo", "model: best");
    await writeFile(manifestFile, text);
    const { manifest, baseDir } = await readManifest(manifestFile);
    const runs = await summarizeRuns(manifest, baseDir);
    expect(runs[0]?.warnings).toContain(
      'baseline: the model is named "best" but the server answered with the untrained demo model ' +
        "(food11-mobilenetv2-demo): its accuracy is about chance (9.1 %).",
    );
    expect(isDemo({}, runs)).toBe(true);
    const first = reportCharts(runs, isDemo({}, runs))[0];
    const layers =
      (first?.spec as unknown as { layer: { mark: { type: string } }[] } | undefined)?.layer ?? [];
    expect(layers.some((l) => l.mark.type === "rule")).toBe(true);
  });
});
