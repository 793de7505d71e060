import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type MonitorColumns, type MonitorRow, monitorCsvLines } from "./monitor-csv.js";
import { CLOCK_TICKS, processTree, treeRssKB } from "./proc.js";
import { cpuCores, memoryKB, sumQuantities } from "./quantity.js";

export type Sampler = () => Promise<MonitorRow>;

// ---------------------------------------------------------------- Kubernetes

/** The parts of a v1 Pod the monitor reads. */
export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: unknown };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    containerStatuses?: ContainerStatusLike[];
  };
  spec?: {
    containers: {
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }[];
  };
}

/** The parts of a container status the cluster run reads (restarts, OOM kills). */
export interface ContainerStatusLike {
  name: string;
  restartCount?: number;
  lastState?: {
    terminated?: { reason?: string; exitCode?: number; finishedAt?: unknown; startedAt?: unknown };
  };
}

/** The pod's condition `type` when it is `status` (and has `reason`, when given); else undefined. */
export function podCondition<C extends { type: string; status: string; reason?: string }>(
  p: { status?: { conditions?: C[] } },
  type: string,
  status = "True",
  reason?: string,
): C | undefined {
  return p.status?.conditions?.find(
    (c) => c.type === type && c.status === status && (reason === undefined || c.reason === reason),
  );
}

/** The parts of a metrics.k8s.io/v1beta1 PodMetrics the monitor reads. */
export interface PodMetricLike {
  metadata: { name: string };
  containers: { usage: { cpu: string; memory: string } }[];
}

/**
 * One row from a pod list and the namespace's pod metrics: replicas are the pods that are Pending
 * or Running; requests and limits are summed over their containers; usage over the same pods
 * (NaN when there are no metrics, or none yet for any live pod).
 */
export function summarizePods(
  time: string,
  pods: PodLike[],
  metrics: PodMetricLike[] | undefined,
): MonitorRow {
  const live = pods.filter(
    (p) => (p.status?.phase === "Running" || p.status?.phase === "Pending") && p.metadata?.name,
  );
  const containers = live.flatMap((p) => p.spec?.containers ?? []);
  const req = (k: string) => containers.map((c) => c.resources?.requests?.[k]);
  const lim = (k: string) => containers.map((c) => c.resources?.limits?.[k]);
  const names = new Set(live.map((p) => p.metadata?.name));
  const measured = metrics?.filter((m) => names.has(m.metadata.name));
  // Unknown (NaN), not 0, while no live pod has metrics yet (metrics-server reports a new pod
  // after its first scrape, up to a resolution later): 0 would read as an idle pod.
  const used =
    measured && (measured.length > 0 || live.length === 0)
      ? measured.flatMap((m) => m.containers.map((c) => c.usage))
      : undefined;
  const usage = (k: "cpu" | "memory", parse: (q: string) => number) =>
    used
      ? sumQuantities(
          used.map((u) => u[k]),
          parse,
        )
      : Number.NaN;
  return {
    time,
    replicas: live.length,
    cpuRequested: sumQuantities(req("cpu"), cpuCores),
    memRequestedKB: sumQuantities(req("memory"), memoryKB),
    cpuLimit: sumQuantities(lim("cpu"), cpuCores),
    memLimitKB: sumQuantities(lim("memory"), memoryKB),
    cpuUsed: usage("cpu", cpuCores),
    memUsedKB: usage("memory", memoryKB),
    readyReplicas: live.filter((p) => podCondition(p, "Ready")).length,
    pendingReplicas: live.filter((p) => p.status?.phase === "Pending").length,
    // The scheduler could not place the pod.
    unschedulableReplicas: live.filter((p) =>
      podCondition(p, "PodScheduled", "False", "Unschedulable"),
    ).length,
    restarts: live
      .flatMap((p) => p.status?.containerStatuses ?? [])
      .reduce((a, c) => a + (c.restartCount ?? 0), 0),
  };
}

export interface KubernetesTarget {
  namespace: string;
  labelSelector: string;
  /** A kubeconfig file; default: as kubectl finds it (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  context?: string;
  onWarning?: (message: string) => void;
  /** Every sample's pod list (the cluster run follows restarts and OOM kills through it). */
  onPods?: (pods: PodLike[], time: string) => void;
}

export async function kubernetesSampler(t: KubernetesTarget): Promise<Sampler> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  if (t.kubeconfig) kc.loadFromFile(t.kubeconfig);
  else {
    kc.loadFromDefault();
    // With nothing found, the client falls back to an unauthenticated http://localhost:8080.
    const cluster = kc.getCurrentCluster();
    if (cluster?.name === "cluster" && cluster.server === "http://localhost:8080") {
      throw new Error(
        "no kubeconfig found (KUBECONFIG, ~/.kube/config, in-cluster service account): " +
          "give --kubeconfig, or sample a local server with --local-pid/--local-url",
      );
    }
  }
  if (t.context) kc.setCurrentContext(t.context);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const metricsApi = new k8s.Metrics(kc);
  let warned = false;
  return async () => {
    const time = new Date().toISOString();
    const pods = await core.listNamespacedPod({
      namespace: t.namespace,
      labelSelector: t.labelSelector,
    });
    let metrics: PodMetricLike[] | undefined;
    try {
      metrics = (await metricsApi.getPodMetrics(t.namespace)).items;
    } catch (err) {
      if (!warned) {
        warned = true;
        t.onWarning?.(
          `metrics.k8s.io unavailable (${(err as Error).message}); usage columns left empty`,
        );
      }
    }
    t.onPods?.(pods.items as PodLike[], time);
    return summarizePods(time, pods.items as PodLike[], metrics);
  };
}

// ---------------------------------------------------------------- local process

/** Requests and limits for a local run: those of one replica of the stack being imitated. */
export type LocalBudget = Pick<
  MonitorRow,
  "cpuRequested" | "memRequestedKB" | "cpuLimit" | "memLimitKB"
>;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Sample a local server process tree like one pod: replicas 1 while it lives (0 after), requests
 * and limits from the stack, CPU used = CPU seconds consumed since the last sample / wall seconds,
 * memory used = summed RSS (KB).
 */
export function localSampler(pid: number, budget: LocalBudget): Sampler {
  let last: { at: number; ticks: Map<number, number> } | undefined;
  return async () => {
    const at = Date.now();
    const tree = await processTree(pid);
    const ticks = new Map(tree.map((s) => [s.pid, s.ticks]));
    let cpuUsed = Number.NaN;
    if (last && at > last.at) {
      let delta = 0;
      for (const [p, t] of ticks) delta += t - (last.ticks.get(p) ?? 0);
      cpuUsed = Math.max(0, delta / CLOCK_TICKS / ((at - last.at) / 1000));
    }
    last = { at, ticks };
    const rss = await treeRssKB(tree);
    const up = tree.length > 0 ? 1 : 0;
    return {
      time: new Date(at).toISOString(),
      replicas: up,
      cpuRequested: budget.cpuRequested * up,
      memRequestedKB: budget.memRequestedKB * up,
      cpuLimit: budget.cpuLimit * up,
      memLimitKB: budget.memLimitKB * up,
      cpuUsed: up ? cpuUsed : 0,
      memUsedKB: rss,
    };
  };
}

// ---------------------------------------------------------------- loop

export interface MonitorOptions {
  sample: Sampler;
  intervalSeconds: number;
  /** Stop after this long; default: until another condition stops it. */
  durationSeconds?: number;
  /** Stop when this process is gone. */
  untilPid?: number;
  /** Stop after this many samples (failed ones included). */
  maxSamples?: number;
  /** CSV written row by row (so an interrupted run keeps its rows). */
  out?: string;
  /** "extended": the original's columns, then EXTENDED_MONITOR_COLUMNS (a cluster's pods). */
  columns?: MonitorColumns;
  signal?: AbortSignal;
  onError?: (err: Error) => void;
}

/** Sample every interval until duration, pid exit, sample count or signal; never forever. */
export async function runMonitor(opts: MonitorOptions): Promise<MonitorRow[]> {
  if (opts.durationSeconds === undefined && opts.untilPid === undefined && !opts.maxSamples) {
    if (!opts.signal) throw new Error("monitor needs --duration, --until-pid or a sample limit");
  }
  const rows: MonitorRow[] = [];
  if (opts.out) {
    // Like loadtest and accuracy: the output folder is made if missing.
    await mkdir(dirname(resolve(opts.out)), { recursive: true });
    await writeFile(opts.out, monitorCsvLines([], true, opts.columns));
  }
  const start = Date.now();
  const end = opts.durationSeconds === undefined ? Infinity : start + opts.durationSeconds * 1000;
  let next = start;
  let attempts = 0;
  while (!opts.signal?.aborted) {
    if (opts.untilPid !== undefined && !isAlive(opts.untilPid)) break;
    try {
      const row = await opts.sample();
      rows.push(row);
      if (opts.out) await appendFile(opts.out, monitorCsvLines([row], false, opts.columns));
    } catch (err) {
      opts.onError?.(err as Error);
    }
    attempts++;
    if (opts.maxSamples && attempts >= opts.maxSamples) break;
    next += opts.intervalSeconds * 1000;
    if (next > end) break;
    const wait = next - Date.now();
    if (wait > 0) {
      try {
        await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : undefined);
      } catch {
        break;
      }
    }
  }
  return rows;
}
