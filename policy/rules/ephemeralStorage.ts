import type { ResourceValidationPolicy } from "@pulumi/policy";
import { compareQuantities, tryParseQuantity } from "../../components/quantity";
import { containersOf, validateWorkloads } from "../workloads";

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
  validateResource: validateWorkloads((workload, report) => {
    for (const { container, label } of containersOf(workload.podSpec)) {
      const rawRequest = (container.resources?.requests as Record<string, unknown> | undefined)?.[
        RESOURCE
      ];
      const rawLimit = (container.resources?.limits as Record<string, unknown> | undefined)?.[
        RESOURCE
      ];
      if (rawRequest === undefined) report(`${label} has no ${RESOURCE} request`);
      if (rawLimit === undefined) report(`${label} has no ${RESOURCE} limit`);
      const request = rawRequest === undefined ? undefined : tryParseQuantity(rawRequest);
      const limit = rawLimit === undefined ? undefined : tryParseQuantity(rawLimit);
      if (rawRequest !== undefined && !request) {
        report(`${label} ${RESOURCE} request ${JSON.stringify(rawRequest)} is no valid quantity`);
      }
      if (rawLimit !== undefined && !limit) {
        report(`${label} ${RESOURCE} limit ${JSON.stringify(rawLimit)} is no valid quantity`);
      }
      if (request && limit && compareQuantities(request, limit) > 0) {
        report(`${label} ${RESOURCE} request ${request.text} exceeds its limit ${limit.text}`);
      }
    }
  }),
};
