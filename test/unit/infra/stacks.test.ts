/**
 * Each committed stack file, run through the whole program under mocks: the strategy's knobs (CPU
 * target, successThreshold, requests and limits, and what derives from them) and the invariants
 * every stack keeps. The whole of what each stack registers is in __snapshots__/<stack>.yaml
 * (manifests.test.ts).
 */
import { describe, expect, it } from "vitest";
import { mockDigest, only, type Run, runStack } from "./mocks";

/**
 * The report's table ("Configuration of each recipe"): HPA CPU target (%), readiness
 * successThreshold, requests and limits as [cpu, memory]; plus what derives from the limits:
 * INFERENCE_THREADS = ceil(limits.cpu) and the Node heap (MiB) = half of limits.memory.
 */
const STRATEGIES = {
  baseline: row(40, 3, ["1", "2Gi"], ["2", "4Gi"], 2, 2048),
  strategy1: row(80, 3, ["1", "2Gi"], ["3", "6Gi"], 3, 3072),
  strategy2: row(30, 1, ["1", "4.5Gi"], ["2", "5Gi"], 2, 2560),
};

function row(
  targetCpu: number,
  successThreshold: number,
  requests: [cpu: string, memory: string],
  limits: [cpu: string, memory: string],
  threads: number,
  heapMiB: number,
) {
  return { targetCpu, successThreshold, requests, limits, threads, heapMiB };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

// biome-ignore lint/suspicious/noExplicitAny: registered inputs are untyped JSON.
type Json = any;
type Env = { name: string; value: string };
type Rule = { from: Json[]; ports: Json[] };
const podSpec = (run: Run) => only(run, DEPLOYMENT).inputs.spec.template.spec;
const container = (run: Run) => podSpec(run).containers[0];

describe.each(Object.entries(STRATEGIES))("stack %s", (stack, want) => {
  const labels = {
    "app.kubernetes.io/name": "food11-classifier",
    "app.kubernetes.io/instance": stack,
    "app.kubernetes.io/component": "inference",
    "app.kubernetes.io/part-of": "food11",
    "app.kubernetes.io/managed-by": "pulumi",
  };
  const selector = {
    "app.kubernetes.io/name": "food11-classifier",
    "app.kubernetes.io/instance": stack,
  };
  const namespace = `food11-${stack}`;
  const image = `localhost:5001/food11-classifier@${mockDigest("localhost:5001/food11-classifier:0.1.0")}`;

  let run: Run;
  const program = async () => {
    run ??= await runStack(stack);
    return run;
  };

  it("registers exactly the expected resources, children of the components", async () => {
    const { resources, error } = await program();
    expect(error).toBeUndefined();
    expect(resources.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "food11:image:InferenceImage food11",
        "food11:service:InferenceService food11",
        "docker:index/image:Image food11-image",
        `${NAMESPACE} food11-namespace`,
        `${DEPLOYMENT} food11-deployment`,
        `${SERVICE} food11-service`,
        `${HPA} food11-hpa`,
        `${INGRESS} food11-ingress`,
        `${PDB} food11-pdb`,
        `${NETPOL} food11-networkpolicy`,
      ].sort(),
    );
  });

  it("parents children to their components and orders them by dependency", async () => {
    const r = await program();
    const urn = (parentType: string, type: string, name: string) =>
      `urn:pulumi:${stack}::food11::${parentType}$${type}::${name}`;
    const service = `urn:pulumi:${stack}::food11::food11:service:InferenceService::food11`;
    const nsUrn = urn("food11:service:InferenceService", NAMESPACE, "food11-namespace");
    const imageUrn = urn("food11:image:InferenceImage", "docker:index/image:Image", "food11-image");
    expect(only(r, "food11:service:InferenceService").parent).toBe("");
    expect(only(r, "food11:image:InferenceImage").parent).toBe("");
    expect(only(r, "docker:index/image:Image").parent).toBe(
      `urn:pulumi:${stack}::food11::food11:image:InferenceImage::food11`,
    );
    expect(only(r, NAMESPACE).parent).toBe(service);
    for (const type of [DEPLOYMENT, SERVICE, HPA, INGRESS, PDB, NETPOL]) {
      expect(only(r, type).parent, type).toBe(service);
      // Created after, deleted before, their namespace.
      expect(only(r, type).dependencies, type).toContain(nsUrn);
    }
    // Rolled out only once the image is pushed; the HPA targets the Deployment it depends on.
    expect(only(r, DEPLOYMENT).dependencies).toEqual([imageUrn, nsUrn]);
    expect(only(r, HPA).dependencies).toContain(
      urn("food11:service:InferenceService", DEPLOYMENT, "food11-deployment"),
    );
  });

  it("builds app/Dockerfile for linux/amd64 and exports the pushed digest", async () => {
    const r = await program();
    expect(only(r, "docker:index/image:Image").inputs).toEqual({
      imageName: "localhost:5001/food11-classifier:0.1.0",
      build: {
        context: "app",
        dockerfile: "app/Dockerfile",
        platform: "linux/amd64",
        args: { LIBTENSORFLOW: "download" },
      },
      // @pulumi/docker's own defaults: push, and build nothing during `pulumi preview`.
      buildOnPreview: false,
      skipPush: false,
    });
    expect(r.outputs?.image).toBe(image);
  });

  it("exports the url, image, namespace, workload names and label selector", async () => {
    const r = await program();
    // Exactly these keys: no undefined output (Pulumi would warn about it on every up).
    expect(Object.keys(r.outputs ?? {}).sort()).toEqual(
      [
        "url",
        "image",
        "namespace",
        "deploymentName",
        "serviceName",
        "hpaName",
        "ingressName",
        "pdbName",
        "networkPolicyName",
        "labelSelector",
      ].sort(),
    );
    expect(r.outputs).toEqual({
      url: "http://localhost/",
      image,
      namespace,
      deploymentName: "food11-classifier",
      serviceName: "food11-classifier",
      hpaName: "food11-classifier",
      ingressName: "food11-classifier",
      pdbName: "food11-classifier",
      networkPolicyName: "food11-classifier",
      labelSelector: `app.kubernetes.io/name=food11-classifier,app.kubernetes.io/instance=${stack}`,
    });
  });

  it("creates its own namespace, enforcing the restricted Pod Security Standard", async () => {
    const { metadata: ns } = only(await program(), NAMESPACE).inputs;
    expect(ns.name).toBe(namespace);
    expect(ns.labels).toEqual({
      ...labels,
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
    });
  });

  it("sizes the container by the strategy: requests, limits, threads and heap", async () => {
    const c = container(await program());
    expect(c.resources).toEqual({
      requests: { cpu: want.requests[0], memory: want.requests[1], "ephemeral-storage": "64Mi" },
      limits: { cpu: want.limits[0], memory: want.limits[1], "ephemeral-storage": "512Mi" },
    });
    expect(c.env).toContainEqual({ name: "INFERENCE_THREADS", value: String(want.threads) });
    expect(c.env).toContainEqual({
      name: "NODE_OPTIONS",
      value: `--max-old-space-size=${want.heapMiB}`,
    });
  });

  it("sends traffic after the strategy's successThreshold of /readyz (probes on the admin port)", async () => {
    const c = container(await program());
    expect(c.readinessProbe.successThreshold).toBe(want.successThreshold);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "admin", scheme: "HTTP" });
    for (const probe of [c.startupProbe, c.livenessProbe]) {
      expect(probe.httpGet).toEqual({ path: "/healthz", port: "admin", scheme: "HTTP" });
    }
  });

  it("autoscales on CPU with the strategy's target, 1..5 replicas", async () => {
    const hpa = only(await program(), HPA).inputs.spec;
    expect(hpa.metrics).toEqual([
      {
        type: "Resource",
        resource: {
          name: "cpu",
          target: { type: "Utilization", averageUtilization: want.targetCpu },
        },
      },
    ]);
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([1, 5]);
    expect(hpa.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "food11-classifier",
    });
    const windows = [hpa.behavior.scaleUp, hpa.behavior.scaleDown];
    expect(windows.map((w) => w.stabilizationWindowSeconds)).toEqual([0, 300]);
  });

  it("rolls out the pushed image without losing capacity, and leaves replicas to the HPA", async () => {
    const r = await program();
    const spec = only(r, DEPLOYMENT).inputs.spec;
    expect(spec).not.toHaveProperty("replicas");
    expect(spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(container(r).image).toBe(image);
    expect(container(r).imagePullPolicy).toBe("IfNotPresent");
  });

  it("outlasts the server's drain: terminationGracePeriodSeconds = SHUTDOWN_GRACE_SECONDS + 5", async () => {
    const r = await program();
    const env = Object.fromEntries(container(r).env.map((e: Env) => [e.name, e.value]));
    expect(env).toMatchObject({ SHUTDOWN_GRACE_SECONDS: "20", SHUTDOWN_DELAY_SECONDS: "5" });
    expect(podSpec(r).terminationGracePeriodSeconds).toBe(25);
  });

  it("runs restricted: non-root, no capabilities, read-only root with /tmp an emptyDir", async () => {
    const r = await program();
    expect(podSpec(r).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(container(r).securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container(r).volumeMounts).toEqual([{ name: "scratch", mountPath: "/tmp" }]);
    expect(podSpec(r).volumes).toEqual([{ name: "scratch", emptyDir: { sizeLimit: "256Mi" } }]);
  });

  it("selects its own pods: selector labels are a subset of the pod template's", async () => {
    const r = await program();
    const podLabels = only(r, DEPLOYMENT).inputs.spec.template.metadata.labels;
    for (const matchLabels of [
      only(r, DEPLOYMENT).inputs.spec.selector.matchLabels,
      only(r, SERVICE).inputs.spec.selector,
      only(r, PDB).inputs.spec.selector.matchLabels,
      only(r, NETPOL).inputs.spec.podSelector.matchLabels,
    ]) {
      expect(matchLabels).toEqual(selector);
      expect(podLabels).toMatchObject(matchLabels);
    }
  });

  it("exposes port 80 -> the container's named port http on a ClusterIP Service, not the admin port", async () => {
    const r = await program();
    const spec = only(r, SERVICE).inputs.spec;
    expect(spec.type).toBe("ClusterIP");
    expect(spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    expect(container(r).ports).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "admin", containerPort: 8081, protocol: "TCP" },
    ]);
    const env = Object.fromEntries(container(r).env.map((e: Env) => [e.name, e.value]));
    expect(env).toMatchObject({ PORT: "8080", ADMIN_PORT: "8081", UPLOAD_PAGE: "true" });
    // food11:monitoring annotations (the default): Prometheus' pod job finds the admin port
    expect(only(r, DEPLOYMENT).inputs.spec.template.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8081",
      "prometheus.io/path": "/metrics",
    });
  });

  it("routes the API's paths and the upload page, exactly, on class nginx to the Service's http port", async () => {
    const ingress = only(await program(), INGRESS).inputs;
    expect(ingress.metadata.annotations).toEqual({
      "nginx.ingress.kubernetes.io/proxy-body-size": "10m",
    });
    expect(ingress.spec.ingressClassName).toBe("nginx");
    // One rule, for any host: /predict, /test and / exactly (nothing else: no /metrics, /healthz,
    // /readyz, which are on the admin port anyway) to the Service's named port.
    const [rule, ...others] = ingress.spec.rules;
    expect(others).toEqual([]);
    expect(rule).not.toHaveProperty("host");
    expect(rule.http.paths).toEqual(
      ["/predict", "/test", "/"].map((path) => ({
        path,
        pathType: "Exact",
        backend: { service: { name: "food11-classifier", port: { name: "http" } } },
      })),
    );
  });

  it("keeps disruption to one pod at a time, saying what a drain costs at 1 replica", async () => {
    const pdb = only(await program(), PDB).inputs;
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.metadata.annotations["food11/drain"]).toMatch(
      /^minReplicas 1 with maxUnavailable 1: at rest a drain may evict every pod/,
    );
  });

  it("admits only the ingress controller on http and monitoring on admin, and lets out only DNS", async () => {
    const { spec } = only(await program(), NETPOL).inputs;
    expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
    const from = spec.ingress.map((rule: Rule) => [
      rule.from.map((peer) => peer.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]),
      rule.ports,
    ]);
    expect(from).toEqual([
      [["ingress-nginx"], [{ protocol: "TCP", port: "http" }]],
      [["monitoring"], [{ protocol: "TCP", port: "admin" }]],
    ]);
    expect(spec.egress.map((rule: Rule) => rule.ports)).toEqual([
      [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    ]);
  });

  it("writes the reason of every kube-score exception beside it", async () => {
    const objects = (await program()).resources.filter((r) => r.type.startsWith("kubernetes:"));
    const skipped: string[] = [];
    for (const object of objects) {
      for (const meta of [object.inputs.metadata, object.inputs.spec?.template?.metadata]) {
        const annotations: Record<string, string> = meta?.annotations ?? {};
        for (const id of (annotations["kube-score/ignore"] ?? "").split(",").filter(Boolean)) {
          expect(annotations[`food11/kube-score-ignore-reason.${id}`], id).toMatch(/\w{4,}/);
          skipped.push(`${object.inputs.kind} ${id}`);
        }
      }
    }
    // Only these, each a design choice (InferenceService's JSDoc); minReplicas 1 in every stack.
    expect(skipped.sort()).toEqual([
      "Deployment container-image-pull-policy",
      "Deployment deployment-has-host-podantiaffinity",
      "HorizontalPodAutoscaler horizontalpodautoscaler-replicas",
    ]);
  });

  it("labels every Kubernetes object with the app.kubernetes.io/* set", async () => {
    const objects = (await program()).resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(objects).toHaveLength(7);
    for (const object of objects) {
      expect(object.inputs.metadata.labels).toMatchObject(labels);
    }
  });
});
