// Test support: run a policy's validateResource the way the policy server does (props behind the
// unknown-checking proxy, isType/asType by Pulumi type token, notApplicable throws), collecting
// the violations. Also compliant fixtures for every resource kind the pack checks.
import type {
  PolicyResource,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as proxyModule from "@pulumi/policy/proxy";

// @pulumi/policy marks its proxy internals @internal, so its .d.ts is empty; these are the
// functions the policy server itself uses (server.js) to wrap props during preview.
const proxy = proxyModule as unknown as {
  unknownCheckingProxy<T extends object>(props: T): T;
  UnknownValueError: new (...args: never[]) => Error;
  unknownStringValue: string;
};

/** The value the engine sends for a string that is unknown during preview. */
export const UNKNOWN_STRING: string = proxy.unknownStringValue;

export interface PolicyRun {
  violations: string[];
  /** Set when the policy declared itself not applicable to the resource. */
  notApplicable?: string;
  /** Set when a value the policy read is unknown (preview); the server reports it as advisory. */
  unknown?: string;
}

class NotApplicable extends Error {}

type TypedClass = { __pulumiType?: string };

/** The Pulumi type token of a resource class ("kubernetes:apps/v1:Deployment"). */
export function typeOf(resourceClass: unknown): string {
  const t = (resourceClass as TypedClass).__pulumiType;
  if (!t) throw new Error("resource class has no __pulumiType");
  return t;
}

/**
 * A resource as the policy server hands it to a policy: its props, a test URN, the options of a
 * resource registered without any, isType/asType by type token.
 */
function policyResource(type: string, props: Record<string, unknown>, name: string) {
  return {
    type,
    props,
    urn: `urn:pulumi:test::food11::${type}::${name}`,
    name,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    isType: (cls: unknown) => (cls as TypedClass).__pulumiType === type,
    // Either asType: a resource validation's (the props as its args) or a stack resource's.
    asType: ((cls: unknown) =>
      (cls as TypedClass).__pulumiType === type ? props : undefined) as never,
  };
}

/** What the policy server passes a validation besides the resources: no tags, no config. */
function serverArgs() {
  return {
    stackTags: new Map<string, string>(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason ?? "not applicable");
    },
  };
}

export async function runPolicy(
  policy: ResourceValidationPolicy,
  resourceClass: unknown,
  props: Record<string, unknown>,
  name = "test",
): Promise<PolicyRun> {
  const wrapped = proxy.unknownCheckingProxy(structuredClone(props));
  const violations: string[] = [];
  const args: ResourceValidationArgs = {
    ...policyResource(typeOf(resourceClass), wrapped, name),
    ...serverArgs(),
  };
  const validations: ResourceValidation[] = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : policy.validateResource
      ? [policy.validateResource]
      : [];
  try {
    for (const validate of validations) {
      await validate(args, (message) => violations.push(message));
    }
  } catch (e) {
    if (e instanceof NotApplicable) return { violations, notApplicable: e.message };
    if (e instanceof proxy.UnknownValueError) return { violations, unknown: e.message };
    throw e;
  }
  return { violations };
}

/** One resource of a stack as a stack policy sees it. */
export interface StackResource {
  /** The resource class (`k8s.apps.v1.Deployment`) or its type token. */
  type: unknown;
  props: Record<string, unknown>;
  name?: string;
}

/**
 * Run a stack policy's validateStack the way the policy server does (every resource's props, with
 * isType/asType by type token), collecting the violations and the URNs they name.
 */
export async function runStackPolicy(
  policy: StackValidationPolicy,
  resources: StackResource[],
): Promise<PolicyRun & { urns: (string | undefined)[] }> {
  const violations: string[] = [];
  const urns: (string | undefined)[] = [];
  const stackResources = resources.map(
    (r, i): PolicyResource => ({
      ...policyResource(
        typeof r.type === "string" ? r.type : typeOf(r.type),
        structuredClone(r.props),
        r.name ?? `r${i}`,
      ),
      dependencies: [],
      propertyDependencies: {},
    }),
  );
  try {
    await policy.validateStack({ resources: stackResources, ...serverArgs() }, (message, urn) => {
      violations.push(message);
      urns.push(urn);
    });
  } catch (e) {
    if (e instanceof NotApplicable) return { violations, urns, notApplicable: e.message };
    throw e;
  }
  return { violations, urns };
}

export const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
export const IMAGE = `ghcr.io/food11/food11-classifier:0.1.0@${DIGEST}`;

/** A container that every policy accepts. */
export function goodContainer(): Record<string, unknown> {
  return {
    name: "classifier",
    image: IMAGE,
    ports: [{ name: "http", containerPort: 8080 }],
    resources: {
      requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "64Mi" },
      limits: { cpu: "1", memory: "1.5Gi", "ephemeral-storage": "512Mi" },
    },
    readinessProbe: {
      httpGet: { path: "/readyz", port: "http" },
      periodSeconds: 5,
      successThreshold: 1,
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    },
  };
}

/** A pod spec that every policy accepts. */
export function goodPodSpec(): Record<string, unknown> {
  return {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    },
    containers: [goodContainer()],
  };
}

/** A Deployment that every policy accepts. */
export function goodDeployment(): Record<string, unknown> {
  return {
    metadata: { name: "food11-classifier", namespace: "food11-baseline" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": "food11-classifier" } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "food11-classifier" } },
        spec: goodPodSpec(),
      },
    },
  };
}

/** A NetworkPolicy covering both directions for goodDeployment's pods. */
export function goodNetworkPolicy(): Record<string, unknown> {
  return {
    metadata: { name: "food11-classifier", namespace: "food11-baseline" },
    spec: {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "food11-classifier" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [{ ports: [{ protocol: "UDP", port: 53 }] }],
    },
  };
}
