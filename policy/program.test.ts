// The program's own stacks against the pack: every committed stack file, run through the whole
// Pulumi program under the unit tests' mocks, registers Kubernetes objects that no policy objects
// to; a stack that deploys a moving tag is refused. (The real-engine version of this check belongs
// to the e2e: `pulumi preview --policy-pack policy`, docs/ci.md.)
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { type Registered, runAccepted } from "../test/unit/infra/mocks";
import { policies } from "./policies";
import { runPolicy, runStackPolicy } from "./testing";

interface Finding {
  policy: string;
  level: string | undefined;
  resource: string;
  message: string;
}

/** Runs every policy over every registered resource, as the engine does before each step. */
async function check(resources: Registered[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  const custom = resources.filter((r) => r.custom !== false);
  for (const p of policies) {
    if (!("validateStack" in p)) continue;
    const run = await runStackPolicy(
      p,
      custom.map((r) => ({ type: r.type, props: r.inputs, name: r.name })),
    );
    for (const message of run.violations) {
      findings.push({ policy: p.name, level: p.enforcementLevel, resource: "stack", message });
    }
  }
  for (const r of resources) {
    if (r.custom === false) continue; // components and the stack itself are not analyzed
    for (const p of policies) {
      const run = await runPolicy(p, { __pulumiType: r.type }, r.inputs, r.name);
      expect(run.unknown, `${p.name} on ${r.type} ${r.name}`).toBeUndefined();
      for (const message of run.violations) {
        findings.push({ policy: p.name, level: p.enforcementLevel, resource: r.type, message });
      }
    }
  }
  return findings;
}

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const HTTPROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";

describe.each([
  ["stack baseline", "baseline", {}, INGRESS, HTTPROUTE],
  ["stack strategy1", "strategy1", {}, INGRESS, HTTPROUTE],
  ["stack strategy2", "strategy2", {}, INGRESS, HTTPROUTE],
  // Routed with the Gateway API (food11:route gateway): an HTTPRoute in place of the Ingress.
  [
    "stack strategy1 routed with the Gateway API",
    "strategy1",
    { "food11:route": "gateway", "food11:gatewayNamespace": "traefik" },
    HTTPROUTE,
    INGRESS,
  ],
])("%s under the policy pack", (_, stack, overrides, route, notRoute) => {
  it("registers a Deployment, HPA and its route, and passes every policy", async () => {
    const run = await runAccepted(stack, overrides);
    const types = run.resources.map((r) => r.type);
    expect(types).toContain("kubernetes:apps/v1:Deployment");
    expect(types).toContain("kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    expect(types).toContain(route);
    expect(types).not.toContain(notRoute);
    expect(await check(run.resources)).toEqual([]);
  });
});

describe("a stack deploying a moving tag", () => {
  it("is accepted by the program and refused by the mandatory image policies", async () => {
    // The program warns (asserted here, not printed into the test output) and goes on.
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    const warned: string[] = [];
    const run = await runAccepted("baseline", {
      "food11:imageRef": "food11-classifier:latest",
      "food11:imageRepository": undefined,
    }).finally(() => {
      warned.push(...warn.mock.calls.map((c) => String(c[0])));
      warn.mockRestore();
    });
    expect(warned).toEqual([
      'food11:imageRef "food11-classifier:latest" is not pinned by digest: a moved tag changes what runs without a diff. Pin it: pulumi config set food11:imageRef food11-classifier@sha256:<digest> --stack baseline',
    ]);
    const findings = await check(run.resources);
    expect(findings).toEqual([
      {
        policy: "image-not-latest",
        level: "mandatory",
        resource: "kubernetes:apps/v1:Deployment",
        message:
          'Deployment food11-classifier: container classifier image "food11-classifier:latest" uses the moving tag ":latest"',
      },
      {
        policy: "image-pinned-by-digest",
        level: "mandatory",
        resource: "kubernetes:apps/v1:Deployment",
        message:
          'Deployment food11-classifier: container classifier image "food11-classifier:latest" is not pinned by digest (expected <image>@sha256:<64 hex>)',
      },
    ]);
  });
});

describe("a stack without a NetworkPolicy (food11:networkPolicy false)", () => {
  it("is accepted by the program and refused by the network-policy policy", async () => {
    const run = await runAccepted("strategy2", { "food11:networkPolicy": "false" });
    expect(await check(run.resources)).toEqual([
      {
        policy: "network-policy",
        level: "mandatory",
        resource: "stack",
        message:
          "Deployment food11-classifier in food11-strategy2: no NetworkPolicy of the stack selects its pods (any pod may reach them, they may reach anything)",
      },
    ]);
  });
});
