import type { NodeSpec } from "./cluster.js";

/**
 * The scheduler's fit (kube-scheduler's NodeResourcesFit filter, then its default
 * LeastAllocated score): a pod goes to a node whose allocatable CPU and memory, minus the
 * requests of the pods already bound to it, hold the pod's requests; among those, to the one
 * left with the most free share. A pod no node can hold stays Pending, with the scheduler's
 * FailedScheduling message ("0/1 nodes are available: 1 Insufficient memory.").
 */
export interface Requests {
  cpuMilli: number;
  memoryBytes: number;
}

export class NodeState {
  cpuAllocated = 0;
  memoryAllocated = 0;
  /** Pods bound here. */
  readonly pods = new Set<string>();
  constructor(readonly spec: NodeSpec) {}

  /** Why the pod does not fit here (empty: it fits). */
  misfits(r: Requests): string[] {
    const out: string[] = [];
    if (this.cpuAllocated + r.cpuMilli > this.spec.cpuMilli) out.push("Insufficient cpu");
    if (this.memoryAllocated + r.memoryBytes > this.spec.memoryBytes) {
      out.push("Insufficient memory");
    }
    return out;
  }

  /** LeastAllocated: mean free fraction of CPU and memory after placing the pod (0..1). */
  score(r: Requests): number {
    const cpu = (this.spec.cpuMilli - this.cpuAllocated - r.cpuMilli) / this.spec.cpuMilli;
    const mem =
      (this.spec.memoryBytes - this.memoryAllocated - r.memoryBytes) / this.spec.memoryBytes;
    return (cpu + mem) / 2;
  }
}

export type Placement = { node: NodeState } | { reason: string };

export class Scheduler {
  readonly nodes: NodeState[];
  constructor(specs: readonly NodeSpec[]) {
    this.nodes = specs.map((s) => new NodeState(s));
  }

  /** Bind `pod` to a node, or say why none fits. */
  schedule(pod: string, r: Requests): Placement {
    let best: NodeState | undefined;
    const reasons = new Map<string, number>();
    for (const node of this.nodes) {
      const why = node.misfits(r);
      if (why.length > 0) {
        for (const w of why) reasons.set(w, (reasons.get(w) ?? 0) + 1);
        continue;
      }
      if (!best || node.score(r) > best.score(r)) best = node;
    }
    if (!best) return { reason: failedSchedulingMessage(this.nodes.length, reasons) };
    best.cpuAllocated += r.cpuMilli;
    best.memoryAllocated += r.memoryBytes;
    best.pods.add(pod);
    return { node: best };
  }

  release(pod: string, node: NodeState, r: Requests): void {
    if (!node.pods.delete(pod)) return;
    node.cpuAllocated -= r.cpuMilli;
    node.memoryAllocated -= r.memoryBytes;
  }
}

/** kube-scheduler's message: reasons counted over nodes, in alphabetical order. */
function failedSchedulingMessage(nodes: number, reasons: Map<string, number>): string {
  const parts = [...reasons.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([why, n]) => `${n} ${why}`);
  return `0/${nodes} nodes are available: ${parts.join(", ")}.`;
}
