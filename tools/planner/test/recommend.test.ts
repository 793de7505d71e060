import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readStackFile } from "../../../stacks/index.js";
import { loadStack } from "../../strategy-bench/src/index.js";
import { parseNodes } from "../src/cluster.js";
import { ERROR_BANDS } from "../src/error-band.js";
import { constantRate, rateToSchedule } from "../src/load.js";
import { clusterFits, memoryFloor, recommend, writeStackFile } from "../src/recommend.js";
import { ESTIMATED_PROFILE } from "./fixtures/estimated-profile.js";

const dir = mkdtempSync(join(tmpdir(), "recommend-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 150 req/s for 240 s on baseline's file, the estimated profile, one 8-CPU 8Gi node. */
function at150(): Omit<Parameters<typeof recommend>[0], "slo"> {
  const { schedule, rates } = rateToSchedule(constantRate(150, 240));
  const cluster = parseNodes(["1x8cpu,8Gi"]);
  const base = loadStack("baseline");
  return {
    name: "recommended",
    base,
    schedule,
    rates,
    profiles: [ESTIMATED_PROFILE],
    cluster,
    maxReplicas: 10,
  };
}

describe("recommend", () => {
  it("bounds memory by the profile's working set + 25 %", () => {
    // The estimated profile's largest working set: 885 MiB × 1.25 = 1106.25 → 1152Mi (64Mi steps).
    expect(memoryFloor([ESTIMATED_PROFILE])).toMatchObject({
      quantity: "1152Mi",
      bytes: 1152 * 2 ** 20,
    });
  });

  it("on a fixed 1x8cpu,8Gi never recommends a stack that leaves a pod Pending", () => {
    const cluster = parseNodes(["1x8cpu,8Gi"]);
    // 1152Mi pods: 7 fit 8Gi by memory; 1 CPU each: 8 by CPU; 2 CPU: 4.
    expect(clusterFits(cluster, { cpuRequest: "1", memoryRequest: "1152Mi" })).toBe(7);
    expect(clusterFits(cluster, { cpuRequest: "2", memoryRequest: "1152Mi" })).toBe(4);
    const rec = recommend({ ...at150(), slo: { p95: 0.5 } });
    expect(rec.candidates).toHaveLength(36);
    for (const c of rec.candidates) {
      // maxReplicas is cut to what the node holds, so no candidate ever has a Pending pod.
      expect(c.knobs.maxReplicas).toBeLessThanOrEqual(clusterFits(cluster, c.knobs));
      expect(c.result.pending).toEqual([]);
    }
    const best = rec.best;
    expect(best).toBeDefined();
    if (!best) return;
    expect(best.pass).toBe(true);
    expect(best.result.load.failed).toBe(0);
    expect(best.result.latency.p95).toBeLessThanOrEqual(0.5);
    expect(
      rec.candidates.filter((c) => c.pass).every((c) => c.cost.cpuHours >= best.cost.cpuHours),
    ).toBe(true);

    // Its stack file loads through the project's stack loader with the knobs it was given.
    const { file, settings } = writeStackFile(dir, "recommended", "baseline", best.knobs, ["test"]);
    expect(readFileSync(file, "utf8")).toMatch(/^# test\nconfig:\n/);
    const again = readStackFile("recommended", file);
    expect(again).toEqual(settings);
    expect(again.autoscaling.targetCpuUtilization).toBe(best.knobs.targetCpuUtilization);
    expect(again.autoscaling.maxReplicas).toBe(best.knobs.maxReplicas);
    expect(again.resources.requests.memory).toBe("1152Mi");
    expect(again.resources.limits.memory).toBe("2304Mi");
    expect(again.probes.readiness.successThreshold).toBe(best.knobs.readinessSuccessThreshold);
    expect(again.image).toEqual(loadStack("baseline").image);
  });

  it("with the error margin, chooses only what meets the SLO at the band's edge, at a cost", () => {
    const o = at150();
    // The candidates' predicted p95 here: 0.266–0.309 s and 0.577 s (the rest fail on their own).
    const plain = recommend({ ...o, slo: { p95: 0.6 } });
    const margin = ERROR_BANDS.responseTime;
    const safe = recommend({ ...o, slo: { p95: 0.6, margin } });
    const [a, b] = [plain.best, safe.best];
    expect(a && b).toBeTruthy();
    if (!a || !b) return;
    // Every candidate the margin keeps passes without it; the margin drops some.
    const kept = safe.candidates.filter((c) => c.pass).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(plain.candidates.filter((c) => c.pass).length);
    expect(b.result.latency.p95 / (1 + margin.lowPct / 100)).toBeLessThanOrEqual(0.6);
    expect(b.cost.cpuHours).toBeGreaterThanOrEqual(a.cost.cpuHours);
  });
});
