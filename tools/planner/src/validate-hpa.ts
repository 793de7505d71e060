import { CONTAINER_NAME, hpaSpec, selectorLabels } from "../../../components/defaults.js";
import type { StackSettings } from "../../strategy-bench/src/index.js";
import { type Align, markdownTable, percentile } from "../../strategy-bench/src/index.js";
import {
  type CpuTracePoint,
  cell,
  type HpaReplayStep,
  hpaDecisionsForTrace,
  traceMillicoresAt,
} from "./hpa-replay.js";

/**
 * The pieces of `npm run validate:hpa` (scripts/e2e/hpa-validate.ts) that need no cluster: the
 * scripted CPU trace, the metrics.k8s.io/v1beta1 documents the harness serves from it, the
 * Deployment and HPA built from a stack, the parsing of kube-controller-manager's HPA log lines,
 * and the step-by-step comparison of the controller's decisions with the planner's
 * (`hpaDecisionsForTrace`; `replayHpaRun` does both sides for one run).
 */

/**
 * The trace both stacks are played against, in seconds after the HPA's first sync, read at the
 * metric's timestamp (the sync's time less {@link HPA_VALIDATION_METRIC_AGE_SECONDS}). Every step
 * sits half-way between two samples (15k − 5 + 7.5 s), so no sample is near a step: low → far
 * above target → just above target (within the 0.1 tolerance at 40 %, above it at 30 %) → below
 * target for longer than the 300 s scale-down window → a spike. It starts before the first sync,
 * since the first sync's sample is 5 s older than the sync.
 */
export const HPA_VALIDATION_TRACE: readonly CpuTracePoint[] = [
  { at: -60, millicoresPerPod: 200 },
  { at: 47.5, millicoresPerPod: 900 },
  { at: 167.5, millicoresPerPod: 420 },
  { at: 227.5, millicoresPerPod: 150 },
  { at: 542.5, millicoresPerPod: 1500 },
];
/**
 * The served sample's age: its timestamp is the request's second less 5 s (a metrics-server
 * sample is up to one resolution old). With kwok's pods Ready within the second of their
 * creation, a 0 s age would put the controller's "one full window since the Ready transition"
 * rule (window 15 s = the sync period) within a fraction of a second of the next sync; 5 s puts
 * it 5 s from any sync.
 */
export const HPA_VALIDATION_METRIC_AGE_SECONDS = 5;
export const HPA_VALIDATION_WINDOW_SECONDS = 15;
export const HPA_VALIDATION_SECONDS = 600;
/** The resource metrics API the harness serves in metrics-server's place: its group/version. */
export const METRICS_API = "metrics.k8s.io/v1beta1";

/** A pod as the metrics server sees it (from the API server's pod list). */
export interface MetricsPod {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  phase?: string;
  /** status.startTime, epoch ms. */
  startTimeMs?: number;
  containers: string[];
}

export interface PodMetricsOptions {
  pods: readonly MetricsPod[];
  /** When the request arrived, epoch ms. */
  nowMs: number;
  /** The trace's time 0 (the HPA's first sync), epoch ms; undefined: not yet (the first point's value). */
  traceZeroMs?: number;
  trace: readonly CpuTracePoint[];
  windowSeconds: number;
  /** The sample's timestamp is the request's second less this (default 0). */
  ageSeconds?: number;
  memoryBytes: number;
}

/** metav1.Time as the API serializes it: RFC 3339, whole seconds, UTC. */
export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * A PodMetricsList as metrics-server returns it: one item per Running pod started at or before
 * the sample's timestamp (the request time in whole seconds, as metav1.Time carries it, less
 * `ageSeconds`), window
 * `windowSeconds`, every container at the trace's usage at that timestamp (millicores) and
 * `memoryBytes`. Pods not Running, or started after the timestamp, have no metric (the HPA counts
 * them missing), as with a real metrics-server before its first scrape.
 */
export function renderPodMetricsList(o: PodMetricsOptions) {
  const tsMs = Math.floor(o.nowMs / 1000) * 1000 - (o.ageSeconds ?? 0) * 1000;
  const cpu =
    o.traceZeroMs === undefined
      ? (o.trace[0]?.millicoresPerPod ?? 0)
      : traceMillicoresAt(o.trace, (tsMs - o.traceZeroMs) / 1000);
  const items = o.pods
    .filter((p) => p.phase === "Running" && p.startTimeMs !== undefined && p.startTimeMs <= tsMs)
    .map((p) => ({
      metadata: {
        name: p.name,
        namespace: p.namespace,
        labels: p.labels ?? {},
        creationTimestamp: rfc3339Seconds(o.nowMs),
      },
      timestamp: rfc3339Seconds(tsMs),
      window: `${o.windowSeconds}s`,
      containers: p.containers.map((name) => ({
        name,
        usage: { cpu: `${cpu}m`, memory: `${Math.round(o.memoryBytes / 1024)}Ki` },
      })),
    }));
  return {
    kind: "PodMetricsList",
    apiVersion: METRICS_API,
    metadata: {},
    items,
  };
}

/** GET /apis/metrics.k8s.io/v1beta1 (the aggregator's and clients' discovery). */
export function metricsApiResourceList() {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: METRICS_API,
    resources: [
      {
        name: "nodes",
        singularName: "",
        namespaced: false,
        kind: "NodeMetrics",
        verbs: ["get", "list"],
      },
      {
        name: "pods",
        singularName: "",
        namespaced: true,
        kind: "PodMetrics",
        verbs: ["get", "list"],
      },
    ],
  };
}

/** GET /apis/metrics.k8s.io. */
export function metricsApiGroup() {
  const v = { groupVersion: METRICS_API, version: "v1beta1" };
  return {
    kind: "APIGroup",
    apiVersion: "v1",
    name: "metrics.k8s.io",
    versions: [v],
    preferredVersion: v,
  };
}

/**
 * The Deployment and the autoscaling/v2 HPA of a stack, as components/InferenceService.ts deploys
 * them where the HPA is concerned: the selector labels, the container's requests and limits, the
 * HPA's spec itself (components/defaults.ts `hpaSpec`: min/max, CPU target, and behavior,
 * Kubernetes' default policies with the stack's windows). The image is never run (kwok's fake
 * nodes make pods Running and Ready), and the probes are left out (kwok does not run them).
 */
export function validationObjects(settings: StackSettings, o: { namespace: string; name: string }) {
  const labels = selectorLabels(settings.stack);
  const a = settings.autoscaling;
  const r = settings.resources;
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: o.name, namespace: o.namespace, labels },
    spec: {
      replicas: a.minReplicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: CONTAINER_NAME,
              image: "registry.k8s.io/pause:3.10",
              resources: {
                requests: { cpu: r.requests.cpu, memory: r.requests.memory },
                limits: { cpu: r.limits.cpu, memory: r.limits.memory },
              },
            },
          ],
        },
      },
    },
  };
  const hpa = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: o.name, namespace: o.namespace, labels },
    // The spec components/InferenceService.ts deploys, from the same builder.
    spec: hpaSpec(a, o.name),
  };
  return { deployment, hpa };
}

/** One HPA line of kube-controller-manager's log (klog text, `--vmodule=horizontal=4`). */
export interface KcmHpaLogEntry {
  /** epoch ms */
  timeMs: number;
  kind: "proposal" | "rescaled" | "notScaled" | "error";
  /** "Deployment/<namespace>/<name>" */
  scaleTarget: string;
  desiredReplicas: number;
  currentReplicas?: number;
  reason?: string;
}

function kv(line: string, key: string): string | undefined {
  const m = new RegExp(`\\b${key}=("(?:[^"\\\\]|\\\\.)*"|[^ ]+)`).exec(line);
  if (!m?.[1]) return undefined;
  const v = m[1];
  return v.startsWith('"') ? (JSON.parse(v) as string) : v;
}

/**
 * The HPA controller's per-sync lines: "Proposing desired replicas" (the metric's proposal,
 * horizontal.go:907, V(4)), then "Successfully rescaled" (981) or "Decided not to scale" (1008,
 * V(4)), or the error that ended the sync ("failed to compute desired number of replicas …",
 * logged by HandleError). klog's header has no year: `year` supplies it (UTC, as on this machine).
 */
const FAILED =
  /failed to compute desired number of replicas based on listed metrics for ([^: ]+): (.*?)"?$/;

export function parseKcmHpaLog(text: string, year: number): KcmHpaLogEntry[] {
  const out: KcmHpaLogEntry[] = [];
  const head = /^[IWE](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6})/;
  for (const line of text.split("\n")) {
    const failed = FAILED.exec(line);
    const kind = line.includes('"Proposing desired replicas')
      ? "proposal"
      : line.includes('"Successfully rescaled"')
        ? "rescaled"
        : line.includes('"Decided not to scale"')
          ? "notScaled"
          : failed
            ? "error"
            : undefined;
    if (!kind) continue;
    const h = head.exec(line);
    if (!h) continue;
    const [, mo, d, hh, mi, ss, us] = h.map(Number) as number[];
    const timeMs =
      Date.UTC(year, (mo as number) - 1, d, hh, mi, ss) + Math.floor((us as number) / 1000);
    if (kind === "error") {
      out.push({
        timeMs,
        kind,
        scaleTarget: failed?.[1] as string,
        desiredReplicas: Number.NaN,
        reason: (failed?.[2] ?? "").replace(/\\"/g, '"'),
      });
      continue;
    }
    let scaleTarget = kv(line, "scaleTarget");
    if (kind === "rescaled") {
      // "Successfully rescaled" names the HPA (namespace/name); the harness names both the same.
      const hpa = kv(line, "HPA");
      if (hpa) scaleTarget = `Deployment/${hpa}`;
    }
    const desired = kv(line, "desiredReplicas");
    if (!scaleTarget || desired === undefined) continue;
    const current = kv(line, "currentReplicas");
    const reason = kv(line, "reason");
    out.push({
      timeMs,
      kind,
      scaleTarget,
      desiredReplicas: Number(desired),
      ...(current !== undefined ? { currentReplicas: Number(current) } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
  }
  return out;
}

/** One sync of the real controller, from its log. */
export interface ControllerSync {
  timeMs: number;
  /** The metric's proposal (metricDesiredReplicas); absent when the metric failed. */
  proposal?: number;
  /** What it wrote to the scale (= the current count when it did not rescale). */
  desiredReplicas: number;
  rescale: boolean;
  reason?: string;
}

/**
 * The syncs of one HPA: each proposal closed by its decision ("Decided not to scale" logs the
 * count it keeps), or a sync that failed (it keeps the current count: the previous decision's,
 * or `initialReplicas`).
 */
export function controllerSyncs(
  entries: readonly KcmHpaLogEntry[],
  scaleTarget: string,
  initialReplicas: number,
): ControllerSync[] {
  const syncs: ControllerSync[] = [];
  let pending: KcmHpaLogEntry | undefined;
  let current = initialReplicas;
  for (const e of entries) {
    if (e.scaleTarget !== scaleTarget) continue;
    if (e.kind === "proposal") {
      pending = e;
      continue;
    }
    const timeMs = pending?.timeMs ?? e.timeMs;
    const proposal = pending?.desiredReplicas;
    pending = undefined;
    if (e.kind === "error") {
      syncs.push({ timeMs, desiredReplicas: current, rescale: false, reason: e.reason ?? "" });
    } else {
      // A rescale keeps its reason; a sync that left the count keeps none.
      const rescale = e.kind === "rescaled";
      current = e.desiredReplicas;
      syncs.push({
        timeMs,
        ...(proposal !== undefined ? { proposal } : {}),
        desiredReplicas: e.desiredReplicas,
        rescale,
        ...(rescale && e.reason !== undefined ? { reason: e.reason } : {}),
      });
    }
  }
  return syncs;
}

/** What the controller's status showed after a sync (polled every second). */
export interface StatusSample {
  timeMs: number;
  desiredReplicas?: number;
  currentReplicas?: number;
  utilization?: number;
  lastScaleTimeMs?: number;
  conditions?: Record<string, string>;
}

export interface ComparisonRow {
  sync: number;
  /** Seconds after the first sync: the controller's and the planner's. */
  controllerT?: number;
  plannerT?: number;
  usage?: number;
  controllerProposal?: number;
  plannerProposal?: number;
  controllerUtilization?: number;
  plannerUtilization?: number;
  controllerDesired?: number;
  plannerDesired?: number;
  plannerReason?: string;
  controllerConditions?: string;
  equal: boolean;
}

export interface Rescale {
  sync: number;
  t: number;
  replicas: number;
}

export interface HpaComparison {
  rows: ComparisonRow[];
  controllerRescales: Rescale[];
  plannerRescales: Rescale[];
  /** Every sync's proposal and desired count equal, utilization too where the status showed it. */
  equal: boolean;
  mismatches: string[];
}

/**
 * Sync k of the controller against sync k of the planner (both counted from the first sync):
 * the proposal, the desired count, and the utilization the controller's status reported after
 * that sync (the last status sample before the next sync), then the rescales (sync, time,
 * replicas) of each.
 */
export function compareHpaDecisions(
  controller: readonly ControllerSync[],
  planner: readonly HpaReplayStep[],
  status: readonly StatusSample[] = [],
): HpaComparison {
  const t0 = controller[0]?.timeMs ?? 0;
  const n = Math.max(controller.length, planner.length);
  const rows: ComparisonRow[] = [];
  const mismatches: string[] = [];
  for (let k = 0; k < n; k++) {
    const c = controller[k];
    const p = planner[k];
    let st: StatusSample | undefined;
    if (c) {
      const next = controller[k + 1]?.timeMs ?? Number.POSITIVE_INFINITY;
      for (const s of status) if (s.timeMs > c.timeMs && s.timeMs < next) st = s;
    }
    const row: ComparisonRow = {
      sync: k,
      ...(c ? { controllerT: round3((c.timeMs - t0) / 1000) } : {}),
      ...(p ? { plannerT: round3(p.time), usage: p.traceMillicores } : {}),
      ...(c?.proposal !== undefined ? { controllerProposal: c.proposal } : {}),
      ...(p?.proposal !== undefined ? { plannerProposal: p.proposal } : {}),
      ...(st?.utilization !== undefined ? { controllerUtilization: st.utilization } : {}),
      ...(p?.utilization !== undefined ? { plannerUtilization: p.utilization } : {}),
      ...(c ? { controllerDesired: c.desiredReplicas } : {}),
      ...(p ? { plannerDesired: p.desiredReplicas, plannerReason: p.reason } : {}),
      ...(st?.conditions
        ? {
            controllerConditions: Object.entries(st.conditions)
              .map(([k2, v]) => `${k2}=${v}`)
              .join(" "),
          }
        : {}),
      equal: true,
    };
    const why: string[] = [];
    if (!c || !p) why.push(c ? "the planner has no such sync" : "the controller has no such sync");
    else {
      if (c.proposal !== p.proposal) why.push(`proposal ${c.proposal} vs ${p.proposal}`);
      if (c.desiredReplicas !== p.desiredReplicas)
        why.push(`desired ${c.desiredReplicas} vs ${p.desiredReplicas}`);
      if (
        st?.utilization !== undefined &&
        p.utilization !== undefined &&
        st.utilization !== p.utilization
      )
        why.push(`utilization ${st.utilization} vs ${p.utilization}`);
    }
    if (why.length > 0) {
      row.equal = false;
      mismatches.push(`sync ${k}: ${why.join(", ")}`);
    }
    rows.push(row);
  }
  const controllerRescales = controller.flatMap((c, k) =>
    c.rescale ? [{ sync: k, t: round3((c.timeMs - t0) / 1000), replicas: c.desiredReplicas }] : [],
  );
  const plannerRescales = planner.flatMap((p, k) =>
    p.rescale ? [{ sync: k, t: round3(p.time), replicas: p.desiredReplicas }] : [],
  );
  const sameRescales =
    controllerRescales.length === plannerRescales.length &&
    controllerRescales.every(
      (r, i) => r.sync === plannerRescales[i]?.sync && r.replicas === plannerRescales[i]?.replicas,
    );
  if (!sameRescales) mismatches.push("the rescales differ");
  return {
    rows,
    controllerRescales,
    plannerRescales,
    equal: mismatches.length === 0,
    mismatches,
  };
}

/** A pod of a real run, epoch ms: created by the API, its container started, Ready. */
export interface ObservedPod {
  createdMs?: number;
  startMs?: number;
  readyMs?: number;
}

/** One stack's run of `npm run validate:hpa` replayed by the planner (replayHpaRun). */
export interface HpaRunReplay {
  /** The controller's syncs within the trace (from 2 s before its time 0). */
  syncs: ControllerSync[];
  /** Their mean period, s (the planner's grid: 0 + k × it); `defaultPeriodSeconds` below 2 syncs. */
  periodSeconds: number;
  /** Pods the controller created (after the HPA). */
  created: number;
  /** How long kwok took to start each of those, and then to make it Ready, s. */
  startDelays: number[];
  readyDelays: number[];
  /** Their medians: the planner's pod start and Ready delays. */
  podStartSeconds: number;
  podReadySeconds: number;
  planner: HpaReplayStep[];
  /** The controller against the planner on the observed grid. */
  comparison: HpaComparison;
  /** The same with the planner's default grid (every 15 s exactly, as `plan --hpa-trace` runs). */
  nominal: HpaComparison;
}

/**
 * The planner's side of a validation run: the stack's HPA (`settings`, any scale-down override
 * applied) replayed on {@link HPA_VALIDATION_TRACE} with the sync phase and period the controller
 * showed and the pod delays measured, then compared sync by sync with the controller's log.
 */
export function replayHpaRun(o: {
  entries: readonly KcmHpaLogEntry[];
  /** `Deployment/<namespace>/<name>`, as the controller's log names it. */
  scaleTarget: string;
  settings: StackSettings;
  /** The controller's first metrics request (trace time 0) and the HPA's creation, epoch ms. */
  traceZeroMs: number;
  hpaCreatedMs: number;
  durationSeconds: number;
  pods: readonly ObservedPod[];
  status: readonly StatusSample[];
  defaultPeriodSeconds: number;
}): HpaRunReplay {
  const zero = o.traceZeroMs;
  const syncs = controllerSyncs(
    o.entries,
    o.scaleTarget,
    o.settings.autoscaling.minReplicas,
  ).filter((s) => s.timeMs >= zero - 2000 && s.timeMs < zero + o.durationSeconds * 1000);
  const first = syncs[0];
  const last = syncs[syncs.length - 1];
  const periodSeconds =
    first && last && syncs.length > 1
      ? (last.timeMs - first.timeMs) / 1000 / (syncs.length - 1)
      : o.defaultPeriodSeconds;
  const created = o.pods.filter((p) => (p.createdMs ?? 0) > o.hpaCreatedMs);
  // The lower median (the nearest-rank 50th percentile); 0 without a pod.
  const median = (xs: number[]) =>
    xs.length === 0
      ? 0
      : percentile(
          [...xs].sort((a, b) => a - b),
          50,
        );
  const startDelays = created.flatMap((p) =>
    p.startMs !== undefined && p.createdMs !== undefined ? [(p.startMs - p.createdMs) / 1000] : [],
  );
  const readyDelays = created.flatMap((p) =>
    p.readyMs !== undefined && p.startMs !== undefined ? [(p.readyMs - p.startMs) / 1000] : [],
  );
  const podStartSeconds = median(startDelays);
  const podReadySeconds = median(readyDelays);
  const replay = (controller?: { syncPeriodSeconds: number }) =>
    hpaDecisionsForTrace({
      hpa: o.settings,
      trace: HPA_VALIDATION_TRACE,
      durationSeconds: o.durationSeconds,
      podStartSeconds,
      podReadySeconds,
      metricWindowSeconds: HPA_VALIDATION_WINDOW_SECONDS,
      metricAgeSeconds: HPA_VALIDATION_METRIC_AGE_SECONDS,
      ...(controller ? { firstSyncSeconds: 0, controller } : {}),
    });
  const planner = replay({ syncPeriodSeconds: periodSeconds });
  return {
    syncs,
    periodSeconds,
    created: created.length,
    startDelays,
    readyDelays,
    podStartSeconds,
    podReadySeconds,
    planner,
    comparison: compareHpaDecisions(syncs, planner, o.status),
    nominal: compareHpaDecisions(syncs, replay(), o.status),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const RESCALE_COLUMNS =
  "rescale | sync | kube-controller-manager (t, replicas) | planner (t, replicas)";
const SYNC_COLUMNS =
  "sync | t controller / planner (s) | usage (m/pod) | utilization (%) controller / planner | proposal controller / planner | desired controller / planner | planner's reason | controller's conditions | equal";

/** The comparison as markdown: the rescales side by side, then every sync. */
export function hpaComparisonMarkdown(title: string, c: HpaComparison): string {
  const rescale = (r: Rescale | undefined) => (r ? `${r.t} s → ${r.replicas}` : "");
  const n = Math.max(c.controllerRescales.length, c.plannerRescales.length);
  const lines = [
    `### ${title}: ${c.equal ? "equal step for step" : "NOT equal"}`,
    "",
    ...markdownTable(
      RESCALE_COLUMNS.split(" | "),
      Array.from({ length: n }, (_, i) => {
        const a = c.controllerRescales[i];
        const b = c.plannerRescales[i];
        return [String(i + 1), cell(a?.sync ?? b?.sync), rescale(a), rescale(b)];
      }),
      { align: ["right", "right", "left", "left"] },
    ),
  ];
  lines.push(
    "",
    ...markdownTable(
      SYNC_COLUMNS.split(" | "),
      c.rows.map((r) => [
        String(r.sync),
        `${cell(r.controllerT)} / ${cell(r.plannerT)}`,
        cell(r.usage),
        `${cell(r.controllerUtilization)} / ${cell(r.plannerUtilization)}`,
        `${cell(r.controllerProposal)} / ${cell(r.plannerProposal)}`,
        `${cell(r.controllerDesired)} / ${cell(r.plannerDesired)}`,
        cell(r.plannerReason),
        cell(r.controllerConditions),
        r.equal ? "yes" : "**no**",
      ]),
      { align: [...Array<Align>(6).fill("right"), "left", "left", "left"] },
    ),
    "",
  );
  if (c.mismatches.length > 0) lines.push(...c.mismatches.map((m) => `- ${m}`), "");
  return lines.join("\n");
}
