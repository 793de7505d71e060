import * as k8s from "@pulumi/kubernetes";
import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
} from "@pulumi/policy";
import type * as pulumi from "@pulumi/pulumi";
import { CPU_TARGET_PERCENT, replicasOutOfOrder } from "../../components/rules";

type MetricSpecV2 = pulumi.Unwrap<k8s.types.input.autoscaling.v2.MetricSpec>;

/** CPU utilization targets of autoscaling/v2 (and v2beta2, same shape) metrics, with their path. */
function cpuTargetsV2(metrics: MetricSpecV2[] | undefined): { path: string; value: unknown }[] {
  const out: { path: string; value: unknown }[] = [];
  for (const [i, metric] of (metrics ?? []).entries()) {
    const source =
      metric.type === "Resource"
        ? metric.resource
        : metric.type === "ContainerResource"
          ? metric.containerResource
          : undefined;
    if (source?.name !== "cpu" || source.target?.type !== "Utilization") continue;
    const field = metric.type === "Resource" ? "resource" : "containerResource";
    out.push({
      path: `spec.metrics[${i}].${field}.target.averageUtilization`,
      value: source.target.averageUtilization,
    });
  }
  return out;
}

interface HpaView {
  name: string;
  minReplicas: number | undefined;
  maxReplicas: number | undefined;
  cpuTargets: { path: string; value: unknown }[];
}

function hpaOf(args: ResourceValidationArgs): HpaView | undefined {
  // v2beta2 has v2's shape.
  const v2 =
    args.asType(k8s.autoscaling.v2.HorizontalPodAutoscaler) ??
    args.asType(k8s.autoscaling.v2beta2.HorizontalPodAutoscaler);
  if (v2) {
    return {
      name: v2.metadata?.name ?? args.name,
      minReplicas: v2.spec?.minReplicas,
      maxReplicas: v2.spec?.maxReplicas,
      cpuTargets: cpuTargetsV2(v2.spec?.metrics as MetricSpecV2[] | undefined),
    };
  }
  const v1 = args.asType(k8s.autoscaling.v1.HorizontalPodAutoscaler);
  if (v1) {
    const target = v1.spec?.targetCPUUtilizationPercentage;
    return {
      name: v1.metadata?.name ?? args.name,
      minReplicas: v1.spec?.minReplicas,
      maxReplicas: v1.spec?.maxReplicas,
      cpuTargets:
        target === undefined
          ? []
          : [{ path: "spec.targetCPUUtilizationPercentage", value: target }],
    };
  }
  return undefined;
}

/**
 * Mandatory: min > max is refused by the API server in the middle of an update, and a CPU target
 * above 100% of the request only scales once pods burst past their request, which the budgets
 * of the strategies are not built for (a target of 0 is invalid).
 */
export const hpaBounds: ResourceValidationPolicy = {
  name: "hpa-bounds",
  description:
    "Every HorizontalPodAutoscaler (autoscaling/v1, v2, v2beta2) has 1 <= minReplicas <= " +
    "maxReplicas (minReplicas defaults to 1) and every CPU utilization target is an integer " +
    "within 1..100 percent. Mandatory: a broken autoscaler fails mid-update or never scales.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const hpa = hpaOf(args);
    if (!hpa) args.notApplicable("not a HorizontalPodAutoscaler");
    const report = (message: string) =>
      reportViolation(`HorizontalPodAutoscaler ${hpa.name}: ${message}`);
    const min = hpa.minReplicas ?? 1;
    const max = hpa.maxReplicas;
    if (!Number.isInteger(min) || min < 1) report(`minReplicas is ${min}; it must be >= 1`);
    if (max === undefined) {
      report("has no maxReplicas");
    } else if (replicasOutOfOrder(min, max)) {
      report(`minReplicas ${min} is greater than maxReplicas ${max}`);
    }
    for (const { path, value } of hpa.cpuTargets) {
      const { min: low, max: high } = CPU_TARGET_PERCENT;
      if (typeof value !== "number" || !Number.isInteger(value) || value < low || value > high) {
        report(`CPU target ${path} is ${JSON.stringify(value)}; it must be within ${low}..${high}`);
      }
    }
  },
};
