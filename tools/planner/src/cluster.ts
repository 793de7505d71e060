import { cpus, totalmem } from "node:os";
import { z } from "zod";
import { cpuMillicores, isQuantity, memoryBytes } from "../../../components/quantity.js";

/**
 * The cluster: nodes with their allocatable CPU and memory (what the scheduler may hand out to
 * pod requests). Given as `--nodes <count>x<cpu>cpu,<memory>`, repeatable, e.g. `--nodes 1x8cpu,8Gi`
 * or `--nodes 3x4cpu,16Gi --nodes 1x2cpu,4Gi`; CPU and memory are Kubernetes quantities.
 */
export interface NodeSpec {
  name: string;
  cpuMilli: number;
  memoryBytes: number;
}

export interface Cluster {
  nodes: NodeSpec[];
  /** How it was given, for the output: the flags, or the default's derivation. */
  description: string;
}

/** What the default node (this machine) keeps back from pods: kubelet, system pods, the OS. */
const DEFAULT_RESERVE = { cpu: "100m", memory: "1Gi" } as const;

const FIX =
  "Fix: --nodes <count>x<cpu>cpu,<memory>, e.g. --nodes 1x8cpu,8Gi or --nodes 3x4cpu,16Gi (allocatable per node)";

const NODE_SPEC = /^(\d+)x([^,]+?)cpu,(.+)$/;

/** Why `cpu` and `memory` are not a node's size (positive quantities each), or undefined. */
export function nodeSizeProblem(cpu: string, memory: string): string | undefined {
  if (!isQuantity(cpu) || cpuMillicores(cpu) <= 0)
    return `CPU ${JSON.stringify(cpu)} is not a positive quantity such as 2, 1.5 or 500m`;
  if (!isQuantity(memory) || memoryBytes(memory) <= 0)
    return `memory ${JSON.stringify(memory)} is not a positive quantity such as 8Gi or 512Mi`;
  return undefined;
}

const nodeGroupSchema = z.string().transform((value, ctx) => {
  const m = NODE_SPEC.exec(value.trim());
  const bad = (why: string) => {
    ctx.addIssue({ code: "custom", message: `--nodes ${JSON.stringify(value)}: ${why}. ${FIX}` });
    return z.NEVER;
  };
  if (!m) return bad("not <count>x<cpu>cpu,<memory>");
  const [, count, cpu, memory] = m as unknown as [string, string, string, string];
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1 || n > 1000) return bad(`node count ${count} is not 1..1000`);
  const why = nodeSizeProblem(cpu, memory);
  if (why) return bad(why);
  return { count: n, cpu, memory, cpuMilli: cpuMillicores(cpu), memoryBytes: memoryBytes(memory) };
});

/** Parse `--nodes` values into nodes named node-1, node-2, … in the order given. */
export function parseNodes(specs: readonly string[]): Cluster {
  if (specs.length === 0) throw new Error(`no nodes given. ${FIX}`);
  const nodes: NodeSpec[] = [];
  for (const spec of specs) {
    const r = nodeGroupSchema.safeParse(spec);
    if (!r.success) throw new Error(r.error.issues.map((i) => i.message).join("\n"));
    for (let i = 0; i < r.data.count; i++) {
      nodes.push({
        name: `node-${nodes.length + 1}`,
        cpuMilli: r.data.cpuMilli,
        memoryBytes: r.data.memoryBytes,
      });
    }
  }
  return { nodes, description: specs.map((s) => `--nodes ${s}`).join(" ") };
}

/**
 * A node autoscaler's pool: `count` nodes of `shape` (`4cpu,16Gi`), as many as the stacks' pods
 * could need (one per replica at most), so that only a fixed `--nodes` cluster leaves pods Pending.
 */
function shapeCluster(shape: string, count: number): Cluster {
  const c = parseNodes([`${Math.max(1, count)}x${shape}`]);
  return {
    ...c,
    description: `nodes of ${shape} as needed (up to ${c.nodes.length}, one per replica: ${c.description})`,
  };
}

/**
 * The cluster a command plans on: its `--nodes`, else nodes of its `--node-shape` as the pods
 * need (`maxReplicas` at most), else one node of this machine's size.
 */
export function commandCluster(
  o: { nodes?: readonly string[]; nodeShape?: string },
  maxReplicas: number,
): Cluster {
  if (o.nodes?.length) return parseNodes(o.nodes);
  return o.nodeShape ? shapeCluster(o.nodeShape, maxReplicas) : defaultCluster();
}

/** One node of this machine's size: os.cpus() and os.totalmem() minus {@link DEFAULT_RESERVE}. */
export function defaultCluster(
  machine: { cpus: number; memoryBytes: number } = {
    cpus: cpus().length,
    memoryBytes: totalmem(),
  },
): Cluster {
  const cpuMilli = machine.cpus * 1000 - cpuMillicores(DEFAULT_RESERVE.cpu);
  const mem = machine.memoryBytes - memoryBytes(DEFAULT_RESERVE.memory);
  const gi = (b: number) => `${(b / 2 ** 30).toFixed(1)}Gi`;
  return {
    nodes: [{ name: "node-1", cpuMilli, memoryBytes: mem }],
    description:
      `one node of this machine's size: ${machine.cpus} CPU − ${DEFAULT_RESERVE.cpu} = ${cpuMilli}m, ` +
      `${gi(machine.memoryBytes)} − ${DEFAULT_RESERVE.memory} reserved = ${gi(mem)} allocatable`,
  };
}
