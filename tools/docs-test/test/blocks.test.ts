import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  documentationFiles,
  extractBlocks,
  failedLine,
  MarkerError,
  prepare,
  script,
  segments,
  writtenBy,
} from "../src/blocks.js";

const md = (...lines: string[]) => lines.join("\n");

describe("the documentation's shell blocks", () => {
  it("finds fenced sh blocks with their line, markers and nothing else", () => {
    const blocks = extractBlocks(
      "doc.md",
      md(
        "# Title",
        "```sh",
        "# test:docs: skip: needs a cluster; covered by npm run test:cluster",
        "npm run cluster -- up",
        "```",
        "```yaml",
        "key: value",
        "```",
        "```",
        "npm start   (a tree, not a shell block)",
        "```",
        "- a list item:",
        "   ```sh",
        "   # test:docs: run with --time-scale 0.01 on loadtest",
        "   # test:docs: writes runs/*/report.md",
        "   npm run strategy-bench -- loadtest --url x",
        "   ```",
      ),
    );
    expect(blocks.map((b) => [b.file, b.line, b.skip, b.runWith, b.writes])).toEqual([
      ["doc.md", 3, { why: "needs a cluster", coveredBy: "npm run test:cluster" }, [], []],
      [
        "doc.md",
        14,
        undefined,
        [{ flags: "--time-scale 0.01", on: "loadtest" }],
        ["runs/*/report.md"],
      ],
    ]);
  });

  it("refuses a marker it does not know, a skip without what covers it, a marker after a command", () => {
    const block =
      (...l: string[]) =>
      () =>
        extractBlocks("d.md", md("```sh", ...l, "```"));
    expect(block("# test:docs: skip: needs a cluster", "x")).toThrow(MarkerError);
    expect(block("# test:docs: skip: needs a cluster", "x")).toThrow(
      'd.md:2: unknown marker "# test:docs: skip: needs a cluster"',
    );
    expect(block("# test:docs: ignore", "x")).toThrow(/unknown marker/);
    expect(block("npm test", "# test:docs: run with --x")).toThrow(
      "d.md:3: a test:docs marker goes on the block's first lines",
    );
  });

  it("cuts a line at its shell separators, not inside quotes, comments or redirections", () => {
    expect(segments(`a "b && c" && d 2>&1 & e=$! # f; g`)).toEqual([
      { code: `a "b && c" `, after: "&&" },
      { code: " d 2>&1 ", after: "&" },
      { code: " e=$! ", after: "# f; g" },
    ]);
    expect(
      writtenBy(["x", "--out", "$OUT/a.json", "--markdown=m.md", ">", "log", ">/dev/null"]),
    ).toEqual(["$OUT/a.json", "m.md", "log"]);
  });
});

describe("a block prepared for bash", () => {
  const one = (...l: string[]) => extractBlocks("d.md", md("```sh", ...l, "```"))[0];

  it("appends the run-with flags after the npm script's --, before its comment or its &", () => {
    const b = one(
      "# test:docs: run with --time-scale 0.01 on loadtest",
      "# test:docs: run with --duration 20 on monitor",
      "npm run demo -- --stack strategy1   # one stack",
      "npm run strategy-bench -- monitor --duration 1860 --out m.csv & MONITOR=$!",
      "npm run strategy-bench -- loadtest \\",
      "  --url http://localhost:8080/test --out l.csv",
      "wait $MONITOR",
    );
    const p = prepare(b as never, { port: 4000, adminPort: 4001 });
    expect(p.lines).toEqual([
      "",
      "",
      "npm run demo -- --stack strategy1   # one stack",
      "npm run strategy-bench -- monitor --duration 1860 --out m.csv --duration 20 & MONITOR=$!",
      "npm run strategy-bench -- loadtest \\",
      "  --url http://localhost:8080/test --out l.csv --time-scale 0.01 ",
      "wait $MONITOR",
    ]);
    expect(p.outputs).toEqual(["m.csv", "l.csv"]);
    // Without `on`: every npm script, with a `--` added where it has none.
    const all = prepare(
      one("# test:docs: run with --requests 20", "npm run bench:server") as never,
      { port: 1, adminPort: 2 },
    );
    expect(all.lines[1]).toBe("npm run bench:server -- --requests 20 ");
  });

  it("starts npm start as a server on a free port and points the block's URLs at it", () => {
    const p = prepare(
      one(
        "npm start                          # 0.0.0.0:8080",
        "curl -s localhost:8080/test",
        "curl -s localhost:8081/metrics",
        "xdg-open http://localhost:8080/    # a page",
      ) as never,
      { port: 4321, adminPort: 4322 },
    );
    expect(p.lines).toEqual([
      "__docs_serve 2 4321 4322 env npm start # 0.0.0.0:4321",
      "curl -s localhost:4321/test",
      "curl -s localhost:4322/metrics",
      "curl -q -fsS -o /dev/null http://localhost:4321/ # a page",
    ]);
  });

  it("runs in bash: a failing command names its line; what it writes is reported", () => {
    const dir = mkdtempSync(join(tmpdir(), "docs-test-"));
    const run = (...l: string[]) => {
      const b = one(...l);
      const { text, firstBlockLine } = script(prepare(b as never, { port: 1, adminPort: 2 }));
      writeFileSync(join(dir, "s.sh"), text);
      writeFileSync(join(dir, "w.txt"), "");
      try {
        execFileSync("bash", [join(dir, "s.sh")], {
          cwd: dir,
          env: { ...process.env, DOCS_WRITES: join(dir, "w.txt"), DOCS_PIDS: join(dir, "p") },
          stdio: ["ignore", "pipe", "pipe"],
        });
        return { code: 0, writes: readFileSync(join(dir, "w.txt"), "utf8") };
      } catch (err) {
        const e = err as { status: number; stderr: Buffer };
        const at = e.stderr
          .toString()
          .split("\n")
          .map(failedLine)
          .find((n) => n !== undefined);
        return { code: e.status, line: 2 + Number(at) - firstBlockLine };
      }
    };
    expect(run("OUT=out", "mkdir -p $OUT && echo x > $OUT/a.txt")).toEqual({
      code: 0,
      writes: "out/a.txt\n",
    });
    // Line 4 of the Markdown (the block's third line) fails; the second command never runs.
    expect(run("true", "# a comment", "false", "echo never")).toEqual({ code: 1, line: 4 });
  });
});

describe("the repository's own documentation", () => {
  it("parses: every marker is well formed", () => {
    const root = resolve(import.meta.dirname, "../../..");
    const files = documentationFiles(root);
    const blocks = files.flatMap((f) => extractBlocks(f, readFileSync(join(root, f), "utf8")));
    expect(blocks.length).toBeGreaterThan(10);
    for (const b of blocks) prepare(b, { port: 1, adminPort: 2 });
  });
});
