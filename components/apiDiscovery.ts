import * as pulumi from "@pulumi/pulumi";

/** The Prometheus Operator's ServiceMonitor, as API discovery lists it. */
export const SERVICE_MONITOR = {
  group: "monitoring.coreos.com",
  version: "v1",
  plural: "servicemonitors",
  kind: "ServiceMonitor",
} as const;

/** Which cluster to ask: the Kubernetes provider's own `kubernetes:kubeconfig` and `kubernetes:context`. */
export interface KubeTarget {
  /** A kubeconfig's path or its content; none: $KUBECONFIG or ~/.kube/config, as the provider. */
  kubeconfig?: string;
  /** A context of it; none: its current context. */
  context?: string;
}

/** What API discovery says of a resource: served, not served, or no answer (and why). */
export type Discovery = { served: true } | { served: false } | { unknown: string };

/**
 * Ask the API server (GET /apis/<group>/<version>, the discovery every authenticated user may
 * read) whether it serves `plural`. A 404 means the group/version is not served at all.
 */
export async function discover(
  resource: { group: string; version: string; plural: string },
  target: KubeTarget = {},
): Promise<Discovery> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  try {
    const given = target.kubeconfig;
    if (given === undefined || given === "") kc.loadFromDefault();
    else if (/^\s*(apiVersion|clusters|contexts|kind|current-context)\s*:/m.test(given)) {
      kc.loadFromString(given);
    } else kc.loadFromFile(given);
    if (target.context) kc.setCurrentContext(target.context);
  } catch (err) {
    return { unknown: `no kubeconfig (${(err as Error).message})` };
  }
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  try {
    const list = await api.getAPIResources({ group: resource.group, version: resource.version });
    return list.resources.some((r) => r.name === resource.plural)
      ? { served: true }
      : { served: false };
  } catch (err) {
    if (err instanceof k8s.ApiException && err.code === 404) return { served: false };
    const code = err instanceof k8s.ApiException ? `HTTP ${err.code}` : (err as Error).message;
    return { unknown: `${kc.getCurrentCluster()?.server ?? "the cluster"}: ${code}` };
  }
}

/**
 * At preview, before the ServiceMonitor is registered: fails with a `pulumi.RunError` (the
 * engine prints its message alone) when the cluster answers that it does not serve
 * monitoring.coreos.com/v1 ServiceMonitors. Without it the Kubernetes provider retries its
 * dry-run create six times over about a minute, then fails with "...the apiVersion for this
 * resource does not exist. Verify that any required CRDs have been created". A cluster that
 * cannot be asked is left to the provider, with a warning.
 */
export async function requireServiceMonitorCrd(
  stack: string,
  target: KubeTarget = {},
): Promise<void> {
  const found = await discover(SERVICE_MONITOR, target);
  if ("served" in found && found.served) return;
  const { group, version, kind } = SERVICE_MONITOR;
  if ("unknown" in found) {
    pulumi.log.warn(
      `food11:monitoring servicemonitor: could not ask the cluster whether it serves ${group}/${version} ${kind} (${found.unknown}); the Kubernetes provider will tell`,
    );
    return;
  }
  throw new pulumi.RunError(
    `Invalid configuration for stack "${stack}": food11:monitoring = "servicemonitor": the cluster does not serve ${group}/${version} ${kind} (the Prometheus Operator's CRD is not installed). Fix: install the Prometheus Operator (e.g. the kube-prometheus-stack Helm chart), or pulumi config set food11:monitoring annotations --stack ${stack} (prometheus.io/* pod annotations) or none`,
  );
}
