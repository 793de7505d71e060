import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { clusterStackConfig, clusterVersions } from "../../../lib/cluster/stack.js";
import { effectiveSettings, runName, runOrder } from "../src/cluster-run.js";
import {
  classifyEvent,
  clusterTimeScaling,
  eventTimeline,
  flagDifferences,
  flagsFromArgv,
  flagsFromRecord,
  goDuration,
  PodRestarts,
  parseGoDuration,
  stackFit,
  stackTimeScaling,
} from "../src/cluster-scale.js";
import { summarizePods } from "../src/monitor.js";
import { monitorCsvLines, parseMonitorCsv } from "../src/monitor-csv.js";
import { reportCharts } from "../src/report/charts.js";
import { summarizeRuns } from "../src/report/summarize.js";
import { writeReport } from "../src/report/write.js";
import { monitorSeries } from "../src/summary.js";
import { expectContains } from "./helpers.js";
import { NEAR_EQUAL, writeRuns } from "./runs.js";

const NODE = { name: "food11-node", cpuCores: 2, memoryKB: 23 * 1024 * 1024 };
const settings = (stack: string) => effectiveSettings(stack, clusterStackConfig());

describe("time scaling", () => {
  it("at 0.2: the controller-manager's HPA clocks × 0.2, metrics-server clamped to its 12 s", () => {
    const c = clusterTimeScaling(0.2);
    expect(c.kcmArgs).toEqual([
      "--horizontal-pod-autoscaler-sync-period=3s",
      "--horizontal-pod-autoscaler-cpu-initialization-period=60s",
      "--horizontal-pod-autoscaler-initial-readiness-delay=6s",
      "--horizontal-pod-autoscaler-downscale-stabilization=60s",
      "--horizontal-pod-autoscaler-tolerance=0.1",
    ]);
    expect(c.metricResolutionSeconds).toBe(12);
    expect(c.monitorIntervalSeconds).toBe(1);
    expect(c.fullLength).toBe(false);
    expect(c.lines[0]).toBe(
      "HPA sync period 15 s → 3 s (--horizontal-pod-autoscaler-sync-period=3s)",
    );
    expect(c.warnings).toEqual([
      "metrics-server resolution: 15 s × 0.2 = 3 s is below the 12 s metrics-server runs with " +
        "(0.9 x resolution >= its 10 s kubelet request timeout): clamped to 12 s, so CPU readings " +
        "lag the scaled schedule (12 s is 60 s at full length)",
    ]);
  });

  it("at 0.05: a sync period below 1 s is clamped to 1 s, with a warning", () => {
    const c = clusterTimeScaling(0.05);
    expect(c.hpa.syncPeriod).toBe(1);
    expect(c.hpa.initialReadinessDelay).toBe(1.5);
    expect(c.kcmArgs).toContain("--horizontal-pod-autoscaler-initial-readiness-delay=1500ms");
    expect(c.warnings[0]).toBe(
      "HPA sync period: 15 s × 0.05 = 0.75 s is below 1 s: clamped to 1 s (slower than the scaled schedule)",
    );
    expect(c.warnings).toHaveLength(3);
  });

  it("at 1: no flag (the defaults), 15 s metrics; other factors are refused", () => {
    const c = clusterTimeScaling(1);
    expect(c.kcmArgs).toEqual([]);
    expect(c.metricResolutionSeconds).toBe(15);
    expect(c.monitorIntervalSeconds).toBe(5);
    expect(c.fullLength).toBe(true);
    expect(() => clusterTimeScaling(2)).toThrow("--time-scale 2: a cluster run takes 0 < f <= 1");
    expect(() => clusterTimeScaling(0)).toThrow("0 < f <= 1");
  });

  it("stack overrides: windows and probe periods × f in whole seconds; the startup budget kept", () => {
    const t = stackTimeScaling(0.2, settings("strategy1"));
    expect(t.config).toEqual({
      "food11:scaleUpStabilizationSeconds": "0",
      "food11:scaleDownStabilizationSeconds": "60",
      "food11:readinessPeriodSeconds": "1",
      "food11:livenessPeriodSeconds": "2",
      "food11:startupPeriodSeconds": "1",
      "food11:startupFailureThreshold": "120",
    });
    expect(t.lines).toContain(
      "readiness successThreshold 3 × period: a new pod takes traffic after 15 s → 3 s",
    );
    expect(t.warnings).toEqual([]);
    // 0.3: 5 × 0.3 = 1.5 rounds to 2; 10 × 0.3 = 3.
    const r = stackTimeScaling(0.3, settings("strategy2"));
    expect(r.config["food11:readinessPeriodSeconds"]).toBe("2");
    expect(r.config["food11:startupFailureThreshold"]).toBe("60");
    expect(r.lines).toContain(
      "readiness probe period 5 s → 2 s (1.5 s rounded: Kubernetes takes whole seconds)",
    );
    // 0.05: 5 × 0.05 = 0.25 rounds to 0: clamped to 1 with a warning.
    const c = stackTimeScaling(0.05, settings("baseline"));
    expect(c.config["food11:readinessPeriodSeconds"]).toBe("1");
    expect(c.warnings).toContain(
      "readiness probe period: 5 s × 0.05 = 0.25 s rounds below 1 s: clamped to 1 s",
    );
    expect(stackTimeScaling(1, settings("baseline")).config).toEqual({});
  });

  it("the overrides are valid stack config (the program's own parser takes them)", () => {
    const t = stackTimeScaling(0.2, settings("baseline"));
    const s = effectiveSettings("baseline", { ...clusterStackConfig(), ...t.config });
    expect(s.probes.readiness.periodSeconds).toBe(1);
    expect(s.probes.startup.failureThreshold).toBe(120);
    expect(s.autoscaling.scaleDownStabilizationSeconds).toBe(60);
  });

  it("Go durations both ways", () => {
    expect(goDuration(3)).toBe("3s");
    expect(goDuration(0.75)).toBe("750ms");
    expect(parseGoDuration("1m30s")).toBe(90);
    expect(parseGoDuration("750ms")).toBe(0.75);
    expect(parseGoDuration("15s")).toBe(15);
    expect(parseGoDuration("5m0s")).toBe(300);
    expect(parseGoDuration("bad")).toBeNaN();
  });
});

describe("the running cluster's flags", () => {
  it("from the processes' command lines, compared with what a run wants", () => {
    const kcm = [
      "kube-controller-manager",
      "--node-monitor-period=25s",
      "--horizontal-pod-autoscaler-sync-period=3s",
      "--horizontal-pod-autoscaler-tolerance=0.1",
    ];
    const have = flagsFromArgv(kcm, ["metrics-server", "--metric-resolution", "15s"], "procs");
    expect(have).toEqual({
      hpa: { syncPeriod: 3, tolerance: 0.1 },
      metricResolutionSeconds: 15,
      source: "procs",
    });
    expect(flagDifferences(clusterTimeScaling(0.2), have)).toEqual([
      "--horizontal-pod-autoscaler-cpu-initialization-period: running 300 s, wanted 60 s",
      "--horizontal-pod-autoscaler-initial-readiness-delay: running 30 s, wanted 6 s",
      "--horizontal-pod-autoscaler-downscale-stabilization: running 300 s, wanted 60 s",
      "metrics-server --metric-resolution: running 15 s, wanted 12 s",
    ]);
    // A default cluster is what a full-length run wants.
    const plain = flagsFromArgv(["kcm"], ["ms", "--metric-resolution=15s"], "procs");
    expect(flagDifferences(clusterTimeScaling(1), plain)).toEqual([]);
  });

  it("from the record cluster up writes", () => {
    const want = clusterTimeScaling(0.2);
    const text = `FOOD11_KCM_ARGS=${want.kcmArgs.join(" ")}\nFOOD11_METRIC_RESOLUTION=12s\n`;
    const have = flagsFromRecord(text, "record");
    expect(flagDifferences(want, have)).toEqual([]);
    expect(
      flagDifferences(clusterTimeScaling(1), flagsFromRecord("FOOD11_KCM_ARGS=\n", "r")),
    ).toEqual([]);
  });
});

describe("what each stack fits on the node", () => {
  it("by CPU and memory requests, capped by maxReplicas; strategy1's limits.cpu 3 > 2 cores", () => {
    const s1 = stackFit(NODE, settings("strategy1"));
    expect(s1).toMatchObject({
      byCpu: 2,
      byMemory: 11,
      fit: 2,
      maxReplicas: 5,
      cpuLimitExceedsNode: true,
    });
    expect(s1.text).toBe(
      "2 of maxReplicas 5 fit on food11-node: 2 by CPU (2 cores / requests.cpu 1), 11 by memory " +
        "(23 GiB / requests.memory 2Gi); replica 3 and above stay Pending (Unschedulable); " +
        "limits.cpu 3 exceeds the node's 2 cores: a pod can never use its limit",
    );
    const s2 = stackFit(NODE, settings("strategy2"));
    expect(s2).toMatchObject({ byCpu: 2, byMemory: 5, fit: 2, cpuLimitExceedsNode: false });
    expect(stackFit(NODE, settings("baseline")).cpuLimitExceedsNode).toBe(false);
  });
});

describe("events that matter", () => {
  const t0 = Date.parse("2026-12-01T10:00:00Z");
  it("classifies the HPA's rescales, scheduling, probes, back-offs and metrics; skips routine ones", () => {
    const events = [
      {
        reason: "SuccessfulRescale",
        message:
          "New size: 2; reason: cpu resource utilization (percentage of request) above target",
        involvedObject: { kind: "HorizontalPodAutoscaler", name: "food11-classifier" },
        lastTimestamp: "2026-12-01T10:00:42Z",
        count: 1,
      },
      {
        reason: "SuccessfulRescale",
        message: "New size: 1; reason: All metrics below target",
        involvedObject: { kind: "HorizontalPodAutoscaler", name: "food11-classifier" },
        lastTimestamp: "2026-12-01T10:05:00Z",
      },
      {
        reason: "FailedScheduling",
        message: "0/1 nodes are available: 1 Insufficient cpu.",
        involvedObject: { kind: "Pod", name: "p3" },
        eventTime: "2026-12-01T10:01:00.000000Z",
        count: 2,
      },
      {
        reason: "Unhealthy",
        message:
          'Readiness probe failed: Get "http://10.244.0.5:8080/readyz": context deadline exceeded',
        involvedObject: { kind: "Pod", name: "p1" },
        lastTimestamp: "2026-12-01T09:59:50Z",
        count: 3,
      },
      { reason: "Scheduled", message: "ok", lastTimestamp: "2026-12-01T10:00:01Z" },
      { reason: "Pulled", message: "ok", lastTimestamp: "2026-12-01T10:00:01Z" },
    ];
    const tl = eventTimeline(events, t0);
    expect(tl.map((e) => [e.t, e.kind, e.object, e.count])).toEqual([
      [-10, "probe-failure", "Pod/p1", 3],
      [42, "scale-up", "HorizontalPodAutoscaler/food11-classifier", 1],
      [60, "unschedulable", "Pod/p3", 2],
      [300, "scale-down", "HorizontalPodAutoscaler/food11-classifier", 1],
    ]);
    expect(
      classifyEvent({ reason: "BackOff", message: "Back-off restarting failed container app" }),
    ).toBe("restart");
    expect(classifyEvent({ reason: "FailedGetResourceMetric", message: "no metrics" })).toBe(
      "metrics-missing",
    );
  });

  it("follows restarts and OOM kills through the pods the monitor lists", () => {
    const r = new PodRestarts(() => t0);
    const pod = (restartCount: number, reason?: string) => ({
      metadata: { name: "p1" },
      status: {
        phase: "Running",
        containerStatuses: [
          {
            name: "app",
            restartCount,
            ...(reason
              ? {
                  lastState: {
                    terminated: { reason, exitCode: 137, finishedAt: "2026-12-01T10:02:00Z" },
                  },
                }
              : {}),
          },
        ],
      },
    });
    r.observe([pod(0)], "2026-12-01T10:01:00Z");
    r.observe([pod(1, "OOMKilled")], "2026-12-01T10:02:05Z");
    r.observe([pod(1, "OOMKilled")], "2026-12-01T10:02:10Z");
    expect(r.entries).toEqual([
      {
        time: "2026-12-01T10:02:00.000Z",
        t: 120,
        kind: "oom-kill",
        reason: "OOMKilled",
        object: "Pod/p1",
        message:
          "container app restarted (restartCount 1): last terminated OOMKilled, exit code 137",
        count: 1,
      },
    ]);
  });
});

describe("monitor's extended columns", () => {
  it("ready, pending, unschedulable and restarts, appended after the original's columns", () => {
    const spec = {
      containers: [
        {
          name: "app",
          resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
        },
      ],
    };
    const row = summarizePods(
      "2026-12-01T10:00:00.000Z",
      [
        {
          metadata: { name: "a" },
          status: {
            phase: "Running",
            conditions: [{ type: "Ready", status: "True" }],
            containerStatuses: [{ name: "app", restartCount: 2 }],
          },
          spec,
        },
        {
          metadata: { name: "b" },
          status: {
            phase: "Pending",
            conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }],
          },
          spec,
        },
      ],
      [{ metadata: { name: "a" }, containers: [{ usage: { cpu: "500m", memory: "300Mi" } }] }],
    );
    expect(monitorCsvLines([row], true, "extended").split("\n")).toEqual([
      "time,replicas,cpu_requested,mem_requested_kb,cpu_limit,mem_limit_kb,cpu_used,mem_used_kb," +
        "ready_replicas,pending_replicas,unschedulable_replicas,restarts",
      "2026-12-01T10:00:00.000Z,2,2,4194304,4,8388608,0.5,307200,1,1,1,2",
      "",
    ]);
    const original = {
      replicas: [{ t: 0, value: 2 }],
      cpuUsed: [{ t: 0, value: 0.5 }],
      memUsedKB: [{ t: 0, value: 307200 }],
      memRequestedKB: [{ t: 0, value: 4194304 }],
      cpuRequested: [{ t: 0, value: 2 }],
      cpuLimit: [{ t: 0, value: 4 }],
      memLimitKB: [{ t: 0, value: 8388608 }],
    };
    expect(monitorSeries(parseMonitorCsv(monitorCsvLines([row], true, "extended")))).toEqual({
      ...original,
      readyReplicas: [{ t: 0, value: 1 }],
      pendingReplicas: [{ t: 0, value: 1 }],
      unschedulableReplicas: [{ t: 0, value: 1 }],
      restarts: [{ t: 0, value: 2 }],
      // 0.5 core over the one Ready pod's request of 1 (the Pending one has no reading).
      cpuUtilization: [{ t: 0, value: 50 }],
    });
    expect(monitorSeries(parseMonitorCsv(monitorCsvLines([row], true)))).toEqual(original);
  });
});

describe("run order", () => {
  it("interleaved ABAB… or grouped AABB…", () => {
    expect(runOrder(["a", "b"], 2, true).map((x) => runName(x.stack, x.repetition, 2))).toEqual([
      "a #1",
      "b #1",
      "a #2",
      "b #2",
    ]);
    expect(runOrder(["a", "b"], 2, false).map((x) => `${x.stack}${x.repetition}`)).toEqual([
      "a1",
      "a2",
      "b1",
      "b2",
    ]);
    expect(runName("a", 1, 1)).toBe("a");
  });
});

describe("shared deployment config (lib/cluster/stack.ts)", () => {
  it("the base image made locally, libtensorflow from the wheel, the build CAs, this checkout's app/", () => {
    const v = clusterVersions();
    const c = clusterStackConfig(
      { ...v, REGISTRY_PORT: "5001", NODE_BASE_VERSION: "24.22.3", DEBIAN_SUITE: "bookworm" },
      "/repo",
      "/state/build-ca.pem",
    );
    expect(c).toEqual({
      "food11:imageBaseImage": "localhost:5001/food11/node:24.22.3-bookworm-slim",
      "food11:imageLibtensorflow": "wheel",
      "food11:imageExtraCaCertificates": "/state/build-ca.pem",
      "food11:imageContext": "/repo/app",
      "food11:imageDockerfile": "/repo/app/Dockerfile",
      "food11:ingressController": "none",
      "food11:gatewayName": "food11",
      "food11:gatewayNamespace": "traefik",
    });
  });
});

describe("the report of a cluster run", () => {
  it("states the time scaling, the node's scale, the events and the spread between repetitions", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-cluster-report-"));
    // Two repetitions of strategy1 and one baseline, from the near-equal fixtures.
    const runs = [
      { ...(NEAR_EQUAL[0] as (typeof NEAR_EQUAL)[number]) },
      {
        ...(NEAR_EQUAL[1] as (typeof NEAR_EQUAL)[number]),
        name: "strategy1 #1",
        stack: "strategy1",
      },
    ];
    const manifestPath = await writeRuns(dir, runs);
    const manifest = parseYaml(await readFile(manifestPath, "utf8"));
    // A third run: strategy1 #2, with the extended monitor columns and events.
    const second = {
      ...manifest.runs[1],
      name: "strategy1 #2",
      repetition: 2,
      events: "events.json",
    };
    manifest.runs[1].repetition = 1;
    manifest.runs[0].hpaTargetCpuUtilization = 40;
    second.hpaTargetCpuUtilization = 80;
    second.monitor = "s1-2-monitor.csv";
    await writeFile(
      join(dir, "s1-2-monitor.csv"),
      [
        "time,replicas,cpu_requested,mem_requested_kb,cpu_limit,mem_limit_kb,cpu_used,mem_used_kb,ready_replicas,pending_replicas,unschedulable_replicas,restarts",
        "2026-01-01T10:00:00.000Z,1,1,2097152,3,6291456,0.9,1000000,1,0,0,0",
        "2026-01-01T10:00:05.000Z,3,3,6291456,9,18874368,1.9,2000000,2,1,1,0",
        "",
      ].join("\n"),
    );
    await writeFile(
      join(dir, "events.json"),
      JSON.stringify([
        {
          time: "2026-01-01T10:00:03.000Z",
          t: 3,
          kind: "scale-up",
          reason: "SuccessfulRescale",
          object: "HorizontalPodAutoscaler/food11-classifier",
          message:
            "New size: 3; reason: cpu resource utilization (percentage of request) above target",
          count: 1,
        },
        {
          time: "2026-01-01T10:00:04.000Z",
          t: 4,
          kind: "unschedulable",
          reason: "FailedScheduling",
          object: "Pod/p3",
          message: "0/1 nodes are available: 1 Insufficient cpu.",
          count: 1,
        },
      ]),
    );
    manifest.runs.push(second);
    manifest.cluster = {
      node: NODE,
      timeScaling: {
        factor: 0.2,
        fullLength: false,
        lines: clusterTimeScaling(0.2).lines,
        warnings: clusterTimeScaling(0.2).warnings,
        stacks: { strategy1: stackTimeScaling(0.2, settings("strategy1")).lines },
      },
      fits: { strategy1: stackFit(NODE, settings("strategy1")).text },
      order: ["baseline", "strategy1 #1", "strategy1 #2"],
      failures: ["strategy2: up: pulumi up exited 255"],
    };
    await writeFile(manifestPath, stringify(manifest));
    const { files, runs: summaries } = await writeReport(manifest, dir, join(dir, "report"));
    const md = await readFile(files.markdown, "utf8");
    expectContains(md, [
      "**time-scaled by 0.2: HPA sync period 15 s → 3 s (--horizontal-pod-autoscaler-sync-period=3s);",
      "- **Clamped:** metrics-server resolution: 15 s × 0.2 = 3 s",
      "One node, **food11-node: 2 cores and 23.00 GiB allocatable**",
      `| strategy1 | ${stackFit(NODE, settings("strategy1")).text} |`,
      "- strategy2: up: pulumi up exited 255",
      "| HPA scale-ups | 1 |",
      "| 3 | 10:00:03 | scale-up | HorizontalPodAutoscaler/food11-classifier | 1 | New size: 3;",
      "## Spread between repetitions",
      // strategy1's two repetitions: the same response time, memory used differs.
      "| strategy1 | response time (s) | 0.530 | 0.530 | 0.530 | 0.000 (0.0 % of the mean) |",
      "| strategy1 | replicas (max) | 1 | 3 | 2 | 2 (100.0 % of the mean) |",
    ]);
    const s2 = summaries[2];
    expect(s2?.hpaTarget).toBe(80);
    expect(s2?.series.time.cpuUtilization).toEqual([
      { t: 0, value: 90 },
      { t: 5, value: (100 * 1.9) / 2 }, // 2 Ready pods of requests.cpu 1
    ]);
    const ids = files.charts.map((c) => c.id);
    expect(ids).toContain("replicas-ready-pending-over-time");
    expect(ids).toContain("cpu-vs-hpa-target-over-time");
    expect(ids).toContain("memory-over-time");
    const charts = reportCharts(summaries, true, manifest.cluster);
    const title = JSON.stringify(charts[0]?.spec);
    expect(title).toContain("REAL PODS on food11-node (2 cores, 23.00 GiB)");
    expect(title).toContain('· time-scaled by 0.2, the HPA\'s","clocks with it');
    const summary = JSON.parse(await readFile(files.json, "utf8"));
    expect(summary.cluster.node).toEqual(NODE);
    expect((await summarizeRuns(manifest, dir)).map((r) => r.name)).toEqual([
      "baseline",
      "strategy1 #1",
      "strategy1 #2",
    ]);
  });
});
