import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerPlanCommands } from "../../src/plan/commands.js";

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
    for (const f of [
      "plan.md",
      "plan.json",
      "replicas-ready-over-time.png",
      "pods-pending-over-time.svg",
      "accuracy-vs-memory-requested.png",
      "response-time-per-phase.png",
    ]) {
      expect(files).toContain(f);
    }
    const json = JSON.parse(await readFile(join(dir, "plan.json"), "utf8"));
    expect(json.kind).toBe("strategy-bench/plan");
    expect(json.stacks.map((s: { stack: string }) => s.stack)).toEqual(["baseline", "strategy2"]);
    expect(json.stacks[1].resourcesScheduled.memRequestedKB).toBe(4_718_592);
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
