/**
 * report.html in a real headless Chromium (npm run test:html; scripts/html/test.sh finds or
 * installs Debian's chromium and gives its path as CHROMIUM). The three commands that write the
 * page run as a user types them, offline, on the inputs the offline suite uses:
 *
 * - `report` over tools/strategy-bench/test/fixtures/manifest.yaml (two measured runs);
 * - `plan --rate 30 --compare --slo-p95 0.5` on one 8-CPU, 8Gi node (strategy2's 4.5Gi pods
 *   cannot all fit: it fails the SLO), with its charts;
 * - `recommend --rate 30 --slo-p95 0.5` on the same node, the stack named `manager-pick`.
 *
 * Each page is opened from its file: no console error, no page error, no failed request and no
 * request but the file and its data: images; the verdict comes first and names the stack the
 * command's other outputs name (checked against them, not against the page's own code); every
 * chart is visible with a non-zero size, decoded, and its screenshot is not blank (pixels not all
 * one colour, decoded with sharp); no memory figure in KB. The screenshots (each chart, and each
 * whole page) are kept in $FOOD11_HTML_OUT (default a new folder in the temp dir), named in
 * $FOOD11_HTML_REPORT for the suite's closing lines: look at them.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "../..");
const CLI = join(ROOT, "tools/strategy-bench/src/cli.ts");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const run = promisify(execFile);

let out: string;
let browser: Browser;
const shots: string[] = [];

/** `strategy-bench <args>` as `npm run strategy-bench --` runs it (tsx), from the root. */
/**
 * `strategy-bench <command> <outFlag> <dir>`, the command written as a user types it, its output
 * into a folder of its own under `out`: that folder and what the command printed.
 */
async function strategyBench(command: string, outFlag: "--out" | "--dir" = "--out") {
  const dir = join(out, command.split(" ")[0] ?? "");
  const { stdout } = await run(TSX, [CLI, ...command.split(" "), outFlag, dir], {
    cwd: ROOT,
    env: { ...process.env, INIT_CWD: ROOT },
    maxBuffer: 64 * 2 ** 20,
  });
  return { dir, printed: stdout };
}

beforeAll(async () => {
  const exe = process.env.CHROMIUM;
  if (!exe || !existsSync(exe)) {
    throw new Error(
      `CHROMIUM=${exe ?? "(unset)"}: not a browser; run the suite with npm run test:html (it finds or installs Debian's chromium)`,
    );
  }
  out = process.env.FOOD11_HTML_OUT ?? (await mkdtemp(join(tmpdir(), "food11-html-")));
  await mkdir(out, { recursive: true });
  // Root may not use Chromium's sandbox; the page runs no script (its CSP forbids them).
  browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
  if (process.env.FOOD11_HTML_REPORT) {
    await writeFile(
      process.env.FOOD11_HTML_REPORT,
      `${JSON.stringify({ chromium: browser?.version(), out, screenshots: shots }, null, 2)}\n`,
    );
  }
});

/** Pixels differing from the top-left one: 0 means the image is one colour. */
async function differentPixels(png: Buffer): Promise<{ differ: number; total: number }> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const c = info.channels;
  let differ = 0;
  for (let i = 0; i < data.length; i += c) {
    for (let k = 0; k < c; k++) {
      if (data[i + k] !== data[k]) {
        differ++;
        break;
      }
    }
  }
  return { differ, total: data.length / c };
}

/**
 * Open `dir`/report.html and check it as a manager's browser would show it; returns the
 * verdict's headline and the stacks it names in bold.
 */
async function openReport(
  name: string,
  dir: string,
): Promise<{ headline: string; bold: string[] }> {
  const file = join(dir, "report.html");
  const context = await browser.newContext({
    offline: true,
    viewport: { width: 1280, height: 900 },
    javaScriptEnabled: false,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning")
      problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) =>
    problems.push(`request failed: ${r.url().slice(0, 120)} (${r.failure()?.errorText})`),
  );
  page.on("request", (r) => requests.push(r.url()));
  try {
    const response = await page.goto(`file://${file}`, { waitUntil: "load" });
    expect(response?.ok() ?? true).toBe(true);
    // Every image decoded before the checks (they are data: URIs: no network).
    // (Runs in the page; this project has no DOM types.)
    type Page = { document: { images: ArrayLike<{ complete: boolean }> } };
    await page.waitForFunction(() =>
      Array.from((globalThis as unknown as Page).document.images).every((i) => i.complete),
    );

    // Verdict first: the first part under the title.
    const order = await page.$$eval("main > *", (els) => els.map((e) => e.id || e.tagName));
    expect(order.slice(0, 3)).toEqual(["H1", "P", "verdict"]);
    const ids = order.filter((x) =>
      ["verdict", "tables", "charts", "conditions", "error"].includes(x),
    );
    expect(ids).toEqual(["verdict", "tables", "charts", "conditions", "error"]);

    // Every chart: visible, a size, decoded, and a screenshot that is not one colour.
    const svgs = (await readdir(dir)).filter((f) => f.endsWith(".svg"));
    const charts = page.locator("figure.chart img");
    expect(await charts.count()).toBe(svgs.length);
    expect(svgs.length).toBeGreaterThan(0);
    for (let i = 0; i < svgs.length; i++) {
      const img = charts.nth(i);
      await img.scrollIntoViewIfNeeded();
      expect(await img.isVisible()).toBe(true);
      const box = await img.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(200);
      expect(box?.height ?? 0).toBeGreaterThan(150);
      const natural = await img.evaluate(
        (el) => (el as unknown as { naturalWidth: number }).naturalWidth,
      );
      expect(natural).toBeGreaterThan(200);
      const id = ((await img.evaluate((el) => el.parentElement?.id)) ?? `chart-${i}`).replace(
        /^chart-/,
        "",
      );
      const shot = join(out, `${name}-${id}.png`);
      const png = await img.screenshot({ path: shot });
      shots.push(shot);
      const { differ, total } = await differentPixels(png);
      // Axes, marks and text: far more than a few stray pixels.
      expect(differ / total, `${shot} is blank`).toBeGreaterThan(0.01);
    }
    const full = join(out, `${name}-page.png`);
    await page.screenshot({ path: full, fullPage: true });
    shots.push(full);

    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).not.toMatch(/\d\s*KB\b/);
    expect(text).toContain("command");
    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"))).toEqual([]);
    return {
      headline: ((await page.locator("#verdict .headline").textContent()) ?? "").trim(),
      bold: await page.locator("#verdict .headline strong").allTextContents(),
    };
  } finally {
    await context.close();
  }
}

describe("report.html in Chromium", () => {
  it("report: the fastest measured run named first", async () => {
    const { dir } = await strategyBench(
      "report --manifest tools/strategy-bench/test/fixtures/manifest.yaml",
    );
    const summary = JSON.parse(await readFile(join(dir, "summary.json"), "utf8")) as {
      runs: { name: string; load: { okay: number; responseTime: number } }[];
    };
    const fastest = summary.runs
      .filter((r) => r.load.okay > 0)
      .sort((a, b) => a.load.responseTime - b.load.responseTime)[0]?.name;
    const v = await openReport("report", dir);
    expect(v.bold[0]).toBe(fastest);
    expect(v.headline).toMatch(/answers fastest/);
  });

  it("plan --compare with an SLO: the cheapest stack meeting it named first", async () => {
    const { dir, printed } = await strategyBench(
      "plan --rate 30 --duration 120 --compare --slo-p95 0.5 --nodes 1x8cpu,8Gi --node-shape 4cpu,16Gi",
    );
    // From plan.json, not from the page's code: the stacks with p95 ≤ 0.5 s, nothing failed and
    // nothing Pending; of those, the one requesting the fewest CPU-seconds.
    const plan = JSON.parse(await readFile(join(dir, "plan.json"), "utf8")) as {
      stacks: {
        stack: string;
        latency: { p95: number };
        load: { failed: number; durationSeconds: number };
        samples: { time: number; pending: number; cpuRequested: number }[];
      }[];
    };
    const cpuSeconds = (s: (typeof plan.stacks)[number]) =>
      s.samples.reduce(
        (a, x, i) =>
          a + x.cpuRequested * ((s.samples[i + 1]?.time ?? s.load.durationSeconds) - x.time),
        0,
      );
    const passing = plan.stacks.filter(
      (s) => s.latency.p95 <= 0.5 && s.load.failed === 0 && s.samples.every((x) => x.pending === 0),
    );
    expect(passing.length).toBeGreaterThan(0);
    expect(passing.length).toBeLessThan(plan.stacks.length);
    const cheapest = [...passing].sort((a, b) => cpuSeconds(a) - cpuSeconds(b))[0]?.stack;
    expect(printed).toContain(`cheapest meeting the SLO: **${cheapest}**`);
    const v = await openReport("plan", dir);
    expect(v.bold[0]).toBe(cheapest);
    expect(v.headline).toContain("the cheapest stack meeting the SLO");
  });

  it("recommend: the recommended stack named first, its stack file beside", async () => {
    const { dir } = await strategyBench(
      "recommend --rate 30 --duration 120 --slo-p95 0.5 --nodes 1x8cpu,8Gi --name manager-pick",
      "--dir",
    );
    expect(existsSync(join(dir, "Pulumi.manager-pick.yaml"))).toBe(true);
    const v = await openReport("recommend", dir);
    expect(v.bold[0]).toBe("manager-pick");
    expect(v.headline).toMatch(/^Recommended: manager-pick, the cheapest of \d+ candidates/);
  });
});
