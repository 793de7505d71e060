import type { ResourceValidationPolicy } from "@pulumi/policy";
import { digestProblem, movingTagProblem } from "../image";
import { validateContainers } from "../workloads";

/**
 * Mandatory: ":latest" (or no tag at all) makes what runs depend on when a node pulled, turns
 * imagePullPolicy to Always, and makes a rollback re-deploy something else. Never acceptable.
 */
export const imageNotLatest: ResourceValidationPolicy = {
  name: "image-not-latest",
  description:
    'No container image uses ":latest" or leaves out both tag and digest. Mandatory: a moving ' +
    "tag makes a deploy and its rollback unreproducible.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: validateContainers(({ image }, label, report) => {
    if (typeof image !== "string" || image.trim() === "") return report(`${label} has no image`);
    const problem = movingTagProblem(image);
    if (problem) report(`${label} image "${image}" ${problem}`);
  }),
};

/**
 * Mandatory: the measurements compare strategies on the same bytes, and only a digest names them;
 * tags can be re-pushed. A cluster that runs locally built images without a registry can lower
 * this rule to advisory with policy/config/local.json (see docs/ci.md); ":latest" stays refused.
 */
export const imagePinnedByDigest: ResourceValidationPolicy = {
  name: "image-pinned-by-digest",
  description:
    "Every container image is pinned by digest (<image>@sha256:<64 hex>). Mandatory: tags can " +
    "be re-pushed, a digest names exactly the bytes that were measured. Local clusters without a " +
    "registry may lower it to advisory with policy/config/local.json.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: validateContainers(({ image }, label, report) => {
    if (typeof image !== "string" || image.trim() === "") return; // image-not-latest reports it
    const problem = digestProblem(image);
    if (problem) report(`${label} image "${image}" ${problem}`);
  }),
};
