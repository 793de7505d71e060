import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCsvRecords } from "../src/csv.js";
import { kubernetesSampler, localSampler, runMonitor, summarizePods } from "../src/monitor.js";
import { monitorCsvLines } from "../src/monitor-csv.js";
import { pidListeningOn } from "../src/proc.js";
import { cpuCores, memoryKB } from "../src/quantity.js";
import { serversClosedAfterEach } from "./helpers.js";

describe("quantities", () => {
  it("reads CPU in cores and memory in KB (1 KB = 1024 bytes)", () => {
    expect(cpuCores("2")).toBe(2);
    expect(cpuCores("250m")).toBe(0.25);
    expect(cpuCores("1500m")).toBe(1.5);
    expect(cpuCores("123456789n")).toBeCloseTo(0.123456789, 12);
    expect(cpuCores("250000u")).toBeCloseTo(0.25, 12);
    expect(cpuCores("0.5")).toBe(0.5);
    expect(memoryKB("2Gi")).toBe(2_097_152);
    expect(memoryKB("4.5Gi")).toBe(4_718_592);
    expect(memoryKB("512Mi")).toBe(524_288);
    expect(memoryKB("123456Ki")).toBe(123_456);
    expect(memoryKB("1024")).toBe(1);
    expect(memoryKB("1M")).toBe(1_000_000 / 1024);
    expect(memoryKB("1G")).toBe(1e9 / 1024);
    expect(memoryKB("2k")).toBe(2000 / 1024);
    expect(memoryKB("1e3")).toBe(1000 / 1024);
    expect(() => memoryKB("2GB")).toThrow();
  });
});

const pod = (name: string, phase: string, cpuReq?: string) => ({
  metadata: { name },
  status: { phase },
  spec: {
    containers: [
      {
        name: "app",
        resources: {
          requests: { memory: "2Gi", ...(cpuReq ? { cpu: cpuReq } : {}) },
          limits: { cpu: "3", memory: "6Gi" },
        },
      },
    ],
  },
});

const podMetric = (name: string, cpu: string, memory: string) => ({
  metadata: { name, namespace: "food11-strategy1" },
  timestamp: "2026-01-01T00:00:00Z",
  window: "15s",
  containers: [{ name: "app", usage: { cpu, memory } }],
});

describe("summarizePods", () => {
  it("sums requests, limits and usage over live pods only", () => {
    const row = summarizePods(
      "t",
      [pod("a", "Running", "500m"), pod("b", "Pending", "500m"), pod("c", "Succeeded", "1")],
      [podMetric("a", "250000000n", "300Mi"), podMetric("z", "1", "1Gi")],
    );
    expect(row).toEqual({
      time: "t",
      replicas: 2,
      cpuRequested: 1,
      memRequestedKB: 4_194_304,
      cpuLimit: 6,
      memLimitKB: 12_582_912,
      cpuUsed: 0.25,
      memUsedKB: 307_200,
      readyReplicas: 0,
      pendingReplicas: 1,
      unschedulableReplicas: 0,
      restarts: 0,
    });
    expect(summarizePods("t", [pod("a", "Running")], undefined).cpuUsed).toBeNaN();
    // metrics-server has not reported the live pod yet: unknown, not an idle pod
    const fresh = summarizePods("t", [pod("a", "Running")], [podMetric("z", "1", "1Gi")]);
    expect([fresh.cpuUsed, fresh.memUsedKB]).toEqual([Number.NaN, Number.NaN]);
    // no live pod: nothing used
    const none = summarizePods("t", [pod("c", "Succeeded")], [podMetric("z", "1", "1Gi")]);
    expect([none.cpuUsed, none.memUsedKB]).toEqual([0, 0]);
  });
});

const serve = serversClosedAfterEach();

describe("kubernetes monitor against a fake API server on 127.0.0.1", () => {
  it("lists pods by label in the namespace and reads metrics.k8s.io", async () => {
    const seen: string[] = [];
    const srv = await serve((_n, req, res) => {
      seen.push(req.url ?? "");
      const url = new URL(req.url ?? "/", "http://x");
      res.setHeader("content-type", "application/json");
      if (url.pathname === "/api/v1/namespaces/food11-strategy1/pods") {
        res.end(
          JSON.stringify({
            kind: "PodList",
            apiVersion: "v1",
            metadata: {},
            items: [pod("p1", "Running", "1"), pod("p2", "Running", "1")],
          }),
        );
      } else if (url.pathname === "/apis/metrics.k8s.io/v1beta1/namespaces/food11-strategy1/pods") {
        res.end(
          JSON.stringify({
            kind: "PodMetricsList",
            apiVersion: "metrics.k8s.io/v1beta1",
            metadata: {},
            items: [podMetric("p1", "1500m", "1000Ki"), podMetric("p2", "500000000n", "24Ki")],
          }),
        );
      } else {
        res.statusCode = 404;
        res.end("{}");
      }
    });
    const dir = await mkdtemp(join(tmpdir(), "sb-kube-"));
    const kubeconfig = join(dir, "config");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        // The fake API server speaks plain HTTP, which the client only allows with this flag.
        `- cluster: {server: "${srv.url}", insecure-skip-tls-verify: true}`,
        "  name: fake",
        "users:",
        "- name: u",
        "  user: {token: test}",
        "contexts:",
        "- context: {cluster: fake, user: u}",
        "  name: fake",
        "current-context: fake",
      ].join("\n"),
    );
    const labelSelector =
      "app.kubernetes.io/name=food11-classifier,app.kubernetes.io/instance=strategy1";
    const sample = await kubernetesSampler({
      namespace: "food11-strategy1",
      labelSelector,
      kubeconfig,
    });
    const out = join(dir, "monitor.csv");
    const rows = await runMonitor({ sample, intervalSeconds: 0.05, maxSamples: 2, out });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      replicas: 2,
      cpuRequested: 2,
      memRequestedKB: 4_194_304,
      cpuLimit: 6,
      memLimitKB: 12_582_912,
      cpuUsed: 2,
      memUsedKB: 1024,
    });
    const podsCall = seen.find((u) => u.startsWith("/api/v1/namespaces/food11-strategy1/pods"));
    expect(new URL(podsCall ?? "", "http://x").searchParams.get("labelSelector")).toBe(
      labelSelector,
    );
    const csv = parseCsvRecords(await readFile(out, "utf8"));
    expect(csv).toHaveLength(2);
    expect(csv[1]).toMatchObject({
      replicas: "2",
      cpu_requested: "2",
      mem_requested_kb: "4194304",
      cpu_limit: "6",
      mem_limit_kb: "12582912",
      cpu_used: "2",
      mem_used_kb: "1024",
    });
  });
});

describe("local monitor", () => {
  it("samples a process tree from /proc and stops when it exits", async () => {
    const srv = await serve((_n, _req, res) => res.end("ok"));
    // The test process itself listens on the port.
    expect(await pidListeningOn(srv.port)).toBe(process.pid);
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 400)"]);
    const pid = child.pid as number;
    const exited = new Promise((r) => child.once("exit", r));
    const rows = await runMonitor({
      sample: localSampler(pid, {
        cpuRequested: 1,
        memRequestedKB: 2_097_152,
        cpuLimit: 3,
        memLimitKB: 6_291_456,
      }),
      intervalSeconds: 0.1,
      durationSeconds: 30,
      untilPid: pid,
    });
    await exited;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]?.replicas).toBe(1);
    expect(rows[0]?.memRequestedKB).toBe(2_097_152);
    expect(rows[0]?.memUsedKB).toBeGreaterThan(1000);
    expect(rows[0]?.cpuUsed).toBeNaN();
    expect(monitorCsvLines(rows.slice(0, 1), true).split("\n")[0]).toBe(
      "time,replicas,cpu_requested,mem_requested_kb,cpu_limit,mem_limit_kb,cpu_used,mem_used_kb",
    );
  });
});

describe("runMonitor output", () => {
  it("creates a missing output folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-mon-"));
    const out = join(dir, "runs", "s1", "monitor.csv");
    const row = {
      time: "2026-01-01T00:00:00.000Z",
      replicas: 1,
      cpuRequested: 1,
      memRequestedKB: 2_097_152,
      cpuLimit: 3,
      memLimitKB: 6_291_456,
      cpuUsed: 0.5,
      memUsedKB: 300_000,
    };
    const rows = await runMonitor({
      sample: async () => row,
      intervalSeconds: 0.01,
      maxSamples: 2,
      out,
    });
    expect(rows).toHaveLength(2);
    expect((await readFile(out, "utf8")).trim().split("\n")).toEqual([
      "time,replicas,cpu_requested,mem_requested_kb,cpu_limit,mem_limit_kb,cpu_used,mem_used_kb",
      "2026-01-01T00:00:00.000Z,1,1,2097152,3,6291456,0.5,300000",
      "2026-01-01T00:00:00.000Z,1,1,2097152,3,6291456,0.5,300000",
    ]);
  });
});
