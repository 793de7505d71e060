import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  CGROUP_CPU_READ,
  cgroupCpuSeconds,
  dockerCpus,
  measureCapacity,
  type ReplicaProbe,
} from "../../src/plan/capacity.js";
import { parseProfile, profileForLimit, replicaCapacity } from "../../src/plan/capacity-profile.js";
import { startServer, type TestServer } from "../helpers.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe("capacity --image on a machine with fewer cores than limits.cpu, cgroup v1", () => {
  it("cuts --cpus to the engine's CPUs (docker run refuses more) and says so", () => {
    expect(dockerCpus(3, 2)).toEqual({ cpus: 2, clamped: true });
    expect(dockerCpus(2, 2)).toEqual({ cpus: 2, clamped: false });
    expect(dockerCpus(0.5, 2)).toEqual({ cpus: 0.5, clamped: false });
    expect(dockerCpus(3, Number.NaN)).toEqual({ cpus: 3, clamped: false });
  });

  it("reads the CPU counter of a cgroup v1 container (no cpu.stat) and of a v2 one", () => {
    // The shell command as docker exec runs it, against a fake /sys/fs/cgroup tree.
    const root = mkdtempSync(join(tmpdir(), "cg-"));
    const v1 = join(root, "v1");
    mkdirSync(join(v1, "cpuacct"), { recursive: true });
    writeFileSync(join(v1, "cpuacct", "cpuacct.usage"), "2500000000\n");
    const v2 = join(root, "v2");
    mkdirSync(v2, { recursive: true });
    writeFileSync(join(v2, "cpu.stat"), "usage_usec 1250000\nuser_usec 1000000\n");
    const read = (dir: string) =>
      execFileSync("sh", ["-c", CGROUP_CPU_READ.replaceAll("/sys/fs/cgroup", dir)], {
        encoding: "utf8",
      });
    expect(cgroupCpuSeconds(read(v1))).toBe(2.5);
    expect(cgroupCpuSeconds(read(v2))).toBe(1.25);
  });

  it("writes the usable cores as the profile's scale, so the planner does not scale it down again", async () => {
    srv = await startServer((_n, _req, res) => {
      setTimeout(() => res.end('{"ok":true}'), 5);
    });
    let cpu = 0;
    const probe: ReplicaProbe = {
      url: new URL(srv.url),
      target: "fake container",
      startupSeconds: 2,
      effectiveCpuCores: 2,
      notes: [],
      async usage() {
        cpu += 0.01;
        return { cpuSeconds: cpu, workingSetBytes: 100 * 2 ** 20 };
      },
      async stop() {},
    };
    const profile = parseProfile(
      JSON.parse(
        JSON.stringify(
          await measureCapacity({
            probe,
            cpuLimitCores: 3,
            concurrency: [1, 2],
            levelSeconds: 0.3,
            warmupSeconds: 0,
            idleSeconds: 0.1,
          }),
        ),
      ),
    );
    expect(profile.limits.cpu).toBe(2);
    expect(profile.description).toMatch(/3 CPU limit \(2 usable\)/);
    // strategy1 (limits.cpu 3) on a 2-CPU node: the replica gets 2 cores, the curve as measured.
    const { profile: chosen } = profileForLimit([profile], 3);
    const c2 = profile.levels[1];
    expect(replicaCapacity(chosen, Math.min(3, 2)).rate(2)).toBeCloseTo(c2?.throughput ?? 0, 9);
  });
});
