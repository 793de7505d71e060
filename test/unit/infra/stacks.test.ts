/**
 * Each committed stack file, run through the whole program under mocks: the Deployment, HPA,
 * Service, Ingress and PDB carry the report's values for that strategy and the derived ones.
 */
import { describe, expect, it } from "vitest";
import { engineConfig, mockDigest, only, type Run, runProgram } from "./mocks";

/** The report's table ("Configuration of each recipe") plus the values derived from it. */
const STRATEGIES = {
  baseline: {
    targetCpu: 40,
    successThreshold: 3,
    limits: { cpu: "2", memory: "4Gi" },
    requests: { cpu: "1", memory: "2Gi" },
    threads: "2",
    heapMiB: 2048,
  },
  strategy1: {
    targetCpu: 80,
    successThreshold: 3,
    limits: { cpu: "3", memory: "6Gi" },
    requests: { cpu: "1", memory: "2Gi" },
    threads: "3",
    heapMiB: 3072,
  },
  strategy2: {
    targetCpu: 30,
    successThreshold: 1,
    limits: { cpu: "2", memory: "5Gi" },
    requests: { cpu: "1", memory: "4.5Gi" },
    threads: "2",
    heapMiB: 2560,
  },
} as const;

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

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
  const metadata = { name: "food11-classifier", namespace, labels };

  let run: Run;
  const program = async () => {
    run ??= await runProgram(stack, engineConfig(stack));
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
    expect(only(await program(), NAMESPACE).inputs).toEqual({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: namespace,
        labels: {
          ...labels,
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    });
  });

  it("deploys the image with the strategy's resources, probes, env and restricted security", async () => {
    const deployment = only(await program(), DEPLOYMENT).inputs;
    const probe = (path: string) => ({ path, port: "http", scheme: "HTTP" });
    expect(deployment).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        ...metadata,
        annotations: {
          "kube-score/ignore": "container-image-pull-policy,deployment-has-host-podantiaffinity",
          "food11/kube-score-ignore-reason.container-image-pull-policy": expect.stringMatching(
            /^The image is pinned by digest/,
          ),
          "food11/kube-score-ignore-reason.deployment-has-host-podantiaffinity":
            expect.stringMatching(/spread across nodes by topologySpreadConstraints/),
        },
      },
      spec: {
        selector: { matchLabels: selector },
        revisionHistoryLimit: 5,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: {
            labels,
            annotations: {
              "prometheus.io/scrape": "true",
              "prometheus.io/port": "8080",
              "prometheus.io/path": "/metrics",
            },
          },
          spec: {
            automountServiceAccountToken: false,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: selector },
                matchLabelKeys: ["pod-template-hash"],
              },
            ],
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 25,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              runAsGroup: 10001,
              fsGroup: 10001,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "classifier",
                image,
                imagePullPolicy: "IfNotPresent",
                ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
                env: [
                  { name: "PORT", value: "8080" },
                  { name: "HOST", value: "0.0.0.0" },
                  { name: "MODEL_NAME", value: "food11-mobilenetv2" },
                  { name: "MODEL_VERSION", value: "1" },
                  { name: "PREPROCESS", value: "unit" },
                  { name: "TFJS_BACKEND", value: "auto" },
                  { name: "INFERENCE_THREADS", value: want.threads },
                  { name: "NODE_OPTIONS", value: `--max-old-space-size=${want.heapMiB}` },
                  { name: "SHUTDOWN_GRACE_SECONDS", value: "20" },
                  { name: "SHUTDOWN_DELAY_SECONDS", value: "5" },
                  { name: "LOG_LEVEL", value: "info" },
                ],
                resources: {
                  requests: { ...want.requests, "ephemeral-storage": "64Mi" },
                  limits: { ...want.limits, "ephemeral-storage": "512Mi" },
                },
                startupProbe: {
                  httpGet: probe("/healthz"),
                  periodSeconds: 5,
                  failureThreshold: 24,
                  timeoutSeconds: 2,
                },
                readinessProbe: {
                  httpGet: probe("/readyz"),
                  periodSeconds: 5,
                  successThreshold: want.successThreshold,
                  failureThreshold: 3,
                  timeoutSeconds: 2,
                },
                livenessProbe: {
                  httpGet: probe("/healthz"),
                  periodSeconds: 10,
                  failureThreshold: 3,
                  timeoutSeconds: 2,
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ["ALL"] },
                  seccompProfile: { type: "RuntimeDefault" },
                },
                volumeMounts: [{ name: "scratch", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "scratch", emptyDir: { sizeLimit: "256Mi" } }],
          },
        },
      },
    });
    // The HPA owns the replica count.
    expect(deployment.spec).not.toHaveProperty("replicas");
  });

  it("selects its own pods: selector labels are a subset of the pod template's", async () => {
    const r = await program();
    const podLabels = only(r, DEPLOYMENT).inputs.spec.template.metadata.labels;
    for (const matchLabels of [
      only(r, DEPLOYMENT).inputs.spec.selector.matchLabels,
      only(r, SERVICE).inputs.spec.selector,
      only(r, PDB).inputs.spec.selector.matchLabels,
    ]) {
      expect(matchLabels).toEqual(selector);
      expect(podLabels).toMatchObject(matchLabels);
    }
  });

  it("autoscales on CPU with the strategy's target, 1..5 replicas", async () => {
    expect(only(await program(), HPA).inputs).toEqual({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: {
        ...metadata,
        // minReplicas 1 (the report's): kube-score's replicas check is skipped, saying why.
        annotations: {
          "kube-score/ignore": "horizontalpodautoscaler-replicas",
          "food11/kube-score-ignore-reason.horizontalpodautoscaler-replicas": expect.stringMatching(
            /^minReplicas 1 is the measured strategies' choice .*a production stack sets minReplicas 2/,
          ),
        },
      },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "food11-classifier" },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: want.targetCpu },
            },
          },
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: "Max",
            policies: [
              { type: "Percent", value: 100, periodSeconds: 15 },
              { type: "Pods", value: 4, periodSeconds: 15 },
            ],
          },
          scaleDown: {
            stabilizationWindowSeconds: 300,
            selectPolicy: "Max",
            policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
          },
        },
      },
    });
  });

  it("exposes port 80 -> the container's named port http on a ClusterIP Service", async () => {
    const r = await program();
    expect(only(r, SERVICE).inputs).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata,
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
      },
    });
    const ports = only(r, DEPLOYMENT).inputs.spec.template.spec.containers[0].ports;
    expect(ports.map((p: { name: string }) => p.name)).toContain("http");
  });

  it("routes / on class nginx to the Service's http port", async () => {
    expect(only(await program(), INGRESS).inputs).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: {
        ...metadata,
        annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "10m" },
      },
      spec: {
        ingressClassName: "nginx",
        rules: [
          {
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "food11-classifier", port: { name: "http" } } },
                },
              ],
            },
          },
        ],
      },
    });
  });

  it("keeps disruption to one pod at a time", async () => {
    expect(only(await program(), PDB).inputs).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: {
        ...metadata,
        annotations: {
          "food11/drain":
            "minReplicas 1 with maxUnavailable 1: at rest a drain may evict every pod, and nothing serves until a replacement is Ready. Keep a pod serving with minReplicas 2 or more.",
        },
      },
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    });
  });

  it("admits only the ingress controller and monitoring on http, and lets out only DNS", async () => {
    const r = await program();
    expect(only(r, NETPOL).inputs).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata,
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" },
                },
              },
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
              },
            ],
            ports: [{ protocol: "TCP", port: "http" }],
          },
        ],
        egress: [
          {
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    });
    // The policy's selector picks exactly the Deployment's pods.
    expect(only(r, DEPLOYMENT).inputs.spec.template.metadata.labels).toMatchObject(
      only(r, NETPOL).inputs.spec.podSelector.matchLabels,
    );
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
