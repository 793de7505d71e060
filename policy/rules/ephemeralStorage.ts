import type { ResourceValidationPolicy } from "@pulumi/policy";
import { validateContainers } from "../workloads";
import { checkRequestAndLimit } from "./resources";

const RESOURCE = "ephemeral-storage";

/**
 * Mandatory: a container without an ephemeral-storage limit can fill its node's disk with logs
 * or scratch files and get every pod on that node evicted; without a request the scheduler places
 * it on a node whatever its free disk (kube-score: "Container Ephemeral Storage Request and Limit").
 */
export const containerEphemeralStorage: ResourceValidationPolicy = {
  name: "container-ephemeral-storage",
  description:
    "Every container (init containers too) sets an ephemeral-storage request and limit as valid " +
    "Kubernetes quantities, the request at most the limit. Mandatory: without a limit, one " +
    "container's logs or scratch files can fill the node's disk and get its neighbours evicted.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: validateContainers((container, label, report) =>
    checkRequestAndLimit(container, label, RESOURCE, report),
  ),
};
