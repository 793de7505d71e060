/**
 * Helpers of the real-pods suite (test/cluster): what a pod really runs with as seen from the node
 * (containerd's task PID, /proc and the pod's cgroup). The cluster's settings
 * (scripts/cluster/versions.sh) and state dir are lib/cluster/stack.ts'; the bounded load it runs is
 * tools/strategy-bench/src/steady-load.ts.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CLUSTER_STATE_DIR } from "../../lib/cluster/stack";
import { cgroupDir, cgroupPath } from "../../lib/image/cgroup";
import { procCmdline, procText } from "../../tools/strategy-bench/src/proc";
import { type Clients, until } from "../e2e/helpers";

export const CONTAINERD_SOCK = join(CLUSTER_STATE_DIR, "containerd", "containerd.sock");

/** Run a command inside the node's network namespace; returns stdout. */
export function inNode(netns: string, cmd: string[]): string {
  return execFileSync("nsenter", [`--net=/run/netns/${netns}`, "--", ...cmd], {
    encoding: "utf8",
    timeout: 30_000,
  });
}

/** Bytes a directory tree occupies on disk (as du counts them: allocated blocks). */
function diskBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    total += lstatSync(join(entry.parentPath, entry.name)).blocks * 512;
  }
  return total;
}

/**
 * The local ephemeral storage a pod uses, as kubelet accounts it (the root filesystem is read-only,
 * so no writable layer): its containers' logs (/var/log/pods: the node is a network namespace of
 * this host, its filesystem is the host's) and its emptyDir volumes (under kubelet's root dir).
 */
export function podEphemeralBytes(
  namespace: string,
  name: string,
  uid: string,
): { logs: number; emptyDir: number } {
  return {
    logs: diskBytes(join("/var/log/pods", `${namespace}_${name}_${uid}`)),
    emptyDir: diskBytes(
      join(CLUSTER_STATE_DIR, "kubelet", "root", "pods", uid, "volumes", "kubernetes.io~empty-dir"),
    ),
  };
}

/** The host PID of a container (containerd's task list, namespace k8s.io). */
export function containerPid(containerId: string): number {
  const id = containerId.replace(/^containerd:\/\//, "");
  const out = execFileSync("ctr", ["--address", CONTAINERD_SOCK, "-n", "k8s.io", "tasks", "ls"], {
    encoding: "utf8",
  });
  for (const line of out.split("\n")) {
    const [task, pid] = line.trim().split(/\s+/);
    if (task === id && pid) return Number(pid);
  }
  throw new Error(`container ${id} has no running task`);
}

/** What the kernel says a process runs with. */
export interface ProcessFacts {
  cmdline: string[];
  uid: number;
  gid: number;
  capEff: string;
  noNewPrivs: number;
  seccomp: number;
  rootReadOnly: boolean;
  env: Record<string, string>;
  memoryLimitBytes: number;
  cpuQuotaMicros: number;
  cpuPeriodMicros: number;
}

function statusField(status: string, field: string): string {
  const m = new RegExp(`^${field}:\\s*(.*)$`, "m").exec(status);
  if (!m?.[1]) throw new Error(`no ${field} in /proc status`);
  return m[1].trim();
}

/** /proc/<pid>/<file> of a process that must be there. */
function mustProcText(pid: number, file: string): string {
  const text = procText(pid, file);
  if (text === undefined) throw new Error(`cannot read /proc/${pid}/${file}`);
  return text;
}

/**
 * A file of a process' cgroup v1 `controller` (its `N:controller[,..]:/path` line of
 * /proc/<pid>/cgroup), in the hierarchy mounted here for that controller (cpu and cpuacct
 * separately or comma-joined): both found as lib/image/cgroup.ts finds them.
 */
function cgroupFile(pid: number, controller: string, file: string): string {
  const cg = cgroupPath(mustProcText(pid, "cgroup"), controller);
  if (!cg || cg.v2) throw new Error(`pid ${pid} has no ${controller} cgroup`);
  const dir = cgroupDir(procText("self", "mountinfo") ?? "", cg, controller);
  const f = dir === undefined ? undefined : join(dir, file);
  if (f === undefined || !existsSync(f)) throw new Error(`no ${file} for cgroup ${cg.path}`);
  return readFileSync(f, "utf8").trim();
}

export function processFacts(pid: number): ProcessFacts {
  const status = mustProcText(pid, "status");
  const env: Record<string, string> = {};
  for (const kv of mustProcText(pid, "environ").split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  // mountinfo: "id parent major:minor root mountpoint options ..."; the container's "/".
  const rootLine = mustProcText(pid, "mountinfo")
    .split("\n")
    .find((l) => l.split(" ")[4] === "/");
  return {
    cmdline: procCmdline(pid) ?? [],
    uid: Number(statusField(status, "Uid").split(/\s+/)[1]),
    gid: Number(statusField(status, "Gid").split(/\s+/)[1]),
    capEff: statusField(status, "CapEff"),
    noNewPrivs: Number(statusField(status, "NoNewPrivs")),
    seccomp: Number(statusField(status, "Seccomp")),
    rootReadOnly: (rootLine?.split(" ")[5] ?? "").split(",").includes("ro"),
    env,
    memoryLimitBytes: Number(cgroupFile(pid, "memory", "memory.limit_in_bytes")),
    cpuQuotaMicros: Number(cgroupFile(pid, "cpu", "cpu.cfs_quota_us")),
    cpuPeriodMicros: Number(cgroupFile(pid, "cpu", "cpu.cfs_period_us")),
  };
}

/** Waits (up to 180 s) until `pulumi destroy`'s namespace is gone: a read of it answers 404. */
export async function namespaceDeleted(c: Clients, ns: string): Promise<void> {
  await until(
    async () => {
      try {
        await c.core.readNamespace({ name: ns });
        return false;
      } catch (err) {
        return (err as { code?: number }).code === 404;
      }
    },
    180_000,
    `namespace ${ns} to be deleted`,
  );
}
