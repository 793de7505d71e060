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

describe("strategy-bench plan", () => {
  it("prints the side-by-side table and writes plan.md, plan.json and the charts", async () => {
    dir = await mkdtemp(join(tmpdir(), "plan-"));
    const printed = await run([
      "plan",
      "--stack",
      "baseline",
      "--stack",
      "strategy2",
      "--nodes",
      "1x8cpu,8Gi",
      "--compare",
      "--out",
      dir,
    ]);
    expect(printed).toMatch(/\| metric \| baseline \| strategy2 \|/);
    expect(printed).toMatch(/strategy2: pods Pending: .*Insufficient memory/);
    const files = await readdir(dir);
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
    const json = JSON.parse(await readFile(join(dir, "plan.json"), "utf8"));
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
    const printed = await run(["plan", "--stack", "baseline", "--hpa-trace", trace, "--out", dir]);
    // t=60: 90 % / 40 → 3; t=75: 7 proposed, maxReplicas 5.
    expect(printed).toMatch(
      /\| 60 \| 900 \| 1 \| 1 \| 1 \/ 0 \/ 0 \| 90 \| 3 \| 3 \| 3 \| DesiredWithinRange \|/,
    );
    expect(printed).toMatch(/\| 75 \| 900 \| 3 \| 3 \| .* \| 7 \| 7 \| 5 \| TooManyReplicas \|/);
    const steps = JSON.parse(await readFile(join(dir, "hpa-decisions.json"), "utf8"));
    expect(steps.map((s: { desiredReplicas: number }) => s.desiredReplicas)).toEqual([
      1, 1, 1, 1, 3, 5,
    ]);
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
