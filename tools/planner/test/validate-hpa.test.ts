import { describe, expect, it } from "vitest";
import { loadStack } from "../../strategy-bench/src/stack.js";
import { hpaDecisionsForTrace, traceMillicoresAt } from "../src/hpa-replay.js";
import {
  type ControllerSync,
  compareHpaDecisions,
  controllerSyncs,
  HPA_VALIDATION_METRIC_AGE_SECONDS,
  HPA_VALIDATION_TRACE,
  hpaComparisonMarkdown,
  type MetricsPod,
  metricsApiResourceList,
  parseKcmHpaLog,
  renderPodMetricsList,
  rfc3339Seconds,
  validationObjects,
} from "../src/validate-hpa.js";

const T0 = Date.UTC(2026, 11, 1, 22, 30, 40, 626);

describe("the metrics API served from the trace", () => {
  const pod = (name: string, extra: Partial<MetricsPod> = {}): MetricsPod => ({
    name,
    namespace: "ns",
    labels: { app: "x" },
    phase: "Running",
    startTimeMs: T0 - 60_000,
    containers: ["classifier"],
    ...extra,
  });

  it("reads the trace as a step function, 0 before its first point, as the planner does", () => {
    expect(traceMillicoresAt(HPA_VALIDATION_TRACE, -61)).toBe(0);
    expect(traceMillicoresAt(HPA_VALIDATION_TRACE, -5)).toBe(200);
    expect(traceMillicoresAt(HPA_VALIDATION_TRACE, 47.4)).toBe(200);
    expect(traceMillicoresAt(HPA_VALIDATION_TRACE, 47.5)).toBe(900);
    expect(traceMillicoresAt(HPA_VALIDATION_TRACE, 599)).toBe(1500);
  });

  it("renders one PodMetrics per Running pod started by the sample's timestamp, usage at that time", () => {
    const nowMs = T0 + 60_300; // the sync at t = 60.3 s
    const list = renderPodMetricsList({
      pods: [
        pod("old"),
        pod("pending", { phase: "Pending" }),
        pod("no-start", { startTimeMs: undefined }),
        // started at 57 s: after the sample's timestamp (floor(60.3 + 40.626) − 5 s = 55.374 s after T0)
        pod("new", { startTimeMs: T0 + 57_000 }),
        pod("two", { containers: ["a", "b"] }),
      ],
      nowMs,
      traceZeroMs: T0,
      trace: HPA_VALIDATION_TRACE,
      windowSeconds: 15,
      ageSeconds: HPA_VALIDATION_METRIC_AGE_SECONDS,
      memoryBytes: 512 * 1024 * 1024,
    });
    expect(list.kind).toBe("PodMetricsList");
    expect(list.apiVersion).toBe("metrics.k8s.io/v1beta1");
    expect(list.items.map((i) => i.metadata.name)).toEqual(["old", "two"]);
    const [old, two] = list.items;
    // floor(22:31:40.926) − 5 s
    expect(old?.timestamp).toBe("2026-12-01T22:31:35Z");
    expect(old?.window).toBe("15s");
    expect(old?.containers).toEqual([
      { name: "classifier", usage: { cpu: "900m", memory: "524288Ki" } },
    ]);
    expect(two?.containers.map((c) => c.name)).toEqual(["a", "b"]);
    expect(two?.metadata.labels).toEqual({ app: "x" });
  });

  it("serves the first value before the first sync, then the trace at the sample's time", () => {
    const at = (nowMs: number, traceZeroMs?: number) =>
      renderPodMetricsList({
        pods: [pod("p", { startTimeMs: T0 - 600_000 })],
        nowMs,
        ...(traceZeroMs !== undefined ? { traceZeroMs } : {}),
        trace: [
          { at: 0, millicoresPerPod: 100 },
          { at: 30, millicoresPerPod: 700 },
        ],
        windowSeconds: 15,
        memoryBytes: 0,
      }).items[0]?.containers[0]?.usage.cpu;
    expect(at(T0 - 10_000)).toBe("100m");
    // The sample's timestamp is the request's whole second: floor(T0 + 30 s) is 29.374 s after T0.
    expect(at(T0 + 30_000, T0)).toBe("100m");
    expect(at(T0 + 31_000, T0)).toBe("700m");
  });

  it("answers discovery with the pods and nodes resources", () => {
    const r = metricsApiResourceList();
    expect(r.groupVersion).toBe("metrics.k8s.io/v1beta1");
    expect(r.resources.map((x) => `${x.name}:${x.kind}:${x.namespaced}`)).toEqual([
      "nodes:NodeMetrics:false",
      "pods:PodMetrics:true",
    ]);
    expect(rfc3339Seconds(T0)).toBe("2026-12-01T22:30:40Z");
  });
});

describe("the Deployment and HPA built from a stack", () => {
  it("carries the stack's requests, limits, replicas, target and windows, and Kubernetes' policies", () => {
    const b = validationObjects(loadStack("baseline"), { namespace: "n", name: "food11" });
    const c = b.deployment.spec.template.spec.containers[0];
    expect(c?.resources.requests.cpu).toBe("1");
    expect(b.deployment.spec.replicas).toBe(1);
    expect(b.deployment.spec.selector.matchLabels).toEqual(
      b.deployment.spec.template.metadata.labels,
    );
    expect(b.hpa.spec.minReplicas).toBe(1);
    expect(b.hpa.spec.maxReplicas).toBe(5);
    expect(b.hpa.spec.metrics[0]?.resource.target.averageUtilization).toBe(40);
    expect(b.hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(b.hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(b.hpa.spec.behavior.scaleUp.policies).toEqual([
      { type: "Percent", value: 100, periodSeconds: 15 },
      { type: "Pods", value: 4, periodSeconds: 15 },
    ]);
    // validate:hpa's --scale-down-window: the settings' window, as the replay takes it too.
    const strategy2 = loadStack("strategy2");
    const s2 = validationObjects(
      {
        ...strategy2,
        autoscaling: { ...strategy2.autoscaling, scaleDownStabilizationSeconds: 120 },
      },
      { namespace: "n", name: "food11" },
    );
    expect(s2.hpa.spec.metrics[0]?.resource.target.averageUtilization).toBe(30);
    expect(s2.hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(120);
    expect(s2.deployment.spec.template.spec.containers[0]?.resources.requests.memory).toBe("4.5Gi");
  });
});

// Lines as kube-controller-manager v1.36.1 writes them with --vmodule=horizontal=4.
const LOG = [
  'I1201 22:30:40.626409   26961 horizontal.go:907] "Proposing desired replicas" desiredReplicas=1 metric="cpu resource utilization (percentage of request)" tolerances="[down:10.0%, up:10.0%]" timestamp="2026-12-01 22:30:40 +0000 UTC" scaleTarget="Deployment/hpa-validate-baseline/food11"',
  'I1201 22:30:40.626508   26961 horizontal.go:1008] "Decided not to scale" scaleTarget="Deployment/hpa-validate-baseline/food11" desiredReplicas=1 lastScaleTime=""',
  'I1201 22:30:41.000000   26961 horizontal.go:1008] "Decided not to scale" scaleTarget="Deployment/other/food11" desiredReplicas=2 lastScaleTime=""',
  'I1201 22:30:55.675445   26961 horizontal.go:907] "Proposing desired replicas" desiredReplicas=3 metric="cpu resource utilization (percentage of request)" tolerances="[down:10.0%, up:10.0%]" timestamp="2026-12-01 22:30:55 +0000 UTC" scaleTarget="Deployment/hpa-validate-baseline/food11"',
  'I1201 22:30:55.685000   26961 horizontal.go:981] "Successfully rescaled" HPA="hpa-validate-baseline/food11" currentReplicas=1 desiredReplicas=3 reason="cpu resource utilization (percentage of request) above target"',
  'E1201 22:31:10.715252   26961 horizontal.go:200] "Unhandled Error" err="failed to compute desired number of replicas based on listed metrics for Deployment/hpa-validate-baseline/food11: invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value"',
  'I1201 22:31:25.734325   26961 horizontal.go:907] "Proposing desired replicas" desiredReplicas=7 metric="cpu resource utilization (percentage of request)" tolerances="[down:10.0%, up:10.0%]" timestamp="2026-12-01 22:31:25 +0000 UTC" scaleTarget="Deployment/hpa-validate-baseline/food11"',
  'I1201 22:31:25.734380   26961 horizontal.go:1008] "Decided not to scale" scaleTarget="Deployment/hpa-validate-baseline/food11" desiredReplicas=3 lastScaleTime="2026-12-01 22:30:55 +0000 UTC"',
  "I1201 22:31:26.000000   26961 garbagecollector.go:1] unrelated",
].join("\n");

describe("kube-controller-manager's HPA log", () => {
  it("parses every sync's proposal and decision, and failed syncs", () => {
    const e = parseKcmHpaLog(LOG, 2026);
    expect(e.map((x) => x.kind)).toEqual([
      "proposal",
      "notScaled",
      "notScaled",
      "proposal",
      "rescaled",
      "error",
      "proposal",
      "notScaled",
    ]);
    expect(e[0]?.timeMs).toBe(Date.UTC(2026, 11, 1, 22, 30, 40, 626));
    expect(e[4]).toMatchObject({
      scaleTarget: "Deployment/hpa-validate-baseline/food11",
      currentReplicas: 1,
      desiredReplicas: 3,
    });
    expect(e[5]?.scaleTarget).toBe("Deployment/hpa-validate-baseline/food11");
    const syncs = controllerSyncs(e, "Deployment/hpa-validate-baseline/food11", 1);
    expect(syncs.map((s) => [s.proposal, s.desiredReplicas, s.rescale])).toEqual([
      [1, 1, false],
      [3, 3, true],
      [undefined, 3, false],
      [7, 3, false],
    ]);
    expect(syncs[0]?.timeMs).toBe(Date.UTC(2026, 11, 1, 22, 30, 40, 626));
  });
});

describe("the step-by-step comparison", () => {
  const planner = hpaDecisionsForTrace({
    hpa: loadStack("baseline"),
    trace: HPA_VALIDATION_TRACE,
    durationSeconds: 600,
    metricWindowSeconds: 15,
    metricAgeSeconds: HPA_VALIDATION_METRIC_AGE_SECONDS,
    controller: { syncPeriodSeconds: 15.03 },
  });
  const asController = (steps: typeof planner): ControllerSync[] =>
    steps.map((s) => ({
      timeMs: T0 + s.time * 1000,
      ...(s.proposal !== undefined ? { proposal: s.proposal } : {}),
      desiredReplicas: s.desiredReplicas,
      rescale: s.rescale,
    }));

  it("the planner's own decisions on the validation trace: up to 3, 5, the 300 s window, 2, the spike", () => {
    expect(planner).toHaveLength(40);
    expect(
      planner.filter((s) => s.rescale).map((s) => [Math.round(s.time), s.desiredReplicas]),
    ).toEqual([
      [60, 3],
      [90, 5],
      [526, 2],
      [556, 5],
    ]);
    // Sync 5: the two new pods' samples do not yet cover a window after their Ready transition.
    expect(planner[5]).toMatchObject({ readyPods: 1, unreadyPods: 2, desiredReplicas: 3 });
    expect(planner[12]).toMatchObject({
      utilization: 42,
      proposal: 5,
      reason: "DesiredWithinRange",
    });
    expect(planner[16]).toMatchObject({
      proposal: 2,
      stabilized: 5,
      reason: "ScaleDownStabilized",
    });
  });

  it("is equal when every sync's proposal, count and utilization are", () => {
    const c = compareHpaDecisions(asController(planner), planner, [
      { timeMs: T0 + 61_000, utilization: 90 },
    ]);
    expect(c.equal).toBe(true);
    expect(c.mismatches).toEqual([]);
    expect(c.controllerRescales.map((r) => [r.sync, r.replicas])).toEqual([
      [4, 3],
      [6, 5],
      [35, 2],
      [37, 5],
    ]);
    expect(c.rows[4]?.controllerUtilization).toBe(90);
    expect(hpaComparisonMarkdown("baseline", c)).toContain("equal step for step");
  });

  it("names each differing sync, a missing sync and a differing utilization", () => {
    const controller = asController(planner).slice(0, 39);
    const s6 = controller[6] as ControllerSync;
    controller[6] = { ...s6, desiredReplicas: 4 };
    const c = compareHpaDecisions(controller, planner, [{ timeMs: T0 + 1000, utilization: 21 }]);
    expect(c.equal).toBe(false);
    expect(c.mismatches).toEqual([
      "sync 0: utilization 21 vs 20",
      "sync 6: desired 4 vs 5",
      "sync 39: the controller has no such sync",
      "the rescales differ",
    ]);
    expect(hpaComparisonMarkdown("baseline", c)).toContain("NOT equal");
  });
});
