/**
 * The pure parts of the cluster run (cluster-run.ts): one consistent set of settings for a
 * schedule shortened by a factor f (the HPA's controller-manager flags, metrics-server's
 * resolution, the stack's stabilization windows and probe periods, the monitor's interval), the
 * flags a running cluster has, what a stack's pods fit on the node by requests, and the events
 * that matter, in time order.
 */
import type { StackSettings } from "../../../stacks/index.js";
import type { PodLike } from "./monitor.js";
import { cpuCores, memoryKB } from "./quantity.js";

/** kube-controller-manager's HPA flags and their defaults (seconds; tolerance is a ratio). */
export const HPA_FLAGS = {
  syncPeriod: {
    flag: "horizontal-pod-autoscaler-sync-period",
    seconds: 15,
    label: "HPA sync period",
  },
  cpuInitializationPeriod: {
    flag: "horizontal-pod-autoscaler-cpu-initialization-period",
    seconds: 300,
    label: "HPA CPU initialization period",
  },
  initialReadinessDelay: {
    flag: "horizontal-pod-autoscaler-initial-readiness-delay",
    seconds: 30,
    label: "HPA initial readiness delay",
  },
  downscaleStabilization: {
    flag: "horizontal-pod-autoscaler-downscale-stabilization",
    seconds: 300,
    label: "HPA default downscale stabilization",
  },
} as const;
/** HPA_FLAGS as [key, flag] pairs, typed. */
const HPA_FLAG_ENTRIES = Object.entries(HPA_FLAGS) as [
  keyof typeof HPA_FLAGS,
  (typeof HPA_FLAGS)[keyof typeof HPA_FLAGS],
][];
const HPA_TOLERANCE_FLAG = "horizontal-pod-autoscaler-tolerance";
export const HPA_TOLERANCE_DEFAULT = 0.1;
/** metrics-server's default --metric-resolution, and the least it runs with: options.go wants resolution x 0.9 >= its kubelet request timeout (10 s), so 12 s in whole seconds. */
export const METRIC_RESOLUTION_DEFAULT = 15;
const METRIC_RESOLUTION_MIN = 12;
/** The monitor's interval of the original recipe. */
export const MONITOR_INTERVAL = 5;

/** Seconds as a Go duration flag value: "15s", "750ms". */
export function goDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A Go duration ("1m30s", "750ms", "15s", "2h") in seconds; NaN if not one. */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = {
    h: 3600,
    m: 60,
    s: 1,
    ms: 1e-3,
    us: 1e-6,
    µs: 1e-6,
    ns: 1e-9,
  };
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return pos === text.length && text.length > 0 ? total : text === "0" ? 0 : Number.NaN;
}

const s1 = (n: number) => `${Number(n.toFixed(3))} s`;

/** The cluster-wide part: controller-manager flags and metrics-server's resolution. */
export interface ClusterTimeScaling {
  factor: number;
  fullLength: boolean;
  /** FOOD11_KCM_ARGS for `cluster up` (empty at full length: the defaults). */
  kcmArgs: string[];
  /** Wanted value of each HPA flag, seconds (tolerance as a ratio). */
  hpa: Record<keyof typeof HPA_FLAGS, number> & { tolerance: number };
  /** FOOD11_METRIC_RESOLUTION, seconds. */
  metricResolutionSeconds: number;
  monitorIntervalSeconds: number;
  /** "HPA sync period 15 s → 3 s" lines for the report's header. */
  lines: string[];
  warnings: string[];
}

export function clusterTimeScaling(f: number): ClusterTimeScaling {
  if (!(f > 0 && f <= 1)) {
    throw new Error(`--time-scale ${f}: a cluster run takes 0 < f <= 1 (1 = the full 30 minutes)`);
  }
  const lines: string[] = [];
  const warnings: string[] = [];
  const kcmArgs: string[] = [];
  const hpa = { tolerance: HPA_TOLERANCE_DEFAULT } as ClusterTimeScaling["hpa"];
  for (const [key, d] of HPA_FLAG_ENTRIES) {
    let v = d.seconds * f;
    if (v < 1) {
      warnings.push(
        `${d.label}: ${d.seconds} s × ${f} = ${s1(v)} is below 1 s: clamped to 1 s (slower than the scaled schedule)`,
      );
      v = 1;
    }
    hpa[key] = v;
    if (f !== 1) kcmArgs.push(`--${d.flag}=${goDuration(v)}`);
    lines.push(
      `${d.label} ${d.seconds} s → ${s1(v)}${f !== 1 ? ` (--${d.flag}=${goDuration(v)})` : ""}`,
    );
  }
  if (f !== 1) kcmArgs.push(`--${HPA_TOLERANCE_FLAG}=${HPA_TOLERANCE_DEFAULT}`);
  lines.push(
    `HPA tolerance ${HPA_TOLERANCE_DEFAULT} → ${HPA_TOLERANCE_DEFAULT} (a ratio of utilizations: not a time, not scaled)`,
  );
  let res = METRIC_RESOLUTION_DEFAULT * f;
  if (res < METRIC_RESOLUTION_MIN) {
    warnings.push(
      `metrics-server resolution: ${METRIC_RESOLUTION_DEFAULT} s × ${f} = ${s1(res)} is below the ${METRIC_RESOLUTION_MIN} s ` +
        `metrics-server runs with (0.9 x resolution >= its 10 s kubelet request timeout): clamped to ${METRIC_RESOLUTION_MIN} s, so CPU readings lag the scaled schedule ` +
        `(${METRIC_RESOLUTION_MIN} s is ${s1(METRIC_RESOLUTION_MIN / f)} at full length)`,
    );
    res = METRIC_RESOLUTION_MIN;
  }
  res = Math.round(res);
  lines.push(`metrics-server resolution ${METRIC_RESOLUTION_DEFAULT} s → ${res} s`);
  const monitor = Math.max(1, MONITOR_INTERVAL * f);
  if (MONITOR_INTERVAL * f < 1) {
    warnings.push(`monitor interval: ${MONITOR_INTERVAL} s × ${f} is below 1 s: sampled every 1 s`);
  }
  lines.push(`monitor interval ${MONITOR_INTERVAL} s → ${s1(monitor)}`);
  return {
    factor: f,
    fullLength: f === 1,
    kcmArgs,
    hpa,
    metricResolutionSeconds: res,
    monitorIntervalSeconds: monitor,
    lines,
    warnings,
  };
}

/** The stack's part: overrides written into the run's stack config. */
export interface StackTimeScaling {
  /** `food11:<key>` → value, given to `pulumi up` as config. */
  config: Record<string, string>;
  lines: string[];
  warnings: string[];
}

/**
 * Stabilization windows and probe periods × f. Kubernetes takes integer seconds (periods ≥ 1):
 * rounded, clamped to 1 with a warning. The startup probe's failureThreshold grows so that its
 * budget (period × threshold, the time the server gets to load its model) stays in real seconds:
 * starting a pod is not faster because the schedule is shorter. Readiness/liveness failure
 * thresholds stay: their detection time scales with the period.
 */
export function stackTimeScaling(f: number, s: StackSettings): StackTimeScaling {
  const config: Record<string, string> = {};
  const lines: string[] = [];
  const warnings: string[] = [];
  if (f === 1)
    return { config, lines: ["full length: the stack's own windows and probe periods"], warnings };
  const scaled = (key: string, label: string, v: number, min: number) => {
    const exact = v * f;
    let r = Math.round(exact);
    if (r < min) {
      warnings.push(
        `${label}: ${v} s × ${f} = ${s1(exact)} rounds below ${min} s: clamped to ${min} s`,
      );
      r = min;
    } else if (r !== exact) {
      lines.push(`${label} ${v} s → ${r} s (${s1(exact)} rounded: Kubernetes takes whole seconds)`);
    } else lines.push(`${label} ${v} s → ${r} s`);
    config[`food11:${key}`] = String(r);
    return r;
  };
  const a = s.autoscaling;
  const p = s.probes;
  scaled(
    "scaleUpStabilizationSeconds",
    "HPA scale-up stabilization",
    a.scaleUpStabilizationSeconds,
    0,
  );
  scaled(
    "scaleDownStabilizationSeconds",
    "HPA scale-down stabilization",
    a.scaleDownStabilizationSeconds,
    a.scaleDownStabilizationSeconds > 0 ? 1 : 0,
  );
  scaled("readinessPeriodSeconds", "readiness probe period", p.readiness.periodSeconds, 1);
  scaled("livenessPeriodSeconds", "liveness probe period", p.liveness.periodSeconds, 1);
  const startup = scaled(
    "startupPeriodSeconds",
    "startup probe period",
    p.startup.periodSeconds,
    1,
  );
  const budget = p.startup.periodSeconds * p.startup.failureThreshold;
  const threshold = Math.ceil(budget / startup);
  config["food11:startupFailureThreshold"] = String(threshold);
  lines.push(
    `startup probe failureThreshold ${p.startup.failureThreshold} → ${threshold} (keeps the ${budget} s the server gets to start: a real time, not scaled)`,
  );
  lines.push(
    `readiness successThreshold ${p.readiness.successThreshold} × period: a new pod takes traffic after ` +
      `${p.readiness.successThreshold * p.readiness.periodSeconds} s → ${p.readiness.successThreshold * Number(config["food11:readinessPeriodSeconds"])} s`,
  );
  return { config, lines, warnings };
}

// ---------------------------------------------------------------- the running cluster's flags

export interface RunningFlags {
  /** HPA flag values in seconds (tolerance as a ratio); absent = the default. */
  hpa: Partial<Record<keyof typeof HPA_FLAGS | "tolerance", number>>;
  metricResolutionSeconds: number;
  /** Where the values came from ("/proc/<pid>/cmdline", the record file). */
  source: string;
}

/** `--name=value` or `--name value` of an argv. */
function flagValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** The HPA flags and metrics-server's resolution from their command lines. */
export function flagsFromArgv(
  kcm: string[],
  metricsServer: string[],
  source: string,
): RunningFlags {
  const hpa: RunningFlags["hpa"] = {};
  for (const [key, d] of HPA_FLAG_ENTRIES) {
    const v = flagValue(kcm, d.flag);
    if (v !== undefined) hpa[key] = parseGoDuration(v);
  }
  const tol = flagValue(kcm, HPA_TOLERANCE_FLAG);
  if (tol !== undefined) hpa.tolerance = Number(tol);
  const res = flagValue(metricsServer, "metric-resolution");
  return {
    hpa,
    metricResolutionSeconds: res === undefined ? 60 : parseGoDuration(res),
    source,
  };
}

/** The record `cluster up` writes (cluster-flags.env: FOOD11_KCM_ARGS=..., FOOD11_METRIC_RESOLUTION=...). */
export function flagsFromRecord(text: string, source: string): RunningFlags {
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const kcm = get("FOOD11_KCM_ARGS").split(/\s+/).filter(Boolean);
  const res = get("FOOD11_METRIC_RESOLUTION") || `${METRIC_RESOLUTION_DEFAULT}s`;
  return flagsFromArgv(kcm, ["--metric-resolution", res], source);
}

/** The differences between what a run wants and what the cluster runs with; [] = it fits. */
export function flagDifferences(want: ClusterTimeScaling, have: RunningFlags): string[] {
  const out: string[] = [];
  const same = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  for (const [key, d] of HPA_FLAG_ENTRIES) {
    const h = have.hpa[key] ?? d.seconds;
    if (!same(h, want.hpa[key]))
      out.push(`--${d.flag}: running ${s1(h)}, wanted ${s1(want.hpa[key])}`);
  }
  const tol = have.hpa.tolerance ?? HPA_TOLERANCE_DEFAULT;
  if (!same(tol, want.hpa.tolerance))
    out.push(`--${HPA_TOLERANCE_FLAG}: running ${tol}, wanted ${want.hpa.tolerance}`);
  if (!same(have.metricResolutionSeconds, want.metricResolutionSeconds)) {
    out.push(
      `metrics-server --metric-resolution: running ${s1(have.metricResolutionSeconds)}, wanted ${s1(want.metricResolutionSeconds)}`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- capacity

export interface NodeCapacity {
  name: string;
  cpuCores: number;
  memoryKB: number;
}

export interface StackFit {
  byCpu: number;
  byMemory: number;
  /** Pods that fit by both, capped by maxReplicas. */
  fit: number;
  maxReplicas: number;
  cpuLimitExceedsNode: boolean;
  text: string;
}

/** How many of a stack's pods the node fits by requests, and whether its limits.cpu exceeds it. */
export function stackFit(node: NodeCapacity, s: StackSettings): StackFit {
  const reqCpu = cpuCores(s.resources.requests.cpu);
  const reqMem = memoryKB(s.resources.requests.memory);
  const limCpu = cpuCores(s.resources.limits.cpu);
  const byCpu = Math.floor(node.cpuCores / reqCpu + 1e-9);
  const byMemory = Math.floor(node.memoryKB / reqMem + 1e-9);
  const max = s.autoscaling.maxReplicas;
  const fit = Math.min(byCpu, byMemory, max);
  const gib = (kb: number) => `${Number((kb / 1024 ** 2).toFixed(1))} GiB`;
  const parts = [
    `${byCpu} by CPU (${node.cpuCores} cores / requests.cpu ${s.resources.requests.cpu})`,
    `${byMemory} by memory (${gib(node.memoryKB)} / requests.memory ${s.resources.requests.memory})`,
  ];
  let text = `${fit} of maxReplicas ${max} fit on ${node.name}: ${parts.join(", ")}`;
  if (fit < max) text += `; replica ${fit + 1} and above stay Pending (Unschedulable)`;
  const cpuLimitExceedsNode = limCpu > node.cpuCores;
  if (cpuLimitExceedsNode) {
    text += `; limits.cpu ${s.resources.limits.cpu} exceeds the node's ${node.cpuCores} cores: a pod can never use its limit`;
  }
  return { byCpu, byMemory, fit, maxReplicas: max, cpuLimitExceedsNode, text };
}

// ---------------------------------------------------------------- events

/** The parts of a core/v1 Event read here. */
export interface EventLike {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  involvedObject?: { kind?: string; name?: string };
  firstTimestamp?: unknown;
  lastTimestamp?: unknown;
  eventTime?: unknown;
  metadata?: { creationTimestamp?: unknown };
}

export type TimelineKind =
  | "scale-up"
  | "scale-down"
  | "unschedulable"
  | "oom-kill"
  | "probe-failure"
  | "restart"
  | "metrics-missing";

export interface TimelineEntry {
  time: string;
  /** Seconds since the load test started (negative: before it). */
  t: number;
  kind: TimelineKind;
  reason: string;
  object: string;
  message: string;
  count: number;
}

/** How many events of `kind` a run's timeline holds (each entry's count summed). */
export function eventCount(events: readonly TimelineEntry[], kind: TimelineKind): number {
  return events.reduce((n, e) => n + (e.kind === kind ? e.count : 0), 0);
}

function isoOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isFinite(d.getTime()) ? d.toISOString() : undefined;
}

/** What kind of event that matters this is, or undefined for the routine ones. */
export function classifyEvent(e: EventLike): TimelineKind | undefined {
  const reason = e.reason ?? "";
  const msg = e.message ?? "";
  if (reason === "SuccessfulRescale") {
    if (/below target/i.test(msg)) return "scale-down";
    return "scale-up";
  }
  if (reason === "FailedScheduling") return "unschedulable";
  if (reason === "OOMKilling" || /OOMKilled/.test(msg)) return "oom-kill";
  if (reason === "Unhealthy") return "probe-failure";
  if (reason === "BackOff" && /restarting failed container/i.test(msg)) return "restart";
  if (reason === "FailedGetResourceMetric" || reason === "FailedComputeMetricsReplicas") {
    return "metrics-missing";
  }
  return undefined;
}

/** The events that matter, each with its time (last seen) and seconds since `t0`. */
export function eventTimeline(events: EventLike[], t0: number): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const e of events) {
    const kind = classifyEvent(e);
    if (!kind) continue;
    const time =
      isoOf(e.lastTimestamp) ??
      isoOf(e.eventTime) ??
      isoOf(e.firstTimestamp) ??
      isoOf(e.metadata?.creationTimestamp);
    if (!time) continue;
    out.push({
      time,
      t: (Date.parse(time) - t0) / 1000,
      kind,
      reason: e.reason ?? "",
      object: `${e.involvedObject?.kind ?? ""}/${e.involvedObject?.name ?? ""}`,
      message: (e.message ?? "").replace(/\s+/g, " ").trim(),
      count: e.count ?? 1,
    });
  }
  return sortTimeline(out);
}

export function sortTimeline(entries: TimelineEntry[]): TimelineEntry[] {
  return [...entries].sort((a, b) => a.time.localeCompare(b.time) || a.kind.localeCompare(b.kind));
}

/**
 * Follows the pods the monitor lists: every container restart seen (restartCount going up) is an
 * entry, "oom-kill" when the container's last termination was OOMKilled. Pods deleted between
 * samples take their restarts with them; events (BackOff, OOMKilling) cover those.
 */
export class PodRestarts {
  private readonly seen = new Map<string, number>();
  readonly entries: TimelineEntry[] = [];
  constructor(private readonly t0: () => number) {}

  observe(pods: PodLike[], sampleTime: string): void {
    for (const p of pods) {
      const pod = p.metadata?.name ?? "";
      for (const c of p.status?.containerStatuses ?? []) {
        const key = `${pod}/${c.name}`;
        const n = c.restartCount ?? 0;
        const before = this.seen.get(key) ?? 0;
        this.seen.set(key, Math.max(before, n));
        if (n <= before) continue;
        const term = c.lastState?.terminated;
        const time = isoOf(term?.finishedAt) ?? sampleTime;
        const oom = term?.reason === "OOMKilled";
        this.entries.push({
          time,
          t: (Date.parse(time) - this.t0()) / 1000,
          kind: oom ? "oom-kill" : "restart",
          reason: term?.reason ?? "Restarted",
          object: `Pod/${pod}`,
          message:
            `container ${c.name} restarted (restartCount ${n})` +
            (term
              ? `: last terminated ${term.reason ?? "?"}, exit code ${term.exitCode ?? "?"}`
              : ""),
          count: n - before,
        });
      }
    }
  }
}
