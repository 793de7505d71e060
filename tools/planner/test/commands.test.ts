import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerPlanCommands } from "../src/commands.js";

let dir: string | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function run(args: string[]): Promise<string> {
  let printed = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    printed += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  const program = new Command().exitOverride();
  registerPlanCommands(program);
  await program.parseAsync(["node", "strategy-bench", ...args]);
  return printed;
}

/** `plan` with these flags (split at spaces) into `dir` (a new temporary folder if unset). */
async function runPlan(flags: string): Promise<{ printed: string; out: string }> {
  dir ??= await mkdtemp(join(tmpdir(), "plan-"));
  const out = dir;
  return { printed: await run(["plan", ...flags.split(" "), "--out", out]), out };
}

describe("strategy-bench plan", () => {
  it("prints the side-by-side table and writes plan.md, plan.json and the charts", async () => {
    const { printed, out } = await runPlan(
      "--stack baseline --stack strategy2 --nodes 1x8cpu,8Gi --compare",
    );
    expect(printed).toMatch(/\| metric \| baseline \| strategy2 \|/);
    expect(printed).toMatch(/strategy2: pods Pending: .*Insufficient memory/);
    const files = await readdir(out);
    // Accuracy is given, the same for every stack: no accuracy-against-cost scatter, bars per stack.
    expect(files.filter((f) => f.startsWith("accuracy-vs-"))).toEqual([]);
    for (const f of [
      "plan.md",
      "plan.json",
      "replicas-over-time.png",
      "cpu-over-time.svg",
      "memory-requested-per-stack.png",
      "successful-requests-per-second-per-stack.png",
      "response-time-per-phase.png",
    ]) {
      expect(files).toContain(f);
    }
    // report.html: the fastest stack first (no SLO given), every chart inline, the error last.
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toMatch(
      /<p class="headline"><strong>(baseline|strategy2)<\/strong> answers fastest/,
    );
    expect(html.match(/<figure class="chart"/g)).toHaveLength(
      files.filter((f) => f.endsWith(".svg")).length,
    );
    expect(html.indexOf("<h2>The planner&#39;s error</h2>")).toBeGreaterThan(
      html.indexOf('id="conditions"'),
    );
    const json = JSON.parse(await readFile(join(out, "plan.json"), "utf8"));
    expect(json.kind).toBe("strategy-bench/plan");
    expect(json.stacks.map((s: { stack: string }) => s.stack)).toEqual(["baseline", "strategy2"]);
    expect(json.stacks[1].resourcesScheduled.memRequestedKB).toBe(4_718_592);
  });

  it("--hpa-trace replays one stack's HPA against a scripted trace, sync by sync", async () => {
    dir = await mkdtemp(join(tmpdir(), "plan-"));
    const trace = join(dir, "trace.yaml");
    await writeFile(
      trace,
      "trace:\n  - { at: 0, millicoresPerPod: 200 }\n  - { at: 60, millicoresPerPod: 900 }\ndurationSeconds: 90\n",
    );
    const { printed, out } = await runPlan(`--stack baseline --hpa-trace ${trace}`);
    // t=60: 90 % / 40 → 3; t=75: 7 proposed, maxReplicas 5.
    expect(printed).toMatch(
      /\| 60 \| 900 \| 1 \| 1 \| 1 \/ 0 \/ 0 \| 90 \| 3 \| 3 \| 3 \| DesiredWithinRange \|/,
    );
    expect(printed).toMatch(/\| 75 \| 900 \| 3 \| 3 \| .* \| 7 \| 7 \| 5 \| TooManyReplicas \|/);
    const steps = JSON.parse(await readFile(join(out, "hpa-decisions.json"), "utf8"));
    expect(steps.map((s: { desiredReplicas: number }) => s.desiredReplicas)).toEqual([
      1, 1, 1, 1, 3, 5,
    ]);
  });

  it("--rate with an SLO: report.html names the cheapest stack meeting it, in GiB, never KB", async () => {
    const { printed, out } = await runPlan(
      "--rate 15 --duration 120 --compare --slo-p95 0.5 --nodes 1x8cpu,8Gi --no-charts",
    );
    // strategy2's 4.5Gi pods cannot all fit 8Gi: FAIL; of the others the cheaper is named.
    const cheapest = /cheapest meeting the SLO: \*\*(\w+)\*\*/.exec(printed)?.[1];
    expect(["baseline", "strategy1"]).toContain(cheapest);
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toContain(
      `<p class="headline"><strong>${cheapest}</strong>: the cheapest stack meeting the SLO (p95 ≤ 0.5 s`,
    );
    expect(html).toMatch(/<td align="right">FAIL: \d+ pods? Pending<\/td>/);
    expect(html).toContain("<p>Charts not drawn (--no-charts).</p>");
    expect(html).not.toMatch(/\d\s*KB\b/);
  });

  it("--engine plans a stack on each engine with that engine's measured profile", async () => {
    const { printed, out } = await runPlan(
      "--stack strategy1 --engine tensorflow,onnxruntime --rate 20 --duration 120 --compare --no-charts",
    );
    expect(printed).toContain("strategy1@tensorflow");
    expect(printed).toContain("strategy1@onnxruntime");
    const plan = JSON.parse(await readFile(join(out, "plan.json"), "utf8")) as {
      stacks: { stack: string; profile: { source: string; description: string } }[];
    };
    const by = Object.fromEntries(plan.stacks.map((r) => [r.stack, r.profile]));
    expect(by["strategy1@tensorflow"]?.description).toMatch(/on the tfjs-node image/);
    expect(by["strategy1@onnxruntime"]?.description).toMatch(/on the onnxruntime image/);
    expect(by["strategy1@onnxruntime"]?.source).toBe("measured");
    await expect(run(["plan", "--engine", "tensorflow,gpu"])).rejects.toThrow(
      /engine must be a comma-separated list of tensorflow, onnxruntime, wasm \(got "tensorflow,gpu"\)/,
    );
  });

  it("recommend writes the stack file and report.html naming it", async () => {
    dir = await mkdtemp(join(tmpdir(), "recommend-"));
    await run([
      "recommend",
      "--rate",
      "15",
      "--duration",
      "120",
      "--slo-p95",
      "0.5",
      "--nodes",
      "1x8cpu,8Gi",
      "--name",
      "manager-pick",
      "--dir",
      dir,
    ]);
    const files = await readdir(dir);
    expect(files).toContain("Pulumi.manager-pick.yaml");
    expect(files).toContain("cpu-hours-per-stack.svg");
    const html = await readFile(join(dir, "report.html"), "utf8");
    expect(html).toContain(
      "Recommended: <strong>manager-pick</strong>, the cheapest of 36 candidates",
    );
    // Against each existing stack, figure by figure; strategy2 leaves pods Pending on 8Gi.
    expect(html).toMatch(
      /<li><strong>strategy2<\/strong>: FAIL \((p95 [^;]+; )?\d+ pods? Pending\) · p95 /,
    );
    expect(html).toContain("<h2>Knobs</h2>");
  });

  it("refuses --measured-loadtest with several stacks, and a bad --nodes", async () => {
    await expect(
      run(["plan", "--stack", "baseline", "--stack", "strategy1", "--measured-loadtest", "x.csv"]),
    ).rejects.toThrow(/give exactly one --stack/);
    await expect(run(["plan", "--nodes", "big", "--no-charts"])).rejects.toThrow(
      /--nodes "big": not <count>x<cpu>cpu,<memory>/,
    );
  });
});
