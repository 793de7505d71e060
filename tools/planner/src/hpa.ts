import { type HpaScalingRules, hpaBehavior } from "../../../components/defaults.js";
import {
  HPA_FLAGS,
  HPA_TOLERANCE_DEFAULT,
  type StackSettings,
} from "../../strategy-bench/src/index.js";

/**
 * The HPA controller's own algorithm, as kube-controller-manager v1.36.1 implements it for one
 * autoscaling/v2 HPA with one Resource metric (cpu, AverageUtilization) and a behavior — what
 * components/InferenceService.ts deploys. Sources, in the Go module cache under
 * k8s.io/kubernetes@v1.36.1/pkg/controller/podautoscaler/:
 *
 * - horizontal.go `reconcileAutoscaler`: min/max bounds first, then the metric proposal, then
 *   `normalizeDesiredReplicasWithBehaviors`, then `storeScaleEvent` on a rescale;
 *   `recordInitialRecommendation`; `computeReplicasForMetrics` (one metric: any error means no
 *   rescale this sync);
 * - horizontal.go `stabilizeRecommendationWithBehaviors`, `convertDesiredReplicasWithBehaviorRate`,
 *   `calculateScaleUpLimitWithScalingRules`, `calculateScaleDownLimitWithBehaviors`,
 *   `getReplicasChangePerPeriod`, `storeScaleEvent`, `markScaleEventsOutdated`;
 * - replica_calculator.go `GetResourceReplicas` (the tolerance, the ratio rule, missing pods at
 *   100 %/0 %, unready pods at 0 % on a scale-up, the re-check of the new ratio), `groupPods`
 *   (Pending pods, pods without metrics, the cpuInitializationPeriod and
 *   delayOfInitialReadinessStatus rules), `Tolerances.isWithin`;
 * - metrics/utilization.go `GetResourceUtilizationRatio` (integer percent, truncated);
 * - config/v1alpha1/defaults.go: sync period 15 s, tolerance 0.1, CPU initialization period
 *   5 min, initial readiness delay 30 s;
 * - pkg/apis/autoscaling/v2/defaults.go: behavior defaults (scale up: window 0, Max of 100 % and
 *   4 pods per 15 s; scale down: 100 % per 15 s, window from the controller's flag, 300 s); the
 *   behavior a stack deploys is components/defaults.ts `hpaBehavior`, which this reads.
 *
 * Times are seconds on the simulation's clock, where the controller uses time.Now(); `After` and
 * `Before` comparisons are strict, as in Go.
 */

export type ScalingRules = HpaScalingRules;

export interface HpaSpec {
  minReplicas: number;
  maxReplicas: number;
  /** Target average CPU utilization, percent of requests.cpu. */
  targetUtilization: number;
  behavior: { scaleUp: ScalingRules; scaleDown: ScalingRules };
}

/** The controller's flags (kube-controller-manager defaults). */
export interface ControllerConfig {
  syncPeriodSeconds: number;
  tolerance: number;
  cpuInitializationPeriodSeconds: number;
  delayOfInitialReadinessStatusSeconds: number;
}

/**
 * pkg/controller/podautoscaler/config/v1alpha1/defaults.go: the defaults of the flags the local
 * cluster sets (strategy-bench cluster-scale.ts' HPA_FLAGS, their one home).
 */
export const CONTROLLER_DEFAULTS: ControllerConfig = {
  syncPeriodSeconds: HPA_FLAGS.syncPeriod.seconds,
  tolerance: HPA_TOLERANCE_DEFAULT,
  cpuInitializationPeriodSeconds: HPA_FLAGS.cpuInitializationPeriod.seconds,
  delayOfInitialReadinessStatusSeconds: HPA_FLAGS.initialReadinessDelay.seconds,
};

/**
 * The controller's settings of flags named as the planner's and the cluster's (`syncPeriod`,
 * `tolerance`, `cpuInitializationPeriod`, `initialReadinessDelay`, seconds): those given; the
 * rest are {@link CONTROLLER_DEFAULTS}.
 */
export function controllerFlags(o: {
  syncPeriod?: number;
  tolerance?: number;
  cpuInitializationPeriod?: number;
  initialReadinessDelay?: number;
}): Partial<ControllerConfig> {
  return {
    ...(o.syncPeriod !== undefined ? { syncPeriodSeconds: o.syncPeriod } : {}),
    ...(o.tolerance !== undefined ? { tolerance: o.tolerance } : {}),
    ...(o.cpuInitializationPeriod !== undefined
      ? { cpuInitializationPeriodSeconds: o.cpuInitializationPeriod }
      : {}),
    ...(o.initialReadinessDelay !== undefined
      ? { delayOfInitialReadinessStatusSeconds: o.initialReadinessDelay }
      : {}),
  };
}

/** The HPA a stack deploys (components/InferenceService.ts, with components/defaults.ts `hpaBehavior`). */
export function hpaSpecFromStack(s: StackSettings): HpaSpec {
  const a = s.autoscaling;
  return {
    minReplicas: a.minReplicas,
    maxReplicas: a.maxReplicas,
    targetUtilization: a.targetCpuUtilization,
    behavior: hpaBehavior(a),
  };
}

/** A pod as the controller's pod lister shows it. */
export interface HpaPod {
  name: string;
  phase: "Pending" | "Running" | "Failed";
  deleting?: boolean;
  /** status.startTime (set once the kubelet accepted the pod). */
  startTime?: number;
  /** The Ready condition; absent before the kubelet reports one. */
  ready?: { status: boolean; lastTransitionTime: number };
  /** requests.cpu, millicores. */
  cpuRequestMilli: number;
}

/** A pod's metric from metrics.k8s.io: CPU usage in millicores over [timestamp - window, timestamp]. */
export interface PodMetric {
  valueMilli: number;
  timestamp: number;
  windowSeconds: number;
}

/** What `groupPods` reads of the controller's flags: when a pod's CPU and readiness count. */
export type PodReadinessConfig = Pick<
  ControllerConfig,
  "cpuInitializationPeriodSeconds" | "delayOfInitialReadinessStatusSeconds"
>;

/** replica_calculator.go `groupPods`, for the cpu resource. */
export function groupPods(
  pods: readonly HpaPod[],
  metrics: ReadonlyMap<string, PodMetric>,
  now: number,
  cfg: PodReadinessConfig,
) {
  const unreadyPods = new Set<string>();
  const missingPods = new Set<string>();
  const ignoredPods = new Set<string>();
  let readyPodCount = 0;
  for (const pod of pods) {
    if (pod.deleting || pod.phase === "Failed") {
      ignoredPods.add(pod.name);
      continue;
    }
    // Pending pods are ignored.
    if (pod.phase === "Pending") {
      unreadyPods.add(pod.name);
      continue;
    }
    // Pods missing metrics.
    const metric = metrics.get(pod.name);
    if (!metric) {
      missingPods.add(pod.name);
      continue;
    }
    let unready: boolean;
    const condition = pod.ready;
    if (condition === undefined || pod.startTime === undefined) {
      unready = true;
    } else if (pod.startTime + cfg.cpuInitializationPeriodSeconds > now) {
      // Within the initialisation period: ignore the sample if the pod is unready or one window of
      // metric was not collected since the last state transition.
      unready =
        !condition.status || metric.timestamp < condition.lastTransitionTime + metric.windowSeconds;
    } else {
      // Ignore the metric if the pod is unready and it has never been ready.
      unready =
        !condition.status &&
        pod.startTime + cfg.delayOfInitialReadinessStatusSeconds > condition.lastTransitionTime;
    }
    if (unready) {
      unreadyPods.add(pod.name);
      continue;
    }
    readyPodCount++;
  }
  return { readyPodCount, unreadyPods, missingPods, ignoredPods };
}

/**
 * metrics/utilization.go `GetResourceUtilizationRatio`: utilization = (Σ usage × 100) / Σ requests
 * in integer arithmetic (truncated), ratio = utilization / target.
 */
export function resourceUtilizationRatio(
  metrics: ReadonlyMap<string, number>,
  requests: ReadonlyMap<string, number>,
  targetUtilization: number,
): { ratio: number; utilization: number } | { error: string } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  for (const [pod, value] of metrics) {
    const request = requests.get(pod);
    if (request === undefined) continue;
    metricsTotal += value;
    requestsTotal += request;
  }
  if (requestsTotal === 0) return { error: "no metrics returned matched known pods" };
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization };
}

/** `Tolerances.isWithin`: (1 − down) ≤ ratio ≤ (1 + up). */
function withinTolerance(ratio: number, tolerance: number): boolean {
  return 1 - tolerance <= ratio && ratio <= 1 + tolerance;
}

export type ReplicaProposal =
  | {
      replicas: number;
      utilization: number;
      readyPods: number;
      unreadyPods: number;
      missingPods: number;
    }
  | { error: string };

/** replica_calculator.go `GetResourceReplicas`, step for step. */
export function getResourceReplicas(
  currentReplicas: number,
  targetUtilization: number,
  tolerance: number,
  pods: readonly HpaPod[],
  podMetrics: ReadonlyMap<string, PodMetric>,
  now: number,
  cfg: PodReadinessConfig,
): ReplicaProposal {
  if (podMetrics.size === 0) {
    return {
      error:
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
    };
  }
  if (pods.length === 0)
    return { error: "no pods returned by selector while calculating replica count" };
  const { readyPodCount, unreadyPods, missingPods, ignoredPods } = groupPods(
    pods,
    podMetrics,
    now,
    cfg,
  );
  const metrics = new Map<string, number>();
  for (const [name, m] of podMetrics) {
    if (!ignoredPods.has(name) && !unreadyPods.has(name)) metrics.set(name, m.valueMilli);
  }
  if (metrics.size === 0) {
    return { error: "did not receive metrics for targeted pods (pods might be unready)" };
  }
  const requests = new Map(pods.map((p) => [p.name, p.cpuRequestMilli] as const));
  const first = resourceUtilizationRatio(metrics, requests, targetUtilization);
  if ("error" in first) return first;
  const { ratio: usageRatio, utilization } = first;
  const counts = {
    utilization,
    readyPods: readyPodCount,
    unreadyPods: unreadyPods.size,
    missingPods: missingPods.size,
  };

  const scaleUpWithUnready = unreadyPods.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missingPods.size === 0) {
    // Return the current replicas if the change would be too small.
    if (withinTolerance(usageRatio, tolerance)) return { replicas: currentReplicas, ...counts };
    return { replicas: Math.ceil(usageRatio * readyPodCount), ...counts };
  }
  if (missingPods.size > 0) {
    if (usageRatio < 1.0) {
      // On a scale-down, treat missing pods as using 100 % of the request (or the target if > 100).
      const fallback = Math.max(100, targetUtilization);
      for (const name of missingPods) {
        metrics.set(name, Math.trunc(((requests.get(name) ?? 0) * fallback) / 100));
      }
    } else if (usageRatio > 1.0) {
      // On a scale-up, treat missing pods as using 0 % of the request.
      for (const name of missingPods) metrics.set(name, 0);
    }
  }
  if (scaleUpWithUnready) {
    // On a scale-up, treat unready pods as using 0 % of the request.
    for (const name of unreadyPods) metrics.set(name, 0);
  }
  // Re-run the utilization calculation with the new numbers.
  const second = resourceUtilizationRatio(metrics, requests, targetUtilization);
  if ("error" in second) return second;
  const newUsageRatio = second.ratio;
  if (
    withinTolerance(newUsageRatio, tolerance) ||
    (usageRatio < 1.0 && newUsageRatio > 1.0) ||
    (usageRatio > 1.0 && newUsageRatio < 1.0)
  ) {
    // Too small a change, or the new ratio would change the direction of scale.
    return { replicas: currentReplicas, ...counts };
  }
  const newReplicas = Math.ceil(newUsageRatio * metrics.size);
  if (
    (newUsageRatio < 1.0 && newReplicas > currentReplicas) ||
    (newUsageRatio > 1.0 && newReplicas < currentReplicas)
  ) {
    return { replicas: currentReplicas, ...counts };
  }
  return { replicas: newReplicas, ...counts };
}

interface TimestampedRecommendation {
  recommendation: number;
  timestamp: number;
}
interface TimestampedScaleEvent {
  replicaChange: number;
  timestamp: number;
  outdated: boolean;
}

/** horizontal.go `getReplicasChangePerPeriod`: the change of events strictly after now − period. */
function replicasChangePerPeriod(
  periodSeconds: number,
  events: readonly TimestampedScaleEvent[],
  now: number,
): number {
  const cutoff = now - periodSeconds;
  let replicas = 0;
  for (const e of events) if (e.timestamp > cutoff) replicas += e.replicaChange;
  return replicas;
}

type LimitArgs = [
  currentReplicas: number,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  rules: ScalingRules,
  now: number,
];

/** horizontal.go `calculateScaleUpLimitWithScalingRules`. */
export const scaleUpLimit = (...a: LimitArgs): number => limitWithRules(true, ...a);

/** horizontal.go `calculateScaleDownLimitWithBehaviors`. */
export const scaleDownLimit = (...a: LimitArgs): number => limitWithRules(false, ...a);

/** The two functions above, which horizontal.go writes out twice. */
function limitWithRules(up: boolean, ...[current, upEvents, downEvents, rules, now]: LimitArgs) {
  if (rules.selectPolicy === "Disabled") return current;
  // Up, "Min" picks the lowest count; for scaling down the lowest change ("Min") is the highest.
  const highest = (rules.selectPolicy === "Min") !== up;
  const pick = highest ? Math.max : Math.min;
  let result = highest ? -2147483648 : 2147483647;
  for (const policy of rules.policies) {
    const added = replicasChangePerPeriod(policy.periodSeconds, upEvents, now);
    const deleted = replicasChangePerPeriod(policy.periodSeconds, downEvents, now);
    const periodStartReplicas = current - added + deleted;
    // Up, the proposal is rounded up so that a percent policy can always add a pod.
    let proposed: number;
    if (up)
      proposed =
        policy.type === "Pods"
          ? periodStartReplicas + policy.value
          : Math.ceil(periodStartReplicas * (1 + policy.value / 100));
    else
      proposed =
        policy.type === "Pods"
          ? periodStartReplicas - policy.value
          : Math.trunc(periodStartReplicas * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** What one sync decided, and why. */
export interface HpaDecision {
  time: number;
  currentReplicas: number;
  /** The metric's proposal (GetResourceReplicas), before stabilization and rate limits. */
  proposal?: number;
  utilization?: number;
  readyPods?: number;
  unreadyPods?: number;
  missingPods?: number;
  /** After stabilizeRecommendationWithBehaviors. */
  stabilized?: number;
  /** What the controller writes to the scale subresource (= current when it does not rescale). */
  desiredReplicas: number;
  rescale: boolean;
  /** The limiting reason (ScaleUpLimit, TooManyReplicas, ScaleDownStabilized, …) or the error. */
  reason: string;
}

/**
 * One HPA object's controller state (recommendations and scale events, kept per HPA key in the
 * real controller) and its `reconcileAutoscaler`.
 */
export class HorizontalController {
  private recommendations: TimestampedRecommendation[] | undefined;
  private readonly scaleUpEvents: TimestampedScaleEvent[] = [];
  private readonly scaleDownEvents: TimestampedScaleEvent[] = [];

  constructor(
    readonly spec: HpaSpec,
    readonly cfg: ControllerConfig = CONTROLLER_DEFAULTS,
  ) {}

  /** horizontal.go `reconcileAutoscaler` for currentReplicas = the scale's spec.replicas. */
  reconcile(
    now: number,
    currentReplicas: number,
    pods: readonly HpaPod[],
    metrics: ReadonlyMap<string, PodMetric>,
  ): HpaDecision {
    // recordInitialRecommendation
    this.recommendations ??= [{ recommendation: currentReplicas, timestamp: now }];
    const { minReplicas, maxReplicas } = this.spec;
    let desiredReplicas: number;
    let reason: string;
    const base = { time: now, currentReplicas };
    if (currentReplicas === 0) {
      return { ...base, desiredReplicas: 0, rescale: false, reason: "ScalingDisabled" };
    }
    if (currentReplicas > maxReplicas) {
      desiredReplicas = maxReplicas;
      reason = "Current number of replicas above Spec.MaxReplicas";
      return this.apply({ ...base, desiredReplicas, rescale: true, reason }, currentReplicas);
    }
    if (currentReplicas < minReplicas) {
      desiredReplicas = minReplicas;
      reason = "Current number of replicas below Spec.MinReplicas";
      return this.apply({ ...base, desiredReplicas, rescale: true, reason }, currentReplicas);
    }
    const p = getResourceReplicas(
      currentReplicas,
      this.spec.targetUtilization,
      this.cfg.tolerance,
      pods,
      metrics,
      now,
      this.cfg,
    );
    if ("error" in p) {
      // computeReplicasForMetrics: the only metric is invalid, so no rescale (FailedComputeMetricsReplicas).
      return { ...base, desiredReplicas: currentReplicas, rescale: false, reason: p.error };
    }
    const proposal = Math.max(0, p.replicas);
    const stabilized = this.stabilizeRecommendation(now, currentReplicas, proposal);
    const rate = this.convertDesiredReplicasWithBehaviorRate(now, currentReplicas, stabilized);
    desiredReplicas = rate.replicas;
    reason =
      rate.reason !== "DesiredWithinRange"
        ? rate.reason
        : stabilized !== proposal
          ? proposal >= currentReplicas
            ? "ScaleUpStabilized"
            : "ScaleDownStabilized"
          : rate.reason;
    const decision: HpaDecision = {
      ...base,
      proposal,
      utilization: p.utilization,
      readyPods: p.readyPods,
      unreadyPods: p.unreadyPods,
      missingPods: p.missingPods,
      stabilized,
      desiredReplicas,
      rescale: desiredReplicas !== currentReplicas,
      reason,
    };
    return this.apply(decision, currentReplicas);
  }

  private apply(d: HpaDecision, currentReplicas: number): HpaDecision {
    if (d.rescale) this.storeScaleEvent(d.time, currentReplicas, d.desiredReplicas);
    return d;
  }

  /** horizontal.go `stabilizeRecommendationWithBehaviors`. */
  private stabilizeRecommendation(now: number, current: number, desired: number): number {
    const { scaleUp, scaleDown } = this.spec.behavior;
    const upCutoff = now - scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - scaleDown.stabilizationWindowSeconds;
    let upRecommendation = desired;
    let downRecommendation = desired;
    let oldSampleIndex = -1;
    const recs = this.recommendations ?? [];
    recs.forEach((rec, i) => {
      if (rec.timestamp > upCutoff)
        upRecommendation = Math.min(rec.recommendation, upRecommendation);
      if (rec.timestamp > downCutoff) {
        downRecommendation = Math.max(rec.recommendation, downRecommendation);
      }
      if (rec.timestamp < upCutoff && rec.timestamp < downCutoff) oldSampleIndex = i;
    });
    let recommendation = current;
    if (recommendation < upRecommendation) recommendation = upRecommendation;
    if (recommendation > downRecommendation) recommendation = downRecommendation;
    // Record the unstabilized recommendation, reusing an old sample's slot.
    const record = { recommendation: desired, timestamp: now };
    if (oldSampleIndex >= 0) recs[oldSampleIndex] = record;
    else recs.push(record);
    this.recommendations = recs;
    return recommendation;
  }

  /** horizontal.go `convertDesiredReplicasWithBehaviorRate`. */
  private convertDesiredReplicasWithBehaviorRate(
    now: number,
    current: number,
    desired: number,
  ): { replicas: number; reason: string } {
    const { minReplicas, maxReplicas, behavior } = this.spec;
    if (desired > current) {
      let limit = scaleUpLimit(
        current,
        this.scaleUpEvents,
        this.scaleDownEvents,
        behavior.scaleUp,
        now,
      );
      // We shouldn't scale up further until the scaleUpEvents will be cleaned up.
      if (limit < current) limit = current;
      let maximumAllowed = maxReplicas;
      let reason = "TooManyReplicas";
      if (maximumAllowed > limit) {
        maximumAllowed = limit;
        reason = "ScaleUpLimit";
      }
      if (desired > maximumAllowed) return { replicas: maximumAllowed, reason };
    } else if (desired < current) {
      let limit = scaleDownLimit(
        current,
        this.scaleUpEvents,
        this.scaleDownEvents,
        behavior.scaleDown,
        now,
      );
      if (limit > current) limit = current;
      let minimumAllowed = minReplicas;
      let reason = "TooFewReplicas";
      if (minimumAllowed < limit) {
        minimumAllowed = limit;
        reason = "ScaleDownLimit";
      }
      if (desired < minimumAllowed) return { replicas: minimumAllowed, reason };
    }
    return { replicas: desired, reason: "DesiredWithinRange" };
  }

  /** horizontal.go `storeScaleEvent` with `markScaleEventsOutdated` and `getLongestPolicyPeriod`. */
  private storeScaleEvent(now: number, prevReplicas: number, newReplicas: number): void {
    const up = newReplicas > prevReplicas;
    const rules = up ? this.spec.behavior.scaleUp : this.spec.behavior.scaleDown;
    const events = up ? this.scaleUpEvents : this.scaleDownEvents;
    const longest = rules.policies.reduce((a, p) => Math.max(a, p.periodSeconds), 0);
    const cutoff = now - longest;
    let oldSampleIndex = -1;
    events.forEach((e, i) => {
      if (e.timestamp < cutoff) e.outdated = true;
      if (e.outdated) oldSampleIndex = i;
    });
    const event = {
      replicaChange: up ? newReplicas - prevReplicas : prevReplicas - newReplicas,
      timestamp: now,
      outdated: false,
    };
    if (oldSampleIndex >= 0) events[oldSampleIndex] = event;
    else events.push(event);
  }
}
