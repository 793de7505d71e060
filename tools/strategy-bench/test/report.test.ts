import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { readManifest, summarizeRuns, writeReport } from "../src/report.js";

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
    ]);
    for (const c of files.charts) {
      const meta = await sharp(c.png).metadata();
      expect(meta.format).toBe("png");
      expect(meta.width).toBeGreaterThan(400);
      expect(meta.height).toBeGreaterThan(300);
      const svg = await readFile(c.svg, "utf8");
      expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(2);
      expect(svg).toContain(">strategy A</text>");
      expect(svg).toContain(">strategy B</text>");
    }
    const md = await readFile(files.markdown, "utf8");
    expect(md).toContain(
      "| memory requested (KB, mean over the test) | 4,194,304.00 | 4,718,592.00 |",
    );
    expect(md).toContain("| memory used (KB, mean) | 500,000.00 | 450,000.50 |");
    expect(md).toContain("| response time (s, weighted by OKAY) | 1.05 | 0.35 |");
    expect(md).toContain("| transaction rate (/s, OKAY / real duration) | 0.23 | 3.25 |");
    expect(md).toContain("| transaction rate (/s, OKAY / 3,600, as the original) | 0.01 | 0.11 |");
    expect(md).toContain("| limits: memory | 6Gi |  |");
    expect(md).toContain("![accuracy-vs-response-time](accuracy-vs-response-time.png)");
    const json = JSON.parse(await readFile(files.json, "utf8"));
    expect(json.runs).toHaveLength(2);
  });
});
