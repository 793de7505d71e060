/**
 * The rules more than one checker applies, each written once: the stack schema (stacks/schema.ts,
 * whose messages name the stack, key and fix), the components' contracts (contract.ts: property
 * path and value) and the policy pack (policy/rules: the rendered object). Each checker words the
 * message for its own reader; the rule is this one. Pure.
 */
import { compareQuantities, parseQuantity, type Quantity } from "./quantity";

/** A value as a checker's reason shows it: JSON for data, `undefined` for undefined. */
export function show(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A DNS label (RFC 1123): namespaces, Gateway and listener names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether `value` is a DNS label of at most 63 characters. */
export function isDnsLabel(value: unknown): value is string {
  return typeof value === "string" && value.length <= 63 && DNS_LABEL.test(value);
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether `value` is a DNS subdomain (RFC 1123, at most 253): IngressClass, PriorityClass names. */
export function isDnsSubdomain(value: unknown): value is string {
  return typeof value === "string" && value.length <= 253 && SUBDOMAIN.test(value);
}

/** Whether `value` is a host name a route matches: a DNS subdomain, or `*.` and one. */
export function isHostName(value: unknown): value is string {
  return typeof value === "string" && isDnsSubdomain(value.replace(/^\*\./, ""));
}

/** Whether a request is above its limit (Kubernetes quantities, compared exactly). */
export function exceedsLimit(request: string | Quantity, limit: string | Quantity): boolean {
  const q = (v: string | Quantity) => (typeof v === "string" ? parseQuantity(v) : v);
  return compareQuantities(q(request), q(limit)) > 0;
}

/** An HPA's bounds are out of order: minReplicas above maxReplicas (the API server refuses it). */
export function replicasOutOfOrder(minReplicas: number, maxReplicas: number): boolean {
  return minReplicas > maxReplicas;
}

/**
 * The HPA's CPU target, percent of requests.cpu: above 100 it scales only once pods burst past
 * their request, which no strategy's budget is built for; 0 is invalid.
 */
export const CPU_TARGET_PERCENT = { min: 1, max: 100 } as const;

/**
 * Whether the server, which keeps serving `delaySeconds` after SIGTERM before it drains, is cut off
 * before it drains: the delay must be below the drain time `graceSeconds`.
 */
export function drainCutOff(delaySeconds: number, graceSeconds: number): boolean {
  return delaySeconds >= graceSeconds;
}
