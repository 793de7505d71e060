// Where the pod template sits in each workload kind, so that one check covers Deployments,
// StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods.

import * as k8s from "@pulumi/kubernetes";
import type { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import type * as pulumi from "@pulumi/pulumi";

export type PodSpec = pulumi.Unwrap<k8s.types.input.core.v1.PodSpec>;
export type Container = pulumi.Unwrap<k8s.types.input.core.v1.Container>;
export type SecurityContext = pulumi.Unwrap<k8s.types.input.core.v1.SecurityContext>;

export interface Workload {
  /** Kubernetes kind, e.g. "Deployment". */
  kind: string;
  /** metadata.name if set, else the Pulumi resource name. */
  name: string;
  /** The pod template's spec (undefined when the resource has none, which is itself reported). */
  podSpec: PodSpec | undefined;
  /** True for kinds whose pods serve until replaced (not Jobs/CronJobs). */
  longRunning: boolean;
}

function named(meta: { name?: string } | undefined, args: ResourceValidationArgs): string {
  return meta?.name ?? args.name;
}

/** The workload behind a resource, or undefined if it is no workload kind we know. */
export function workloadOf(args: ResourceValidationArgs): Workload | undefined {
  const deployment = args.asType(k8s.apps.v1.Deployment);
  if (deployment) {
    const podSpec = deployment.spec?.template?.spec;
    return {
      kind: "Deployment",
      name: named(deployment.metadata, args),
      podSpec,
      longRunning: true,
    };
  }
  const statefulSet = args.asType(k8s.apps.v1.StatefulSet);
  if (statefulSet) {
    const podSpec = statefulSet.spec?.template?.spec;
    return {
      kind: "StatefulSet",
      name: named(statefulSet.metadata, args),
      podSpec,
      longRunning: true,
    };
  }
  const daemonSet = args.asType(k8s.apps.v1.DaemonSet);
  if (daemonSet) {
    const podSpec = daemonSet.spec?.template?.spec;
    return { kind: "DaemonSet", name: named(daemonSet.metadata, args), podSpec, longRunning: true };
  }
  const replicaSet = args.asType(k8s.apps.v1.ReplicaSet);
  if (replicaSet) {
    const podSpec = replicaSet.spec?.template?.spec;
    return {
      kind: "ReplicaSet",
      name: named(replicaSet.metadata, args),
      podSpec,
      longRunning: true,
    };
  }
  const pod = args.asType(k8s.core.v1.Pod);
  if (pod) {
    return { kind: "Pod", name: named(pod.metadata, args), podSpec: pod.spec, longRunning: true };
  }
  const job = args.asType(k8s.batch.v1.Job);
  if (job) {
    const podSpec = job.spec?.template?.spec;
    return { kind: "Job", name: named(job.metadata, args), podSpec, longRunning: false };
  }
  const cronJob = args.asType(k8s.batch.v1.CronJob);
  if (cronJob) {
    const podSpec = cronJob.spec?.jobTemplate?.spec?.template?.spec;
    return { kind: "CronJob", name: named(cronJob.metadata, args), podSpec, longRunning: false };
  }
  return undefined;
}

export type WorkloadCheck = (
  workload: Workload & { podSpec: PodSpec },
  report: (message: string) => void,
  args: ResourceValidationArgs,
) => void;

/**
 * A resource validation that runs `check` on the pod spec of every workload kind (long-running
 * kinds only with `longRunningOnly`); other resource types are "not applicable". Every message is
 * prefixed with "<Kind> <name>: ".
 */
export function validateWorkloads(
  check: WorkloadCheck,
  opts: { longRunningOnly?: boolean } = {},
): ResourceValidation {
  return (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const workload = workloadOf(args);
    if (!workload || (opts.longRunningOnly && !workload.longRunning)) {
      args.notApplicable(`not a${opts.longRunningOnly ? " long-running" : ""} workload`);
    }
    const report = (message: string) =>
      reportViolation(`${workload.kind} ${workload.name}: ${message}`);
    if (!workload.podSpec) {
      report("has no pod template spec");
      return;
    }
    check({ ...workload, podSpec: workload.podSpec }, report, args);
  };
}

/** Containers with where they sit ("container app", "initContainer migrate"). */
export function containersOf(
  podSpec: PodSpec,
  opts: { init?: boolean } = { init: true },
): { container: Container; label: string; init: boolean }[] {
  const out: { container: Container; label: string; init: boolean }[] = [];
  if (opts.init !== false) {
    for (const [i, c] of (podSpec.initContainers ?? []).entries()) {
      out.push({ container: c, label: `initContainer ${c.name ?? `#${i}`}`, init: true });
    }
  }
  for (const [i, c] of (podSpec.containers ?? []).entries()) {
    out.push({ container: c, label: `container ${c.name ?? `#${i}`}`, init: false });
  }
  return out;
}
