import { describe, expect, it } from "vitest";
import { originalSchedule } from "../../strategy-bench/src/schedule.js";
import { loadStack } from "../../strategy-bench/src/stack.js";
import type { CapacityProfile } from "../src/capacity-profile.js";
import { parseNodes } from "../src/cluster.js";
import { explain, planJson, planMarkdown } from "../src/output.js";
import { simulatePlan } from "../src/simulate.js";
import { ESTIMATED_PROFILE } from "./fixtures/estimated-profile.js";

const small = parseNodes(["1x8cpu,8Gi"]);
const plan = (stack: string, seed = 1) =>
  simulatePlan({
    stack: loadStack(stack),
    schedule: originalSchedule(),
    profiles: [ESTIMATED_PROFILE],
    cluster: small,
    seed,
  });

describe("simulatePlan", () => {
  it("reproduces the report's strategy 2: one 4.5Gi pod scheduled, the rest Pending for memory", () => {
    const s2 = plan("strategy2");
    const base = plan("baseline");
    // The report's figure: exactly one pod × 4.5Gi = 4,718,592 KB for the whole test.
    expect(s2.resourcesScheduled.memRequestedKB).toBe(4_718_592);
    expect(Math.max(...s2.samples.map((x) => x.ready))).toBe(1);
    expect(Math.max(...s2.samples.map((x) => x.pending))).toBe(4);
    expect(new Set(s2.pending.map((p) => p.reason))).toEqual(
      new Set(["0/1 nodes are available: 1 Insufficient memory."]),
    );
    expect(explain(s2)[0]).toMatch(
      /HPA asked for up to 5 replicas, at most 1 were ready.*Insufficient memory/,
    );
    // The baseline's 2Gi pods fit four to the node and absorb the load.
    expect(Math.max(...base.samples.map((x) => x.ready))).toBe(4);
    expect(s2.load.responseTime).toBeGreaterThan(2 * base.load.responseTime);
    expect(s2.load.transactionRate).toBeLessThan(base.load.transactionRate);
    // 30 phases, about 1,800 s.
    expect(s2.phases).toHaveLength(30);
    expect(s2.load.durationSeconds).toBeGreaterThanOrEqual(1800);
    expect(s2.load.durationSeconds).toBeLessThan(1802);
  });

  it("is deterministic for a seed", () => {
    const a = planJson([plan("baseline", 3)]);
    expect(planJson([plan("baseline", 3)])).toBe(a);
    expect(planJson([plan("baseline", 4)])).not.toBe(a);
  });

  it("sends the closed loop's C / (D/2 + R) requests per second", () => {
    // A replica so fast that R ≈ 0: 20 users, uniform(0, 10) s → 20 / 5 = 4 per second, 2,400 in
    // 600 s, less the last think time of each user that would end past the deadline.
    const fast: CapacityProfile = {
      ...ESTIMATED_PROFILE,
      levels: [
        {
          concurrency: 1,
          throughput: 1e5,
          responseTime: 1e-5,
          cpuSecondsPerRequest: 0,
          workingSetBytes: 1,
        },
      ],
    };
    const r = simulatePlan({
      stack: loadStack("baseline"),
      schedule: { name: "one", phases: [{ users: 20, delaySeconds: 10, durationSeconds: 600 }] },
      profiles: [fast],
      cluster: small,
    });
    const okay = r.phases[0]?.okay ?? 0;
    expect(okay).toBeGreaterThan(2400 * 0.95);
    expect(okay).toBeLessThan(2400 * 1.02);
  });

  it("prints the report's row for each stack, and side by side with --compare", () => {
    const results = ["baseline", "strategy2"].map((s) => plan(s));
    const md = planMarkdown(results, { compare: true });
    expect(md).toMatch(/\| metric \| baseline \| strategy2 \|/);
    expect(md).toMatch(
      /memory requested \(mean; scheduled pods, as the report counted\) \| [\d,.]+ GiB \| 4\.50 GiB \|/,
    );
    expect(md).toMatch(/Estimated capacity profile/);
    const single = planMarkdown(results, { compare: false });
    expect(single).toMatch(/## baseline[\s\S]*## strategy2/);
  });
});
