import { describe, expect, it } from "vitest";
import { hpaBehavior } from "../../../components/defaults.js";
import { only, runProgram } from "../../../test/unit/infra/mocks.js";
import { loadStack } from "../../strategy-bench/src/stack.js";
import {
  CONTROLLER_DEFAULTS,
  getResourceReplicas,
  groupPods,
  HorizontalController,
  type HpaPod,
  type HpaSpec,
  hpaSpecFromStack,
  type PodMetric,
  resourceUtilizationRatio,
  type ScalingRules,
  scaleDownLimit,
  scaleUpLimit,
} from "../src/hpa.js";
import { hpaDecisionsForTrace } from "../src/hpa-replay.js";

const NOW = 1000;
/** A Running pod, started and Ready long ago (past the CPU initialization period). */
const running = (name: string): HpaPod => ({
  name,
  phase: "Running",
  startTime: -1000,
  ready: { status: true, lastTransitionTime: -990 },
  cpuRequestMilli: 1000,
});
const pendingPod = (name: string): HpaPod => ({ name, phase: "Pending", cpuRequestMilli: 1000 });
const metric = (valueMilli: number, timestamp = NOW): PodMetric => ({
  valueMilli,
  timestamp,
  windowSeconds: 15,
});
const metricsOf = (entries: [string, number][]) =>
  new Map(entries.map(([n, v]) => [n, metric(v)] as const));
const replicas = (current: number, target: number, pods: HpaPod[], m: Map<string, PodMetric>) => {
  const r = getResourceReplicas(current, target, 0.1, pods, m, NOW, CONTROLLER_DEFAULTS);
  if ("error" in r) throw new Error(r.error);
  return r.replicas;
};

/** Kubernetes' default scale-up policies, as every stack deploys them. */
const SCALE_UP_POLICIES = hpaBehavior({
  scaleUpStabilizationSeconds: 0,
  scaleDownStabilizationSeconds: 300,
}).scaleUp.policies;

const spec = (over: Partial<HpaSpec> = {}): HpaSpec => ({
  minReplicas: 1,
  maxReplicas: 5,
  targetUtilization: 40,
  behavior: {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: SCALE_UP_POLICIES,
    },
    scaleDown: {
      stabilizationWindowSeconds: 300,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
    },
  },
  ...over,
});

describe("GetResourceUtilizationRatio", () => {
  it("truncates the utilization to a whole percent before the ratio", () => {
    // (333 + 334) × 100 / 2000 = 33.35 → 33; 33 / 40 = 0.825
    const r = resourceUtilizationRatio(
      new Map([
        ["a", 333],
        ["b", 334],
      ]),
      new Map([
        ["a", 1000],
        ["b", 1000],
      ]),
      40,
    );
    expect(r).toEqual({ ratio: 0.825, utilization: 33 });
  });
});

describe("GetResourceReplicas", () => {
  it("keeps the current count inside the 0.1 tolerance, and applies ceil(ready × ratio) outside", () => {
    // 430m of 1000m = 43 %, 43 / 40 = 1.075 ≤ 1.1: no change.
    expect(replicas(1, 40, [running("a")], metricsOf([["a", 430]]))).toBe(1);
    // 450m: 45 / 40 = 1.125 > 1.1: ceil(1 × 1.125) = 2.
    expect(replicas(1, 40, [running("a")], metricsOf([["a", 450]]))).toBe(2);
    // 3 pods at 900m: 90 / 40 = 2.25, ceil(3 × 2.25) = ceil(6.75) = 7.
    const three = ["a", "b", "c"].map(running);
    expect(replicas(3, 40, three, metricsOf(three.map((p) => [p.name, 900])))).toBe(7);
    // Scale down: 3 pods at 100m: 10 / 40 = 0.25, ceil(3 × 0.25) = 1.
    expect(replicas(3, 40, three, metricsOf(three.map((p) => [p.name, 100])))).toBe(1);
  });

  it("counts a Pending pod as using 0 % on a scale-up and re-checks the new ratio", () => {
    // Ready pod at 900m: ratio 2.25 > 1 with one unready pod, so it counts 0: (900 + 0) × 100 / 2000
    // = 45 %, 45 / 40 = 1.125, ceil(1.125 × 2) = 3.
    const pods = [running("a"), pendingPod("b")];
    expect(replicas(2, 40, pods, metricsOf([["a", 900]]))).toBe(3);
  });

  it("strategy 2's stall: one ready pod at 150 % and four Pending at 30 % target stays at 5", () => {
    // 150 / 30 = 5; with the 4 Pending at 0: 1500 × 100 / 5000 = 30 %, ratio 1.0: within tolerance.
    const pods = [running("a"), ...["b", "c", "d", "e"].map(pendingPod)];
    expect(replicas(5, 30, pods, metricsOf([["a", 1500]]))).toBe(5);
  });

  it("counts a pod without metrics at 100 % on a scale-down and refuses a change of direction", () => {
    // One pod at 100m, one missing: 10 % / 40 = 0.25 < 1, the missing one counts 1000m:
    // 1100 × 100 / 2000 = 55 %, 1.375 > 1: the direction would change, so the count stays 2.
    expect(replicas(2, 40, [running("a"), running("b")], metricsOf([["a", 100]]))).toBe(2);
    // Three idle pods and one missing: 0 % → the missing counts 1000m: 1000 × 100 / 4000 = 25 %,
    // 0.625, ceil(0.625 × 4) = ceil(2.5) = 3.
    const four = ["a", "b", "c", "d"].map(running);
    expect(
      replicas(
        4,
        40,
        four,
        metricsOf([
          ["a", 0],
          ["b", 0],
          ["c", 0],
        ]),
      ),
    ).toBe(3);
  });

  it("fails without metrics for any ready pod (the controller then does not rescale)", () => {
    const r = getResourceReplicas(
      1,
      40,
      0.1,
      [pendingPod("a")],
      metricsOf([["a", 100]]),
      NOW,
      CONTROLLER_DEFAULTS,
    );
    expect(r).toEqual({
      error: "did not receive metrics for targeted pods (pods might be unready)",
    });
  });
});

describe("groupPods: unready pods", () => {
  const cfg = CONTROLLER_DEFAULTS;
  /** Pod "a", started at 100, its Ready condition `status` since 110. */
  const startedAt100 = (status: boolean): HpaPod => ({
    ...running("a"),
    startTime: 100,
    ready: { status, lastTransitionTime: 110 },
  });
  it("within the 5-minute CPU initialization period, ignores a metric not one window past readiness", () => {
    const pod = startedAt100(true);
    // 120 < 110 + 15: unready.
    const early = groupPods([pod], new Map([["a", metric(500, 120)]]), 130, cfg);
    expect([...early.unreadyPods]).toEqual(["a"]);
    // 125 is not before 125: ready.
    const late = groupPods([pod], new Map([["a", metric(500, 125)]]), 130, cfg);
    expect(late.readyPodCount).toBe(1);
  });

  it("past the period, ignores only a pod unready that has never been ready (30 s rule)", () => {
    const never = startedAt100(false);
    // startTime + 30 = 130 > 110: it never was ready → unready.
    expect(groupPods([never], metricsOf([["a", 1]]), 500, cfg).unreadyPods.size).toBe(1);
    // Became unready at 200 after being ready: 130 > 200 is false → its metric counts.
    const lapsed = { ...never, ready: { status: false, lastTransitionTime: 200 } };
    expect(groupPods([lapsed], metricsOf([["a", 1]]), 500, cfg).readyPodCount).toBe(1);
  });

  it("sorts Pending, missing-metric and deleting pods", () => {
    const g = groupPods(
      [pendingPod("p"), running("m"), { ...running("d"), deleting: true }, running("r")],
      metricsOf([
        ["r", 1],
        ["d", 1],
      ]),
      NOW,
      cfg,
    );
    expect([...g.unreadyPods]).toEqual(["p"]);
    expect([...g.missingPods]).toEqual(["m"]);
    expect([...g.ignoredPods]).toEqual(["d"]);
    expect(g.readyPodCount).toBe(1);
  });
});

describe("scale-up and scale-down policies", () => {
  const up: ScalingRules = {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: SCALE_UP_POLICIES,
  };
  it("scale up: the larger of +4 pods and +100 % per 15 s, from the period's starting count", () => {
    expect(scaleUpLimit(1, [], [], up, 100)).toBe(5); // max(1 + 4, ceil(1 × 2))
    expect(scaleUpLimit(6, [], [], up, 100)).toBe(12); // max(6 + 4, 12)
    expect(scaleUpLimit(6, [], [], { ...up, selectPolicy: "Min" }, 100)).toBe(10);
    // +2 ten seconds ago: the period started at 3 − 2 = 1 → max(5, 2) = 5.
    const recent = [{ replicaChange: 2, timestamp: 90, outdated: false }];
    expect(scaleUpLimit(3, recent, [], up, 100)).toBe(5);
    // An event exactly 15 s ago is outside the period (strictly after the cutoff): from 3.
    const old = [{ replicaChange: 2, timestamp: 85, outdated: false }];
    expect(scaleUpLimit(3, old, [], up, 100)).toBe(7);
    expect(scaleUpLimit(3, [], [], { ...up, selectPolicy: "Disabled" }, 100)).toBe(3);
  });

  it("scale down: 100 % per 15 s allows any count; a Pods policy limits it", () => {
    const down: ScalingRules = {
      stabilizationWindowSeconds: 300,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
    };
    expect(scaleDownLimit(5, [], [], down, 0)).toBe(0);
    const onePerMinute = {
      ...down,
      policies: [{ type: "Pods" as const, value: 1, periodSeconds: 60 }],
    };
    expect(scaleDownLimit(5, [], [], onePerMinute, 0)).toBe(4);
    // 50 % per 15 s: trunc(5 × 0.5) = 2.
    const half = {
      ...down,
      policies: [{ type: "Percent" as const, value: 50, periodSeconds: 15 }],
    };
    expect(scaleDownLimit(5, [], [], half, 0)).toBe(2);
  });
});

describe("reconcileAutoscaler: stabilization and rate limits", () => {
  it("holds a scale-down for the 300 s window (strictly), then applies it", () => {
    const hpa = new HorizontalController(spec());
    const sync = (t: number, current: number, milli: number) => {
      const pods = Array.from({ length: current }, (_, i) => running(`p${i}`));
      const m = new Map(pods.map((p) => [p.name, metric(milli, t)] as const));
      return hpa.reconcile(t, current, pods, m);
    };
    // t=0: 900m on 1 pod → proposal 3; Pods policy allows 5 → 3.
    const d0 = sync(0, 1, 900);
    expect([d0.proposal, d0.desiredReplicas, d0.rescale]).toEqual([3, 3, true]);
    // t=15: 3 pods at 100m → proposal 1, but the last 300 s recommended 3 → stays 3.
    const d15 = sync(15, 3, 100);
    expect([d15.proposal, d15.stabilized, d15.desiredReplicas, d15.reason]).toEqual([
      1,
      3,
      3,
      "ScaleDownStabilized",
    ]);
    // t=299: the recommendation of 3 at t=0 is still inside (0 > −1).
    expect(sync(299, 3, 100).desiredReplicas).toBe(3);
    // t=300: cutoff 0, and 0 is not after 0: only the 1s remain → 1.
    const d300 = sync(300, 3, 100);
    expect([d300.desiredReplicas, d300.rescale]).toEqual([1, true]);
  });

  it("caps at maxReplicas (TooManyReplicas) or at the scale-up rate (ScaleUpLimit)", () => {
    const pods = [running("a")];
    const m = metricsOf([["a", 8000]]); // 800 % / 40 = 20 → proposal 20
    const five = new HorizontalController(spec()).reconcile(NOW, 1, pods, m);
    expect([five.proposal, five.desiredReplicas, five.reason]).toEqual([20, 5, "TooManyReplicas"]);
    const ten = new HorizontalController(spec({ maxReplicas: 10 })).reconcile(NOW, 1, pods, m);
    expect([ten.desiredReplicas, ten.reason]).toEqual([5, "ScaleUpLimit"]);
  });

  it("brings a count outside min..max back without reading metrics", () => {
    const d = new HorizontalController(spec()).reconcile(NOW, 7, [], new Map());
    expect([d.desiredReplicas, d.rescale, d.proposal]).toEqual([5, true, undefined]);
  });
});

describe("the planner's HPA is the one the program deploys", () => {
  // The HPA each stack registers (the program over mocks, test/unit/infra/mocks.ts) against the
  // one the planner simulates for it: a change to either that the other lacks fails here.
  it.each(["baseline", "strategy1", "strategy2"])("%s", async (stack) => {
    const hpa = only(await runProgram(stack), "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
      .inputs.spec;
    const planned = hpaSpecFromStack(loadStack(stack));
    expect(hpa.metrics).toEqual([
      {
        type: "Resource",
        resource: {
          name: "cpu",
          target: { type: "Utilization", averageUtilization: planned.targetUtilization },
        },
      },
    ]);
    expect({
      minReplicas: hpa.minReplicas,
      maxReplicas: hpa.maxReplicas,
      behavior: hpa.behavior,
    }).toEqual({
      minReplicas: planned.minReplicas,
      maxReplicas: planned.maxReplicas,
      behavior: planned.behavior,
    });
  });
});

describe("hpaDecisionsForTrace (for the comparison with kube-controller-manager)", () => {
  it("replays a scripted usage trace sync by sync", () => {
    const steps = hpaDecisionsForTrace({
      hpa: loadStack("baseline"),
      trace: [
        { at: 0, millicoresPerPod: 200 },
        { at: 60, millicoresPerPod: 900 },
        { at: 120, millicoresPerPod: 100 },
      ],
      durationSeconds: 450,
    });
    const desired = steps.map((s) => s.desiredReplicas);
    // 0–45: 20 % / 40 → 1 (min). 60: 2.25 → 3. 75: the new pods' metrics count (75 is not before
    // 60 + 15): ceil(3 × 2.25) = 7; the +2 at 60 is not after 75 − 15, so the limit is max(3 + 4, 6)
    // = 7, and maxReplicas 5 wins. 90, 105: 12 proposed, 5 kept.
    expect(desired.slice(0, 8)).toEqual([1, 1, 1, 1, 3, 5, 5, 5]);
    expect(steps[5]?.reason).toBe("TooManyReplicas");
    // From 120 the proposal is ceil(5 × 0.25) = 2, held by the 300 s window until the last
    // proposal of 12 (t=105) leaves it: at t=405.
    const firstDown = steps.find((s) => s.desiredReplicas === 2);
    expect(firstDown?.time).toBe(405);
    expect(steps.find((s) => s.time === 390)?.desiredReplicas).toBe(5);
  });
});
