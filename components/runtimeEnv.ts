import { cpuMillicores, memoryBytes } from "./quantity";

/**
 * Share of `limits.memory` given to the V8 heap (`--max-old-space-size`). The rest stays for what
 * lives outside the heap: tfjs-node's native tensors or the WASM backend's linear memory, sharp's
 * decode buffers, Node's own RSS and the kernel's page cache charged to the container.
 */
export const HEAP_FRACTION = 0.5;

/** The container budget that the runtime must fit: the Deployment's limits. */
export interface RuntimeBudget {
  /** `limits.cpu` as a Kubernetes quantity, e.g. `"3"` or `"1500m"`. */
  cpuLimit: string;
  /** `limits.memory` as a Kubernetes quantity, e.g. `"6Gi"`. */
  memoryLimit: string;
}

/** The budget-derived part of the server's environment. */
export interface RuntimeBudgetEnv {
  /** `INFERENCE_THREADS`: `ceil(limits.cpu)` cores, at least 1. */
  INFERENCE_THREADS: string;
  /** `NODE_OPTIONS`: `--max-old-space-size=<floor(limits.memory in MiB * HEAP_FRACTION)>`. */
  NODE_OPTIONS: string;
}

/** `ceil(limits.cpu)`, at least 1: the number of inference threads the CPU limit pays for. */
export function inferenceThreads(cpuLimit: string): number {
  return Math.max(1, Math.ceil(cpuMillicores(cpuLimit) / 1000));
}

/** Node's old-space size in MiB for a memory limit: `floor(MiB * HEAP_FRACTION)`. */
export function heapMiB(memoryLimit: string): number {
  return Math.floor((memoryBytes(memoryLimit) / 2 ** 20) * HEAP_FRACTION);
}

/**
 * Derive `INFERENCE_THREADS` and `NODE_OPTIONS` from the container limits, so that the server
 * uses what the strategy pays for: `limits.cpu` 3 gives 3 threads, `limits.memory` 6Gi a
 * 3072 MiB heap. Pure: the measurement CLI calls it too.
 */
export function runtimeBudgetEnv(budget: RuntimeBudget): RuntimeBudgetEnv {
  return {
    INFERENCE_THREADS: String(inferenceThreads(budget.cpuLimit)),
    NODE_OPTIONS: `--max-old-space-size=${heapMiB(budget.memoryLimit)}`,
  };
}
