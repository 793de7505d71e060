import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { memoryBytes } from "../../../components/quantity.js";
import { firstReadableScript, hostCpuText } from "../../../lib/image/cgroup.js";
import { runContainer, type Started } from "../../../lib/image/docker.js";
import {
  CLOCK_TICKS,
  checkTarget,
  cpuCores,
  k8sClients,
  localServerEnv,
  podCondition,
  processTree,
  prometheusSamples,
  runLoadtest,
  type StackSettings,
  sumOf,
  threadIds,
  treeRssKB,
} from "../../strategy-bench/src/index.js";
import { type CapacityLevel, type CapacityProfile, PROFILE_KIND } from "./capacity-profile.js";

/**
 * `strategy-bench capacity`: measure one replica under a stack's limits and write its capacity
 * profile. Either a container (`docker run --cpus <limits.cpu> --memory <limits.memory>` of
 * `--image`, published on 127.0.0.1 only; CPU from the container's cgroup `cpu.stat`, memory from
 * `docker stats` (usage less inactive file cache: the working set); start-up = `docker run` to the
 * first /readyz 200), or an already-running local replica (`--url` on loopback, with `--pid` for
 * CPU and RSS from /proc). The sweep: for each concurrency c, c closed-loop users without think
 * time on /test for a fixed time (the loadtest's own machinery), after a discarded warm-up.
 */

const run = promisify(execFile);

/** What the sweep reads from a replica: cumulative CPU seconds and the working set now. */
export interface ReplicaProbe {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: URL;
  target: string;
  startupSeconds?: number;
  /**
   * Cores the replica could use, when fewer than the stack's limits.cpu (a limit above the
   * machine's cores is no limit): the profile's scale is then this, not the limit.
   */
  effectiveCpuCores?: number;
  usage(): Promise<{ cpuSeconds: number; workingSetBytes: number }>;
  stop(): Promise<void>;
  notes: string[];
}

/** A replica already running on this machine: /proc of `pid` and its descendants. */
export function localProbe(url: string, pid: number): ReplicaProbe {
  const u = checkTarget(url, false);
  return {
    url: new URL(u.origin),
    target: `${u.origin} (pid ${pid})`,
    notes: [
      `local process ${pid}: no container limits enforced; CPU from /proc (utime+stime), memory = summed RSS (close to, not the same as, a container's working set)`,
    ],
    async usage() {
      const tree = await processTree(pid);
      if (tree.length === 0) throw new Error(`process ${pid} is gone`);
      const ticks = tree.reduce((a, s) => a + s.ticks, 0);
      return { cpuSeconds: ticks / CLOCK_TICKS, workingSetBytes: (await treeRssKB(tree)) * 1024 };
    },
    async stop() {},
  };
}

/** "512MiB", "1.5GiB", "800kB" (docker stats' units) in bytes. */
export function dockerSize(text: string): number {
  const m = /^\s*([\d.]+)\s*([KMGT]i?B|[kKMGT]B|B)\s*$/.exec(text);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = (m[2] as string).toUpperCase();
  const pow = { B: 0, KB: 1, MB: 2, GB: 3, TB: 4, KIB: 1, MIB: 2, GIB: 3, TIB: 4 }[unit] ?? 0;
  const base = unit.includes("I") ? 1024 : 1000;
  return n * base ** pow;
}

/** Parse cgroup v2 cpu.stat's usage_usec (or v1 cpuacct.usage nanoseconds) into seconds. */
export function cgroupCpuSeconds(text: string): number {
  const v2 = /^usage_usec\s+(\d+)/m.exec(text);
  if (v2?.[1]) return Number(v2[1]) / 1e6;
  const v1 = /^(\d+)\s*$/.exec(text.trim());
  if (v1?.[1]) return Number(v1[1]) / 1e9;
  return Number.NaN;
}

/**
 * The container's CPU counter, from inside it: cgroup v2 `cpu.stat`, else cgroup v1's
 * `cpuacct.usage` (this project's cluster machine runs v1, where /sys/fs/cgroup/cpu.stat does not
 * exist). A `node -e` program printing the first of them that reads (JSON: the text, or null):
 * the server's image has no shell, node is the one program it is sure to have.
 */
const CGROUP_CPU_FILES = [
  "/sys/fs/cgroup/cpu.stat",
  "/sys/fs/cgroup/cpuacct/cpuacct.usage",
  "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage",
] as const;
export const CGROUP_CPU_READ = firstReadableScript([CGROUP_CPU_FILES]);

/**
 * The container's CPU counter text: read on this host when the engine runs here (the container's
 * cgroup under this host's mounts; nothing runs in the container, whose CPU this measures), else
 * `docker exec <id> node -e` {@link CGROUP_CPU_READ}.
 */
function containerCpuText(c: Started): string {
  const onHost = c.pid === undefined ? undefined : hostCpuText(c.pid);
  if (onHost !== undefined) return onHost;
  const [text] = JSON.parse(c.node(CGROUP_CPU_READ)) as (string | null)[];
  if (text == null)
    throw new Error(`container ${c.id}: no cgroup CPU counter (${CGROUP_CPU_FILES.join(", ")})`);
  return text;
}

/** `docker run --cpus` refuses more than the engine's CPUs: the limit it can take, and whether it was cut. */
export function dockerCpus(
  limitCores: number,
  engineCpus: number,
): { cpus: number; clamped: boolean } {
  return Number.isFinite(engineCpus) && engineCpus > 0 && limitCores > engineCpus
    ? { cpus: engineCpus, clamped: true }
    : { cpus: limitCores, clamped: false };
}

/**
 * Bring the container's tasks to nice 0 when the engine runs niced (this machine's dockerd is
 * started with nice 19: "it only builds images") and its containers inherit it — a pod's
 * container runs at 0 beside the load generator, and a niced one loses the CPU to it. Every
 * thread of every process of the container (setpriority is per thread on Linux). Only for an
 * engine on this host (its PIDs visible here); returns what it did, for the profile's notes.
 */
async function unniceContainer(id: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("docker", ["inspect", "-f", "{{.State.Pid}}", id]);
    const root = Number(stdout.trim());
    if (!(root > 0)) return undefined;
    const { getPriority, setPriority } = await import("node:os");
    const pids = (await processTree(root)).map((s) => s.pid);
    const before = getPriority(root);
    if (before <= 0) return undefined;
    let n = 0;
    for (const pid of pids) {
      for (const t of await threadIds(pid)) {
        try {
          setPriority(t, 0);
          n++;
        } catch {
          // a thread that ended meanwhile
        }
      }
    }
    return `the engine runs niced: the container's ${n} threads (${pids.length} processes) reniced from ${before} to 0, as a pod's container runs`;
  } catch {
    return undefined;
  }
}

/**
 * A container of `image` under the stack's limits, run as the Deployment runs the server
 * (lib/image/docker.ts runContainer: published on 127.0.0.1 only). Untested here (no Docker on
 * the build machine); the local path is what the tests cover.
 */
export async function dockerProbe(image: string, stack: StackSettings): Promise<ReplicaProbe> {
  const limit = cpuCores(stack.resources.limits.cpu);
  const engineCpus = await run("docker", ["info", "--format", "{{.NCPU}}"])
    .then((r) => Number(r.stdout.trim()))
    .catch(() => Number.NaN);
  const { cpus, clamped } = dockerCpus(limit, engineCpus);
  const t0 = performance.now();
  // readiness is the admin listener's; the ports are the server's own (app/src/config.ts defaults)
  const c = await runContainer(image, {
    cpus: String(cpus),
    memory: String(memoryBytes(stack.resources.limits.memory)),
    env: { ...localServerEnv(stack), PORT: "8080", ADMIN_PORT: "8081", HOST: "0.0.0.0" },
  });
  const startupSeconds = (performance.now() - t0) / 1000;
  const reniced = await unniceContainer(c.id);
  return {
    url: new URL(c.url),
    target: image,
    startupSeconds,
    ...(clamped ? { effectiveCpuCores: cpus } : {}),
    notes: [
      `container ${c.id.slice(0, 12)}: --cpus ${cpus} --memory ${stack.resources.limits.memory}; start-up = docker run to /readyz 200`,
      ...(clamped
        ? [
            `limits.cpu ${stack.resources.limits.cpu} is more than the engine's ${engineCpus} CPUs (docker run refuses it): run with --cpus ${cpus}, so the profile's scale is ${cpus} cores, as the pod's CFS quota is no limit on such a node`,
          ]
        : []),
      ...(reniced ? [reniced] : []),
    ],
    async usage() {
      const { stdout: stats } = await run("docker", [
        "stats",
        "--no-stream",
        "--format",
        "{{json .}}",
        c.id,
      ]);
      const mem = (JSON.parse(stats) as { MemUsage?: string }).MemUsage?.split("/")[0] ?? "";
      return {
        cpuSeconds: cgroupCpuSeconds(containerCpuText(c)),
        workingSetBytes: dockerSize(mem),
      };
    },
    async stop() {
      c.stop();
    },
  };
}

/**
 * The kubelet's /metrics/resource (what metrics-server scrapes) for one pod: cumulative CPU
 * seconds (container_cpu_usage_seconds_total) and the working set
 * (container_memory_working_set_bytes), summed over its containers; undefined if absent.
 */
export function podResourceMetrics(
  text: string,
  namespace: string,
  pod: string,
): { cpuSeconds: number; workingSetBytes: number } | undefined {
  const samples = prometheusSamples(text);
  const cpu = sumOf(samples, "container_cpu_usage_seconds_total", { namespace, pod });
  const mem = sumOf(samples, "container_memory_working_set_bytes", { namespace, pod });
  return cpu === undefined || mem === undefined
    ? undefined
    : { cpuSeconds: cpu, workingSetBytes: mem };
}

/**
 * A pod on a cluster, reached through a loopback URL (`kubectl port-forward pod/<name> 8080`):
 * usage from its node's kubelet `/metrics/resource` through the API server's node proxy (needs
 * nodes/proxy get), start-up from its status (container start to the Ready transition, less
 * successThreshold × readiness period). Untested here (no cluster on the build machine).
 */
export async function podProbe(
  url: string,
  podRef: string,
  stack: StackSettings,
  o: { kubeconfig?: string; context?: string } = {},
): Promise<ReplicaProbe> {
  const u = checkTarget(url, false);
  const [namespace, name] = podRef.includes("/")
    ? podRef.split("/", 2)
    : [stack.namespace.name, podRef];
  if (!namespace || !name) throw new Error(`--pod ${podRef}: give <namespace>/<pod> or <pod>`);
  const { core } = await k8sClients(o.kubeconfig, o.context);
  const pod = await core.readNamespacedPod({ name, namespace });
  const node = pod.spec?.nodeName;
  if (!node) throw new Error(`pod ${namespace}/${name} is not scheduled (Pending?)`);
  const started = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt;
  const ready = podCondition(pod, "Ready");
  const probes = stack.probes.readiness;
  const startupSeconds =
    started && ready?.lastTransitionTime
      ? Math.max(
          0,
          (new Date(ready.lastTransitionTime).getTime() - new Date(started).getTime()) / 1000 -
            probes.successThreshold * probes.periodSeconds,
        )
      : undefined;
  return {
    url: new URL(u.origin),
    target: `pod ${namespace}/${name} on ${node} via ${u.origin}`,
    ...(startupSeconds !== undefined ? { startupSeconds } : {}),
    notes: [
      `pod ${namespace}/${name}: usage from the kubelet's /metrics/resource on ${node}; start-up = container start to Ready, less ${probes.successThreshold} × ${probes.periodSeconds} s of readiness probes`,
    ],
    async usage() {
      const text = await core.connectGetNodeProxyWithPath({ name: node, path: "metrics/resource" });
      const m = podResourceMetrics(String(text), namespace, name);
      if (!m) throw new Error(`no metrics for ${namespace}/${name} in ${node}'s /metrics/resource`);
      return m;
    },
    async stop() {},
  };
}

export interface SweepOptions {
  probe: ReplicaProbe;
  /** The limits the replica runs under (for the profile's scale). */
  cpuLimitCores: number;
  memoryLimitBytes?: number;
  concurrency: number[];
  levelSeconds: number;
  warmupSeconds: number;
  idleSeconds: number;
  /** Start-up to record when the probe cannot measure it (a replica already running). */
  startupSeconds?: number;
  seed?: number;
  path?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** The concurrency sweep: idle, warm-up, then one closed-loop level per concurrency. */
export async function measureCapacity(o: SweepOptions): Promise<CapacityProfile> {
  const log = o.log ?? (() => undefined);
  const url = new URL(o.path ?? "/test", o.probe.url);
  const level = async (users: number, seconds: number) =>
    runLoadtest({
      url,
      schedule: {
        name: `c${users}`,
        phases: [{ users, delaySeconds: 0, durationSeconds: seconds }],
      },
      seed: o.seed ?? 1,
      ...(o.signal ? { signal: o.signal } : {}),
    });

  const idle0 = await o.probe.usage();
  const t0 = performance.now();
  await sleep(o.idleSeconds * 1000);
  const idle1 = await o.probe.usage();
  const idleCores = Math.max(
    0,
    (idle1.cpuSeconds - idle0.cpuSeconds) / ((performance.now() - t0) / 1000),
  );
  log(`idle: ${idleCores.toFixed(3)} cores, ${(idle1.workingSetBytes / 2 ** 20).toFixed(1)} MiB`);
  if (o.warmupSeconds > 0) await level(1, o.warmupSeconds);

  const levels: CapacityLevel[] = [];
  for (const c of o.concurrency) {
    if (o.signal?.aborted) break;
    const before = await o.probe.usage();
    const r = await level(c, o.levelSeconds);
    const after = await o.probe.usage();
    const p = r.phases[0];
    if (!p || p.okay === 0) throw new Error(`concurrency ${c}: no successful response from ${url}`);
    const l: CapacityLevel = {
      concurrency: c,
      throughput: p.okay / p.elapsedSeconds,
      responseTime: p.responseTime,
      p95: p.p95,
      cpuSecondsPerRequest: Math.max(0, after.cpuSeconds - before.cpuSeconds) / p.okay,
      workingSetBytes: Math.max(before.workingSetBytes, after.workingSetBytes),
      requests: p.okay,
    };
    log(
      `c${c}: ${l.throughput.toFixed(1)} req/s, mean ${(1000 * l.responseTime).toFixed(1)} ms, ` +
        `${l.cpuSecondsPerRequest.toFixed(4)} CPU s/req, ${(l.workingSetBytes / 2 ** 20).toFixed(1)} MiB` +
        (p.failed > 0 ? `, ${p.failed} failed` : ""),
    );
    levels.push(l);
  }
  const startup = o.probe.startupSeconds ?? o.startupSeconds;
  const notes = [...o.probe.notes];
  if (o.probe.startupSeconds === undefined) {
    notes.push(
      startup === undefined
        ? "start-up not measured (replica already running): 0 recorded; pass --startup-seconds"
        : `start-up ${startup} s given with --startup-seconds, not measured`,
    );
  }
  return {
    kind: PROFILE_KIND,
    version: 1,
    source: "measured",
    description: `measured by strategy-bench capacity on ${o.probe.target}, ${o.cpuLimitCores} CPU${
      o.probe.effectiveCpuCores !== undefined && o.probe.effectiveCpuCores < o.cpuLimitCores
        ? ` limit (${o.probe.effectiveCpuCores} usable)`
        : ""
    }`,
    measuredAt: new Date().toISOString(),
    target: o.probe.target,
    limits: {
      cpu: Math.min(o.cpuLimitCores, o.probe.effectiveCpuCores ?? Number.POSITIVE_INFINITY),
      ...(o.memoryLimitBytes !== undefined ? { memoryBytes: o.memoryLimitBytes } : {}),
    },
    levels,
    idle: { cpuCores: idleCores, workingSetBytes: idle1.workingSetBytes },
    startupSeconds: startup ?? 0,
    notes,
  };
}
