import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, validateWorkloads } from "../workloads";

/**
 * Mandatory: the model takes seconds to load; without a readiness probe a rollout (rolling,
 * blue/green or canary alike) sends requests to pods that cannot answer yet, and the errors land
 * in the measurements.
 */
export const readinessProbe: ResourceValidationPolicy = {
  name: "readiness-probe",
  description:
    "Every serving container of a long-running workload (Deployment, StatefulSet, DaemonSet, " +
    "ReplicaSet, Pod) has a readiness probe with successThreshold >= 1 (unset means 1). " +
    "Mandatory: otherwise rollouts route traffic to pods still loading the model.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: validateWorkloads(
    (workload, report) => {
      const containers = containersOf(workload.podSpec, { init: false });
      if (containers.length === 0) report("has no containers");
      for (const { container, label } of containers) {
        const probe = container.readinessProbe;
        if (!probe) {
          report(`${label} has no readinessProbe`);
          continue;
        }
        const threshold = probe.successThreshold;
        if (threshold !== undefined && !(Number.isInteger(threshold) && threshold >= 1)) {
          report(`${label} readinessProbe.successThreshold is ${threshold}; it must be >= 1`);
        }
        if (!probe.httpGet && !probe.tcpSocket && !probe.exec && !probe.grpc) {
          report(`${label} readinessProbe has no handler (httpGet, tcpSocket, exec or grpc)`);
        }
      }
    },
    { longRunningOnly: true },
  ),
};
