// All policies of the pack, without starting the policy server (index.ts does that), so tests
// and tools can import them.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { hpaBounds } from "./rules/hpa";
import { imageNotLatest, imagePinnedByDigest } from "./rules/images";
import { ingressClass } from "./rules/ingress";
import { podSecurityRestricted } from "./rules/podSecurity";
import { readinessProbe } from "./rules/readiness";
import { containerResources } from "./rules/resources";

export const POLICY_PACK_NAME = "food11-guardrails";

export const policies: ResourceValidationPolicy[] = [
  containerResources,
  readinessProbe,
  hpaBounds,
  imageNotLatest,
  imagePinnedByDigest,
  podSecurityRestricted,
  ingressClass,
];
