import { existsSync, readFileSync } from "node:fs";
import { cp, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError } from "commander";
import { beforeAll, describe, expect, it } from "vitest";
import { clusterStackConfig } from "../../../lib/cluster/stack.js";
import { PROJECT_ROOT, readStackFile } from "../../../stacks/index.js";
import {
  checkRecommendation,
  type MeasuredRecommendationRun,
  type PlanResult,
  readRecommendationRun,
  recommendationCheckMarkdown,
} from "../../planner/src/index.js";
import {
  DEFAULT_RECOMMEND_SCHEDULE,
  planForClusterRun,
  type ValidateRecommendOptions,
  validateRecommendation,
  validateRecommendCommand,
} from "../src/cluster-recommend.js";
import { effectiveSettings } from "../src/cluster-run.js";
import { parseLoadtestPercentiles } from "../src/csv.js";

/** The profile the fixture run's figures were computed with (measured on real pods, 2026-12-01). */
const FIXTURE_PROFILE = join(
  import.meta.dirname,
  "../../../bench/planner/profiles/food11-2cpu.json",
);

// A cluster run folder as runCluster writes it for validate:recommend (run.json with the
// schedule and the stack file, manifest.yaml with the node, the stack's loadtest/monitor CSVs
// and events.json), its figures near the plan of that run: rate 17.75/s against 18.33,
// ready replicas 1.30 against 1.25, p95 0.14 s.
const RUN = join(__dirname, "fixtures", "recommend-run");
const STACK = "recommended";

/** The command's options as its flags give them (commander; nothing run). */
async function parse(args: string[]): Promise<ValidateRecommendOptions> {
  let got: ValidateRecommendOptions | undefined;
  const cmd = validateRecommendCommand(async (o) => {
    got = o;
  })
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  await cmd.parseAsync(args, { from: "user" });
  return got as ValidateRecommendOptions;
}

describe("validate:recommend: the planner for a cluster run of a recommended stack", () => {
  let plan: PlanResult;
  let run: MeasuredRecommendationRun;
  beforeAll(async () => {
    plan = await planForClusterRun(RUN, STACK, { profiles: [FIXTURE_PROFILE] });
    run = await readRecommendationRun(join(RUN, STACK));
  });

  it("simulates the stack file, schedule, scaling and flags the run recorded", () => {
    // The run's stack file (not in the project root) with the time scaling's overrides.
    const s = effectiveSettings(STACK, clusterStackConfig(), join(RUN, "Pulumi.recommended.yaml"));
    expect(s.resources.requests.cpu).toBe("500m");
    expect(plan.stack).toBe(STACK);
    expect(plan.hpaTargetCpuUtilization).toBe(90);
    // schedule.yaml's two 100 s phases × 0.2, think time kept (delay scale 1).
    expect(plan.phases.map((p) => [p.users, p.delaySeconds, p.elapsedSeconds])).toEqual([
      [4, 1, 20],
      [16, 1, 20],
    ]);
    expect(plan.cluster).toBe("--nodes 1x2cpu,24478768Ki"); // manifest.yaml's node
    expect(Math.max(...plan.samples.map((x) => x.ready))).toBe(2);
  });

  it("reads the whole run's percentiles, the extended monitor columns and the events", () => {
    expect(run.percentiles).toEqual({ p50: 0.06, p95: 0.14 });
    expect(run.loadtest.map((r) => r.okay)).toEqual([150, 560]);
    expect(run.monitor).toHaveLength(40);
    expect(run.monitor[23]?.pendingReplicas).toBe(1);
    expect(run.unschedulableEvents).toBe(0);
    // A log without the whole run's row (siege's, phases only) has no whole-run percentile.
    const phasesOnly = readFileSync(join(RUN, STACK, "loadtest.csv"), "utf8")
      .split("\n")
      .filter((l) => !l.includes(",all,"))
      .join("\n");
    expect(() => parseLoadtestPercentiles(phasesOnly, "x.csv")).toThrow(
      'x.csv: no "all" row (the whole run\'s percentiles)',
    );
  });

  it("passes every check on the fixture run, a starting pod's Pending phase not counted", () => {
    const v = checkRecommendation(plan, run, { p95: 0.25 });
    expect(v.checks.map((c) => [c.check, c.pass])).toEqual([
      ["response time p95 ≤ SLO 0.25 s (measured)", true],
      ["no Pending pod (unschedulable pods at once, max; FailedScheduling events)", true],
      ["no failed request", true],
      ["transaction rate (/s, OKAY / duration) within 20 %", true],
      ["mean ready replicas (at the monitor's samples) within 20 %", true],
    ]);
    expect(v.pass).toBe(true);
    expect(v.readyReplicas.measured).toBeCloseTo(1.3, 10);
    expect(v.checks[0]?.measured).toBe("0.140 s");
    expect(v.checks[3]?.measured).toBe("17.75");
    const md = recommendationCheckMarkdown(v).join("\n");
    expect(md).toContain("| no failed request | 0 | 0 | 0 | PASS |");
    expect(md).toContain("Every check passed");
  });

  const failing = (v: ReturnType<typeof checkRecommendation>) =>
    v.checks.filter((c) => !c.pass).map((c) => c.check);

  it("fails the SLO check when the measured p95 is above it (and the p50 one)", () => {
    const v = checkRecommendation(plan, run, { p95: 0.1, p50: 0.05 });
    expect(failing(v)).toEqual([
      "response time p95 ≤ SLO 0.1 s (measured)",
      "response time p50 ≤ SLO 0.05 s (measured)",
    ]);
    expect(recommendationCheckMarkdown(v).join("\n")).toContain(
      "FAILED: response time p95 ≤ SLO 0.1 s (measured); response time p50 ≤ SLO 0.05 s (measured).",
    );
  });

  it("fails on an unschedulable pod, a FailedScheduling event, or no such column", () => {
    const pending = "no Pending pod (unschedulable pods at once, max; FailedScheduling events)";
    const monitor = run.monitor.map((r, i) => (i === 30 ? { ...r, unschedulableReplicas: 1 } : r));
    expect(failing(checkRecommendation(plan, { ...run, monitor }, { p95: 0.25 }))).toEqual([
      pending,
    ]);
    expect(
      failing(checkRecommendation(plan, { ...run, unschedulableEvents: 2 }, { p95: 0.25 })),
    ).toEqual([pending]);
    const original = run.monitor.map(({ unschedulableReplicas: _, ...r }) => r);
    const v = checkRecommendation(plan, { ...run, monitor: original }, { p95: 0.25 });
    expect(failing(v)).toEqual([pending]);
    expect(v.checks[1]?.measured).toMatch(/^not measured/);
  });

  it("fails on a failed request", () => {
    const loadtest = run.loadtest.map((r, i) => (i === 1 ? { ...r, failed: 3 } : r));
    const v = checkRecommendation(plan, { ...run, loadtest }, { p95: 0.25 });
    expect(failing(v)).toEqual(["no failed request"]);
    expect(v.checks[2]?.measured).toBe("3");
  });

  it("fails when the measured rate is more than 20 % off the predicted", () => {
    const loadtest = run.loadtest.map((r) => ({ ...r, okay: Math.round(r.okay * 1.4) }));
    const v = checkRecommendation(plan, { ...run, loadtest }, { p95: 0.25 });
    expect(failing(v)).toEqual(["transaction rate (/s, OKAY / duration) within 20 %"]);
    // 733 predicted OKAY in 40 s (18.33/s) against 210 + 784 measured (24.85/s).
    expect(v.checks[3]?.difference).toBe("-26.3 %");
  });

  it("fails when the mean ready replicas are more than 20 % off the predicted", () => {
    const monitor = run.monitor.map((r) => ({ ...r, readyReplicas: 2 }));
    const v = checkRecommendation(plan, { ...run, monitor }, { p95: 0.25 });
    expect(failing(v)).toEqual(["mean ready replicas (at the monitor's samples) within 20 %"]);
    expect(v.checks[4]?.measured).toBe("2.00");
  });

  it("reads a run folder copied elsewhere (relative paths from run.json)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "recommend-run-"));
    await cp(RUN, dir, { recursive: true });
    const moved = await planForClusterRun(dir, STACK, { profiles: [FIXTURE_PROFILE] });
    expect(moved.load).toEqual(plan.load);
    // Another node given: the plan is for it, not the manifest's.
    const big = await planForClusterRun(dir, STACK, {
      profiles: [FIXTURE_PROFILE],
      nodes: ["1x8cpu,8Gi"],
    });
    expect(big.cluster).toBe("--nodes 1x8cpu,8Gi");
  });
});

describe("validate:recommend --plan-only (no cluster)", () => {
  it("recommends for the default schedule under the run's conditions; the stack file in --out only", async () => {
    const out = await mkdtemp(join(tmpdir(), "validate-recommend-"));
    // The defaults (as the flags give them) with --plan-only on this machine's cluster node.
    const o = await parse([
      "--plan-only",
      "--nodes",
      "1x2cpu,24478768Ki",
      "--profile",
      FIXTURE_PROFILE,
      "--out",
      out,
      "--quiet",
    ]);
    const lines: string[] = [];
    const r = await validateRecommendation(o, (l) => lines.push(l));
    expect(r).toEqual({ out, pass: true, failed: [] });
    const file = join(out, "Pulumi.recommended.yaml");
    const s = readStackFile("recommended", file);
    expect(s.resources.requests.cpu).toBe("500m");
    expect(s.autoscaling.maxReplicas).toBe(4);
    expect(s.autoscaling.targetCpuUtilization).toBe(90);
    expect(s.resources.requests.memory).toBe("448Mi");
    expect(existsSync(join(PROJECT_ROOT, "Pulumi.recommended.yaml"))).toBe(false);
    const md = await readFile(join(out, "validation.md"), "utf8");
    expect(md).toContain(
      "(--plan-only: not deployed): validate-recommend x0.2, SLO p95 ≤ 0.6 s with the planner's error",
    );
    expect(md).toContain("| cpuRequest | 500m |");
    expect(md).toContain(
      "Predicted for the run: p95 0.129 s, 14.34 requests/s, 0 failed, pods peak 3 / mean 2.17, 0 Pending.",
    );
    // Judged on the prediction alone (--no-error-margin), an SLO just above the prediction is
    // met: 0.129 s ≤ 0.13 s; with the planner's error no candidate can (0.13 × (1 − 0.511) =
    // 0.064 s, under any candidate's p95).
    const edge = { ...o, sloP95: 0.13 };
    expect(
      (await validateRecommendation({ ...edge, out: join(out, "edge") }, () => undefined)).pass,
    ).toBe(false);
    expect(
      (
        await validateRecommendation(
          { ...edge, errorMargin: false, out: join(out, "bare") },
          () => undefined,
        )
      ).pass,
    ).toBe(true);
    // No candidate meets an SLO below any response time: nothing is written, and it says so.
    const none = await validateRecommendation(
      { ...o, sloP95: 0.001, out: join(out, "none") },
      () => undefined,
    );
    expect(none.pass).toBe(false);
    expect(existsSync(join(out, "none", "Pulumi.recommended.yaml"))).toBe(false);
    await expect(
      validateRecommendation({ ...o, nodes: undefined }, () => undefined),
    ).rejects.toThrow("--plan-only needs --nodes");
  });
});

describe("validate:recommend's flags", () => {
  const error = async (args: string[]) => {
    try {
      await parse(args);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`no error for ${args.join(" ")}`);
  };

  it("has the defaults the docs give", async () => {
    expect(await parse([])).toEqual({
      schedule: DEFAULT_RECOMMEND_SCHEDULE,
      sloP95: 0.6,
      errorMargin: true,
      profile: ["builtin:tfjs-node"],
      timeScale: 0.2,
      delayScale: 1,
      seed: 1,
      maxReplicas: 10,
      base: "baseline",
      name: "recommended",
      perClass: 5,
      quiet: false,
    });
  });

  it("takes every flag", async () => {
    const o = await parse([
      "--schedule",
      "s.yaml",
      "--slo-p95",
      "0.5",
      "--slo-p50",
      "0.2",
      "--profile",
      "a.json",
      "--profile",
      "b.json",
      "--nodes",
      "1x2cpu,8Gi",
      "--time-scale",
      "1",
      "--delay-scale",
      "0",
      "--seed",
      "7",
      "--max-replicas",
      "4",
      "--base",
      "strategy2",
      "--name",
      "cheap",
      "--per-class",
      "2",
      "--out",
      "o",
      "--quiet",
      "--no-error-margin",
    ]);
    expect(o).toEqual({
      schedule: "s.yaml",
      sloP95: 0.5,
      sloP50: 0.2,
      errorMargin: false,
      profile: ["a.json", "b.json"],
      nodes: ["1x2cpu,8Gi"],
      timeScale: 1,
      delayScale: 0,
      seed: 7,
      maxReplicas: 4,
      base: "strategy2",
      name: "cheap",
      perClass: 2,
      out: "o",
      quiet: true,
    });
  });

  it("names the flag and the bad value", async () => {
    expect(await error(["--slo-p95", "abc"])).toBe(
      `error: option '--slo-p95 <s>' argument 'abc' is invalid. slo p95 must be a number > 0 (got "abc")`,
    );
    expect(await error(["--time-scale", "2"])).toContain(
      `time scale must be a number > 0 and <= 1 (got "2")`,
    );
    expect(await error(["--time-scale", "0"])).toContain(
      `time scale must be a number > 0 and <= 1 (got "0")`,
    );
    expect(await error(["--delay-scale", "-1"])).toContain(
      `delay scale must be a number >= 0 (got "-1")`,
    );
    expect(await error(["--max-replicas", "1.5"])).toContain(
      `max replicas must be a whole number >= 1 (got "1.5")`,
    );
    expect(await error(["--seed", ""])).toContain(`seed must be a whole number >= 0 (got "")`);
    expect(await error(["--name", "baseline"])).toBe(
      "--name baseline: a stack of the project; give a new name (default recommended)",
    );
    expect(await error(["--base", "nope"])).toBe(
      "--base nope: not a stack of the project (valid: baseline, strategy1, strategy2)",
    );
    await expect(parse(["--bogus"])).rejects.toBeInstanceOf(CommanderError);
  });
});
