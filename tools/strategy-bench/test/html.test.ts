import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { barChart, renderChart } from "../src/charts.js";
import { commandLine, shellQuote } from "../src/report/conditions.js";
import {
  escapeHtml,
  type HtmlPage,
  htmlPage,
  markdownHtml,
  markdownSections,
} from "../src/report/html.js";
import { readManifest } from "../src/report/manifest.js";
import { reportVerdict } from "../src/report/page.js";
import { summarizeRuns } from "../src/report/summarize.js";
import { writeReport } from "../src/report/write.js";
import { tempDirsRemovedAfterEach } from "./helpers.js";
import { type FakeRun, NEAR_EQUAL, writeRuns } from "./runs.js";

const tempDir = tempDirsRemovedAfterEach();

const EVIL = `<script>alert("x")</script> & 'q'`;

/** A page with every part, `EVIL` in each place text comes from outside. */
function evilPage(svg: string): HtmlPage {
  return {
    title: `Plan ${EVIL}`,
    verdict: { headline: `**${EVIL}** is recommended`, lines: [`why: ${EVIL}`] },
    intro: `intro <img src=x onerror=alert(1)> ![pic](http://example.com/a.png)`,
    caveats: `- [a link](javascript:alert(1)) and [docs](https://example.com/docs)`,
    sections: [
      { heading: `Table ${EVIL}`, markdown: `| metric | ${EVIL} |\n|---|---:|\n| a | 1 |` },
    ],
    charts: [{ id: `c"1`, title: `Chart ${EVIL}`, svg }],
    conditions: [["command", `strategy-bench plan --stack '${EVIL}'`]],
    error: [{ heading: "The planner's error", markdown: "within **20 %**" }],
  };
}

describe("the HTML writer", () => {
  it("escapes every text: no tag, attribute or URL from the inputs becomes markup", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>';
    const html = htmlPage(evilPage(svg), new Date("2026-12-05T10:00:00Z"));
    // The page's own markup has no script, no event handler, no request.
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<[a-z][^>]*\son\w+=/i);
    expect(html).not.toContain("javascript:");
    expect(html).not.toMatch(/<img[^>]+src="(?!data:image\/svg\+xml;base64,)/);
    expect(html).not.toMatch(/<link\b/);
    // The text is there, escaped, in the title, the verdict, a table cell, the conditions.
    const escaped = escapeHtml(EVIL);
    expect(escaped).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;");
    expect(html).toContain(`<title>Plan ${escaped}</title>`);
    expect(html).toContain(`<h2>Table ${escaped}</h2>`);
    expect(html).toContain(`<td>strategy-bench plan --stack &#39;${escaped}&#39;</td>`);
    expect(html).toContain(`alt="Chart ${escaped}"`);
    expect(html).toContain('id="chart-c&quot;1"');
    // An image from elsewhere is its alt text; an http(s) link stays a link, others are text.
    expect(html).toContain("intro &lt;img src=x onerror=alert(1)&gt; pic");
    expect(html).toContain('<a href="https://example.com/docs">docs</a>');
    expect(html).toContain("<li>a link and");
    // Nothing may load: the policy forbids every request but the data: images.
    expect(html).toContain(
      `content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"`,
    );
  });

  it("lays the page out verdict first, then tables, charts, conditions, the error last", () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>é</text></svg>';
    const html = htmlPage(evilPage(svg));
    const at = (s: string) => {
      const i = html.indexOf(s);
      expect(i, s).toBeGreaterThan(0);
      return i;
    };
    const order = [
      'id="verdict"',
      'id="caveats"',
      'class="intro"',
      'id="tables"',
      'id="charts"',
      'id="conditions"',
      'id="error"',
    ].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The chart is its SVG, whole, as a data: URI (UTF-8 kept).
    const uri = /<img alt="[^"]*" src="data:image\/svg\+xml;base64,([^"]+)">/.exec(html)?.[1];
    expect(Buffer.from(uri ?? "", "base64").toString("utf8")).toBe(svg);
    // A right-aligned Markdown column stays right-aligned; every table can scroll sideways.
    expect(html).toContain('<td align="right">1</td>');
    expect(html).toMatch(/<div class="table"><table>/);
  });

  it("marks a verdict that found nothing, and says why a page has no chart", () => {
    const page = evilPage("");
    const html = htmlPage({
      ...page,
      verdict: { headline: "No stack meets the SLO", found: false },
      charts: [],
      noCharts: "Charts not drawn (--no-charts).",
    });
    expect(html).toContain('<section class="verdict none" id="verdict">');
    expect(html).toContain("<p>Charts not drawn (--no-charts).</p>");
  });

  it("cuts Markdown at its ## headings, ### kept inside", () => {
    expect(markdownSections("## A\n\ntext\n### sub\nmore\n## B\n| x |\n|---|\n| 1 |\n")).toEqual([
      { heading: "A", markdown: "text\n### sub\nmore" },
      { heading: "B", markdown: "| x |\n|---|\n| 1 |" },
    ]);
    expect(markdownSections("lead\n## A\nbody", "before")).toEqual([
      { heading: "before", markdown: "lead" },
      { heading: "A", markdown: "body" },
    ]);
    expect(markdownHtml("**b** `c`")).toBe("<p><strong>b</strong> <code>c</code></p>\n");
  });

  it("a chart whose run names hold markup still renders (vega escapes its SVG's text)", async () => {
    const { svg } = await renderChart(
      barChart({
        id: "x",
        title: "t",
        yTitle: "y",
        values: [
          { run: EVIL, value: 1 },
          { run: "b & c", value: 2 },
        ],
      }),
    );
    expect(svg).not.toContain("<script");
    const meta = await sharp(Buffer.from(svg)).metadata();
    expect(meta.format).toBe("svg");
    expect(meta.width).toBeGreaterThan(300);
  });

  it("states the command as typed, quoted only where a shell needs it", () => {
    expect(shellQuote("--out")).toBe("--out");
    expect(shellQuote("runs/plan 1")).toBe("'runs/plan 1'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(commandLine(["node", "cli.ts", "plan", "--rate", "30", "--title", "a b"])).toBe(
      "strategy-bench plan --rate 30 --title 'a b'",
    );
  });
});

describe("report writes report.html", () => {
  it("from the fixture runs: the verdict names the fastest and the leanest, memory never in KB", async () => {
    const dir = await tempDir("sb-html-");
    const { manifest, baseDir } = await readManifest(
      resolve(import.meta.dirname, "fixtures/manifest.yaml"),
    );
    const { files } = await writeReport(manifest, baseDir, dir, {
      command: "strategy-bench report --manifest fixtures/manifest.yaml",
    });
    expect(files.html).toBe(join(dir, "report.html"));
    const html = await readFile(files.html, "utf8");
    // strategy B answers in 0.349 s against 1.048 s; strategy A requests 4.00 GiB against 4.50.
    expect(html).toContain(
      "<strong>strategy B</strong> answers fastest (response time 0.349 s against 1.048 s for strategy A); " +
        "<strong>strategy A</strong> requests the least memory (4.00 GiB against 4.50 GiB for strategy B)",
    );
    expect(html).toContain("<td>strategy-bench report --manifest fixtures/manifest.yaml</td>");
    // Every chart the report drew, inline.
    expect(html.match(/<figure class="chart"/g)).toHaveLength(files.charts.length);
    // MiB / GiB only: the original report's KB table stays in report.md.
    expect(html).toContain("<td>488.3 MiB</td>");
    expect(html).not.toMatch(/\d\s*KB\b|\(KB/);
    expect(await readFile(files.markdown, "utf8")).toContain(
      "| memory requested (KB, as the original report) | 4,194,304.0 | 4,718,592.0 |",
    );
  });

  it("a demo: said before the tables; accuracy, the same chance for all, is no difference", async () => {
    const dir = await tempDir("sb-html-");
    const run = (name: string, stack: string, rt: number, memRequestedKB: number): FakeRun => ({
      name,
      stack,
      okay: [10, 10],
      responseTime: [rt, rt],
      memUsedKB: [400_000, 400_000],
      memRequestedKB,
      cpuLimit: 2,
      correct: 3,
      samples: 33,
    });
    const manifestFile = await writeRuns(
      dir,
      [
        run("strategy1 #1", "strategy1", 0.2, 2_097_152),
        run("strategy2 #1", "strategy2", 0.5, 1_048_576),
      ],
      { demo: true },
    );
    const { manifest, baseDir } = await readManifest(manifestFile);
    const { files } = await writeReport(manifest, baseDir, join(dir, "out"));
    const html = await readFile(files.html, "utf8");
    expect(html).toContain("<strong>strategy1 #1</strong> answers fastest");
    expect(html).toContain("<strong>strategy2 #1</strong> requests the least memory (1.00 GiB");
    expect(html).toContain("about chance (9.1 %) for every stack");
    expect(html.indexOf("<strong>Demo:</strong>")).toBeLessThan(html.indexOf('id="tables"'));
  });

  it("near-equal runs: no winner called where the difference is within one run's noise", async () => {
    const dir = await tempDir("sb-html-");
    // Response times 0.52 / 0.53 / 0.55 s; baseline and strategy1 both request 2 GiB.
    const { manifest, baseDir } = await readManifest(
      await writeRuns(dir, NEAR_EQUAL, { demo: true }),
    );
    const runs = await summarizeRuns(manifest, baseDir);
    const v = reportVerdict(runs, true);
    expect(v.found).toBe(false);
    expect(v.headline).toBe(
      "No clear winner: response time 0.520 s against 0.530 s for strategy1, memory requested " +
        "2.00 GiB against 2.00 GiB for strategy1; neither differs by more than 10 % (one run per stack). " +
        "Repeat the runs, or measure on real pods.",
    );
    // Nobody in bold in the ranking either.
    expect(v.lines[0]).toBe(
      "response time (s, weighted by successful requests; lower is better): baseline 0.520 s · strategy1 0.530 s · strategy2 0.550 s",
    );
    // strategy2 at 1 GiB (half the others) is a clear difference again, response times still not.
    const lean = runs.map((r) =>
      r.name === "strategy2"
        ? { ...r, resources: { ...r.resources, memRequestedKB: 1_048_576 } }
        : r,
    );
    expect(reportVerdict(lean, true).headline).toMatch(
      /^\*\*strategy2\*\* requests the least memory \(1\.00 GiB against 2\.00 GiB for baseline\); response times are about the same/,
    );
  });
});
