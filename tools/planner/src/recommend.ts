import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { cpuMillicores, memoryBytes } from "../../../components/quantity.js";
import { PROJECT_ROOT, readStackFile } from "../../../stacks/index.js";
import {
  markdownTable,
  type Schedule,
  type StackSettings,
} from "../../strategy-bench/src/index.js";
import type { CapacityProfile } from "./capacity-profile.js";
import type { Cluster } from "./cluster.js";
import { type CostSummary, type NodeShape, type Prices, planCost, podsPerNode } from "./cost.js";
import { signedPercent } from "./error-band.js";
import type { PlanOptions, PlanResult } from "./simulate.js";
import { simulatePlan } from "./simulate.js";
import { type Slo, sloVerdict } from "./verdict.js";

/**
 * `strategy-bench recommend`: search the strategy knobs for the cheapest stack that meets the
 * SLO with no failed request and no Pending pod on the given cluster, by simulating each
 * candidate with the planner; write it as a stack file and validate it with the stack loader.
 */

const MiB = 2 ** 20;

/** maxReplicas of every candidate unless given (`recommend`, `validate:recommend`). */
export const RECOMMEND_MAX_REPLICAS = 10;

/** Memory is never below the profile's largest measured working set plus this margin. */
const MEMORY_MARGIN = 0.25;

/** The knobs searched, by their stack-file keys (stacks/schema.ts). */
export interface Knobs {
  targetCpuUtilization: number;
  cpuRequest: string;
  cpuLimit: string;
  memoryRequest: string;
  memoryLimit: string;
  minReplicas: number;
  maxReplicas: number;
  readinessSuccessThreshold: number;
}

const KNOB_NAMES = [
  "targetCpuUtilization",
  "cpuRequest",
  "cpuLimit",
  "memoryRequest",
  "memoryLimit",
  "minReplicas",
  "maxReplicas",
  "readinessSuccessThreshold",
] as const satisfies readonly (keyof Knobs)[];

/** requests.memory = the largest working set in the profiles × (1 + margin), rounded up to 64Mi. */
export function memoryFloor(profiles: readonly CapacityProfile[]): {
  bytes: number;
  quantity: string;
  why: string;
} {
  const ws = Math.max(
    ...profiles.flatMap((p) => [p.idle.workingSetBytes, ...p.levels.map((l) => l.workingSetBytes)]),
  );
  const mi = Math.ceil((ws * (1 + MEMORY_MARGIN)) / MiB / 64) * 64;
  return {
    bytes: mi * MiB,
    quantity: `${mi}Mi`,
    why: `the profile's largest working set ${Math.round(ws / MiB)} MiB + ${MEMORY_MARGIN * 100} % margin, rounded up to 64Mi`,
  };
}

/** The candidates: the grid of knob values, memory at its floor (the limit twice it). */
export function candidates(profiles: readonly CapacityProfile[], maxReplicasCap: number): Knobs[] {
  const mem = memoryFloor(profiles);
  const out: Knobs[] = [];
  for (const targetCpuUtilization of [50, 70, 90])
    for (const cpuRequest of ["500m", "1", "2"])
      for (const minReplicas of [1, 2])
        for (const readinessSuccessThreshold of [1, 3])
          out.push({
            targetCpuUtilization,
            cpuRequest,
            cpuLimit: "2",
            memoryRequest: mem.quantity,
            memoryLimit: `${(mem.bytes * 2) / MiB}Mi`,
            minReplicas,
            maxReplicas: maxReplicasCap,
            readinessSuccessThreshold,
          });
  return out;
}

function apply(base: StackSettings, name: string, k: Knobs): StackSettings {
  return {
    ...base,
    stack: name,
    resources: {
      ...base.resources,
      requests: { ...base.resources.requests, cpu: k.cpuRequest, memory: k.memoryRequest },
      limits: { ...base.resources.limits, cpu: k.cpuLimit, memory: k.memoryLimit },
    },
    autoscaling: {
      ...base.autoscaling,
      targetCpuUtilization: k.targetCpuUtilization,
      minReplicas: k.minReplicas,
      maxReplicas: k.maxReplicas,
    },
    probes: {
      ...base.probes,
      readiness: { ...base.probes.readiness, successThreshold: k.readinessSuccessThreshold },
    },
  };
}

export interface RecommendOptions {
  name: string;
  base: StackSettings;
  schedule: Schedule;
  rates?: readonly number[];
  profiles: readonly CapacityProfile[];
  cluster: Cluster;
  slo: Slo;
  shape?: NodeShape;
  prices?: Prices;
  seed?: number;
  maxReplicas?: number;
  /**
   * The controller's clocks and metrics-server's resolution the stack will run under (default:
   * Kubernetes' defaults); a time-scaled cluster run's (validate:recommend) differ.
   */
  controller?: PlanOptions["controller"];
  metricsResolutionSeconds?: number;
}

export interface Candidate {
  knobs: Knobs;
  result: PlanResult;
  cost: CostSummary;
  pass: boolean;
  why: string[];
}

/** Cheaper first: money when priced, else CPU-hours, then GiB-hours, then fewer peak pods. */
export function cheaper(a: CostSummary, b: CostSummary): number {
  return (
    (a.money ?? 0) - (b.money ?? 0) ||
    a.cpuHours - b.cpuHours ||
    a.gibHours - b.gibHours ||
    a.peakPods - b.peakPods
  );
}

export interface Recommendation {
  best?: Candidate;
  candidates: Candidate[];
  memory: ReturnType<typeof memoryFloor>;
  /** Per knob: the cheapest passing candidate that differs from the best only there, or why none. */
  knobs: { knob: keyof Knobs; value: string; alternative?: string; effect: string }[];
}

/** Every candidate simulated; the cheapest passing one, and what each knob did to it. */
export function recommend(o: RecommendOptions): Recommendation {
  const cap = o.maxReplicas ?? RECOMMEND_MAX_REPLICAS;
  const sims: Candidate[] = candidates(o.profiles, cap).flatMap((k): Candidate[] => {
    // No Pending pod ever: maxReplicas at most the pods of these requests the cluster holds.
    const fit = clusterFits(o.cluster, k);
    if (fit === 0) return [];
    const knobs = {
      ...k,
      maxReplicas: Math.min(k.maxReplicas, fit),
      minReplicas: Math.min(k.minReplicas, fit),
    };
    const result = simulatePlan({
      stack: apply(o.base, o.name, knobs),
      schedule: o.schedule,
      ...(o.rates ? { rates: o.rates } : {}),
      profiles: o.profiles,
      cluster: o.cluster,
      seed: o.seed ?? 1,
      ...(o.controller ? { controller: o.controller } : {}),
      ...(o.metricsResolutionSeconds !== undefined
        ? { metricsResolutionSeconds: o.metricsResolutionSeconds }
        : {}),
    });
    const v = sloVerdict(result, o.slo);
    const c: Candidate = {
      knobs,
      result,
      cost: planCost(result, {
        ...(o.shape ? { shape: o.shape } : {}),
        ...(o.prices ? { prices: o.prices } : {}),
      }),
      pass: v.pass,
      why: v.why,
    };
    return [c];
  });
  const passing = sims.filter((c) => c.pass).sort((a, b) => cheaper(a.cost, b.cost));
  const best = passing[0];
  const knobs: Recommendation["knobs"] = [];
  if (best) {
    for (const knob of KNOB_NAMES) {
      const others = sims.filter(
        (c) =>
          c.knobs[knob] !== best.knobs[knob] &&
          KNOB_NAMES.every((k) => k === knob || c.knobs[k] === best.knobs[k]),
      );
      if (others.length === 0) {
        knobs.push({ knob, value: String(best.knobs[knob]), effect: "not searched" });
        continue;
      }
      const effects = others.map((c) => {
        const dCpu =
          best.cost.cpuHours > 0
            ? (100 * (c.cost.cpuHours - best.cost.cpuHours)) / best.cost.cpuHours
            : 0;
        return `${c.knobs[knob]}: ${c.pass ? `${signedPercent(dCpu)} CPU-hours` : `FAIL (${c.why.join("; ")})`}`;
      });
      knobs.push({ knob, value: String(best.knobs[knob]), effect: effects.join("; ") });
    }
  }
  return { ...(best ? { best } : {}), candidates: sims, memory: memoryFloor(o.profiles), knobs };
}

/** Pods of a candidate's requests the cluster's nodes hold in all (each node filled alone). */
export function clusterFits(
  cluster: Cluster,
  k: Pick<Knobs, "cpuRequest" | "memoryRequest">,
): number {
  const cpu = cpuMillicores(k.cpuRequest);
  const mem = memoryBytes(k.memoryRequest);
  return cluster.nodes.reduce(
    (a, n) =>
      a + podsPerNode({ spec: n.name, cpuMilli: n.cpuMilli, memoryBytes: n.memoryBytes }, cpu, mem),
    0,
  );
}

/**
 * Write `Pulumi.<name>.yaml` in `dir`: the base stack file's config with the knobs set, then read
 * it back through the project's stack loader (stacks/index.ts readStackFile), which validates
 * every key against stacks/schema.ts.
 */
export function writeStackFile(
  dir: string,
  name: string,
  baseStack: string,
  k: Knobs,
  header: string[],
): { file: string; settings: StackSettings } {
  const base = (parseYaml(readFileSync(join(PROJECT_ROOT, `Pulumi.${baseStack}.yaml`), "utf8")) ??
    {}) as {
    config?: Record<string, unknown>;
  };
  const config: Record<string, unknown> = { ...(base.config ?? {}) };
  for (const knob of KNOB_NAMES) config[`food11:${knob}`] = k[knob];
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `Pulumi.${name}.yaml`);
  writeFileSync(file, `${header.map((l) => `# ${l}`).join("\n")}\n${stringifyYaml({ config })}`);
  return { file, settings: readStackFile(name, file) };
}

/** The knobs as recommended, and what each other value searched did (Markdown table). */
export function knobsMarkdown(rec: Recommendation): string[] {
  return markdownTable(
    ["knob", "recommended", "the other values searched (with the rest as recommended)"],
    rec.knobs.map((k) => [k.knob, k.value, k.effect]),
  );
}
