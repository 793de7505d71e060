// Where the pod template sits in each workload kind, so that one check covers Deployments,
// StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and bare Pods.

import * as k8s from "@pulumi/kubernetes";
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
} from "@pulumi/policy";
import type * as pulumi from "@pulumi/pulumi";

type PodSpec = pulumi.Unwrap<k8s.types.input.core.v1.PodSpec>;
/** A container of a pod spec, as a resource validation reads it. */
export type Container = pulumi.Unwrap<k8s.types.input.core.v1.Container>;

export interface Workload {
  /** Kubernetes kind, e.g. "Deployment". */
  kind: string;
  /** metadata.name if set, else the Pulumi resource name. */
  name: string;
  /** metadata.namespace, when set. */
  namespace: string | undefined;
  /** The labels its pods get (the pod template's, or a bare Pod's own). */
  podLabels: Record<string, string> | undefined;
  /** The pod template's spec (undefined when the resource has none, which is itself reported). */
  podSpec: PodSpec | undefined;
  /** True for kinds whose pods serve until replaced (not Jobs/CronJobs). */
  longRunning: boolean;
}

/** What workloadOf reads of a resource: a resource validation's args or a stack's resource. */
type TypedResource = Pick<ResourceValidationArgs, "asType" | "name">;

function named(meta: { name?: string } | undefined, args: TypedResource): string {
  return meta?.name ?? args.name;
}

/** The workload behind a resource, or undefined if it is no workload kind we know. */
function workloadOf(args: TypedResource): Workload | undefined {
  type Template = { metadata?: { labels?: Record<string, string> }; spec?: PodSpec } | undefined;
  const make = (
    kind: string,
    o: { metadata?: { name?: string; namespace?: string } },
    template: Template,
    longRunning = true,
  ): Workload => ({
    kind,
    name: named(o.metadata, args),
    namespace: o.metadata?.namespace,
    podLabels: template?.metadata?.labels,
    podSpec: template?.spec,
    longRunning,
  });
  const deployment = args.asType(k8s.apps.v1.Deployment);
  if (deployment) return make("Deployment", deployment, deployment.spec?.template);
  const statefulSet = args.asType(k8s.apps.v1.StatefulSet);
  if (statefulSet) return make("StatefulSet", statefulSet, statefulSet.spec?.template);
  const daemonSet = args.asType(k8s.apps.v1.DaemonSet);
  if (daemonSet) return make("DaemonSet", daemonSet, daemonSet.spec?.template);
  const replicaSet = args.asType(k8s.apps.v1.ReplicaSet);
  if (replicaSet) return make("ReplicaSet", replicaSet, replicaSet.spec?.template);
  const pod = args.asType(k8s.core.v1.Pod);
  if (pod) return make("Pod", pod, { metadata: pod.metadata, spec: pod.spec });
  const job = args.asType(k8s.batch.v1.Job);
  if (job) return make("Job", job, job.spec?.template, false);
  const cronJob = args.asType(k8s.batch.v1.CronJob);
  if (cronJob) return make("CronJob", cronJob, cronJob.spec?.jobTemplate?.spec?.template, false);
  return undefined;
}

/**
 * The workload behind a stack's resource (what a stack policy reads): its outputs carry the same
 * shapes as a resource validation's inputs for what workloadOf reads (metadata, the pod template).
 */
export function stackWorkloadOf(r: PolicyResource): Workload | undefined {
  return workloadOf({
    name: r.name,
    asType: ((cls: never) => r.asType(cls)) as TypedResource["asType"],
  });
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

/**
 * A resource validation that runs `check` on every container (init containers too) of every
 * workload kind, with its label ("container app"); see {@link validateWorkloads}.
 */
export function validateContainers(
  check: (container: Container, label: string, report: (message: string) => void) => void,
): ResourceValidation {
  return validateWorkloads((workload, report) => {
    for (const { container, label } of containersOf(workload.podSpec)) {
      check(container, label, report);
    }
  });
}
