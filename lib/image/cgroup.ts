/**
 * A container's memory and CPU counters read from this host, without running anything inside the
 * container (the runtime image has no shell, and a process started in it would count in its own
 * cgroup): its main process's /proc/<pid>/status and its cgroup's files under this host's cgroup
 * mounts (v1 or v2), found through /proc/<pid>/cgroup and /proc/self/mountinfo. For an engine on
 * another machine (its PIDs not visible here) every function returns undefined; callers then fall
 * back to `docker exec <id> node -e` ({@link firstReadableScript}).
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { procStatus, procText } from "../../tools/strategy-bench/src/proc.js";

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
};

/**
 * `pid` (from `docker inspect -f {{.State.Pid}}`) if it is the container `id`'s process as this
 * host sees it: it exists here and its cgroup path names the container.
 */
export function hostPid(id: string, pid: number): number | undefined {
  if (!(pid > 0)) return undefined;
  return procText(pid, "cgroup")?.includes(id) ? pid : undefined;
}

/** The cgroup path of `controller` in a /proc/<pid>/cgroup text (v1 line, else the v2 one). */
export function cgroupPath(
  procCgroup: string,
  controller: string,
): { path: string; v2: boolean } | undefined {
  let v2: string | undefined;
  for (const line of procCgroup.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[2] === "" && m[1] === "0") v2 = m[3];
    else if ((m[2] as string).split(",").includes(controller))
      return { path: m[3] as string, v2: false };
  }
  return v2 === undefined ? undefined : { path: v2, v2: true };
}

/**
 * Where a cgroup path is mounted in a /proc/self/mountinfo text: the mount of that hierarchy (v1:
 * the one carrying `controller` in its super options; v2: type cgroup2) whose root holds the path,
 * joined with the rest of the path.
 */
export function cgroupDir(
  mountinfo: string,
  cg: { path: string; v2: boolean },
  controller: string,
): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const f = left.split(" ");
    const [fstype, , superOptions = ""] = right.split(" ");
    const root = f[3];
    const mountPoint = f[4];
    if (!root || !mountPoint) continue;
    const ok = cg.v2
      ? fstype === "cgroup2"
      : fstype === "cgroup" && superOptions.split(",").includes(controller);
    if (!ok) continue;
    const rest = relative(root, cg.path);
    if (rest.startsWith("..")) continue;
    return join(mountPoint, rest);
  }
  return undefined;
}

/** The host folder of process `pid`'s cgroup for `controller`, if mounted here. */
export function hostCgroupDir(
  pid: number,
  controller: "memory" | "cpuacct",
): { dir: string; v2: boolean } | undefined {
  const cg = cgroupPath(procText(pid, "cgroup") ?? "", controller);
  if (!cg) return undefined;
  const dir = cgroupDir(procText("self", "mountinfo") ?? "", cg, controller);
  return dir ? { dir, v2: cg.v2 } : undefined;
}

/**
 * Memory of a cgroup from its files' texts: usage (v2 memory.current, v1 memory.usage_in_bytes,
 * what a memory limit counts) and the working set as the kubelet computes it (usage less inactive
 * file pages: memory.stat's inactive_file, v1 total_inactive_file).
 */
export function cgroupMemory(
  usage: string,
  stat: string,
): { usageBytes: number; workingSetBytes: number } {
  const usageBytes = Number(usage.trim());
  const field = (name: string) => new RegExp(`^${name}\\s+(\\d+)`, "m").exec(stat)?.[1];
  const inactive = Number(field("total_inactive_file") ?? field("inactive_file") ?? 0);
  return { usageBytes, workingSetBytes: Math.max(0, usageBytes - inactive) };
}

/**
 * The server's memory, bytes: VmRSS of its process, its cgroup's usage (what a memory limit
 * counts) and working set (usage less inactive file pages, as the kubelet reports it).
 */
export interface ServerMemory {
  rssBytes: number;
  cgroupBytes: number;
  workingSetBytes: number;
}

/** {@link ServerMemory} of a process' VmRSS (bytes) and its cgroup's usage and memory.stat texts. */
export function serverMemory(rssBytes: number, usage: string, stat: string): ServerMemory {
  const m = cgroupMemory(usage, stat);
  return { rssBytes, cgroupBytes: m.usageBytes, workingSetBytes: m.workingSetBytes };
}

/** The server's memory, read on this host: VmRSS of `pid` and its cgroup's usage and working set. */
export function hostMemory(pid: number): ServerMemory | undefined {
  const status = procStatus(pid);
  const cg = hostCgroupDir(pid, "memory");
  if (status === undefined || !cg) return undefined;
  const usage = read(join(cg.dir, cg.v2 ? "memory.current" : "memory.usage_in_bytes"));
  const stat = read(join(cg.dir, "memory.stat"));
  if (usage === undefined || stat === undefined) return undefined;
  return serverMemory(status.rss, usage, stat);
}

/**
 * The cgroup's CPU counter text, read on this host: v2 `cpu.stat` (usage_usec ...) or v1
 * `cpuacct.usage` (nanoseconds).
 */
export function hostCpuText(pid: number): string | undefined {
  const cg = hostCgroupDir(pid, "cpuacct");
  if (!cg) return undefined;
  return read(join(cg.dir, cg.v2 ? "cpu.stat" : "cpuacct.usage"));
}

/**
 * A `node -e` program (the one program every variant of the image has) that prints, for each group
 * of paths, the first that reads, as a JSON array (null where none does).
 */
export function firstReadableScript(groups: readonly (readonly string[])[]): string {
  return `const fs=require("fs");const r=p=>{try{return fs.readFileSync(p,"utf8")}catch{return null}};process.stdout.write(JSON.stringify(${JSON.stringify(groups)}.map(g=>g.reduce((a,p)=>a??r(p),null))))`;
}
