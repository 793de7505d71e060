// All policies of the pack, without starting the policy server (index.ts does that), so tests
// and tools can import them.
import type { Policies } from "@pulumi/policy";
import { adminNotRouted } from "./rules/adminRoute";
import { containerEphemeralStorage } from "./rules/ephemeralStorage";
import { hpaBounds } from "./rules/hpa";
import { httpRouteParent } from "./rules/httpRoute";
import { imageNotLatest, imagePinnedByDigest } from "./rules/images";
import { ingressClass } from "./rules/ingress";
import { networkPolicyPresent } from "./rules/networkPolicy";
import { podSecurityRestricted } from "./rules/podSecurity";
import { readinessProbe } from "./rules/readiness";
import { containerResources } from "./rules/resources";

export const POLICY_PACK_NAME = "food11-guardrails";

export const policies: Policies = [
  containerResources,
  containerEphemeralStorage,
  readinessProbe,
  hpaBounds,
  imageNotLatest,
  imagePinnedByDigest,
  podSecurityRestricted,
  ingressClass,
  httpRouteParent,
  networkPolicyPresent,
  adminNotRouted,
];
