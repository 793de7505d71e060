import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as kit from "../src/benchkit.js";
import { startServer } from "./helpers.js";

/** What stands between a doc block's markers (the `block` replaceDocBlock wrote), or undefined. */
function readDocBlock(doc: string, name: string): string | undefined {
  const [start, end] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  return a < 0 || b < a ? undefined : doc.slice(a + start.length + 1, b - 1);
}

describe("percentiles", () => {
  it("are nearest-rank: the smallest value with at least p % of the values at or below it", () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(kit.percentile(xs, 50)).toBe(5);
    expect(kit.percentile(xs, 95)).toBe(10);
    expect(kit.percentile(xs, 90)).toBe(9);
    expect(kit.percentile(xs, 91)).toBe(10);
    expect(kit.percentile(xs, 10)).toBe(1);
    expect(kit.percentile(xs, 0)).toBe(1);
    expect(kit.percentile(xs, 100)).toBe(10);
    expect(kit.percentile([7], 99)).toBe(7);
    expect(kit.percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(kit.percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(kit.percentile([], 50)).toBeNaN();
  });

  it("upperQuantile takes index floor(q n): one above nearest-rank when q n is whole", () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // [values, q, expected]
    const cases: [number[], number, number][] = [
      [ten, 0.5, 6],
      [ten, 0.95, 10],
      [ten, 0.9, 10],
      [ten, 0.25, 3],
      [ten, 0, 1],
      [ten, 1, 10],
      [[1, 2, 3, 4], 0.5, 3],
      [[1, 2, 3, 4, 5], 0.5, 3],
    ];
    for (const [xs, q, want] of cases) expect(kit.upperQuantile(xs, q), `${q} of ${xs}`).toBe(want);
    expect(kit.upperQuantile([], 0.5)).toBeNaN();
  });
});

describe("markdown tables", () => {
  it("are compact by default, left-aligned unless told", () => {
    expect(kit.markdownTable(["a", "b"], [["1", "22"]])).toEqual([
      "| a | b |",
      "|---|---|",
      "| 1 | 22 |",
    ]);
    expect(
      kit
        .markdownTable(
          ["stack", "p95", "cost"],
          [
            ["baseline", "1.20", "3"],
            ["hpa", "0.80", "12"],
          ],
          { align: ["left", "right", "right"] },
        )
        .join("\n"),
    ).toBe(
      [
        "| stack | p95 | cost |",
        "|---|---:|---:|",
        "| baseline | 1.20 | 3 |",
        "| hpa | 0.80 | 12 |",
      ].join("\n"),
    );
  });
});

describe("doc blocks", () => {
  const doc = [
    "# Benchmarks",
    "",
    "<!-- bench:x:start -->",
    "old figures",
    "<!-- bench:x:end -->",
    "",
    "<!-- bench:y:start -->",
    "kept",
    "<!-- bench:y:end -->",
    "",
  ].join("\n");

  it("replace what stands between one block's markers and nothing else", () => {
    const out = kit.replaceDocBlock(doc, "bench:x", "| a |\n|---|");
    expect(out).toBe(doc.replace("old figures", "| a |\n|---|"));
    expect(readDocBlock(out, "bench:x")).toBe("| a |\n|---|");
    expect(readDocBlock(out, "bench:y")).toBe("kept");
    expect(readDocBlock(doc, "bench:x")).toBe("old figures");
    // Written twice, the same document.
    expect(kit.replaceDocBlock(out, "bench:x", "| a |\n|---|")).toBe(out);
  });

  it("refuse a document without the markers, naming the file", () => {
    expect(() => kit.replaceDocBlock(doc, "bench:z", "x")).toThrow(
      "lacks the <!-- bench:z:start --> ... <!-- bench:z:end --> markers",
    );
    expect(readDocBlock(doc, "bench:z")).toBeUndefined();
    const file = join(mkdtempSync(join(tmpdir(), "benchkit-")), "doc.md");
    writeFileSync(file, doc);
    kit.writeDocBlock(file, "bench:y", "new");
    expect(readDocBlock(readFileSync(file, "utf8"), "bench:y")).toBe("new");
    expect(() => kit.writeDocBlock(file, "bench:z", "x")).toThrow(`${file} lacks the`);
  });
});

describe("peakSampler", () => {
  it("samples the largest value, once more when stopped", async () => {
    const values = [3, 9, 4];
    let i = 0;
    const s = kit.peakSampler(() => values[i++] ?? 1, 5);
    await new Promise((r) => setTimeout(r, 40));
    expect(s.stop()).toBe(9);
    let calls = 0;
    const slow = kit.peakSampler(() => ++calls, 60_000);
    expect(calls).toBe(1);
    expect(slow.stop()).toBe(2);
  });
});

describe("an autocannon load", () => {
  it("keeps the 2xx latencies, counts the others, and keeps no more than the served count", async () => {
    const srv = await startServer((n, _req, res) => {
      res.statusCode = n % 3 === 0 ? 503 : 200;
      res.end("ok");
    });
    try {
      const run = await kit.autocannonLoad({
        url: `${srv.url}/test`,
        connections: 1,
        amount: 30,
        timeout: 10,
      });
      expect(run.latencies).toHaveLength(20);
      expect(run.non2xx).toBe(10);
      expect(run.result["2xx"]).toBe(20);
      expect(run.seconds).toBeGreaterThan(0);

      const capped = await kit.autocannonLoad({
        url: `${srv.url}/test`,
        connections: 1,
        amount: 100,
        timeout: 10,
        stopAfter: 5,
      });
      expect(capped.latencies).toHaveLength(5);
      // autocannon may finish requests already under way after stop(); only 5 are kept.
      expect(capped.result["2xx"]).toBeGreaterThanOrEqual(5);
    } finally {
      await srv.close();
    }
  });
});

describe("timed calls", () => {
  it("warms up twice, then loops for the time asked and at least 3 calls; rate and time per call from the loop", async () => {
    let n = 0;
    const quick = await kit.timedCalls(() => n++, 8, 0);
    expect(n).toBe(5);
    expect(quick.calls).toBe(3);

    let slept = 0;
    const r = await kit.timedCalls(
      async () => {
        slept++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
      4,
      0.1,
    );
    expect(slept).toBe(r.calls + 2);
    expect(r.seconds).toBeGreaterThanOrEqual(0.1);
    // the figures are rounded (seconds to 1 ms): they give back the calls and the seconds
    expect(Math.abs((r.imagesPerSec * r.seconds) / 4 - r.calls)).toBeLessThan(0.05);
    expect(Math.abs((r.msPerCall * r.calls) / 1000 - r.seconds)).toBeLessThan(0.001);
  });
});
