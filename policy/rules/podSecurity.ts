import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, validateWorkloads } from "../workloads";

const ALLOWED_SECCOMP = new Set(["RuntimeDefault", "Localhost"]);
/** The seccomp profiles allowed, as the description and the reports say them. */
const SECCOMP_ALLOWED = [...ALLOWED_SECCOMP].join(" or ");

/**
 * Mandatory: the Pod Security Standard "restricted" profile is what a namespace labelled
 * pod-security.kubernetes.io/enforce=restricted admits; a pod that breaks it is refused by such
 * a cluster at creation (mid-update), and an inference server needs none of these privileges.
 */
export const podSecurityRestricted: ResourceValidationPolicy = {
  name: "pod-security-restricted",
  description:
    "Pods meet the Kubernetes 'restricted' Pod Security Standard: runAsNonRoot true and no " +
    "runAsUser 0; every container sets allowPrivilegeEscalation false, drops ALL capabilities " +
    `(may add back only NET_BIND_SERVICE) and is not privileged; seccompProfile ${SECCOMP_ALLOWED}; ` +
    "no hostNetwork, hostPID, hostIPC, hostPath volumes or hostPorts. Mandatory: " +
    "restricted namespaces refuse such pods mid-update, and the server needs no privilege.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: validateWorkloads((workload, report) => {
    const spec = workload.podSpec;
    const pod = spec.securityContext ?? {};
    if (spec.hostNetwork === true) report("sets hostNetwork");
    if (spec.hostPID === true) report("sets hostPID");
    if (spec.hostIPC === true) report("sets hostIPC");
    for (const volume of spec.volumes ?? []) {
      if (volume.hostPath) report(`volume ${volume.name} is a hostPath volume`);
    }
    if (pod.runAsUser === 0) report("pod securityContext.runAsUser is 0 (root)");
    const podSeccomp = pod.seccompProfile?.type;
    if (podSeccomp !== undefined && !ALLOWED_SECCOMP.has(podSeccomp)) {
      report(`pod seccompProfile.type is ${podSeccomp}; it must be ${SECCOMP_ALLOWED}`);
    }

    for (const { container, label } of containersOf(spec)) {
      const sc = container.securityContext ?? {};
      if (sc.privileged === true) report(`${label} is privileged`);
      if (sc.allowPrivilegeEscalation !== false) {
        report(`${label} must set securityContext.allowPrivilegeEscalation to false`);
      }
      const runAsNonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
      if (runAsNonRoot !== true) {
        report(`${label} must run with runAsNonRoot: true (pod or container securityContext)`);
      }
      if (sc.runAsUser === 0) report(`${label} securityContext.runAsUser is 0 (root)`);
      const drop = sc.capabilities?.drop ?? [];
      if (!drop.includes("ALL")) report(`${label} must drop ALL capabilities`);
      for (const cap of sc.capabilities?.add ?? []) {
        if (cap !== "NET_BIND_SERVICE") report(`${label} adds capability ${cap}`);
      }
      const seccomp = sc.seccompProfile?.type ?? podSeccomp;
      if (seccomp === undefined) {
        report(`${label} has no seccompProfile (pod or container); use RuntimeDefault`);
      } else if (!ALLOWED_SECCOMP.has(seccomp)) {
        report(`${label} seccompProfile.type is ${seccomp}; it must be ${SECCOMP_ALLOWED}`);
      }
      for (const port of container.ports ?? []) {
        if (port.hostPort !== undefined && port.hostPort !== 0) {
          report(`${label} binds hostPort ${port.hostPort}`);
        }
      }
    }
  }),
};
