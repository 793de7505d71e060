import type { StackSettings } from "../../strategy-bench/src/index.js";
import type { Cluster } from "./cluster.js";
import {
  type PlanOptions,
  type PlanResult,
  type PlanSample,
  planSummaries,
  simulatePlan,
} from "./simulate.js";

/**
 * Internet scale by replica groups: the Service spreads requests evenly over identical replicas,
 * so N replicas under a rate λ behave as k groups of N/k replicas under λ/k each. The planner
 * simulates ONE group event by event (λ/k, every k-th node, min/maxReplicas / k) and multiplies
 * its pods, requests and resources by k; response times are the group's. The error it costs
 * (the HPA decides in steps of k pods; each replica's arrivals are a little burstier with fewer
 * replicas behind the round robin) is measured against the full simulation in
 * docs/planning.md ("At internet scale").
 */

/** Most requests per second one group is simulated at, by default. */
const GROUP_RATE = 250;

/** The number of groups for a peak rate (1: simulate event by event). */
export function groupsFor(peakRate: number, groupRate = GROUP_RATE): number {
  return Math.max(1, Math.ceil(peakRate / groupRate));
}

/** One group's stack, cluster and rates. */
export function groupOptions(o: PlanOptions, k: number): PlanOptions {
  const s: StackSettings = o.stack;
  const min = Math.max(1, Math.round(s.autoscaling.minReplicas / k));
  const max = Math.max(min, Math.round(s.autoscaling.maxReplicas / k));
  const cluster: Cluster = {
    nodes: o.cluster.nodes.filter((_, i) => i % k === 0),
    description: o.cluster.description,
  };
  return {
    ...o,
    stack: { ...s, autoscaling: { ...s.autoscaling, minReplicas: min, maxReplicas: max } },
    cluster,
    ...(o.rates ? { rates: o.rates.map((r) => r / k) } : {}),
  };
}

/** Simulate with `k` groups (k = 1: the full simulation). */
export function simulateGrouped(o: PlanOptions, k: number): PlanResult {
  if (k <= 1) return simulatePlan(o);
  if (!o.rates)
    throw new Error("replica groups need an open-loop load (--rate or --rate-schedule)");
  const g = simulatePlan(groupOptions(o, k));
  const phases = g.phases.map((p) => ({
    ...p,
    transactions: p.transactions * k,
    okay: p.okay * k,
    failed: p.failed * k,
    socketFailures: p.socketFailures * k,
    transactionRate: p.transactionRate * k,
    meanReady: p.meanReady * k,
    meanPending: p.meanPending * k,
    maxReplicas: p.maxReplicas * k,
    ...(p.rate !== undefined ? { rate: p.rate * k } : {}),
  }));
  // Every figure of a sample but its time adds up over the groups: PlanSample is their one list.
  const samples = g.samples.map((x) => {
    const sum = { ...x };
    for (const key of Object.keys(x) as (keyof PlanSample)[]) if (key !== "time") sum[key] *= k;
    return sum;
  });
  return {
    ...g,
    phases,
    samples,
    ...planSummaries(phases, samples),
    notes: [
      ...g.notes,
      `aggregated: ${k} identical groups of replicas, one simulated event by event at 1/${k} of the rate ` +
        `on ${groupOptions(o, k).cluster.nodes.length} of ${o.cluster.nodes.length} nodes; pods step by ${k} ` +
        `(docs/planning.md, "At internet scale": its error against the full simulation)`,
    ],
  };
}
