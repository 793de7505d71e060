/**
 * The stack configuration schema: every `food11:<key>` the program reads, its type, default and
 * meaning, and the checks that reject a bad stack before any resource is registered.
 *
 * Keys are flat scalars (`food11:cpuLimit`, `food11:targetCpuUtilization`, ...) because
 * `Pulumi.yaml` can only declare `string`, `integer`, `boolean` and `array` keys: flat keys let
 * `Pulumi.yaml` declare every one of them with its type, description and default, and
 * `pulumi config set food11:cpuLimit 3` needs no `--path`. The schema turns them into the nested,
 * typed {@link StackSettings} that the components take.
 *
 * Pure: no Pulumi runtime, so tools and tests can parse a stack file directly.
 */
import { z } from "zod";
import { DEFAULTS as D, INGRESS_SERVICE_TYPES } from "../components/defaults";
import { cpuMillicores, isQuantity, memoryBytes } from "../components/quantity";
import { INFERENCE_ENGINES } from "./engine";

const P = D.probes;

/** The Pulumi project name, hence the config namespace (`food11:<key>`). */
export const PROJECT = "food11";

/**
 * Stands for the key in a schema message: the key is the property's name in {@link configShape},
 * and parseStackConfig writes it (and the stack) into the message.
 */
export const THIS_KEY = "<this key>";

/** The fix hint of a schema message: `pulumi config set food11:<key> <example>`. */
function setHint(example: string): string {
  return `Fix: pulumi config set ${THIS_KEY} ${example}`;
}

/** Config values arrive as strings from the engine and as YAML scalars from stack files. */
function toNumber(value: unknown): unknown {
  if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return value;
}

function toBoolean(value: unknown): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

function toText(value: unknown): unknown {
  // YAML turns `cpuLimit: 3` into a number; a quantity or a tag is still text.
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return value;
}

function text(def: string, description: string, example = "<text>") {
  return z
    .preprocess(toText, z.string({ error: `must be text. ${setHint(example)}` }))
    .default(def)
    .describe(description);
}

function integer(def: number, min: number, max: number, description: string) {
  const range = `must be a whole number from ${min} to ${max}`;
  return z
    .preprocess(
      toNumber,
      z
        .int({ error: `${range}. ${setHint(String(def))}` })
        .min(min, { error: `${range}. ${setHint(String(Math.max(min, def)))}` })
        .max(max, { error: `${range}. ${setHint(String(Math.min(max, def)))}` }),
    )
    .default(def)
    .describe(description);
}

/** A probe's periodSeconds: 1 s to an hour. */
const period = (def: number, description: string) => integer(def, 1, 3600, description);
/** A probe's successThreshold or failureThreshold: 1 to 100. */
const threshold = (def: number, description: string) => integer(def, 1, 100, description);
/** An HPA stabilization window: 0 s to an hour. */
const window = (def: number, description: string) => integer(def, 0, 3600, description);

function flag(def: boolean, description: string) {
  return z
    .preprocess(toBoolean, z.boolean({ error: `must be true or false. ${setHint(String(def))}` }))
    .default(def)
    .describe(description);
}

function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  def: T[number],
  description: string,
) {
  return z
    .preprocess(
      toText,
      z.enum(values, {
        error: `must be one of ${values.join(", ")}. ${setHint(def)}`,
      }),
    )
    .default(def)
    .describe(description);
}

function quantity(def: string, kind: "cpu" | "memory", description: string) {
  const example = kind === "cpu" ? `"2" or "500m"` : `"4Gi" or "512Mi"`;
  return z
    .preprocess(
      toText,
      z
        .string({ error: `must be a Kubernetes quantity such as ${example}. ${setHint(def)}` })
        .superRefine((v, ctx) => {
          if (!isQuantity(v)) {
            ctx.addIssue({
              code: "custom",
              message: `is not a Kubernetes quantity (${kind}: e.g. ${example}). ${setHint(def)}`,
            });
          } else if ((kind === "cpu" ? cpuMillicores(v) : memoryBytes(v)) <= 0) {
            ctx.addIssue({ code: "custom", message: `must be above zero. ${setHint(def)}` });
          }
        }),
    )
    .default(def)
    .describe(description);
}

/** A CPU quantity (`"2"`, `"500m"`). */
const cpu = (def: string, description: string) => quantity(def, "cpu", description);
/** A memory or storage quantity (`"4Gi"`, `"512Mi"`). */
const bytes = (def: string, description: string) => quantity(def, "memory", description);

/**
 * The flat `food11:*` keys. Defaults are the report's previous recipe (the baseline) where the
 * report names a value, and this project's choices elsewhere (see docs/configuration.md).
 */
export const configShape = {
  // Image: build app/ and push it, or deploy a prebuilt reference.
  imageRef: text(
    "",
    "Prebuilt image to deploy; it wins over a configured build. registry/repo@sha256:<digest> preferred, a tag is accepted with a warning. Empty: build.",
    "registry.example.com/food11-classifier@sha256:<digest>",
  ),
  imageRegistry: text(
    "",
    "Registry server (and optional path prefix) the built image is pushed to, e.g. localhost:5001 or ghcr.io/acme. Empty: Docker Hub.",
    "localhost:5001",
  ),
  imageRepository: text(
    "",
    "Repository of the built image, e.g. food11-classifier. Setting it builds app/ with app/Dockerfile and pushes it.",
    "food11-classifier",
  ),
  imageTag: text(
    D.image.tag,
    "Tag pushed with the built image; the Deployment still pins the pushed digest.",
    "0.2.0",
  ),
  imageContext: text(D.image.context, "Docker build context, relative to the project root.", "app"),
  imageDockerfile: text(
    D.image.dockerfile,
    "Dockerfile, relative to the project root.",
    "app/Dockerfile",
  ),
  imagePlatform: text(D.image.platform, "Target platform of the image build.", "linux/amd64"),
  imageModelDir: text(
    "",
    "MODEL_DIR build arg: a tfjs model directory inside the build context (e.g. models/food11) to bake into the image. Empty: the seeded demo model.",
    "models/food11",
  ),
  imageBaseImage: text(
    "",
    "NODE_IMAGE build arg: the Node base image, e.g. node:24-slim@sha256:<digest> to pin it. Empty: the Dockerfile's node:24-slim.",
    "node:24-slim@sha256:<digest>",
  ),
  imageLibtensorflow: choice(
    ["download", "wheel"],
    "download",
    "LIBTENSORFLOW build arg: where the image's tfjs-node gets libtensorflow. download = tfjs-node's own install (storage.googleapis.com); wheel = built against PyPI's tensorflow-cpu wheel, where that host is unreachable. The build fails if tfjs-node does not load; inferenceEngine wasm and onnxruntime build without it (LIBTENSORFLOW=none).",
  ),
  imageExtraCaCertificates: text(
    "",
    "A PEM file of extra CA certificates the image build trusts (npm, pip, tfjs-node's download behind a TLS-intercepting proxy), relative to the project root or absolute; passed as the EXTRA_CA_CERTS build arg to the build stages only. Empty: none.",
    "certs/proxy-ca.pem",
  ),
  imageExtraCaCertificatesInImage: flag(
    false,
    "EXTRA_CA_CERTS_IN_IMAGE build arg: the running server trusts imageExtraCaCertificates too (NODE_EXTRA_CA_CERTS), e.g. to fetch modelUrl through the same proxy. false: the build stages only.",
  ),
  registryUsername: text(
    "",
    "User for pushing to imageRegistry. Empty: use the local Docker credential store.",
    "ci-bot",
  ),
  registryPassword: text(
    "",
    "Password or token for registryUsername; set it with --secret.",
    "<token> --secret",
  ),
  // Model and server runtime.
  modelName: text("food11-mobilenetv2", "MODEL_NAME reported by the server.", "food11-mobilenetv2"),
  modelVersion: text("1", "MODEL_VERSION reported by the server.", "2"),
  modelUrl: text(
    "",
    "MODEL_URL: load the tfjs model over http(s) instead of the one baked into the image. Empty: /app/model in the image.",
    "https://models.example.com/food11/model.json",
  ),
  preprocess: choice(
    ["unit", "mobilenet"],
    "unit",
    "PREPROCESS: unit = pixels/255 (the original recipe), mobilenet = Keras MobileNetV2's [-1, 1].",
  ),
  inferenceEngine: choice(
    INFERENCE_ENGINES,
    "tensorflow",
    "What runs the model (stacks/engine.ts): tensorflow = tfjs-node, the mission's image; wasm = tfjs on WASM, the image without tfjs-node (LIBTENSORFLOW=none); onnxruntime = ONNX Runtime on the model's model.onnx, the image without tfjs (ENGINE=onnxruntime), TFJS_BACKEND=onnxruntime.",
  ),
  tfjsBackend: choice(
    ["auto", "tensorflow", "wasm"],
    "auto",
    "TFJS_BACKEND of the server on inferenceEngine tensorflow (auto: tfjs-node, WASM if it does not load); wasm is inferenceEngine wasm. Refused with another inferenceEngine.",
  ),
  logLevel: choice(
    ["fatal", "error", "warn", "info", "debug", "trace"],
    "info",
    "LOG_LEVEL of the server.",
  ),
  shutdownGraceSeconds: integer(
    D.shutdownGraceSeconds,
    1,
    600,
    `SHUTDOWN_GRACE_SECONDS: how long the server drains after SIGTERM; terminationGracePeriodSeconds is this plus ${D.terminationMarginSeconds}.`,
  ),
  shutdownDelaySeconds: integer(
    D.shutdownDelaySeconds,
    0,
    599,
    "SHUTDOWN_DELAY_SECONDS: after SIGTERM the server fails /readyz but keeps serving this long, so endpoints drop the pod first.",
  ),
  // Resources (the strategy knobs).
  cpuRequest: cpu(
    D.resources.requests.cpu,
    "requests.cpu of the container; the HPA's utilization is measured against it.",
  ),
  cpuLimit: cpu(
    D.resources.limits.cpu,
    "limits.cpu of the container; INFERENCE_THREADS = ceil(limits.cpu).",
  ),
  memoryRequest: bytes(D.resources.requests.memory, "requests.memory of the container."),
  memoryLimit: bytes(
    D.resources.limits.memory,
    "limits.memory of the container; the Node heap is half of it (NODE_OPTIONS=--max-old-space-size).",
  ),
  ephemeralStorageRequest: bytes(
    D.ephemeralStorage.request,
    "requests.ephemeral-storage of the container: its logs (the root filesystem is read-only) and the /tmp emptyDir; the scheduler places the pod on a node with this much local storage free.",
  ),
  ephemeralStorageLimit: bytes(
    D.ephemeralStorage.limit,
    `limits.ephemeral-storage of the container: kubelet evicts the pod when its logs plus /tmp (sizeLimit ${D.tmpSizeLimit}) use more.`,
  ),
  // Autoscaling.
  targetCpuUtilization: integer(
    D.autoscaling.targetCpuUtilization,
    1,
    100,
    "HPA target average CPU utilization, percent of requests.cpu.",
  ),
  minReplicas: integer(D.autoscaling.minReplicas, 1, 1000, "HPA minReplicas."),
  maxReplicas: integer(D.autoscaling.maxReplicas, 1, 1000, "HPA maxReplicas."),
  scaleUpStabilizationSeconds: window(
    D.autoscaling.scaleUpStabilizationSeconds,
    "HPA behavior.scaleUp.stabilizationWindowSeconds (Kubernetes default 0).",
  ),
  scaleDownStabilizationSeconds: window(
    D.autoscaling.scaleDownStabilizationSeconds,
    "HPA behavior.scaleDown.stabilizationWindowSeconds (Kubernetes default 300).",
  ),
  // Probes.
  readinessSuccessThreshold: threshold(
    P.readiness.successThreshold,
    "Readiness probe successThreshold: consecutive /readyz successes before a pod gets traffic.",
  ),
  readinessPeriodSeconds: period(P.readiness.periodSeconds, "Readiness probe periodSeconds."),
  readinessFailureThreshold: threshold(
    P.readiness.failureThreshold,
    "Readiness probe failureThreshold.",
  ),
  livenessPeriodSeconds: period(
    P.liveness.periodSeconds,
    "Liveness probe (/healthz) periodSeconds.",
  ),
  livenessFailureThreshold: threshold(
    P.liveness.failureThreshold,
    "Liveness probe failureThreshold.",
  ),
  startupPeriodSeconds: period(P.startup.periodSeconds, "Startup probe (/healthz) periodSeconds."),
  startupFailureThreshold: integer(
    P.startup.failureThreshold,
    1,
    1000,
    "Startup probe failureThreshold: the server gets period x threshold seconds to start.",
  ),
  probeTimeoutSeconds: integer(P.timeoutSeconds, 1, 60, "timeoutSeconds of all three probes."),
  // Route: an Ingress, or a Gateway API HTTPRoute.
  route: choice(
    ["ingress", "gateway"],
    "ingress",
    "How traffic reaches the Service: ingress = a networking.k8s.io/v1 Ingress (ingressClassName, nginx annotations); gateway = a Gateway API HTTPRoute attached to gatewayNamespace/gatewayName. ingressHost and ingressPath apply to both.",
  ),
  gatewayName: text(
    D.gateway.name,
    "Name of the Gateway the HTTPRoute attaches to (route gateway); ingressController traefik creates it.",
    "food11",
  ),
  gatewayNamespace: text(
    "",
    "Namespace of that Gateway. Empty: ingressControllerNamespace.",
    "traefik",
  ),
  gatewaySectionName: text(
    D.gateway.sectionName,
    "sectionName of the HTTPRoute's parentRef: the Gateway listener to attach to. Empty: every listener.",
    "web",
  ),
  // Ingress.
  ingressClassName: text(D.ingress.className, "ingressClassName of the Ingress.", "nginx"),
  ingressHost: text(
    "",
    "Host of the Ingress rule, e.g. food11.example.com. Empty: any host.",
    "food11.example.com",
  ),
  ingressPath: text(
    D.ingress.path,
    "Path prefix of the Ingress rule; a prefix other than / is stripped by ingress-nginx before the server sees it.",
    "/",
  ),
  ingressProxyBodySize: text(
    D.ingress.proxyBodySize,
    "ingress-nginx proxy-body-size: the largest upload nginx passes to /predict (the server's own BODY_LIMIT_BYTES default is 10 MiB).",
    "10m",
  ),
  // Namespace, availability, security.
  namespace: text(
    "",
    "Namespace of the workload. Empty: food11-<stack>, so stacks run side by side.",
    "food11-strategy1",
  ),
  createNamespace: flag(
    true,
    "Create the namespace (labelled pod-security.kubernetes.io/enforce=restricted); false to use an existing one.",
  ),
  pdbMaxUnavailable: integer(
    D.pdbMaxUnavailable,
    1,
    1000,
    "PodDisruptionBudget maxUnavailable for voluntary disruptions (node drains).",
  ),
  runAsUser: integer(
    D.runAsUser,
    1,
    2147483647,
    "Numeric non-root UID (and GID) the container runs as.",
  ),
  // Network policy.
  networkPolicy: flag(
    D.networkPolicy.enabled,
    "Create a NetworkPolicy for the pods: ingress only from ingressControllerNamespace and monitoringNamespace on port http, egress only DNS (and modelUrl's port when set). Needs a CNI that enforces NetworkPolicy; false: none.",
  ),
  monitoringNamespace: text(
    D.networkPolicy.monitoringNamespace,
    "Namespace of the Prometheus that scrapes /metrics: the NetworkPolicy admits its pods on port http. Empty: no monitoring namespace admitted.",
    "monitoring",
  ),
  // Ingress controller.
  ingressController: choice(
    ["none", "ingress-nginx", "traefik"],
    "none",
    "Install a controller with this stack: ingress-nginx (@pulumi/kubernetes-ingress-nginx; retired upstream in March 2026), or traefik (Traefik v3's Helm chart: its NGINX provider serves the Ingress, its Gateway API provider the HTTPRoute). none: the cluster has one.",
  ),
  installIngressController: flag(false, "Deprecated: true means ingressController ingress-nginx."),
  ingressControllerNamespace: text(
    D.ingressController.namespace,
    "Namespace of the ingress controller, installed with this stack or not: the NetworkPolicy admits its pods on port http.",
    "ingress-nginx",
  ),
  ingressControllerServiceType: choice(
    INGRESS_SERVICE_TYPES,
    D.ingressController.serviceType,
    "Service type of the installed ingress-nginx controller.",
  ),
  // Rendering.
  renderYamlToDirectory: text(
    "",
    "Render every Kubernetes object as YAML into this directory instead of applying it (no cluster, no image build). Empty: deploy.",
    "out/render/strategy1",
  ),
} as const;

/** The flat keys after defaults and coercion. */
export const flatConfigSchema = z.strictObject(configShape);

/** One `food11:*` key. */
export type ConfigKey = keyof typeof configShape;

/** The flat config after defaults and coercion. */
export type FlatConfig = z.output<typeof flatConfigSchema>;

/** Every key the program reads, in declaration order. */
export const CONFIG_KEYS = Object.keys(configShape) as ConfigKey[];

/**
 * The keys by topic, in the order docs/configuration.md's "Every key" tables list them (generated
 * by `npm run gen:config`, scripts/gen-config.ts). Every key is in exactly one group (a test
 * checks it).
 */
export const CONFIG_GROUPS: readonly { title: string; keys: readonly ConfigKey[] }[] = [
  {
    title: "Image",
    keys: [
      "imageRef",
      "imageRegistry",
      "imageRepository",
      "imageTag",
      "imageContext",
      "imageDockerfile",
      "imagePlatform",
      "imageModelDir",
      "imageBaseImage",
      "imageLibtensorflow",
      "imageExtraCaCertificates",
      "imageExtraCaCertificatesInImage",
      "registryUsername",
      "registryPassword",
    ],
  },
  {
    title: "Model and server",
    keys: [
      "modelName",
      "modelVersion",
      "modelUrl",
      "preprocess",
      "inferenceEngine",
      "tfjsBackend",
      "logLevel",
      "shutdownGraceSeconds",
      "shutdownDelaySeconds",
    ],
  },
  {
    title: "Resources (strategy knobs)",
    keys: [
      "cpuRequest",
      "cpuLimit",
      "memoryRequest",
      "memoryLimit",
      "ephemeralStorageRequest",
      "ephemeralStorageLimit",
    ],
  },
  {
    title: "Autoscaling (HorizontalPodAutoscaler, autoscaling/v2)",
    keys: [
      "targetCpuUtilization",
      "minReplicas",
      "maxReplicas",
      "scaleUpStabilizationSeconds",
      "scaleDownStabilizationSeconds",
    ],
  },
  {
    title: "Probes",
    keys: [
      "readinessSuccessThreshold",
      "readinessPeriodSeconds",
      "readinessFailureThreshold",
      "livenessPeriodSeconds",
      "livenessFailureThreshold",
      "startupPeriodSeconds",
      "startupFailureThreshold",
      "probeTimeoutSeconds",
    ],
  },
  {
    title: "Route (Ingress or Gateway API HTTPRoute)",
    keys: [
      "route",
      "gatewayName",
      "gatewayNamespace",
      "gatewaySectionName",
      "ingressClassName",
      "ingressHost",
      "ingressPath",
      "ingressProxyBodySize",
    ],
  },
  {
    title: "Namespace, availability, security",
    keys: [
      "namespace",
      "createNamespace",
      "pdbMaxUnavailable",
      "runAsUser",
      "networkPolicy",
      "monitoringNamespace",
    ],
  },
  {
    title: "Ingress controller (optional)",
    keys: [
      "ingressController",
      "installIngressController",
      "ingressControllerNamespace",
      "ingressControllerServiceType",
    ],
  },
  { title: "Rendering", keys: ["renderYamlToDirectory"] },
];
