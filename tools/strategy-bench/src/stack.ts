import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  PROJECT_ROOT,
  readStackFile,
  runtimeEnv,
  type StackSettings,
} from "../../../stacks/index.js";
import type { LocalBudget } from "./monitor.js";
import { cpuCores, memoryKB } from "./quantity.js";

/**
 * What the measurement tool takes from a stack: the Pulumi program's own pure helpers
 * (stacks/index.ts readStackFile + runtimeEnv), so a stack file is read exactly as `pulumi up`
 * reads it.
 */
export type { StackSettings };

/** The stacks of the project: one Pulumi.<stack>.yaml per stack beside Pulumi.yaml. */
export function listStacks(root: string = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** The error of a `--stack` not among `valid`, naming the valid ones (monitor, the cluster run). */
export function notAStackMessage(stack: string, valid: readonly string[]): string {
  return `--stack ${JSON.stringify(stack)}: not a stack of this project (valid: ${valid.join(", ")})`;
}

/**
 * A stack's settings, with config `overrides` (full keys) as `readStackFile` takes them; an
 * unknown stack is an error listing the valid ones.
 */
export function loadStack(
  stack: string,
  file?: string,
  overrides: Record<string, unknown> = {},
): StackSettings {
  const path = file ?? join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
  if (!existsSync(path)) {
    throw new Error(
      `--stack ${JSON.stringify(stack)}: no stack file ${path}; valid stacks: ${listStacks().join(", ")}`,
    );
  }
  return readStackFile(stack, file, overrides);
}

/** Requests and limits of one replica, in the monitor's units. */
export function localBudget(s: StackSettings): LocalBudget {
  return {
    cpuRequested: cpuCores(s.resources.requests.cpu),
    memRequestedKB: memoryKB(s.resources.requests.memory),
    cpuLimit: cpuCores(s.resources.limits.cpu),
    memLimitKB: memoryKB(s.resources.limits.memory),
  };
}

/**
 * The part of the container environment one local process can honour: the CPU budget
 * (INFERENCE_THREADS = ceil(limits.cpu)) and the heap (NODE_OPTIONS=--max-old-space-size), plus
 * the model settings. PORT/HOST are the caller's (a free loopback port).
 */
export function localServerEnv(s: StackSettings): Record<string, string> {
  const env = runtimeEnv(s);
  const keep = [
    "INFERENCE_THREADS",
    "NODE_OPTIONS",
    "PREPROCESS",
    "TFJS_BACKEND",
    "MODEL_NAME",
    "MODEL_VERSION",
    "MODEL_URL",
    "SHUTDOWN_GRACE_SECONDS",
  ];
  return Object.fromEntries(Object.entries(env).filter(([k]) => keep.includes(k)));
}

/** The recipe rows of the report's configuration table. */
export function stackConfigRows(s: StackSettings): Record<string, string> {
  return {
    "HPA target CPU utilization (%)": String(s.autoscaling.targetCpuUtilization),
    "replicas (min–max)": `${s.autoscaling.minReplicas}–${s.autoscaling.maxReplicas}`,
    "readiness successThreshold": String(s.probes.readiness.successThreshold),
    "limits: cpu": s.resources.limits.cpu,
    "limits: memory": s.resources.limits.memory,
    "requests: cpu": s.resources.requests.cpu,
    "requests: memory": s.resources.requests.memory,
  };
}
