import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { cpuMillicores } from "../../../components/quantity.js";
import type { StackSettings } from "../../strategy-bench/src/index.js";
import {
  type Align,
  METRIC_RESOLUTION_DEFAULT,
  markdownTable,
  notAFileMessage,
} from "../../strategy-bench/src/index.js";
import {
  CONTROLLER_DEFAULTS,
  type ControllerConfig,
  HorizontalController,
  type HpaDecision,
  type HpaPod,
  type HpaSpec,
  hpaSpecFromStack,
  type PodMetric,
} from "./hpa.js";
import { WARM_START } from "./simulate.js";

/**
 * The HPA alone against a scripted CPU-usage trace, for step-by-step comparison with the real
 * kube-controller-manager (on the loopback control plane, with the same usage supplied to the
 * metrics API): pods appear when the controller scales (Running after `podStartSeconds`, Ready
 * `podReadySeconds` later, as kwok's fake nodes make them), each pod reports the trace's usage,
 * and every sync's decision is returned.
 */

/** millicores per pod from `at` seconds on, until the next point (a step function). */
export interface CpuTracePoint {
  at: number;
  millicoresPerPod: number;
}

/** A trace as points, or as a function of time and the pod's 0-based index (oldest first). */
export type CpuTrace = readonly CpuTracePoint[] | ((t: number, podIndex: number) => number);

export interface HpaReplayOptions {
  /** The stack whose HPA is replayed (its deployed HPA), or an HPA spec directly. */
  hpa: StackSettings | HpaSpec;
  trace: CpuTrace;
  /** Syncs at first, first + period, … while < durationSeconds. */
  durationSeconds: number;
  firstSyncSeconds?: number;
  /** Replicas at time 0 (default minReplicas), all started and Ready long before. */
  initialReplicas?: number;
  /** requests.cpu in millicores (default: the stack's; 1000 for a bare spec). */
  cpuRequestMilli?: number;
  controller?: Partial<ControllerConfig>;
  /** A created pod is Running this long after the scale-up (default 0). */
  podStartSeconds?: number;
  /** …and Ready this long after it is Running (default 0). */
  podReadySeconds?: number;
  /**
   * The metric's window and its age at the sync (defaults 15 s, metrics-server's resolution, and
   * 0 s).
   */
  metricWindowSeconds?: number;
  metricAgeSeconds?: number;
}

export interface HpaReplayStep extends HpaDecision {
  /** Pods that exist at the sync (not yet deleted). */
  pods: number;
  /** The per-pod usage the trace gave at the sync (millicores of the first pod). */
  traceMillicores: number;
}

/** The trace's value at t: a step function, 0 before its first point. */
export function traceMillicoresAt(trace: readonly CpuTracePoint[], t: number): number {
  let v = 0;
  for (const p of trace) if (p.at <= t) v = p.millicoresPerPod;
  return v;
}

function traceValue(trace: CpuTrace, t: number, podIndex: number): number {
  return typeof trace === "function" ? trace(t, podIndex) : traceMillicoresAt(trace, t);
}

function isSpec(x: StackSettings | HpaSpec): x is HpaSpec {
  return "targetUtilization" in x;
}

/** Every sync's decision for a scripted usage trace: what the validation compares. */
export function hpaDecisionsForTrace(o: HpaReplayOptions): HpaReplayStep[] {
  const spec = isSpec(o.hpa) ? o.hpa : hpaSpecFromStack(o.hpa);
  const request =
    o.cpuRequestMilli ?? (isSpec(o.hpa) ? 1000 : cpuMillicores(o.hpa.resources.requests.cpu));
  const cfg: ControllerConfig = { ...CONTROLLER_DEFAULTS, ...o.controller };
  const controller = new HorizontalController(spec, cfg);
  const start = o.podStartSeconds ?? 0;
  const readyAfter = o.podReadySeconds ?? 0;
  const window = o.metricWindowSeconds ?? METRIC_RESOLUTION_DEFAULT;
  const age = o.metricAgeSeconds ?? 0;
  interface Pod {
    name: string;
    createdAt: number;
  }
  let seq = 0;
  const pods: Pod[] = [];
  const add = (at: number) => pods.push({ name: `pod-${++seq}`, createdAt: at });
  const initial = o.initialReplicas ?? spec.minReplicas;
  for (let i = 0; i < initial; i++) add(WARM_START);
  let replicas = initial;
  const steps: HpaReplayStep[] = [];
  for (let t = o.firstSyncSeconds ?? 0; t < o.durationSeconds; t = t + cfg.syncPeriodSeconds) {
    const hpaPods: HpaPod[] = [];
    const metrics = new Map<string, PodMetric>();
    pods.forEach((p, i) => {
      const runningAt = p.createdAt + start;
      const readyAt = runningAt + readyAfter;
      if (t < runningAt) {
        hpaPods.push({ name: p.name, phase: "Pending", cpuRequestMilli: request });
        return;
      }
      hpaPods.push({
        name: p.name,
        phase: "Running",
        cpuRequestMilli: request,
        startTime: runningAt,
        ready:
          t >= readyAt
            ? { status: true, lastTransitionTime: readyAt }
            : { status: false, lastTransitionTime: runningAt },
      });
      const ts = t - age;
      if (ts >= runningAt) {
        metrics.set(p.name, {
          valueMilli: traceValue(o.trace, ts, i),
          timestamp: ts,
          windowSeconds: window,
        });
      }
    });
    const d = controller.reconcile(t, replicas, hpaPods, metrics);
    steps.push({ ...d, pods: pods.length, traceMillicores: traceValue(o.trace, t - age, 0) });
    if (d.rescale) {
      for (let i = pods.length; i < d.desiredReplicas; i++) add(t);
      // The ReplicaSet deletes the newest (least long ready) first.
      if (pods.length > d.desiredReplicas) pods.splice(d.desiredReplicas);
      replicas = d.desiredReplicas;
    }
  }
  return steps;
}

/** A trace file (YAML or JSON) for `plan --hpa-trace`: the replay's options without the stack. */
const hpaTraceFileSchema = z
  .object({
    trace: z
      .array(z.object({ at: z.number().min(0), millicoresPerPod: z.number().min(0) }).strict())
      .min(1),
    durationSeconds: z.number().positive(),
    firstSyncSeconds: z.number().min(0).optional(),
    initialReplicas: z.number().int().positive().optional(),
    podStartSeconds: z.number().min(0).optional(),
    podReadySeconds: z.number().min(0).optional(),
    metricWindowSeconds: z.number().positive().optional(),
    metricAgeSeconds: z.number().min(0).optional(),
  })
  .strict();

export async function readHpaTraceFile(
  file: string,
): Promise<Omit<HpaReplayOptions, "hpa" | "controller">> {
  const raw = parseYaml(await readFile(file, "utf8"));
  const r = hpaTraceFileSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(
      notAFileMessage(
        file,
        "an HPA trace",
        r.error,
        "{ trace: [{ at: 0, millicoresPerPod: 200 }, { at: 60, millicoresPerPod: 900 }], durationSeconds: 600 }",
      ),
    );
  }
  const { trace, ...rest } = r.data;
  return { trace, ...rest };
}

const STEP_COLUMNS =
  "t (s) | usage (m/pod) | pods | current | ready / unready / missing | utilization (%) | proposal | stabilized | desired | reason";

/** A table cell of an optional figure: blank when absent (the HPA tables'). */
export const cell = (x: number | string | undefined) => (x === undefined ? "" : String(x));

/** The decisions as a markdown table, one row per sync. */
export function hpaStepsMarkdown(steps: readonly HpaReplayStep[]): string {
  return [
    ...markdownTable(
      STEP_COLUMNS.split(" | "),
      steps.map((s) => [
        String(s.time),
        String(s.traceMillicores),
        String(s.pods),
        String(s.currentReplicas),
        `${cell(s.readyPods)} / ${cell(s.unreadyPods)} / ${cell(s.missingPods)}`,
        cell(s.utilization),
        cell(s.proposal),
        cell(s.stabilized),
        String(s.desiredReplicas),
        s.reason,
      ]),
      { align: [...Array<Align>(9).fill("right"), "left"] },
    ),
    "",
  ].join("\n");
}
