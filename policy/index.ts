// The food11 policy pack: what no deployment strategy may break.
// Run it with `pulumi preview --policy-pack policy` (or `up`) from the repository root.
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, {
  description:
    "Guardrails shared by every food11 deployment strategy: resources, readiness, autoscaler " +
    "bounds, pinned images, restricted pod security, Ingress class, no public route to the admin port.",
  policies,
});
