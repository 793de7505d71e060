import type { StackSettings } from "../../strategy-bench/src/index.js";

/**
 * Readiness: a new pod takes traffic once its server has started (the capacity profile's
 * start-up time, container start to the first /readyz 200) and the readiness probe has then
 * succeeded successThreshold times, one probe every periodSeconds:
 *
 *   ready after  startup + successThreshold × readiness.periodSeconds
 *
 * (the kubelet's prober counts consecutive successes; the first counted probe is one period after
 * the server is up, as probes do not run back to back). The startup probe must allow the start:
 * a server slower than startup.periodSeconds × failureThreshold is restarted and never ready.
 */
export function readyDelaySeconds(startupSeconds: number, probes: StackSettings["probes"]) {
  return startupSeconds + probes.readiness.successThreshold * probes.readiness.periodSeconds;
}

/** The startup probe's budget, and whether the profile's start-up fits in it. */
export function startupBudget(startupSeconds: number, probes: StackSettings["probes"]) {
  const budget = probes.startup.periodSeconds * probes.startup.failureThreshold;
  return { budgetSeconds: budget, fits: startupSeconds < budget };
}
