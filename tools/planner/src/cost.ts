import { cpuMillicores, memoryBytes } from "../../../components/quantity.js";
import { nodeSizeProblem } from "./cluster.js";
import { type PlanResult, type PlanSample, samplePeak } from "./simulate.js";

/**
 * Cost as a cluster bills it: what the pods REQUEST (Pending pods included: a cluster that
 * autoscales its nodes would buy room for them), over the monitor's samples of a plan.
 */

const GiB = 2 ** 30;

/** A node's allocatable CPU and memory: `--node-shape 4cpu,16Gi`. */
export interface NodeShape {
  spec: string;
  cpuMilli: number;
  memoryBytes: number;
}

const SHAPE = /^([^,]+?)cpu,(.+)$/;

export function parseNodeShape(spec: string): NodeShape {
  const m = SHAPE.exec(spec.trim());
  const fix =
    "Fix: --node-shape <cpu>cpu,<memory>, e.g. --node-shape 4cpu,16Gi (allocatable per node)";
  if (!m) throw new Error(`--node-shape ${JSON.stringify(spec)}: not <cpu>cpu,<memory>. ${fix}`);
  const [, cpu, mem] = m as unknown as [string, string, string];
  const why = nodeSizeProblem(cpu, mem);
  if (why) throw new Error(`--node-shape ${JSON.stringify(spec)}: ${why}. ${fix}`);
  return { spec, cpuMilli: cpuMillicores(cpu), memoryBytes: memoryBytes(mem) };
}

/** Pods of `podCpuMilli` / `podMemoryBytes` requested that fit one node of `shape` (0: none). */
export function podsPerNode(shape: NodeShape, podCpuMilli: number, podMemoryBytes: number): number {
  const byCpu =
    podCpuMilli > 0 ? Math.floor(shape.cpuMilli / podCpuMilli) : Number.POSITIVE_INFINITY;
  const byMem =
    podMemoryBytes > 0 ? Math.floor(shape.memoryBytes / podMemoryBytes) : Number.POSITIVE_INFINITY;
  return Math.min(byCpu, byMem);
}

/** Nodes of `shape` for `pods` such pods (Infinity when one pod does not fit a node). */
export function nodesNeeded(
  shape: NodeShape,
  pods: number,
  podCpuMilli: number,
  podMemoryBytes: number,
): number {
  if (pods <= 0) return 0;
  const per = podsPerNode(shape, podCpuMilli, podMemoryBytes);
  return per === 0 ? Number.POSITIVE_INFINITY : Math.ceil(pods / per);
}

export interface Prices {
  /** Money per CPU core requested per hour (the user's currency). */
  cpuHour?: number;
  /** Money per GiB of memory requested per hour. */
  gibHour?: number;
}

export interface CostSummary {
  peakPods: number;
  meanPods: number;
  /** Cores requested: at the peak, and the mean over the samples. */
  peakCpuRequested: number;
  meanCpuRequested: number;
  /** GiB requested. */
  peakMemoryGiB: number;
  meanMemoryGiB: number;
  cpuHours: number;
  gibHours: number;
  /** Most pods Pending at once. */
  maxPending: number;
  /** Nodes of `--node-shape` for the peak pods, when a shape is given. */
  nodesAtPeak?: number;
  /** Money over the run: CPU part + memory part; only when both prices are given. */
  money?: number;
}

/**
 * The cost of a plan: samples are taken every `intervalSeconds` (the monitor's 5 s); each
 * sample stands for the interval that follows it, up to the test's end.
 */
export function costSummary(
  samples: readonly Pick<
    PlanSample,
    "time" | "replicas" | "pending" | "cpuRequested" | "memRequestedKB"
  >[],
  endSeconds: number,
  o: { podCpuMilli: number; podMemoryBytes: number; shape?: NodeShape; prices?: Prices },
): CostSummary {
  const dt = samples.map((x, i) => Math.max(0, (samples[i + 1]?.time ?? endSeconds) - x.time));
  /** Σ f(sample) × the interval it stands for. */
  const integral = (f: (x: (typeof samples)[number]) => number) =>
    samples.reduce((a, x, i) => a + f(x) * (dt[i] as number), 0);
  const cpuSeconds = integral((x) => x.cpuRequested);
  const gibSeconds = integral((x) => (x.memRequestedKB * 1024) / GiB);
  const podSeconds = integral((x) => x.replicas);
  const peakPods = samplePeak(samples, "replicas");
  const maxPending = samplePeak(samples, "pending");
  const span = Math.max(0, endSeconds - (samples[0]?.time ?? endSeconds));
  const out: CostSummary = {
    peakPods,
    meanPods: span > 0 ? podSeconds / span : peakPods,
    peakCpuRequested: (peakPods * o.podCpuMilli) / 1000,
    meanCpuRequested: span > 0 ? cpuSeconds / span : 0,
    peakMemoryGiB: (peakPods * o.podMemoryBytes) / GiB,
    meanMemoryGiB: span > 0 ? gibSeconds / span : 0,
    cpuHours: cpuSeconds / 3600,
    gibHours: gibSeconds / 3600,
    maxPending,
  };
  if (o.shape) out.nodesAtPeak = nodesNeeded(o.shape, peakPods, o.podCpuMilli, o.podMemoryBytes);
  if (o.prices?.cpuHour !== undefined && o.prices.gibHour !== undefined) {
    out.money = out.cpuHours * o.prices.cpuHour + out.gibHours * o.prices.gibHour;
  }
  return out;
}

/** The cost of one stack's plan. */
export function planCost(
  r: PlanResult,
  o: { shape?: NodeShape; prices?: Prices } = {},
): CostSummary {
  const first = r.samples[0];
  const perPod = first && first.replicas > 0 ? first : undefined;
  return costSummary(r.samples, r.load.durationSeconds, {
    podCpuMilli: perPod ? Math.round((perPod.cpuRequested * 1000) / perPod.replicas) : 0,
    podMemoryBytes: perPod ? Math.round((perPod.memRequestedKB * 1024) / perPod.replicas) : 0,
    ...(o.shape ? { shape: o.shape } : {}),
    ...(o.prices ? { prices: o.prices } : {}),
  });
}
