/**
 * The program's other modes, each from a committed stack file with a few keys changed:
 * a prebuilt image, rendering YAML without a cluster, installing ingress-nginx, an Ingress host
 * and path prefix, registry credentials, an existing namespace, a pod priority.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { grafanaDashboard } from "../../../components/dashboard";
import { only, runAccepted, runProgram, runStack } from "./mocks";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
/** A PEM block (not a real certificate: the program only passes certificate blocks on). */
const PEM = `-----BEGIN CERTIFICATE-----\n${"TUlJQmZvb2QxMQ==".repeat(4)}\n-----END CERTIFICATE-----`;
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";

function container(run: Awaited<ReturnType<typeof runProgram>>) {
  return only(run, DEPLOYMENT).inputs.spec.template.spec.containers[0];
}

describe("a prebuilt image", () => {
  it("is deployed as given, pinned by digest, and nothing is built", async () => {
    const ref = `ghcr.io/acme/food11-classifier@${DIGEST}`;
    const run = await runAccepted("strategy2", {
      "food11:imageRepository": undefined,
      "food11:imageRef": ref,
    });
    expect(run.resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
    expect(container(run).image).toBe(ref);
    expect(run.outputs?.image).toBe(ref);
  });

  it("wins over the build a committed stack configures", async () => {
    const ref = `registry.example.com/food11-classifier@${DIGEST}`;
    const run = await runAccepted("strategy1", { "food11:imageRef": ref });
    expect(run.resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
    expect(container(run).image).toBe(ref);
  });

  it("is accepted by tag too (the policy pack insists on digests where it runs)", async () => {
    const ref = "ghcr.io/acme/food11-classifier:0.1.0";
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    try {
      const run = await runAccepted("baseline", {
        "food11:imageRepository": undefined,
        "food11:imageRef": ref,
      });
      expect(container(run).image).toBe(ref);
      expect(warn.mock.calls).toEqual([
        [
          `food11:imageRef "${ref}" is not pinned by digest: a moved tag changes what runs without a diff. Pin it: pulumi config set food11:imageRef ghcr.io/acme/food11-classifier@sha256:<digest> --stack baseline`,
        ],
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("rendering YAML (food11:renderYamlToDirectory)", () => {
  it("routes every Kubernetes object through a render provider and builds nothing", async () => {
    const run = await runAccepted("strategy1", {
      "food11:renderYamlToDirectory": "out/render/strategy1",
    });
    const provider = only(run, "pulumi:providers:kubernetes", "food11-render");
    expect(provider.inputs.renderYamlToDirectory).toBe("out/render/strategy1");
    expect(run.resources.filter((r) => r.type.startsWith("docker:"))).toEqual([]);
    const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(objects).toHaveLength(7);
    for (const object of objects) {
      expect(object.provider).toBe(
        "urn:pulumi:strategy1::food11::pulumi:providers:kubernetes::food11-render::food11-render-id",
      );
    }
    // Without a build there is no digest: the tag that `pulumi up` would push.
    expect(container(run).image).toBe("localhost:5001/food11-classifier:0.1.0");
  });
});

describe("food11:ingressController ingress-nginx", () => {
  it("installs ingress-nginx serving class nginx, and the Ingress waits for it", async () => {
    const run = await runAccepted("baseline", {
      "food11:ingressController": "ingress-nginx",
      "food11:ingressControllerServiceType": "NodePort",
    });
    only(run, "food11:ingress:IngressController", "food11");
    const controller = only(
      run,
      "kubernetes-ingress-nginx:index:IngressController",
      "food11-controller",
    );
    expect(controller.inputs).toEqual({
      controller: {
        publishService: { enabled: true },
        ingressClassResource: { name: "nginx", enabled: true, default: false },
        service: { type: "NodePort" },
        metrics: { enabled: true },
      },
      helmOptions: { namespace: "ingress-nginx", createNamespace: true },
    });
    // The Ingress waits for the controller (its admission webhook must answer first).
    expect(only(run, INGRESS).dependencies).toContain(
      "urn:pulumi:baseline::food11::food11:ingress:IngressController$kubernetes-ingress-nginx:index:IngressController::food11-controller",
    );
  });

  it("is what the deprecated installIngressController true still means, with a warning", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    try {
      const run = await runAccepted("baseline", { "food11:installIngressController": true });
      only(run, "food11:ingress:IngressController", "food11");
      expect(warn.mock.calls).toEqual([
        [
          "food11:installIngressController is deprecated: pulumi config set food11:ingressController ingress-nginx --stack baseline && pulumi config rm food11:installIngressController --stack baseline",
        ],
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it("is off by default: no controller in any committed stack", async () => {
    for (const stack of ["baseline", "strategy1", "strategy2"]) {
      const run = await runProgram(stack);
      expect(run.resources.filter((r) => r.type.includes("ingress-nginx"))).toEqual([]);
      expect(run.resources.filter((r) => r.type.includes("helm"))).toEqual([]);
    }
  });
});

const HTTPROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";

describe("food11:route gateway", () => {
  it("routes the API's paths through an HTTPRoute on the named Gateway instead of an Ingress", async () => {
    const run = await runAccepted("strategy2", {
      "food11:route": "gateway",
      "food11:gatewayNamespace": "traefik",
      "food11:gatewaySectionName": "web",
    });
    expect(run.resources.filter((r) => r.type === INGRESS)).toEqual([]);
    const route = only(run, HTTPROUTE, "food11-httproute");
    expect(route.inputs).toEqual({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: expect.objectContaining({
        name: "food11-classifier",
        namespace: "food11-strategy2",
      }),
      spec: {
        parentRefs: [
          {
            group: "gateway.networking.k8s.io",
            kind: "Gateway",
            name: "food11",
            namespace: "traefik",
            sectionName: "web",
          },
        ],
        // /predict, /test and the upload page, each exactly: nothing else reaches the server
        rules: ["/predict", "/test", "/"].map((p) => ({
          matches: [{ path: { type: "Exact", value: p } }],
          backendRefs: [{ name: "food11-classifier", port: 80 }],
        })),
      },
    });
    // The url comes from the Gateway's status, read from the cluster (none under mocks).
    only(run, GATEWAY, "food11-gateway");
    expect(run.outputs?.url).toBe("http://localhost/");
    expect(run.outputs?.httpRouteName).toBe("food11-classifier");
    expect(run.outputs && "ingressName" in run.outputs).toBe(false);
  });

  it("strips a path prefix with URLRewrite filters (ReplaceFullPath), and serves a host", async () => {
    const run = await runAccepted("strategy1", {
      "food11:route": "gateway",
      "food11:ingressHost": "food11.example.com",
      "food11:ingressPath": "/strategy1/",
    });
    const spec = only(run, HTTPROUTE).inputs.spec;
    expect(spec.parentRefs[0]).toMatchObject({ name: "food11", namespace: "ingress-nginx" });
    expect(spec.hostnames).toEqual(["food11.example.com"]);
    expect(spec.rules).toEqual(
      ["/predict", "/test", "/"].map((p) => ({
        matches: [{ path: { type: "Exact", value: `/strategy1${p}` } }],
        filters: [
          {
            type: "URLRewrite",
            urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: p } },
          },
        ],
        backendRefs: [{ name: "food11-classifier", port: 80 }],
      })),
    );
    expect(run.outputs?.url).toBe("http://food11.example.com/strategy1/");
    // A host gives the url: no Gateway read.
    expect(run.resources.filter((r) => r.type === GATEWAY)).toEqual([]);
  });

  it("is refused with ingress-nginx, which has no Gateway API", async () => {
    const run = await runStack("baseline", {
      "food11:route": "gateway",
      "food11:ingressController": "ingress-nginx",
    });
    expect(String(run.error)).toContain(
      'food11:route = "gateway": gateway: ingress-nginx does not implement the Gateway API. Fix: pulumi config set food11:ingressController traefik --stack baseline (or pulumi config set food11:route ingress --stack baseline)',
    );
    expect(run.resources).toEqual([]);
  });
});

describe("food11:ingressController traefik", () => {
  it("installs Traefik's chart with the NGINX provider and the nginx IngressClass it watches", async () => {
    const run = await runAccepted("strategy1", {
      "food11:ingressController": "traefik",
      "food11:ingressControllerNamespace": "traefik",
    });
    only(run, "food11:ingress:TraefikController", "food11");
    const release = only(run, "kubernetes:helm.sh/v3:Release", "food11-traefik");
    expect(release.inputs).toMatchObject({
      chart: "traefik",
      version: "41.5.0",
      repositoryOpts: { repo: "https://traefik.github.io/charts" },
      namespace: "traefik",
      createNamespace: true,
      values: {
        providers: {
          kubernetesIngress: { enabled: false },
          kubernetesIngressNginx: {
            enabled: true,
            ingressClass: "nginx",
            publishService: { enabled: true },
          },
          kubernetesGateway: { enabled: false },
        },
        service: { type: "LoadBalancer" },
      },
    });
    expect(only(run, "kubernetes:networking.k8s.io/v1:IngressClass").inputs).toMatchObject({
      metadata: { name: "nginx" },
      spec: { controller: "k8s.io/ingress-nginx" },
    });
    expect(run.resources.filter((r) => r.type === GATEWAY)).toEqual([]);
    // The Ingress waits for the controller; the NetworkPolicy admits Traefik's namespace.
    expect(only(run, INGRESS).dependencies).toEqual(
      expect.arrayContaining([
        "urn:pulumi:strategy1::food11::food11:ingress:TraefikController$kubernetes:helm.sh/v3:Release::food11-traefik",
        "urn:pulumi:strategy1::food11::food11:ingress:TraefikController$kubernetes:networking.k8s.io/v1:IngressClass::food11-ingressclass",
      ]),
    );
    expect(only(run, NETPOL).inputs.spec.ingress[0].from[0]).toEqual({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } },
    });
  });

  it("with route gateway: the Gateway API provider, a GatewayClass and a Gateway open to every namespace", async () => {
    const run = await runAccepted("strategy2", {
      "food11:ingressController": "traefik",
      "food11:ingressControllerNamespace": "traefik",
      "food11:route": "gateway",
    });
    const values = only(run, "kubernetes:helm.sh/v3:Release").inputs.values;
    expect(values.providers.kubernetesGateway).toEqual({ enabled: true });
    expect(values.providers.kubernetesIngressNginx).toEqual({ enabled: false });
    expect(only(run, "kubernetes:gateway.networking.k8s.io/v1:GatewayClass").inputs).toMatchObject({
      metadata: { name: "traefik" },
      spec: { controllerName: "traefik.io/gateway-controller" },
    });
    const gateways = run.resources.filter((r) => r.type === GATEWAY);
    // Created here (no read of a cluster's Gateway), in Traefik's namespace.
    expect(gateways.map((g) => g.name)).toEqual(["food11-gateway"]);
    expect(gateways[0]?.inputs).toMatchObject({
      metadata: { name: "food11", namespace: "traefik" },
      spec: {
        gatewayClassName: "traefik",
        listeners: [
          {
            name: "web",
            protocol: "HTTP",
            port: 8000,
            allowedRoutes: { namespaces: { from: "All" } },
          },
        ],
      },
    });
    expect(only(run, HTTPROUTE).inputs.spec.parentRefs[0]).toMatchObject({
      name: "food11",
      namespace: "traefik",
    });
    // The route waits for the Gateway it attaches to.
    expect(only(run, HTTPROUTE).dependencies).toContain(
      "urn:pulumi:strategy2::food11::food11:ingress:TraefikController$kubernetes:gateway.networking.k8s.io/v1:Gateway::food11-gateway",
    );
  });
});

describe("Ingress host and path", () => {
  it("serves a host under a stripped path prefix and exports its URL", async () => {
    const run = await runAccepted("strategy1", {
      "food11:ingressHost": "food11.example.com",
      "food11:ingressPath": "/strategy1",
    });
    const ingress = only(run, INGRESS).inputs;
    expect(ingress.metadata.annotations).toEqual({
      "nginx.ingress.kubernetes.io/proxy-body-size": "10m",
      "nginx.ingress.kubernetes.io/use-regex": "true",
      "nginx.ingress.kubernetes.io/rewrite-target": "/$1",
    });
    // The API's paths and the page's <prefix>/ in one regex, rewritten to /predict, /test or /.
    expect(ingress.spec.rules).toEqual([
      {
        host: "food11.example.com",
        http: {
          paths: [
            {
              path: "/strategy1/(predict|test)?$",
              pathType: "ImplementationSpecific",
              backend: { service: { name: "food11-classifier", port: { name: "http" } } },
            },
          ],
        },
      },
    ]);
    expect(run.outputs?.url).toBe("http://food11.example.com/strategy1/");
  });
});

describe("image build args", () => {
  it("bake the configured model into a pinned base image", async () => {
    const run = await runAccepted("strategy2", {
      "food11:imageModelDir": "models/food11",
      "food11:imageBaseImage": `node:24-slim@${DIGEST}`,
    });
    expect(only(run, "docker:index/image:Image").inputs.build).toEqual({
      context: "app",
      dockerfile: "app/Dockerfile",
      platform: "linux/amd64",
      args: {
        MODEL_DIR: "models/food11",
        NODE_IMAGE: `node:24-slim@${DIGEST}`,
        LIBTENSORFLOW: "download",
      },
    });
  });

  // tfjsBackend and imageLibtensorflow's LIBTENSORFLOW: test/unit/infra/engine.test.ts.

  it("pass a PEM file's certificates to the build stages, and to the image only when asked", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "food11-ca-"));
    const file = path.join(dir, "proxy-ca.pem");
    writeFileSync(file, `# the proxy's CA\n${PEM}\n\n${PEM}\n`);
    for (const inImage of [false, true]) {
      const run = await runAccepted("strategy1", {
        "food11:imageExtraCaCertificates": file,
        ...(inImage ? { "food11:imageExtraCaCertificatesInImage": "true" } : {}),
      });
      const args = only(run, "docker:index/image:Image").inputs.build.args;
      expect(args.EXTRA_CA_CERTS).toBe(`${PEM}\n${PEM}\n`);
      expect(args.EXTRA_CA_CERTS_IN_IMAGE).toBe(inImage ? "true" : undefined);
    }
  });

  it("refuse imageExtraCaCertificatesInImage without a file", async () => {
    const run = await runStack("strategy1", { "food11:imageExtraCaCertificatesInImage": "true" });
    expect(run.resources).toEqual([]);
    expect(String(run.error)).toContain(
      `food11:imageExtraCaCertificatesInImage = "true": is true but food11:imageExtraCaCertificates names no file. Fix: pulumi config set food11:imageExtraCaCertificates certs/proxy-ca.pem --stack strategy1`,
    );
  });

  it.each([
    ["a missing file", undefined, /cannot be read \(ENOENT/],
    ["a file without a certificate", "not a certificate\n", /holds no PEM certificate/],
    [
      "a private key",
      `${PEM}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`,
      /holds a private key/,
    ],
  ])("refuse %s as imageExtraCaCertificates before any resource", async (_why, content, want) => {
    const dir = mkdtempSync(path.join(tmpdir(), "food11-ca-"));
    const file = path.join(dir, "ca.pem");
    if (content !== undefined) writeFileSync(file, content);
    const run = await runStack("strategy1", { "food11:imageExtraCaCertificates": file });
    expect(run.resources).toEqual([]);
    expect(String(run.error)).toMatch(want);
    expect(String(run.error)).toContain(
      `food11:imageExtraCaCertificates = ${JSON.stringify(file)}`,
    );
    expect(String(run.error)).toContain('stack "strategy1"');
    expect(String(run.error)).toContain("Fix: pulumi config set food11:imageExtraCaCertificates");
  });

  it("bake nothing when the server fetches the model at start", async () => {
    const url = "https://models.example.com/food11/model.json";
    const run = await runAccepted("strategy2", { "food11:modelUrl": url });
    expect(only(run, "docker:index/image:Image").inputs.build.args).toEqual({
      MODEL_URL: url,
      LIBTENSORFLOW: "download",
    });
    expect(container(run).env).toContainEqual({ name: "MODEL_URL", value: url });
  });
});

describe("registry credentials", () => {
  it("are passed to the build, the password as a secret", async () => {
    const run = await runAccepted("strategy1", {
      "food11:imageRegistry": "ghcr.io/acme",
      "food11:registryUsername": "ci-bot",
      "food11:registryPassword": "s3cret",
    });
    const image = only(run, "docker:index/image:Image").inputs;
    expect(image.imageName).toBe("ghcr.io/acme/food11-classifier:0.1.0");
    // The whole registry block travels as a secret (mocks see the wire form of a secret).
    expect(image.registry).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: { server: "ghcr.io", username: "ci-bot", password: "s3cret" },
    });
  });
});

describe("an existing namespace", () => {
  it("is used as is when food11:createNamespace is false", async () => {
    const run = await runAccepted("strategy2", {
      "food11:createNamespace": false,
      "food11:namespace": "ml-serving",
    });
    expect(run.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace")).toEqual([]);
    expect(only(run, DEPLOYMENT).inputs.metadata.namespace).toBe("ml-serving");
    expect(run.outputs?.namespace).toBe("ml-serving");
  });
});

describe("a pod priority (food11:priorityClassName)", () => {
  it("is the pods' spec.priorityClassName when set, and absent by default", async () => {
    const run = await runAccepted("strategy1", { "food11:priorityClassName": "food11-serving" });
    const spec = only(run, DEPLOYMENT).inputs.spec.template.spec;
    expect(spec.priorityClassName).toBe("food11-serving");
    const unset = only(await runAccepted("strategy1"), DEPLOYMENT).inputs.spec.template.spec;
    expect(unset).not.toHaveProperty("priorityClassName");
  });
});

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

describe("the NetworkPolicy (food11:networkPolicy)", () => {
  it("is left out with networkPolicy false", async () => {
    const run = await runAccepted("baseline", { "food11:networkPolicy": "false" });
    expect(run.resources.filter((r) => r.type === NETPOL)).toEqual([]);
    expect(run.outputs && "networkPolicyName" in run.outputs).toBe(false);
  });

  it("admits the configured namespaces and lets out modelUrl's port", async () => {
    const run = await runAccepted("strategy1", {
      "food11:ingressControllerNamespace": "traefik",
      "food11:monitoringNamespace": "",
      "food11:modelUrl": "https://models.example.com/food11/model.json",
    });
    const spec = only(run, NETPOL).inputs.spec;
    expect(spec.ingress).toEqual([
      {
        from: [
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } } },
        ],
        ports: [{ protocol: "TCP", port: "http" }],
      },
    ]);
    expect(spec.egress).toEqual([
      {
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
      { ports: [{ protocol: "TCP", port: 443 }] },
    ]);
  });

  it("lets out an http model URL's own port", async () => {
    const run = await runAccepted("strategy2", {
      "food11:modelUrl": "http://models.internal:8000/model.json",
    });
    expect(only(run, NETPOL).inputs.spec.egress[1]).toEqual({
      ports: [{ protocol: "TCP", port: 8000 }],
    });
  });
});

describe("ephemeral storage", () => {
  it("takes the container's request and limit from the stack", async () => {
    const run = await runAccepted("baseline", {
      "food11:ephemeralStorageRequest": "100Mi",
      "food11:ephemeralStorageLimit": "1Gi",
    });
    const { requests, limits } = container(run).resources;
    expect([requests["ephemeral-storage"], limits["ephemeral-storage"]]).toEqual(["100Mi", "1Gi"]);
  });
});

describe("a production stack starting at 2 replicas (food11:minReplicas 2)", () => {
  it("needs no kube-score exception on the HPA, and a drain keeps a pod serving", async () => {
    const run = await runAccepted("strategy1", { "food11:minReplicas": "2" });
    expect(only(run, HPA).inputs.spec.minReplicas).toBe(2);
    expect(only(run, HPA).inputs.metadata).not.toHaveProperty("annotations");
    expect(only(run, PDB).inputs.metadata.annotations).toEqual({
      "food11/drain": "minReplicas 2 with maxUnavailable 1: a drain keeps at least 1 pod serving.",
    });
  });
});

const SERVICE = "kubernetes:core/v1:Service";
const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";

describe("the upload page (food11:uploadPage)", () => {
  it("false: the server serves the API alone and the routes publish /predict and /test only", async () => {
    const run = await runAccepted("baseline", { "food11:uploadPage": "false" });
    expect(container(run).env).toContainEqual({ name: "UPLOAD_PAGE", value: "false" });
    expect(
      only(run, INGRESS).inputs.spec.rules[0].http.paths.map((p: { path: string }) => p.path),
    ).toEqual(["/predict", "/test"]);
    const prefixed = await runAccepted("baseline", {
      "food11:uploadPage": "false",
      "food11:ingressPath": "/food11",
    });
    // no `?`: <prefix>/ is not routed
    expect(only(prefixed, INGRESS).inputs.spec.rules[0].http.paths[0].path).toBe(
      "/food11/(predict|test)$",
    );
    const gateway = await runAccepted("baseline", {
      "food11:uploadPage": "false",
      "food11:route": "gateway",
    });
    expect(
      only(gateway, HTTPROUTE).inputs.spec.rules.map(
        (r: { matches: { path: { value: string } }[] }) => r.matches[0]?.path.value,
      ),
    ).toEqual(["/predict", "/test"]);
  });
});

describe("monitoring (food11:monitoring, food11:grafanaDashboard)", () => {
  it("none: no prometheus.io annotations, no metrics port, no ServiceMonitor", async () => {
    const run = await runAccepted("strategy1", { "food11:monitoring": "none" });
    expect(only(run, DEPLOYMENT).inputs.spec.template.metadata).not.toHaveProperty("annotations");
    expect(only(run, SERVICE).inputs.spec.ports.map((p: { name: string }) => p.name)).toEqual([
      "http",
    ]);
    expect(run.resources.filter((r) => r.type === SERVICE_MONITOR || r.type === CONFIGMAP)).toEqual(
      [],
    );
  });

  it("servicemonitor: a ServiceMonitor selecting the Service's cluster-internal metrics port", async () => {
    const run = await runAccepted("strategy2", { "food11:monitoring": "servicemonitor" });
    expect(only(run, DEPLOYMENT).inputs.spec.template.metadata).not.toHaveProperty("annotations");
    const service = only(run, SERVICE).inputs;
    expect(service.spec.type).toBe("ClusterIP");
    expect(service.spec.ports).toEqual([
      { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
      { name: "metrics", port: 8081, targetPort: "admin", protocol: "TCP" },
    ]);
    const monitor = only(run, SERVICE_MONITOR, "food11-servicemonitor").inputs;
    expect(monitor).toEqual({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: expect.objectContaining({
        name: "food11-classifier",
        namespace: "food11-strategy2",
      }),
      spec: {
        selector: {
          matchLabels: {
            "app.kubernetes.io/name": "food11-classifier",
            "app.kubernetes.io/instance": "strategy2",
          },
        },
        namespaceSelector: { matchNames: ["food11-strategy2"] },
        endpoints: [{ port: "metrics", path: "/metrics", scheme: "http" }],
      },
    });
    // it selects the Service: its labels carry the selector
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    // the routes still publish the API's port only
    expect(
      only(run, INGRESS).inputs.spec.rules[0].http.paths.every(
        (p: { backend: { service: { port: { name: string } } } }) =>
          p.backend.service.port.name === "http",
      ),
    ).toBe(true);
    expect(run.outputs?.serviceMonitorName).toBe("food11-classifier");
  });

  it("grafanaDashboard: a ConfigMap the Grafana sidecar loads, with the generated dashboard", async () => {
    const run = await runAccepted("baseline", { "food11:grafanaDashboard": "true" });
    const cm = only(run, CONFIGMAP, "food11-dashboard").inputs;
    expect(cm.metadata).toMatchObject({
      name: "food11-classifier-dashboard",
      namespace: "food11-baseline",
      labels: { grafana_dashboard: "1", "app.kubernetes.io/instance": "baseline" },
    });
    const dashboard = JSON.parse(cm.data["food11-baseline.json"]);
    expect(dashboard.uid).toBe("food11-baseline");
    expect(dashboard.templating.list[1].current).toEqual({
      text: "food11-baseline",
      value: "food11-baseline",
    });
    // the generator's dashboard for this stack (its panels against the server: dashboard.test.ts)
    expect(dashboard).toEqual(
      grafanaDashboard({ instance: "baseline", namespace: "food11-baseline" }),
    );
    expect(run.outputs?.dashboardName).toBe("food11-classifier-dashboard");
  });

  it("warns about a dashboard nobody scrapes for (monitoring none)", async () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    await runAccepted("baseline", {
      "food11:grafanaDashboard": "true",
      "food11:monitoring": "none",
    });
    expect(warn).toHaveBeenCalledWith(
      "food11:grafanaDashboard true with food11:monitoring none: the dashboard stays empty unless your Prometheus scrapes the pods' admin port by other means. pulumi config set food11:monitoring servicemonitor --stack baseline (or annotations)",
    );
    warn.mockRestore();
  });

  it("rejects an unknown mode, naming the choices", async () => {
    const run = await runStack("baseline", { "food11:monitoring": "podmonitor" });
    expect(String(run.error)).toContain(
      'food11:monitoring = "podmonitor": must be one of none, annotations, servicemonitor. Fix: pulumi config set food11:monitoring annotations --stack baseline',
    );
    expect(run.resources).toEqual([]);
  });
});
