/** The cluster run's Kubernetes reads (@kubernetes/client-node): the node's capacity, others' pods. */
import { join } from "node:path";
import { CLUSTER_STATE_DIR, clusterVersions } from "../../../../lib/cluster/stack.js";
import { PROJECT_ROOT } from "../../../../stacks/index.js";
import type { NodeCapacity } from "../cluster-scale.js";
import { cpuCores, memoryKB } from "../quantity.js";

/** The API clients of a kubeconfig file (default: as kubectl finds it) and context. */
export async function k8sClients(kubeconfig?: string, context?: string) {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  if (context) kc.setCurrentContext(context);
  return {
    core: kc.makeApiClient(k8s.CoreV1Api),
    autoscaling: kc.makeApiClient(k8s.AutoscalingV2Api),
    networking: kc.makeApiClient(k8s.NetworkingV1Api),
    discovery: kc.makeApiClient(k8s.DiscoveryV1Api),
  };
}

async function nodeCapacity(kubeconfig: string, name: string): Promise<NodeCapacity> {
  const { core } = await k8sClients(kubeconfig);
  const node = await core.readNode({ name });
  const a = node.status?.allocatable ?? {};
  return { name, cpuCores: cpuCores(a.cpu ?? "0"), memoryKB: memoryKB(a.memory ?? "0") };
}

/**
 * The local cluster's kubeconfig (KUBECONFIG, else the one `cluster up` writes) and its node's
 * allocatable capacity: what a cluster run and validate:recommend size their stacks for.
 */
export async function localClusterNode(): Promise<{ kubeconfig: string; node: NodeCapacity }> {
  const kubeconfig = process.env.KUBECONFIG ?? join(CLUSTER_STATE_DIR, "kubeconfig");
  const name = clusterVersions(PROJECT_ROOT).NODE_NAME ?? "food11-node";
  return { kubeconfig, node: await nodeCapacity(kubeconfig, name) };
}

/**
 * Pods of other namespaces with CPU or memory requests on the node (another engineer's stack,
 * a suite's leftovers): they take the node's capacity from the stack being measured.
 */
export async function foreignPods(
  kubeconfig: string,
  own: string,
): Promise<{ name: string; cpu: number; memoryKB: number }[]> {
  const { core } = await k8sClients(kubeconfig);
  const l = await core.listPodForAllNamespaces({});
  return l.items
    .filter((p) => p.metadata?.namespace !== own && !/^kube-/.test(p.metadata?.namespace ?? ""))
    .filter((p) => p.status?.phase === "Running" || p.status?.phase === "Pending")
    .map((p) => {
      const cs = p.spec?.containers ?? [];
      const sum = (k: string, f: (q: string) => number) =>
        cs.reduce((a, c) => a + f(c.resources?.requests?.[k] ?? "0"), 0);
      return {
        name: `${p.metadata?.namespace}/${p.metadata?.name}`,
        cpu: sum("cpu", cpuCores),
        memoryKB: sum("memory", memoryKB),
      };
    })
    .filter((p) => p.cpu > 0 || p.memoryKB > 0);
}
