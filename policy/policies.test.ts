import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { digestProblem, movingTagProblem, parseImageRef } from "./image";
import { policies } from "./policies";
import { adminNotRouted, httpRouteMatchReaches, ingressPathReaches } from "./rules/adminRoute";
import { containerEphemeralStorage } from "./rules/ephemeralStorage";
import { hpaBounds } from "./rules/hpa";
import { httpRouteParent } from "./rules/httpRoute";
import { imageNotLatest, imagePinnedByDigest } from "./rules/images";
import { ingressClass } from "./rules/ingress";
import { networkPolicyPresent } from "./rules/networkPolicy";
import { podSecurityRestricted } from "./rules/podSecurity";
import { readinessProbe } from "./rules/readiness";
import { containerResources } from "./rules/resources";
import {
  DIGEST,
  goodContainer,
  goodDeployment,
  goodNetworkPolicy,
  goodPodSpec,
  IMAGE,
  runPolicy,
  runStackPolicy,
  UNKNOWN_STRING,
} from "./testing";

// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited as loose JSON.
type Obj = Record<string, any>;

/** A compliant Deployment with `edit` applied to its first container. */
function deploymentWith(edit: (container: Obj, podSpec: Obj) => void): Obj {
  const d = goodDeployment() as Obj;
  edit(d.spec.template.spec.containers[0], d.spec.template.spec);
  return d;
}

const Deployment = k8s.apps.v1.Deployment;
const PREFIX = "Deployment food11-classifier: ";

describe("the pack", () => {
  it("states each policy's enforcement level in its description", () => {
    // The names and levels themselves: policy/server.test.ts, "announces its name, version and
    // each policy's enforcement level", as Pulumi's policy runner reports them.
    for (const p of policies) {
      expect(p.description).toMatch(p.enforcementLevel === "advisory" ? /Advisory:/ : /Mandatory:/);
    }
  });

  it("accepts the compliant Deployment under every policy", async () => {
    for (const p of policies) {
      const run = await runPolicy(p, Deployment, goodDeployment());
      expect(run.violations, p.name).toEqual([]);
    }
  });

  it("lets policies that do not check a kind declare themselves not applicable", async () => {
    const run = await runPolicy(containerResources, k8s.core.v1.Service, { spec: {} });
    expect(run).toEqual({ violations: [], notApplicable: "not a workload" });
    const hpa = await runPolicy(hpaBounds, Deployment, goodDeployment());
    expect(hpa.notApplicable).toBe("not a HorizontalPodAutoscaler");
    const ing = await runPolicy(ingressClass, Deployment, goodDeployment());
    expect(ing.notApplicable).toBe(
      "Policy only applies to resources of type 'kubernetes:networking.k8s.io/v1:Ingress'",
    );
  });
});

describe("container-resources", () => {
  it("passes requests at or below limits across units", async () => {
    const d = deploymentWith((c) => {
      c.resources = {
        requests: { cpu: "1000m", memory: "1536Mi" },
        limits: { cpu: 1, memory: "1.5Gi" },
      };
    });
    expect((await runPolicy(containerResources, Deployment, d)).violations).toEqual([]);
  });

  it("fails a request above its limit", async () => {
    const d = deploymentWith((c) => {
      c.resources = {
        requests: { cpu: "1500m", memory: "1Gi" },
        limits: { cpu: "1", memory: "1G" },
      };
    });
    expect((await runPolicy(containerResources, Deployment, d)).violations).toEqual([
      `${PREFIX}container classifier cpu request 1500m exceeds its limit 1`,
      `${PREFIX}container classifier memory request 1Gi exceeds its limit 1G`,
    ]);
  });

  it("fails missing and invalid requests and limits, init containers included", async () => {
    const d = deploymentWith((c, spec) => {
      c.resources = { limits: { cpu: "2", memory: "2GB" } };
      spec.initContainers = [{ name: "fetch-model", image: IMAGE }];
    });
    expect((await runPolicy(containerResources, Deployment, d)).violations).toEqual([
      `${PREFIX}initContainer fetch-model has no cpu request`,
      `${PREFIX}initContainer fetch-model has no cpu limit`,
      `${PREFIX}initContainer fetch-model has no memory request`,
      `${PREFIX}initContainer fetch-model has no memory limit`,
      `${PREFIX}container classifier has no cpu request`,
      `${PREFIX}container classifier has no memory request`,
      `${PREFIX}container classifier memory limit "2GB" is no valid quantity`,
    ]);
  });

  it("checks the pod templates of every workload kind and bare Pods", async () => {
    const noResources = { ...goodPodSpec(), containers: [{ name: "x", image: IMAGE }] };
    /** A `kind` named `name` whose pod template spec is `noResources`. */
    const templated = (kind: string, name: string, template: Obj = { spec: noResources }) => ({
      metadata: { name },
      spec: kind === "CronJob" ? { jobTemplate: { spec: { template } } } : { template },
    });
    const cases: [unknown, Obj, string][] = [
      [k8s.apps.v1.StatefulSet, templated("StatefulSet", "s"), "StatefulSet s"],
      [k8s.apps.v1.DaemonSet, templated("DaemonSet", "d"), "DaemonSet d"],
      [k8s.apps.v1.ReplicaSet, templated("ReplicaSet", "r"), "ReplicaSet r"],
      [k8s.batch.v1.Job, templated("Job", "j"), "Job j"],
      [k8s.batch.v1.CronJob, templated("CronJob", "c"), "CronJob c"],
      [k8s.core.v1.Pod, { metadata: { name: "p" }, spec: noResources }, "Pod p"],
    ];
    for (const [cls, props, who] of cases) {
      const run = await runPolicy(containerResources, cls, props);
      expect(run.violations[0]).toBe(`${who}: container x has no cpu request`);
      expect(run.violations).toHaveLength(4);
    }
  });

  it("reports a workload without a pod template and names it by its Pulumi name", async () => {
    const run = await runPolicy(containerResources, Deployment, { spec: {} }, "classifier");
    expect(run.violations).toEqual(["Deployment classifier: has no pod template spec"]);
  });
});

describe("readiness-probe", () => {
  it("passes a probe with successThreshold 1, or unset (defaults to 1)", async () => {
    const unset = deploymentWith((c) => {
      delete c.readinessProbe.successThreshold;
    });
    expect((await runPolicy(readinessProbe, Deployment, unset)).violations).toEqual([]);
  });

  it("fails a missing probe and a successThreshold below 1", async () => {
    const missing = deploymentWith((c) => {
      delete c.readinessProbe;
    });
    expect((await runPolicy(readinessProbe, Deployment, missing)).violations).toEqual([
      `${PREFIX}container classifier has no readinessProbe`,
    ]);
    const zero = deploymentWith((c) => {
      c.readinessProbe.successThreshold = 0;
    });
    expect((await runPolicy(readinessProbe, Deployment, zero)).violations).toEqual([
      `${PREFIX}container classifier readinessProbe.successThreshold is 0; it must be >= 1`,
    ]);
    const noHandler = deploymentWith((c) => {
      c.readinessProbe = { periodSeconds: 5 };
    });
    expect((await runPolicy(readinessProbe, Deployment, noHandler)).violations).toEqual([
      `${PREFIX}container classifier readinessProbe has no handler (httpGet, tcpSocket, exec or grpc)`,
    ]);
  });

  it("does not apply to Jobs", async () => {
    const job = { spec: { template: { spec: { containers: [{ name: "once", image: IMAGE }] } } } };
    const run = await runPolicy(readinessProbe, k8s.batch.v1.Job, job);
    expect(run).toEqual({ violations: [], notApplicable: "not a long-running workload" });
  });
});

describe("hpa-bounds", () => {
  const HPAv2 = k8s.autoscaling.v2.HorizontalPodAutoscaler;
  const HPAv1 = k8s.autoscaling.v1.HorizontalPodAutoscaler;
  const v2 = (spec: Obj) => ({
    metadata: { name: "food11" },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "x" }, ...spec },
  });
  const cpu = (averageUtilization: unknown) => ({
    type: "Resource",
    resource: { name: "cpu", target: { type: "Utilization", averageUtilization } },
  });

  it("passes sane autoscaling/v2 and v1 autoscalers", async () => {
    const good = v2({ minReplicas: 1, maxReplicas: 4, metrics: [cpu(70)] });
    expect((await runPolicy(hpaBounds, HPAv2, good)).violations).toEqual([]);
    const equal = v2({ minReplicas: 3, maxReplicas: 3, metrics: [cpu(100)] });
    expect((await runPolicy(hpaBounds, HPAv2, equal)).violations).toEqual([]);
    const v1 = { spec: { maxReplicas: 2, targetCPUUtilizationPercentage: 1 } };
    expect((await runPolicy(hpaBounds, HPAv1, v1)).violations).toEqual([]);
  });

  it("fails minReplicas above maxReplicas and CPU targets outside 1..100", async () => {
    const bad = v2({
      minReplicas: 5,
      maxReplicas: 2,
      metrics: [
        cpu(0),
        cpu(150),
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "Utilization", averageUtilization: 300 } },
        },
        {
          type: "ContainerResource",
          containerResource: {
            name: "cpu",
            container: "c",
            target: { type: "Utilization", averageUtilization: 101 },
          },
        },
      ],
    });
    expect((await runPolicy(hpaBounds, HPAv2, bad)).violations).toEqual([
      "HorizontalPodAutoscaler food11: minReplicas 5 is greater than maxReplicas 2",
      "HorizontalPodAutoscaler food11: CPU target spec.metrics[0].resource.target.averageUtilization is 0; it must be within 1..100",
      "HorizontalPodAutoscaler food11: CPU target spec.metrics[1].resource.target.averageUtilization is 150; it must be within 1..100",
      "HorizontalPodAutoscaler food11: CPU target spec.metrics[3].containerResource.target.averageUtilization is 101; it must be within 1..100",
    ]);
    const v1 = {
      metadata: { name: "old" },
      spec: { minReplicas: 0, maxReplicas: 2, targetCPUUtilizationPercentage: 120 },
    };
    expect((await runPolicy(hpaBounds, HPAv1, v1)).violations).toEqual([
      "HorizontalPodAutoscaler old: minReplicas is 0; it must be >= 1",
      "HorizontalPodAutoscaler old: CPU target spec.targetCPUUtilizationPercentage is 120; it must be within 1..100",
    ]);
  });

  it("applies the default minReplicas of 1 and needs maxReplicas", async () => {
    const run = await runPolicy(hpaBounds, HPAv2, { metadata: { name: "h" }, spec: {} });
    expect(run.violations).toEqual(["HorizontalPodAutoscaler h: has no maxReplicas"]);
  });
});

describe("image references", () => {
  it("splits registry ports, tags and digests", () => {
    expect(parseImageRef("localhost:5000/food11:1.0")).toEqual({
      repository: "localhost:5000/food11",
      tag: "1.0",
      digest: undefined,
    });
    expect(parseImageRef(`food11@${DIGEST}`)).toEqual({
      repository: "food11",
      tag: undefined,
      digest: DIGEST,
    });
    expect(movingTagProblem("localhost:5000/food11")).toBe(
      'has neither tag nor digest (means ":latest")',
    );
    expect(movingTagProblem(`food11@${DIGEST}`)).toBeUndefined();
    expect(digestProblem("food11@sha256:ABC")).toBe(
      'has digest "sha256:ABC", not sha256:<64 lowercase hex>',
    );
  });
});

describe("image-not-latest", () => {
  it("passes a versioned tag, and a bare digest", async () => {
    const tagged = deploymentWith((c) => {
      c.image = "ghcr.io/food11/food11-classifier:0.1.0";
    });
    expect((await runPolicy(imageNotLatest, Deployment, tagged)).violations).toEqual([]);
    const digestOnly = deploymentWith((c) => {
      c.image = `ghcr.io/food11/food11-classifier@${DIGEST}`;
    });
    expect((await runPolicy(imageNotLatest, Deployment, digestOnly)).violations).toEqual([]);
  });

  it("fails :latest, untagged and missing images", async () => {
    const d = deploymentWith((c, spec) => {
      c.image = "food11-classifier:latest";
      spec.containers.push({ ...goodContainer(), name: "sidecar", image: "busybox" });
      spec.containers.push({ ...goodContainer(), name: "empty", image: undefined });
    });
    expect((await runPolicy(imageNotLatest, Deployment, d)).violations).toEqual([
      `${PREFIX}container classifier image "food11-classifier:latest" uses the moving tag ":latest"`,
      `${PREFIX}container sidecar image "busybox" has neither tag nor digest (means ":latest")`,
      `${PREFIX}container empty has no image`,
    ]);
  });
});

describe("image-pinned-by-digest", () => {
  it("passes tag@sha256 and bare @sha256", async () => {
    for (const image of [IMAGE, `ghcr.io/food11/food11-classifier@${DIGEST}`]) {
      const d = deploymentWith((c) => {
        c.image = image;
      });
      expect((await runPolicy(imagePinnedByDigest, Deployment, d)).violations, image).toEqual([]);
    }
  });

  it("fails a tag without digest and a malformed digest", async () => {
    const d = deploymentWith((c, spec) => {
      c.image = "ghcr.io/food11/food11-classifier:0.1.0";
      spec.initContainers = [{ ...goodContainer(), name: "init", image: "food11@sha256:1234" }];
    });
    expect((await runPolicy(imagePinnedByDigest, Deployment, d)).violations).toEqual([
      `${PREFIX}initContainer init image "food11@sha256:1234" has digest "sha256:1234", not sha256:<64 lowercase hex>`,
      `${PREFIX}container classifier image "ghcr.io/food11/food11-classifier:0.1.0" is not pinned by digest (expected <image>@sha256:<64 hex>)`,
    ]);
  });

  it("cannot judge an image that is unknown during preview (the server reports that as advisory)", async () => {
    const d = deploymentWith((c) => {
      c.image = UNKNOWN_STRING;
    });
    const run = await runPolicy(imagePinnedByDigest, Deployment, d);
    expect(run.violations).toEqual([]);
    expect(run.unknown).toBe(
      "string value at .spec.template.spec.containers.0.image can't be known during preview",
    );
  });
});

describe("pod-security-restricted", () => {
  it("passes the restricted profile with seccomp set only at pod level", async () => {
    const d = deploymentWith((c) => {
      delete c.securityContext.seccompProfile;
      delete c.securityContext.runAsNonRoot;
      c.securityContext.capabilities.add = ["NET_BIND_SERVICE"];
    });
    expect((await runPolicy(podSecurityRestricted, Deployment, d)).violations).toEqual([]);
  });

  it("fails every privilege the profile forbids", async () => {
    const d = deploymentWith((c, spec) => {
      spec.hostNetwork = true;
      spec.hostPID = true;
      spec.hostIPC = true;
      spec.volumes = [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }];
      spec.securityContext = { runAsUser: 0, seccompProfile: { type: "Unconfined" } };
      c.ports = [{ containerPort: 8080, hostPort: 80 }];
      c.securityContext = { privileged: true, capabilities: { add: ["SYS_ADMIN"] } };
    });
    expect((await runPolicy(podSecurityRestricted, Deployment, d)).violations).toEqual([
      `${PREFIX}sets hostNetwork`,
      `${PREFIX}sets hostPID`,
      `${PREFIX}sets hostIPC`,
      `${PREFIX}volume docker is a hostPath volume`,
      `${PREFIX}pod securityContext.runAsUser is 0 (root)`,
      `${PREFIX}pod seccompProfile.type is Unconfined; it must be RuntimeDefault or Localhost`,
      `${PREFIX}container classifier is privileged`,
      `${PREFIX}container classifier must set securityContext.allowPrivilegeEscalation to false`,
      `${PREFIX}container classifier must run with runAsNonRoot: true (pod or container securityContext)`,
      `${PREFIX}container classifier must drop ALL capabilities`,
      `${PREFIX}container classifier adds capability SYS_ADMIN`,
      `${PREFIX}container classifier seccompProfile.type is Unconfined; it must be RuntimeDefault or Localhost`,
      `${PREFIX}container classifier binds hostPort 80`,
    ]);
  });

  it("fails a container that overrides the pod's runAsNonRoot or has no seccomp profile at all", async () => {
    const d = deploymentWith((c, spec) => {
      spec.securityContext = { runAsNonRoot: true };
      c.securityContext = {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        runAsNonRoot: false,
        runAsUser: 0,
      };
    });
    expect((await runPolicy(podSecurityRestricted, Deployment, d)).violations).toEqual([
      `${PREFIX}container classifier must run with runAsNonRoot: true (pod or container securityContext)`,
      `${PREFIX}container classifier securityContext.runAsUser is 0 (root)`,
      `${PREFIX}container classifier has no seccompProfile (pod or container); use RuntimeDefault`,
    ]);
  });
});

describe("ingress-class", () => {
  const Ingress = k8s.networking.v1.Ingress;
  const rules = [
    {
      http: {
        paths: [
          {
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: "s", port: { name: "http" } } },
          },
        ],
      },
    },
  ];

  it("passes spec.ingressClassName and the legacy annotation", async () => {
    const byField = { metadata: { name: "food11" }, spec: { ingressClassName: "nginx", rules } };
    expect((await runPolicy(ingressClass, Ingress, byField)).violations).toEqual([]);
    const byAnnotation = {
      metadata: { name: "food11", annotations: { "kubernetes.io/ingress.class": "traefik" } },
      spec: { rules },
    };
    expect((await runPolicy(ingressClass, Ingress, byAnnotation)).violations).toEqual([]);
  });

  it("fails an Ingress without a class", async () => {
    const none = { metadata: { name: "food11" }, spec: { ingressClassName: " ", rules } };
    expect((await runPolicy(ingressClass, Ingress, none)).violations).toEqual([
      "Ingress food11: has no class (set spec.ingressClassName or the kubernetes.io/ingress.class annotation)",
    ]);
  });
});

describe("container-ephemeral-storage", () => {
  it("passes a request at or below its limit across units", async () => {
    const d = deploymentWith((c) => {
      c.resources.requests["ephemeral-storage"] = "512Mi";
      c.resources.limits["ephemeral-storage"] = "0.5Gi";
    });
    expect((await runPolicy(containerEphemeralStorage, Deployment, d)).violations).toEqual([]);
  });

  it("fails a container without request and limit, init containers too", async () => {
    const d = deploymentWith((c, spec) => {
      delete c.resources.requests["ephemeral-storage"];
      delete c.resources.limits["ephemeral-storage"];
      spec.initContainers = [
        { name: "fetch", image: IMAGE, resources: { limits: { "ephemeral-storage": "1Gi" } } },
      ];
    });
    expect((await runPolicy(containerEphemeralStorage, Deployment, d)).violations).toEqual([
      `${PREFIX}initContainer fetch has no ephemeral-storage request`,
      `${PREFIX}container classifier has no ephemeral-storage request`,
      `${PREFIX}container classifier has no ephemeral-storage limit`,
    ]);
  });

  it("fails a request above its limit and a value that is no quantity", async () => {
    const above = deploymentWith((c) => {
      c.resources.requests["ephemeral-storage"] = "1Gi";
    });
    expect((await runPolicy(containerEphemeralStorage, Deployment, above)).violations).toEqual([
      `${PREFIX}container classifier ephemeral-storage request 1Gi exceeds its limit 512Mi`,
    ]);
    const bad = deploymentWith((c) => {
      c.resources.limits["ephemeral-storage"] = "1GB";
    });
    expect((await runPolicy(containerEphemeralStorage, Deployment, bad)).violations).toEqual([
      `${PREFIX}container classifier ephemeral-storage limit "1GB" is no valid quantity`,
    ]);
  });
});

describe("network-policy", () => {
  const NetworkPolicy = k8s.networking.v1.NetworkPolicy;
  const stack = (...policies: Obj[]) => [
    { type: Deployment, props: goodDeployment(), name: "food11-deployment" },
    { type: k8s.core.v1.Service, props: { spec: {} }, name: "food11-service" },
    ...policies.map((props, i) => ({ type: NetworkPolicy, props, name: `np${i}` })),
  ];
  const MISSING =
    "Deployment food11-classifier in food11-baseline: no NetworkPolicy of the stack selects its pods (any pod may reach them, they may reach anything)";

  it("passes pods selected by a policy covering ingress and egress", async () => {
    const run = await runStackPolicy(networkPolicyPresent, stack(goodNetworkPolicy()));
    expect(run.violations).toEqual([]);
  });

  it("passes two policies that cover a direction each", async () => {
    const ingress = goodNetworkPolicy() as Obj;
    ingress.spec.policyTypes = ["Ingress"];
    const egress = goodNetworkPolicy() as Obj;
    egress.spec.policyTypes = ["Egress"];
    expect((await runStackPolicy(networkPolicyPresent, stack(ingress, egress))).violations).toEqual(
      [],
    );
  });

  it("fails a stack without a NetworkPolicy, naming the workload's URN", async () => {
    const run = await runStackPolicy(networkPolicyPresent, stack());
    expect(run.violations).toEqual([MISSING]);
    expect(run.urns).toEqual([
      "urn:pulumi:test::food11::kubernetes:apps/v1:Deployment::food11-deployment",
    ]);
  });

  it("fails a policy in another namespace or selecting other pods", async () => {
    const elsewhere = goodNetworkPolicy() as Obj;
    elsewhere.metadata.namespace = "default";
    const others = goodNetworkPolicy() as Obj;
    others.spec.podSelector = { matchLabels: { "app.kubernetes.io/name": "other" } };
    expect(
      (await runStackPolicy(networkPolicyPresent, stack(elsewhere, others))).violations,
    ).toEqual([MISSING]);
  });

  it("fails a policy that leaves egress open (policyTypes Ingress only)", async () => {
    const ingressOnly = goodNetworkPolicy() as Obj;
    ingressOnly.spec.policyTypes = ["Ingress"];
    expect((await runStackPolicy(networkPolicyPresent, stack(ingressOnly))).violations).toEqual([
      "Deployment food11-classifier in food11-baseline: the NetworkPolicies selecting its pods (food11-classifier) do not cover Egress",
    ]);
  });

  it("reads policyTypes as Kubernetes defaults them (Egress only with egress rules)", async () => {
    const implicit = goodNetworkPolicy() as Obj;
    delete implicit.spec.policyTypes;
    expect((await runStackPolicy(networkPolicyPresent, stack(implicit))).violations).toEqual([]);
    delete implicit.spec.egress;
    expect((await runStackPolicy(networkPolicyPresent, stack(implicit))).violations).toEqual([
      "Deployment food11-classifier in food11-baseline: the NetworkPolicies selecting its pods (food11-classifier) do not cover Egress",
    ]);
  });

  it("leaves Jobs alone", async () => {
    const job = { spec: { template: { metadata: { labels: { a: "b" } }, spec: goodPodSpec() } } };
    const run = await runStackPolicy(networkPolicyPresent, [
      { type: k8s.batch.v1.Job, props: job },
    ]);
    expect(run.violations).toEqual([]);
  });
});

describe("httproute-parent", () => {
  const HttpRoute = { __pulumiType: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" };
  const route = (parentRefs: unknown) => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: "food11-classifier" },
    spec: { parentRefs, rules: [{ backendRefs: [{ name: "food11-classifier", port: 80 }] }] },
  });

  it("passes a route attached to a named Gateway", async () => {
    const run = await runPolicy(
      httpRouteParent,
      HttpRoute,
      route([{ name: "food11", namespace: "traefik" }]),
    );
    expect(run.violations).toEqual([]);
  });

  it("warns about a route attached to nothing", async () => {
    for (const refs of [undefined, [], [{ namespace: "traefik" }], [{ name: " " }]]) {
      const run = await runPolicy(httpRouteParent, HttpRoute, route(refs));
      expect(run.violations, JSON.stringify(refs)).toEqual([
        "HTTPRoute food11-classifier: has no parent Gateway (set spec.parentRefs[].name)",
      ]);
    }
  });

  it("is not applicable to other kinds", async () => {
    const run = await runPolicy(httpRouteParent, Deployment, goodDeployment());
    expect(run.notApplicable).toBe(
      "Policy only applies to kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    );
  });
});

describe("admin-not-routed", () => {
  const Ingress = k8s.networking.v1.Ingress;
  const HttpRoute = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
  const NS = "food11-baseline";
  /** The program's Deployment: the API on port http, the admin listener on port admin. */
  const deployment = () =>
    deploymentWith((c) => {
      c.ports = [
        { name: "http", containerPort: 8080 },
        { name: "admin", containerPort: 8081 },
      ];
    });
  /** The Service: port http (80 -> http), and metrics (8081 -> admin) as for a ServiceMonitor. */
  const service = {
    metadata: { name: "food11-classifier", namespace: NS },
    spec: {
      ports: [
        { name: "http", port: 80, targetPort: "http" },
        { name: "metrics", port: 8081, targetPort: "admin" },
      ],
    },
  };
  const backend = (port: Obj = { name: "http" }) => ({
    service: { name: "food11-classifier", port },
  });
  const ingress = (paths: Obj[], annotations: Obj = {}) => ({
    metadata: { name: "food11-classifier", namespace: NS, annotations },
    spec: { ingressClassName: "nginx", rules: [{ http: { paths } }] },
  });
  const route = (rules: Obj[]) => ({
    metadata: { name: "food11-classifier", namespace: NS },
    spec: { parentRefs: [{ name: "food11" }], rules },
  });
  const stack = (...routes: [unknown, Obj][]) => [
    { type: Deployment, props: deployment(), name: "food11-deployment" },
    { type: k8s.core.v1.Service, props: service, name: "food11-service" },
    ...routes.map(([type, props], i) => ({ type, props, name: `route${i}` })),
  ];
  const run = async (...routes: [unknown, Obj][]) =>
    (await runStackPolicy(adminNotRouted, stack(...routes))).violations;
  const FIX = "publish the API's paths only, on the Service's API port";

  it("passes the program's routes: the API's paths exactly, or under a prefix by regex", async () => {
    const exact = ["/predict", "/test", "/"].map((path) => ({
      path,
      pathType: "Exact",
      backend: backend(),
    }));
    expect(await run([Ingress, ingress(exact)])).toEqual([]);
    const prefixed = ingress(
      [
        {
          path: "/food11/(predict|test)?$",
          pathType: "ImplementationSpecific",
          backend: backend(),
        },
      ],
      {
        "nginx.ingress.kubernetes.io/use-regex": "true",
        "nginx.ingress.kubernetes.io/rewrite-target": "/$1",
      },
    );
    expect(await run([Ingress, prefixed])).toEqual([]);
    const gateway = route([
      {
        matches: [{ path: { type: "Exact", value: "/predict" } }],
        backendRefs: [{ name: "food11-classifier", port: 80 }],
      },
      {
        matches: [{ path: { type: "Exact", value: "/gw/test" } }],
        filters: [
          {
            type: "URLRewrite",
            urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: "/test" } },
          },
        ],
        backendRefs: [{ name: "food11-classifier", port: 80 }],
      },
    ]);
    expect(await run([HttpRoute, gateway])).toEqual([]);
  });

  it("fails yesterday's catch-all routes: prefix /, and a prefix rewritten to the root", async () => {
    const all = ingress([{ path: "/", pathType: "Prefix", backend: backend() }]);
    expect(await run([Ingress, all])).toEqual([
      `Ingress food11-classifier: path / (Prefix) reaches /healthz, /readyz, /metrics on the server: ${FIX}`,
    ]);
    const rewritten = ingress(
      [{ path: "/food11(/|$)(.*)", pathType: "ImplementationSpecific", backend: backend() }],
      {
        "nginx.ingress.kubernetes.io/use-regex": "true",
        "nginx.ingress.kubernetes.io/rewrite-target": "/$2",
      },
    );
    expect(await run([Ingress, rewritten])).toEqual([
      `Ingress food11-classifier: path /food11(/|$)(.*) (ImplementationSpecific) reaches /healthz, /readyz, /metrics on the server: ${FIX}`,
    ]);
    const gateway = route([
      {
        matches: [{ path: { type: "PathPrefix", value: "/gw" } }],
        filters: [
          {
            type: "URLRewrite",
            urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } },
          },
        ],
        backendRefs: [{ name: "food11-classifier", port: 80 }],
      },
      { backendRefs: [{ name: "food11-classifier", port: 80 }] },
    ]);
    expect(await run([HttpRoute, gateway])).toEqual([
      `HTTPRoute food11-classifier: match PathPrefix /gw reaches /healthz, /readyz, /metrics on the server: ${FIX}`,
      `HTTPRoute food11-classifier: match PathPrefix / reaches /healthz, /readyz, /metrics on the server: ${FIX}`,
    ]);
  });

  it("fails an admin path routed by name, and a backend that is the admin port", async () => {
    const metrics = ingress([
      { path: "/metrics", pathType: "Exact", backend: backend() },
      { path: "/predict", pathType: "Exact", backend: backend({ name: "metrics" }) },
    ]);
    expect(await run([Ingress, metrics])).toEqual([
      `Ingress food11-classifier: path /metrics (Exact) reaches /metrics on the server: ${FIX}`,
      `Ingress food11-classifier: path /predict routes to Service food11-classifier port metrics (targetPort admin, the admin port): ${FIX}`,
    ]);
    const byNumber = route([
      {
        matches: [{ path: { type: "Exact", value: "/predict" } }],
        backendRefs: [{ name: "food11-classifier", port: 8081 }],
      },
    ]);
    expect(await run([HttpRoute, byNumber])).toEqual([
      `HTTPRoute food11-classifier: a rule routes to Service food11-classifier port metrics (targetPort admin, the admin port): ${FIX}`,
    ]);
  });

  it("reads paths as the controllers do", () => {
    expect(ingressPathReaches("/metrics/", "Prefix", {})).toEqual(["/metrics"]);
    expect(ingressPathReaches("/metricsx", "Prefix", {})).toEqual([]);
    expect(ingressPathReaches("/", "Exact", {})).toEqual([]);
    // a regex Ingress: case-insensitive, anchored at the start only
    expect(
      ingressPathReaches("/METRICS", "Exact", { "nginx.ingress.kubernetes.io/use-regex": "true" }),
    ).toEqual(["/metrics"]);
    expect(
      ingressPathReaches("/api(/|$)(.*)", "ImplementationSpecific", {
        "nginx.ingress.kubernetes.io/rewrite-target": "/$2",
      }),
    ).toEqual(["/healthz", "/readyz", "/metrics"]);
    expect(
      httpRouteMatchReaches(
        { type: "Exact", value: "/status" },
        { type: "ReplaceFullPath", replaceFullPath: "/readyz" },
      ),
    ).toEqual(["/readyz"]);
    expect(
      httpRouteMatchReaches({ type: "RegularExpression", value: "/gw/(predict|test)" }, undefined),
    ).toEqual([]);
    expect(httpRouteMatchReaches({ type: "RegularExpression", value: "/.*" }, undefined)).toEqual([
      "/healthz",
      "/readyz",
      "/metrics",
    ]);
  });

  it("has nothing to say about a stack without routes", async () => {
    expect(await run()).toEqual([]);
  });
});
