import * as k8s from "@pulumi/kubernetes";
import type { StackValidationPolicy } from "@pulumi/policy";
import { stackWorkloadOf } from "../workloads";

/** A NetworkPolicy as the rule reads it. */
interface Policy {
  name: string;
  namespace: string | undefined;
  matchLabels: Record<string, string>;
  /** A matchExpressions selector the rule does not evaluate: it counts as no match. */
  expressions: boolean;
  ingress: boolean;
  egress: boolean;
}

/** policyTypes as Kubernetes defaults them: Ingress always, Egress when egress rules exist. */
function policyOf(netpol: k8s.types.output.networking.v1.NetworkPolicy, fallback: string): Policy {
  const spec = netpol.spec;
  const types = spec?.policyTypes;
  const given = Array.isArray(types) && types.length > 0;
  return {
    name: netpol.metadata?.name ?? fallback,
    namespace: netpol.metadata?.namespace,
    matchLabels: spec?.podSelector?.matchLabels ?? {},
    expressions: (spec?.podSelector?.matchExpressions ?? []).length > 0,
    ingress: given ? types.includes("Ingress") : true,
    egress: given ? types.includes("Egress") : (spec?.egress ?? []).length > 0,
  };
}

function selects(policy: Policy, labels: Record<string, string>): boolean {
  if (policy.expressions) return false;
  return Object.entries(policy.matchLabels).every(([k, v]) => labels[k] === v);
}

/**
 * Mandatory: without a NetworkPolicy any pod in the cluster can reach the server and the server
 * can reach anything (kube-score: "Pod NetworkPolicy"). Every long-running workload of the stack
 * must have its pods selected, in its own namespace, by NetworkPolicies of the stack that cover
 * both directions (policyTypes Ingress and Egress). A stack that deploys without one (the
 * program's food11:networkPolicy false) turns this policy off in its policy-pack config.
 */
export const networkPolicyPresent: StackValidationPolicy = {
  name: "network-policy",
  description:
    "Every long-running workload's pods are selected, in their namespace, by NetworkPolicies of " +
    "the stack covering ingress and egress. Mandatory: without one any pod in the cluster can " +
    "reach the server and the server can reach anything.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    const policies: Policy[] = [];
    for (const r of args.resources) {
      const netpol = r.asType(k8s.networking.v1.NetworkPolicy);
      if (netpol) policies.push(policyOf(netpol as never, r.name));
    }
    for (const r of args.resources) {
      const workload = stackWorkloadOf(r);
      if (!workload?.longRunning) continue;
      const labels = workload.podLabels ?? {};
      const matching = policies.filter(
        (p) => (p.namespace ?? "") === (workload.namespace ?? "") && selects(p, labels),
      );
      const where = `${workload.kind} ${workload.name}${workload.namespace ? ` in ${workload.namespace}` : ""}`;
      if (matching.length === 0) {
        report(
          `${where}: no NetworkPolicy of the stack selects its pods (any pod may reach them, they may reach anything)`,
          r.urn,
        );
        continue;
      }
      const missing = [
        ...(matching.some((p) => p.ingress) ? [] : ["Ingress"]),
        ...(matching.some((p) => p.egress) ? [] : ["Egress"]),
      ];
      if (missing.length > 0) {
        report(
          `${where}: the NetworkPolicies selecting its pods (${matching.map((p) => p.name).join(", ")}) do not cover ${missing.join(" or ")}`,
          r.urn,
        );
      }
    }
  },
};
