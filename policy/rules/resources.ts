import type { ResourceValidationPolicy } from "@pulumi/policy";
import { tryParseQuantity } from "../../components/quantity";
import { exceedsLimit } from "../../components/rules";
import { type Container, validateContainers } from "../workloads";

const RESOURCES = ["cpu", "memory"] as const;

/**
 * One resource of one container: a request and a limit are set, each a valid quantity, the
 * request at most the limit. Shared by container-resources and container-ephemeral-storage.
 */
export function checkRequestAndLimit(
  container: Container,
  label: string,
  resource: string,
  report: (message: string) => void,
): void {
  const rawRequest = (container.resources?.requests as Record<string, unknown> | undefined)?.[
    resource
  ];
  const rawLimit = (container.resources?.limits as Record<string, unknown> | undefined)?.[resource];
  if (rawRequest === undefined) report(`${label} has no ${resource} request`);
  if (rawLimit === undefined) report(`${label} has no ${resource} limit`);
  const request = rawRequest === undefined ? undefined : tryParseQuantity(rawRequest);
  const limit = rawLimit === undefined ? undefined : tryParseQuantity(rawLimit);
  if (rawRequest !== undefined && !request) {
    report(`${label} ${resource} request ${JSON.stringify(rawRequest)} is no valid quantity`);
  }
  if (rawLimit !== undefined && !limit) {
    report(`${label} ${resource} limit ${JSON.stringify(rawLimit)} is no valid quantity`);
  }
  if (request && limit && exceedsLimit(request, limit)) {
    report(`${label} ${resource} request ${request.text} exceeds its limit ${limit.text}`);
  }
}

/**
 * Mandatory: every strategy is measured against its CPU/memory budget, the server derives
 * INFERENCE_THREADS and the Node heap from the limits, and a pod without requests is scheduled
 * anywhere (BestEffort, first to be evicted). The API server would refuse a request above its
 * limit mid-update; refusing it at preview keeps a half-applied stack from happening.
 */
export const containerResources: ResourceValidationPolicy = {
  name: "container-resources",
  description:
    "Every container (init containers too) sets CPU and memory requests and limits as valid " +
    "Kubernetes quantities, and each request is at most its limit. Mandatory: strategies are " +
    "compared by their budgets and the server sizes its threads and heap from the limits.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: validateContainers((container, label, report) => {
    for (const resource of RESOURCES) checkRequestAndLimit(container, label, resource, report);
  }),
};
