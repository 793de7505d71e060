import { describe, expect, it } from "vitest";
import { serversClosedAfterEach } from "../../strategy-bench/test/helpers.js";
import {
  cgroupCpuSeconds,
  dockerSize,
  localProbe,
  measureCapacity,
  podResourceMetrics,
} from "../src/capacity.js";
import { parseProfile, replicaCapacity } from "../src/capacity-profile.js";

describe("capacity", () => {
  /** The test servers, closed after each test. */
  const serve = serversClosedAfterEach();

  it("sweeps concurrency on a real 127.0.0.1 server and writes a profile plan can read", async () => {
    // The test server answers /test after 5 ms; it runs in this process, so --pid is ours.
    const srv = await serve((_n, _req, res) => {
      setTimeout(() => res.end('{"ok":true}'), 5);
    });
    const lines: string[] = [];
    const profile = await measureCapacity({
      probe: localProbe(srv.url, process.pid),
      cpuLimitCores: 2,
      concurrency: [1, 4],
      levelSeconds: 0.4,
      warmupSeconds: 0.1,
      idleSeconds: 0.2,
      startupSeconds: 1.5,
      log: (l) => lines.push(l),
    });
    const parsed = parseProfile(JSON.parse(JSON.stringify(profile)));
    expect(parsed.source).toBe("measured");
    expect(parsed.levels.map((l) => l.concurrency)).toEqual([1, 4]);
    const [c1, c4] = parsed.levels;
    // One request at a time at ≥ 5 ms each: at most 200/s; four at a time: more.
    expect(c1?.throughput).toBeLessThanOrEqual(200);
    expect(c1?.responseTime).toBeGreaterThanOrEqual(0.005);
    expect(c4?.throughput ?? 0).toBeGreaterThan(c1?.throughput ?? 0);
    expect(c1?.workingSetBytes).toBeGreaterThan(0);
    expect(parsed.startupSeconds).toBe(1.5);
    expect(parsed.notes.join(" ")).toMatch(/given with --startup-seconds, not measured/);
    expect(srv.requests.every((r) => r === "GET /test")).toBe(true);
    expect(lines.some((l) => l.startsWith("c4:"))).toBe(true);
    // The planner's queue at c = 4 completes what was measured.
    expect(replicaCapacity(parsed, 2).rate(4)).toBeCloseTo(c4?.throughput ?? 0, 9);
  });

  it("refuses a non-loopback --url", () => {
    expect(() => localProbe("http://10.0.0.1:8080", 1)).toThrow();
  });

  it("reads a pod's cumulative CPU and working set from the kubelet's /metrics/resource", () => {
    const text = [
      "# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds",
      "# TYPE container_cpu_usage_seconds_total counter",
      'container_cpu_usage_seconds_total{container="inference",namespace="food11-baseline",pod="food11-a"} 12.5 1733090000000',
      'container_cpu_usage_seconds_total{container="sidecar",namespace="food11-baseline",pod="food11-a"} 0.5 1733090000000',
      'container_cpu_usage_seconds_total{container="inference",namespace="food11-baseline",pod="food11-b"} 99 1733090000000',
      'container_memory_working_set_bytes{container="inference",namespace="food11-baseline",pod="food11-a"} 5.24288e+08 1733090000000',
      'container_memory_working_set_bytes{container="sidecar",namespace="food11-baseline",pod="food11-a"} 1048576 1733090000000',
      'pod_cpu_usage_seconds_total{namespace="food11-baseline",pod="food11-a"} 13 1733090000000',
    ].join("\n");
    expect(podResourceMetrics(text, "food11-baseline", "food11-a")).toEqual({
      cpuSeconds: 13,
      workingSetBytes: 524_288_000 + 1_048_576,
    });
    expect(podResourceMetrics(text, "food11-strategy1", "food11-a")).toBeUndefined();
  });

  it("reads docker stats sizes and cgroup CPU counters", () => {
    expect(dockerSize("512MiB")).toBe(512 * 2 ** 20);
    expect(dockerSize("1.5GiB")).toBe(1.5 * 2 ** 30);
    expect(dockerSize("800kB")).toBe(800_000);
    expect(Number.isNaN(dockerSize("lots"))).toBe(true);
    expect(cgroupCpuSeconds("usage_usec 2500000\nuser_usec 2000000\n")).toBe(2.5);
    expect(cgroupCpuSeconds("1500000000\n")).toBe(1.5);
  });
});
