import { describe, expect, it } from "vitest";
import { loadStack } from "../../strategy-bench/src/stack.js";
import type { CapacityProfile } from "../src/capacity-profile.js";
import { parseNodes } from "../src/cluster.js";
import { simulatePlan } from "../src/simulate.js";

/** One replica on 2 cores: one request alone takes 50 ms, two at once 80 ms each (25/s). */
const profile: CapacityProfile = {
  kind: "strategy-bench/capacity-profile",
  version: 1,
  source: "measured",
  description: "test: 20/s alone, 25/s with two in flight, on 2 cores",
  limits: { cpu: 2 },
  levels: [
    {
      concurrency: 1,
      throughput: 20,
      responseTime: 0.05,
      cpuSecondsPerRequest: 0.05,
      workingSetBytes: 3e8,
    },
    {
      concurrency: 2,
      throughput: 25,
      responseTime: 0.08,
      cpuSecondsPerRequest: 0.08,
      workingSetBytes: 3e8,
    },
  ],
  idle: { cpuCores: 0, workingSetBytes: 3e8 },
  startupSeconds: 1,
  notes: [],
};

/** Two ready pods of the baseline (limits.cpu 2) on one 2-CPU node, no HPA change. */
const twoPods = (users: number) => {
  const base = loadStack("baseline");
  return simulatePlan({
    stack: { ...base, autoscaling: { ...base.autoscaling, minReplicas: 2, maxReplicas: 2 } },
    schedule: { name: "t", phases: [{ users, delaySeconds: 2, durationSeconds: 60 }] },
    profiles: [profile],
    cluster: parseNodes(["1x2cpu,16Gi"]),
  });
};

describe("two pods on one node: CFS shares divide the CPU among busy pods only", () => {
  it("a request alone on the node gets the node's 2 cores, not half of them", () => {
    // One user, think time up to 2 s: at most one request in the node at a time, alternating
    // between the pods (round robin). Each is served at the profile's c1 speed: 50 ms. Dividing
    // the node by the ready pods gave 1 core each: 100 ms (what the real pods contradicted).
    const r = twoPods(1);
    expect(r.samples.every((x) => x.ready === 2)).toBe(true);
    expect(r.phases[0]?.responseTime).toBeCloseTo(0.05, 6);
  });

  it("both pods busy at once share the node: each gets 1 core", () => {
    // Many users without think time keep both pods busy: each at X(n)·1/2 of the 2-core curve.
    const base = loadStack("baseline");
    const r = simulatePlan({
      stack: { ...base, autoscaling: { ...base.autoscaling, minReplicas: 2, maxReplicas: 2 } },
      schedule: { name: "t", phases: [{ users: 4, delaySeconds: 0, durationSeconds: 30 }] },
      profiles: [profile],
      cluster: parseNodes(["1x2cpu,16Gi"]),
    });
    // Two requests per pod, 25/s × 1/2 per pod: 25/s in all, 80 ms × 2 = 160 ms each.
    expect(r.phases[0]?.transactionRate).toBeCloseTo(25, 0);
    expect(r.phases[0]?.responseTime).toBeCloseTo(0.16, 2);
  });
});
