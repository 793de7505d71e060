import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupDir, cgroupMemory, cgroupPath } from "../../../lib/image/cgroup.js";
import { serversClosedAfterEach } from "../../strategy-bench/test/helpers.js";
import {
  CGROUP_CPU_READ,
  cgroupCpuSeconds,
  dockerCpus,
  measureCapacity,
  type ReplicaProbe,
} from "../src/capacity.js";
import { parseProfile, profileForLimit, replicaCapacity } from "../src/capacity-profile.js";

const serve = serversClosedAfterEach();

describe("capacity --image on a machine with fewer cores than limits.cpu, cgroup v1", () => {
  it("cuts --cpus to the engine's CPUs (docker run refuses more) and says so", () => {
    expect(dockerCpus(3, 2)).toEqual({ cpus: 2, clamped: true });
    expect(dockerCpus(2, 2)).toEqual({ cpus: 2, clamped: false });
    expect(dockerCpus(0.5, 2)).toEqual({ cpus: 0.5, clamped: false });
    expect(dockerCpus(3, Number.NaN)).toEqual({ cpus: 3, clamped: false });
  });

  it("reads the CPU counter of a cgroup v1 container (no cpu.stat) and of a v2 one", () => {
    // The node program as docker exec runs it (the image has no shell), against a fake /sys/fs/cgroup tree.
    const root = mkdtempSync(join(tmpdir(), "cg-"));
    const v1 = join(root, "v1");
    mkdirSync(join(v1, "cpuacct"), { recursive: true });
    writeFileSync(join(v1, "cpuacct", "cpuacct.usage"), "2500000000\n");
    const v2 = join(root, "v2");
    mkdirSync(v2, { recursive: true });
    writeFileSync(join(v2, "cpu.stat"), "usage_usec 1250000\nuser_usec 1000000\n");
    const read = (dir: string) =>
      String(
        JSON.parse(
          execFileSync(
            process.execPath,
            ["-e", CGROUP_CPU_READ.replaceAll("/sys/fs/cgroup", dir)],
            {
              encoding: "utf8",
            },
          ),
        )[0],
      );
    expect(cgroupCpuSeconds(read(v1))).toBe(2.5);
    expect(cgroupCpuSeconds(read(v2))).toBe(1.25);
  });

  it("finds a container's cgroup folder on the host (v1 with separate cpu/cpuacct mounts, v2) and its working set", () => {
    const id = "0123abcd";
    // this machine: cgroup v1, cpuacct mounted alone, and a cgroup2 'unified' hierarchy beside
    const v1Proc = `9:name=systemd:/docker/${id}\n4:memory:/docker/${id}\n2:cpuacct:/docker/${id}\n1:cpu:/docker/${id}\n0::/\n`;
    const v1Mounts = [
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
      "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct",
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    ].join("\n");
    const mem = cgroupPath(v1Proc, "memory");
    expect(mem).toEqual({ path: `/docker/${id}`, v2: false });
    expect(cgroupDir(v1Mounts, mem as { path: string; v2: boolean }, "memory")).toBe(
      `/sys/fs/cgroup/memory/docker/${id}`,
    );
    const cpu = cgroupPath(v1Proc, "cpuacct") as { path: string; v2: boolean };
    expect(cgroupDir(v1Mounts, cpu, "cpuacct")).toBe(`/sys/fs/cgroup/cpuacct/docker/${id}`);
    // a combined cpu,cpuacct mount whose root is a sub-tree (the reader in a nested cgroup)
    const nested = "40 31 0:33 /outer /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct";
    expect(cgroupDir(nested, { path: `/outer/docker/${id}`, v2: false }, "cpuacct")).toBe(
      `/sys/fs/cgroup/cpu,cpuacct/docker/${id}`,
    );
    expect(cgroupDir(nested, { path: `/elsewhere/${id}`, v2: false }, "cpuacct")).toBeUndefined();
    // cgroup v2 only
    const v2Proc = `0::/system.slice/docker-${id}.scope\n`;
    const v2Mounts = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";
    const v2 = cgroupPath(v2Proc, "memory") as { path: string; v2: boolean };
    expect(v2).toEqual({ path: `/system.slice/docker-${id}.scope`, v2: true });
    expect(cgroupDir(v2Mounts, v2, "memory")).toBe(
      `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
    );
    // working set = usage - inactive file pages (v1 total_inactive_file, v2 inactive_file)
    expect(cgroupMemory("1000\n", "inactive_file 200\ntotal_inactive_file 300\n")).toEqual({
      usageBytes: 1000,
      workingSetBytes: 700,
    });
    expect(cgroupMemory("1000\n", "anon 600\ninactive_file 250\n").workingSetBytes).toBe(750);
  });

  it("writes the usable cores as the profile's scale, so the planner does not scale it down again", async () => {
    const srv = await serve((_n, _req, res) => {
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
