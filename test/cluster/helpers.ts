/**
 * Helpers of the real-pods suite (test/cluster): the cluster's settings (scripts/cluster/versions.sh),
 * what a pod really runs with as seen from the node (containerd's task PID, /proc and the pod's
 * cgroup), and a bounded load on loopback that counts every failed request.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Agent, request } from "undici";
import { CLUSTER_STATE_DIR, clusterVersions } from "../../scripts/cluster/stack";

/** The cluster's settings (scripts/cluster/versions.sh, env overrides). */
export const clusterSettings = (): Record<string, string> => clusterVersions();

export const CLUSTER_DIR = CLUSTER_STATE_DIR;
export const CONTAINERD_SOCK = join(CLUSTER_DIR, "containerd", "containerd.sock");

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
      join(CLUSTER_DIR, "kubelet", "root", "pods", uid, "volumes", "kubernetes.io~empty-dir"),
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

/** cgroup v1 path of a controller for a process (`N:controller[,..]:/path`). */
function cgroupPath(pid: number, controller: string): string {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (controllers?.split(",").includes(controller) && path) return path;
  }
  throw new Error(`pid ${pid} has no ${controller} cgroup`);
}

function cgroupFile(controller: string, path: string, file: string): string {
  // Mounted as /sys/fs/cgroup/<controller> here (cpu and cpuacct separately or comma-joined).
  for (const mount of [controller, `${controller},cpuacct`, `cpuacct,${controller}`]) {
    const f = join("/sys/fs/cgroup", mount, path, file);
    if (existsSync(f)) return readFileSync(f, "utf8").trim();
  }
  throw new Error(`no ${file} for cgroup ${path}`);
}

export function processFacts(pid: number): ProcessFacts {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const env: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  // mountinfo: "id parent major:minor root mountpoint options ..."; the container's "/".
  const rootLine = readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === "/");
  const memPath = cgroupPath(pid, "memory");
  const cpuPath = cgroupPath(pid, "cpu");
  return {
    cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean),
    uid: Number(statusField(status, "Uid").split(/\s+/)[1]),
    gid: Number(statusField(status, "Gid").split(/\s+/)[1]),
    capEff: statusField(status, "CapEff"),
    noNewPrivs: Number(statusField(status, "NoNewPrivs")),
    seccomp: Number(statusField(status, "Seccomp")),
    rootReadOnly: (rootLine?.split(" ")[5] ?? "").split(",").includes("ro"),
    env,
    memoryLimitBytes: Number(cgroupFile("memory", memPath, "memory.limit_in_bytes")),
    cpuQuotaMicros: Number(cgroupFile("cpu", cpuPath, "cpu.cfs_quota_us")),
    cpuPeriodMicros: Number(cgroupFile("cpu", cpuPath, "cpu.cfs_period_us")),
  };
}

/** One request's outcome in a load run. */
export interface Outcome {
  /** ms since the load started. */
  at: number;
  status: number;
  /** Transport error (connection refused/reset, timeout), when there was no status. */
  error?: string;
  ms: number;
}

/** A bounded closed-loop load: `users` loops, each request then `thinkMs` of rest. */
export class Load {
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly started = Date.now();
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4_000 });

  constructor(
    private readonly url: string,
    users: number,
    private readonly thinkMs: number,
    /** Hard stop: the load ends by itself after this long. */
    maxSeconds: number,
  ) {
    const host = new URL(url).hostname;
    if (host !== "127.0.0.1" && host !== "localhost") throw new Error(`not loopback: ${url}`);
    for (let i = 0; i < users; i++) this.loops.push(this.loop());
    setTimeout(() => {
      this.stopped = true;
    }, maxSeconds * 1000).unref();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const t0 = Date.now();
      try {
        const res = await request(this.url, {
          dispatcher: this.agent,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        await res.body.text();
        this.outcomes.push({ at: t0 - this.started, status: res.statusCode, ms: Date.now() - t0 });
      } catch (err) {
        this.outcomes.push({
          at: t0 - this.started,
          status: 0,
          error: (err as { code?: string }).code ?? String(err),
          ms: Date.now() - t0,
        });
      }
      if (this.thinkMs > 0) await new Promise((r) => setTimeout(r, this.thinkMs));
    }
  }

  /** ms since start. */
  now(): number {
    return Date.now() - this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    await this.agent.close();
  }

  /** Outcomes in [fromMs, toMs). */
  window(fromMs = 0, toMs = Number.POSITIVE_INFINITY): Outcome[] {
    return this.outcomes.filter((o) => o.at >= fromMs && o.at < toMs);
  }
}

export function failures(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.status < 200 || o.status >= 300);
}

/** "n requests, k failed (codes)" for logs and messages. */
export function describe(outcomes: Outcome[]): string {
  const f = failures(outcomes);
  const codes = new Map<string, number>();
  for (const o of f) {
    const k = o.error ?? String(o.status);
    codes.set(k, (codes.get(k) ?? 0) + 1);
  }
  const detail = [...codes].map(([k, n]) => `${k}×${n}`).join(", ");
  return `${outcomes.length} requests, ${f.length} failed${detail ? ` (${detail})` : ""}`;
}
