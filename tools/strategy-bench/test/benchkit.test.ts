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

  it("sort a copy of unsorted values", () => {
    const xs = [30, 10, 40, 20];
    expect(kit.percentileOf(xs, 50)).toBe(20);
    expect(kit.percentileOf(xs, 75)).toBe(30);
    expect(kit.percentileOf(xs, 99)).toBe(40);
    expect(xs).toEqual([30, 10, 40, 20]);
    expect(kit.percentileOf([], 95)).toBeNaN();
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

  it("padded, are what Biome writes", () => {
    expect(
      kit.markdownTable(
        ["run", "c", "req/s"],
        [
          ["c1", "1", "33.3"],
          ["c20", "20", "166.4"],
        ],
        { align: ["left", "right", "right"], pad: true },
      ),
    ).toEqual([
      "| run |   c | req/s |",
      "| --- | --: | ----: |",
      "| c1  |   1 |  33.3 |",
      "| c20 |  20 | 166.4 |",
    ]);
  });

  it("padded, reproduce docs/benchmarks.md's server tables cell for cell", () => {
    const doc = readFileSync(join(__dirname, "../../../docs/benchmarks.md"), "utf8");
    const block = readDocBlock(doc, "bench:server");
    expect(block).toBeDefined();
    // Each run of table lines in the block: header, rule, rows.
    const tables: string[][] = [];
    let previous = "";
    for (const line of (block ?? "").split("\n")) {
      if (!line.startsWith("|")) {
        previous = line;
        continue;
      }
      if (!previous.startsWith("|")) tables.push([]);
      tables.at(-1)?.push(line);
      previous = line;
    }
    expect(tables.length).toBeGreaterThanOrEqual(2);
    const cells = (line: string) =>
      line
        .slice(2, -2)
        .split(" | ")
        .map((c) => c.trim());
    for (const t of tables) {
      const [head, rule, ...rows] = t as [string, string, ...string[]];
      const align = cells(rule).map((r): kit.Align => (r.endsWith(":") ? "right" : "left"));
      expect(kit.markdownTable(cells(head), rows.map(cells), { align, pad: true })).toEqual(t);
    }
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
    const quiet = kit.peakSampler(() => ++calls, 60_000, { first: false });
    expect(calls).toBe(0);
    expect(quiet.stop()).toBe(1);
  });
});

describe("an autocannon load", () => {
  it("keeps the 2xx latencies, counts the others, and keeps no more than the served count", async () => {
    const srv = await startServer((n, _req, res) => {
      res.statusCode = n % 3 === 0 ? 503 : 200;
      res.end("ok");
    });
    try {
      const responses: number[] = [];
      const run = await kit.autocannonLoad({
        url: `${srv.url}/test`,
        connections: 1,
        amount: 30,
        timeout: 10,
        onResponse: (status) => responses.push(status),
      });
      expect(run.latencies).toHaveLength(20);
      expect(run.non2xx).toBe(10);
      expect(run.result["2xx"]).toBe(20);
      expect(responses).toHaveLength(30);
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
