/**
 * The stack configuration schema, the one source of every `food11:<key>` the program reads. Each
 * key carries on itself its type, default, description, validation (with the fix a message
 * names), its topic and where its value lands in the settings (stacks/keys.ts); the rules between
 * keys and the settings derived from several keys follow. The schema's output is
 * {@link StackSettings}, what the components take: `InferenceServiceArgs` picks its fields from it.
 * `Pulumi.yaml`'s config block and docs/configuration.md's key tables are generated from it
 * (`npm run gen:config`).
 *
 * Keys are flat scalars (`food11:cpuLimit`, `food11:targetCpuUtilization`, ...) because
 * `Pulumi.yaml` can only declare `string`, `integer`, `boolean` and `array` keys: flat keys let
 * `Pulumi.yaml` declare every one of them with its type, description and default, and
 * `pulumi config set food11:cpuLimit 3` needs no `--path`. `.to("<path>")` nests them.
 *
 * To add a key: declare it in its group below with its default, description and example, and
 * `.to("<path>")` if a component takes its value as it is (e.g. `pod.runAsUser` reaches
 * InferenceService, which picks `pod`); use it in the component; run `npm run gen:config`.
 *
 * Pure: no Pulumi runtime, so tools and tests can parse a stack file directly.
 */
import { z } from "zod";
import type { ArgViolation } from "../components/contract";
import { DEFAULTS as D, INGRESS_SERVICE_TYPES } from "../components/defaults";
import type { InferenceImageArgs } from "../components/InferenceImage";
import {
  CPU_TARGET_PERCENT,
  drainCutOff,
  exceedsLimit,
  isDnsLabel,
  isDnsSubdomain,
  isHostName,
  replicasOutOfOrder,
} from "../components/rules";
import {
  bytes,
  choice,
  cpu,
  fill,
  flag,
  group,
  integer,
  keyName,
  merge,
  must,
  optional,
  placed,
  reasonFor,
  rm,
  set,
  text,
} from "./keys";

const P = D.probes;

/** The parts of an image reference: `registry/path/name[:tag][@sha256:<64 hex>]`. */
const HOST = String.raw`[a-zA-Z0-9.-]+(?::\d+)?`;
/** A path component, lower-case as Docker wants. */
const COMPONENT = "[a-z0-9]+(?:[._-][a-z0-9]+)*";
const PATH = `${COMPONENT}(?:/${COMPONENT})*`;
const TAG_TEXT = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = "@sha256:[a-f0-9]{64}";
const whole = (pattern: string) => new RegExp(`^${pattern}$`);
const IMAGE_REF = whole(`(?:${HOST}/)?${PATH}(?::${TAG_TEXT})?(?:${DIGEST})?`);
const PINNED = new RegExp(`${DIGEST}$`);
const REGISTRY = whole(`${HOST}(?:/${COMPONENT})*`);
const REPOSITORY = whole(PATH);
const TAG = whole(TAG_TEXT);
/** A reference's `:tag` at its end (a digest-less reference's). */
const TAG_SUFFIX = new RegExp(`:${TAG_TEXT}$`);
const PLATFORM = /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/;
const RELATIVE_PATH = /^(?!\/)(?!.*\.\.)[\w./-]+$/;
const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const NGINX_SIZE = /^\d+[kKmMgG]?$/;
/** The extension of a model file model:import reads: Keras 3 (.keras), legacy HDF5 (.h5), ONNX. */
export const MODEL_FILE_EXTENSION = /\.(keras|h5|hdf5|onnx)$/i;
/**
 * What model:import reads: a Keras 3 (.keras), legacy HDF5 (.h5) or ONNX file, or a SavedModel
 * directory (a last path component without a dot).
 */
const isModelSource = (v: string) => MODEL_FILE_EXTENSION.test(v) || /(^|\/)[^./]+\/?$/.test(v);
const isHttpUrl = (v: string) => /^https?:\/\/\S+$/.test(v) && URL.canParse(v);
const NOT_A_LABEL = "is not a DNS label (lower-case letters, digits, '-', at most 63)";

/**
 * Every `food11:*` key, by topic (docs/configuration.md lists them so, Pulumi.yaml in this order).
 * Defaults are the report's previous recipe (the baseline) where the report names a value, and
 * this project's choices elsewhere (see docs/configuration.md).
 */
/** What food11:inferenceEngine may say (the tools that take an engine read it from here). */
export const INFERENCE_ENGINES = ["tensorflow", "onnxruntime", "wasm"] as const;

export const configShape = {
  // Image: build app/ and push it, or deploy a prebuilt reference (derived: StackSettings.image).
  ...group("Image", {
    imageRef: optional(
      "",
      "Prebuilt image to deploy; it wins over a configured build. registry/repo@sha256:<digest> preferred, a tag is accepted with a warning. Empty: build.",
      "registry.example.com/food11-classifier@sha256:<digest>",
      must(IMAGE_REF, "is not an image reference", {
        example: "registry.example.com/food11-classifier@sha256:<64 hex digits>",
      }),
    ),
    imageRegistry: optional(
      "",
      "Registry server (and optional path prefix) the built image is pushed to, e.g. localhost:5001 or ghcr.io/acme. Empty: Docker Hub.",
      "localhost:5001",
      must(REGISTRY, "is not a registry (host[:port][/path])"),
    ),
    imageRepository: optional(
      "",
      "Repository of the built image, e.g. food11-classifier. Setting it builds app/ with app/Dockerfile and pushes it.",
      "food11-classifier",
      must(REPOSITORY, "is not a Docker repository name (lower-case, e.g. food11-classifier)"),
    ),
    imageTag: text(
      D.image.tag,
      "Tag pushed with the built image; the Deployment still pins the pushed digest.",
      "0.2.0",
      must(TAG, "is not a Docker tag", { example: "0.1.0" }),
    ),
    imageContext: text(
      D.image.context,
      "Docker build context, relative to the project root.",
      "app",
    ),
    imageDockerfile: text(
      D.image.dockerfile,
      "Dockerfile, relative to the project root.",
      "app/Dockerfile",
    ),
    imagePlatform: text(
      D.image.platform,
      "Target platform of the image build.",
      "linux/amd64",
      must(PLATFORM, "is not a platform (os/arch)"),
    ),
    imageModelDir: optional(
      "",
      "MODEL_DIR build arg: a tfjs model directory inside the build context (e.g. models/food11) to bake into the image. Empty: the seeded demo model.",
      "models/food11",
      must(RELATIVE_PATH, "must be a relative path inside the build context"),
    ),
    imageBaseImage: optional(
      "",
      "NODE_IMAGE build arg: the Node base image, e.g. node:24-slim@sha256:<digest> to pin it. Empty: the Dockerfile's node:24-slim.",
      "node:24-slim@sha256:<digest>",
      must(IMAGE_REF, "is not an image reference"),
    ),
    imageLibtensorflow: choice(
      ["download", "wheel"],
      "download",
      "LIBTENSORFLOW build arg: where the image's tfjs-node gets libtensorflow. download = tfjs-node's own install (storage.googleapis.com); wheel = built against PyPI's tensorflow-cpu wheel, where that host is unreachable. The build fails if tfjs-node does not load; inferenceEngine wasm and onnxruntime build without it (LIBTENSORFLOW=none).",
    ),
    imageExtraCaCertificates: optional(
      "",
      "A PEM file of extra CA certificates the image build trusts (npm, pip, tfjs-node's download behind a TLS-intercepting proxy), relative to the project root or absolute; passed as the EXTRA_CA_CERTS build arg to the build stages only. Empty: none.",
      "certs/proxy-ca.pem",
    ),
    imageExtraCaCertificatesInImage: flag(
      false,
      "EXTRA_CA_CERTS_IN_IMAGE build arg: the running server trusts imageExtraCaCertificates too (NODE_EXTRA_CA_CERTS), e.g. to fetch modelUrl through the same proxy. false: the build stages only.",
    ),
    registryUsername: optional(
      "",
      "User for pushing to imageRegistry. Empty: use the local Docker credential store.",
      "ci-bot",
    ),
    registryPassword: optional(
      "",
      "Password or token for registryUsername; set it with --secret.",
      "<token> --secret",
    ),
  }),
  ...group("Model and server", {
    modelName: text(
      "food11-mobilenetv2",
      "MODEL_NAME reported by the server.",
      "food11-mobilenetv2",
    ).to("model.name"),
    modelVersion: text("1", "MODEL_VERSION reported by the server.", "2").to("model.version"),
    modelUrl: optional(
      "",
      "MODEL_URL: load the tfjs model over http(s) instead of the one baked into the image. Empty: /app/model in the image.",
      "https://models.example.com/food11/model.json",
      must(isHttpUrl, "must be an http(s) URL"),
    ).to("model.url"),
    modelSource: optional(
      "",
      "A trained model to import and bake into the image: a Keras 3 .keras, a legacy .h5, a SavedModel directory or an .onnx file, relative to the project root or absolute. pulumi up runs npm run model:import on it (same verification) before the build; a changed file is a new image. Empty: imageModelDir or the demo model.",
      "models/best.keras",
      must(isModelSource, "is not a .keras, .h5 or .onnx file or a SavedModel directory"),
    ).to("model.source"),
    modelLabels: optional(
      "",
      "labels.txt for modelSource (one label per line, in output order), relative to the project root or absolute. Empty: Food-11's 11 classes for an 11-output model.",
      "models/labels.txt",
    ).to("model.labels"),
    preprocess: choice(
      ["auto", "raw", "unit", "mobilenet"],
      "auto",
      "PREPROCESS: auto = what the model's manifest.json records (the demo model: unit); raw = pixels 0..255 (the model rescales itself), unit = pixels/255 (the original recipe), mobilenet = Keras MobileNetV2's [-1, 1]. Given with modelSource, the import checks it against the model.",
    ).to("model.preprocess"),
    // With tfjsBackend, the image's engine build args and TFJS_BACKEND (derived: engineOf).
    inferenceEngine: choice(
      INFERENCE_ENGINES,
      "tensorflow",
      "What runs the model: tensorflow = tfjs-node, the mission's image; wasm = tfjs on WASM, the image without tfjs-node (LIBTENSORFLOW=none); onnxruntime = ONNX Runtime on the model directory's ONNX format (manifest.json formats.onnx), the image without tfjs (ENGINE=onnxruntime), TFJS_BACKEND=onnxruntime.",
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
    ).to("server.logLevel"),
    shutdownGraceSeconds: integer(
      D.shutdownGraceSeconds,
      1,
      600,
      `SHUTDOWN_GRACE_SECONDS: how long the server drains after SIGTERM; terminationGracePeriodSeconds is this plus ${D.terminationMarginSeconds}.`,
    ).to("server.shutdownGraceSeconds"),
    shutdownDelaySeconds: integer(
      D.shutdownDelaySeconds,
      0,
      599,
      "SHUTDOWN_DELAY_SECONDS: after SIGTERM the server fails /readyz but keeps serving this long, so endpoints drop the pod first.",
    ).to("server.shutdownDelaySeconds"),
    uploadPage: flag(
      D.uploadPage,
      "UPLOAD_PAGE: serve the demo upload page at GET / (and route /); false: the API alone (POST /predict, GET /test), as a production stack serves.",
    ).to("server.uploadPage"),
  }),
  ...group("Resources (strategy knobs)", {
    cpuRequest: cpu(
      D.resources.requests.cpu,
      "requests.cpu of the container; the HPA's utilization is measured against it.",
    ).to("resources.requests.cpu"),
    cpuLimit: cpu(
      D.resources.limits.cpu,
      "limits.cpu of the container; INFERENCE_THREADS = ceil(limits.cpu).",
    ).to("resources.limits.cpu"),
    memoryRequest: bytes(D.resources.requests.memory, "requests.memory of the container.").to(
      "resources.requests.memory",
    ),
    memoryLimit: bytes(
      D.resources.limits.memory,
      "limits.memory of the container; the Node heap is half of it (NODE_OPTIONS=--max-old-space-size).",
    ).to("resources.limits.memory"),
    ephemeralStorageRequest: bytes(
      D.ephemeralStorage.request,
      "requests.ephemeral-storage of the container: its logs (the root filesystem is read-only) and the /tmp emptyDir; the scheduler places the pod on a node with this much local storage free.",
    ).to("resources.requests.ephemeralStorage"),
    ephemeralStorageLimit: bytes(
      D.ephemeralStorage.limit,
      `limits.ephemeral-storage of the container: kubelet evicts the pod when its logs plus /tmp (sizeLimit ${D.tmpSizeLimit}) use more.`,
    ).to("resources.limits.ephemeralStorage"),
  }),
  ...group("Autoscaling (HorizontalPodAutoscaler, autoscaling/v2)", {
    targetCpuUtilization: integer(
      D.autoscaling.targetCpuUtilization,
      CPU_TARGET_PERCENT.min,
      CPU_TARGET_PERCENT.max,
      "HPA target average CPU utilization, percent of requests.cpu.",
    ).to("autoscaling.targetCpuUtilization"),
    minReplicas: integer(D.autoscaling.minReplicas, 1, 1000, "HPA minReplicas.").to(
      "autoscaling.minReplicas",
    ),
    maxReplicas: integer(D.autoscaling.maxReplicas, 1, 1000, "HPA maxReplicas.").to(
      "autoscaling.maxReplicas",
    ),
    // stabilizationWindowSeconds: Kubernetes takes 0 to an hour.
    scaleUpStabilizationSeconds: integer(
      D.autoscaling.scaleUpStabilizationSeconds,
      0,
      3600,
      "HPA behavior.scaleUp.stabilizationWindowSeconds (Kubernetes default 0).",
    ).to("autoscaling.scaleUpStabilizationSeconds"),
    scaleDownStabilizationSeconds: integer(
      D.autoscaling.scaleDownStabilizationSeconds,
      0,
      3600,
      "HPA behavior.scaleDown.stabilizationWindowSeconds (Kubernetes default 300).",
    ).to("autoscaling.scaleDownStabilizationSeconds"),
  }),
  // Probe periods 1 s to an hour, thresholds 1 to 100.
  ...group("Probes", {
    readinessSuccessThreshold: integer(
      P.readiness.successThreshold,
      1,
      100,
      "Readiness probe successThreshold: consecutive /readyz successes before a pod gets traffic.",
    ).to("probes.readiness.successThreshold"),
    readinessPeriodSeconds: integer(
      P.readiness.periodSeconds,
      1,
      3600,
      "Readiness probe periodSeconds.",
    ).to("probes.readiness.periodSeconds"),
    readinessFailureThreshold: integer(
      P.readiness.failureThreshold,
      1,
      100,
      "Readiness probe failureThreshold.",
    ).to("probes.readiness.failureThreshold"),
    livenessPeriodSeconds: integer(
      P.liveness.periodSeconds,
      1,
      3600,
      "Liveness probe (/healthz) periodSeconds.",
    ).to("probes.liveness.periodSeconds"),
    livenessFailureThreshold: integer(
      P.liveness.failureThreshold,
      1,
      100,
      "Liveness probe failureThreshold.",
    ).to("probes.liveness.failureThreshold"),
    startupPeriodSeconds: integer(
      P.startup.periodSeconds,
      1,
      3600,
      "Startup probe (/healthz) periodSeconds.",
    ).to("probes.startup.periodSeconds"),
    startupFailureThreshold: integer(
      P.startup.failureThreshold,
      1,
      1000,
      "Startup probe failureThreshold: the server gets period x threshold seconds to start.",
    ).to("probes.startup.failureThreshold"),
    probeTimeoutSeconds: integer(P.timeoutSeconds, 1, 60, "timeoutSeconds of all three probes.").to(
      "probes.timeoutSeconds",
    ),
  }),
  // An Ingress, or a Gateway API HTTPRoute (derived: StackSettings.route).
  ...group("Route (Ingress or Gateway API HTTPRoute)", {
    route: choice(
      ["ingress", "gateway"],
      "ingress",
      "How traffic reaches the Service: ingress = a networking.k8s.io/v1 Ingress (ingressClassName, nginx annotations); gateway = a Gateway API HTTPRoute attached to gatewayNamespace/gatewayName. ingressHost and ingressPath apply to both.",
    ),
    gatewayName: text(
      D.gateway.name,
      "Name of the Gateway the HTTPRoute attaches to (route gateway); ingressController traefik creates it.",
      "food11",
      must(isDnsLabel, (v) => `${JSON.stringify(v)} ${NOT_A_LABEL}`),
    ),
    gatewayNamespace: optional(
      "",
      "Namespace of that Gateway. Empty: ingressControllerNamespace.",
      "traefik",
      must(isDnsLabel, (v) => `${JSON.stringify(v)} ${NOT_A_LABEL}`),
    ),
    gatewaySectionName: optional(
      D.gateway.sectionName,
      "sectionName of the HTTPRoute's parentRef: the Gateway listener to attach to. Empty: every listener.",
      "web",
      must(isDnsLabel, "is not a listener name (a DNS label)", {
        or: `${set('""')} for every listener`,
      }),
    ),
    ingressClassName: text(
      D.ingress.className,
      "ingressClassName of the Ingress.",
      "nginx",
      must(isDnsSubdomain, "is not an IngressClass name"),
    ).to("ingress.className"),
    ingressHost: optional(
      "",
      "Host of the Ingress rule, e.g. food11.example.com. Empty: any host.",
      "food11.example.com",
      must(isHostName, "is not a host name", { or: `${rm()} for any host` }),
    ).to("ingress.host"),
    ingressPath: text(
      D.ingress.path,
      "Path prefix of the Ingress rule; a prefix other than / is stripped by ingress-nginx before the server sees it.",
      "/",
      must(URL_PATH, "must be a URL path starting with /"),
    ).to("ingress.path"),
    ingressProxyBodySize: text(
      D.ingress.proxyBodySize,
      "ingress-nginx proxy-body-size: the largest upload nginx passes to /predict (the server's own BODY_LIMIT_BYTES default is 10 MiB).",
      "10m",
      must(NGINX_SIZE, "is not an nginx size (e.g. 10m)"),
    ).to("ingress.proxyBodySize"),
  }),
  ...group("Namespace, availability, security", {
    namespace: optional(
      "",
      "Namespace of the workload. Empty: food11-<stack>, so stacks run side by side.",
      "food11-strategy1",
      must(isDnsLabel, (v) => `namespace ${JSON.stringify(v)} ${NOT_A_LABEL}`),
    ),
    createNamespace: flag(
      true,
      "Create the namespace (labelled pod-security.kubernetes.io/enforce=restricted); false to use an existing one.",
    ).to("namespace.create"),
    pdbMaxUnavailable: integer(
      D.pdbMaxUnavailable,
      1,
      1000,
      "PodDisruptionBudget maxUnavailable for voluntary disruptions (node drains).",
    ).to("availability.pdbMaxUnavailable"),
    runAsUser: integer(
      D.runAsUser,
      1,
      2147483647,
      "Numeric non-root UID (and GID) the container runs as.",
    ).to("pod.runAsUser"),
    priorityClassName: optional(
      "",
      "spec.priorityClassName of the pods: a PriorityClass of the cluster, whose value the scheduler ranks them by (and may preempt lower ones for). Empty: none (the cluster's default priority).",
      "high-priority",
      must(isDnsSubdomain, "is not a PriorityClass name (a DNS subdomain)", {
        or: `${rm()} for none`,
      }),
    ).to("pod.priorityClassName"),
    // The NetworkPolicy (derived: StackSettings.networkPolicy).
    networkPolicy: flag(
      D.networkPolicy.enabled,
      "Create a NetworkPolicy for the pods: ingress only from ingressControllerNamespace on the API port (http) and from monitoringNamespace on the admin port (admin: /metrics, /healthz, /readyz), egress only DNS (and modelUrl's port when set). Needs a CNI that enforces NetworkPolicy; false: none.",
    ),
  }),
  // How Prometheus finds the admin port's /metrics, and the Grafana dashboard.
  ...group("Monitoring (Prometheus, Grafana)", {
    monitoring: choice(
      ["none", "annotations", "servicemonitor"],
      D.monitoring.scrape,
      "How Prometheus finds /metrics on the admin port: annotations = prometheus.io/scrape, port, path on the pods (Prometheus' kubernetes-pods job); servicemonitor = a monitoring.coreos.com/v1 ServiceMonitor selecting the Service's cluster-internal metrics port (needs the Prometheus Operator's CRD: preview fails at once without it); none: neither.",
    ).to("monitoring.scrape"),
    // Feeds the NetworkPolicy (derived: StackSettings.networkPolicy).
    monitoringNamespace: optional(
      D.networkPolicy.monitoringNamespace,
      "Namespace of the Prometheus that scrapes /metrics: the NetworkPolicy admits its pods on the admin port. Empty: no monitoring namespace admitted.",
      "monitoring",
      must(isDnsLabel, NOT_A_LABEL, { or: `${set('""')} to admit none` }),
    ),
    grafanaDashboard: flag(
      D.monitoring.grafanaDashboard,
      "A ConfigMap labelled grafana_dashboard=1 with the stack's Grafana dashboard (request rate, p50/p95 by route, queue depth, inference time per stage, replicas, CPU and memory against requests and limits), for the Grafana sidecar to load.",
    ).to("monitoring.grafanaDashboard"),
  }),
  ...group("Ingress controller (optional)", {
    ingressController: choice(
      ["none", "ingress-nginx", "traefik"],
      "none",
      "Install a controller with this stack: ingress-nginx (@pulumi/kubernetes-ingress-nginx; retired upstream in March 2026), or traefik (Traefik v3's Helm chart: its NGINX provider serves the Ingress, its Gateway API provider the HTTPRoute). none: the cluster has one.",
    ),
    installIngressController: flag(
      false,
      "Deprecated: true means ingressController ingress-nginx.",
    ),
    ingressControllerNamespace: text(
      D.ingressController.namespace,
      "Namespace of the ingress controller, installed with this stack or not: the NetworkPolicy admits its pods on port http.",
      "ingress-nginx",
      must(isDnsLabel, NOT_A_LABEL),
    ).to("ingressController.namespace"),
    ingressControllerServiceType: choice(
      INGRESS_SERVICE_TYPES,
      D.ingressController.serviceType,
      "Service type of the installed ingress-nginx controller.",
    ).to("ingressController.serviceType"),
  }),
  ...group("Rendering", {
    renderYamlToDirectory: optional(
      "",
      "Render every Kubernetes object as YAML into this directory instead of applying it (no cluster, no image build). Empty: deploy.",
      "out/render/strategy1",
    ).to("renderYamlToDirectory"),
  }),
};

/** One `food11:*` key. */
export type ConfigKey = keyof typeof configShape;

/** Every key the program reads, in declaration order. */
export const CONFIG_KEYS = Object.keys(configShape) as ConfigKey[];

/** The flat keys: each key's own type, default and checks. */
export const flatConfigSchema = z.strictObject(
  Object.fromEntries(CONFIG_KEYS.map((k) => [k, configShape[k].schema])) as {
    [K in ConfigKey]: (typeof configShape)[K]["schema"];
  },
);

/** The flat config after defaults and coercion (an unset text is undefined). */
export type FlatConfig = z.output<typeof flatConfigSchema>;

/** The namespace of a stack that sets no food11:namespace: food11-<stack>, so stacks run side by side. */
function defaultNamespace(stack: string): string {
  return `food11-${stack}`;
}

/** The ingress controller the stack installs (installIngressController means ingress-nginx). */
function controllerOf(c: FlatConfig): FlatConfig["ingressController"] {
  const deprecated = c.installIngressController && c.ingressController !== "traefik";
  return deprecated ? "ingress-nginx" : c.ingressController;
}

/** What each placed key's value is in the settings, by its path (`resources.limits.cpu`). */
type PlacedValues = {
  [K in ConfigKey as (typeof configShape)[K]["at"]]: z.output<(typeof configShape)[K]["value"]>;
};

/** A path in the settings where a key's value lands (`.to()`). */
type SettingsPath = Exclude<keyof PlacedValues, "">;

const KEY_AT = new Map(CONFIG_KEYS.map((k) => [configShape[k].at as string, k]));

/** The key whose value lands at `path` in the settings. */
function keyAt(path: SettingsPath): ConfigKey {
  return KEY_AT.get(path) as ConfigKey;
}

/**
 * A rule between settings, written once on their paths: the stack schema reports it on the key
 * of `paths[0]` (with the fix), a component's contract on `paths[0]` as its `propertyPath`.
 */
interface SettingsRule {
  /** The settings it reads; the first is what it reports on. */
  paths: readonly [SettingsPath, ...SettingsPath[]];
  /** The message, with its fix (stacks/keys.ts' placeholders), when the values break it. */
  problem: (values: unknown[]) => string | undefined;
}

function rule<const P extends readonly [SettingsPath, ...SettingsPath[]]>(
  paths: P,
  problem: (
    ...values: { -readonly [I in keyof P]: PlacedValues[P[I] & SettingsPath] }
  ) => string | undefined,
): SettingsRule {
  return { paths, problem: (values) => problem(...(values as never)) };
}

/** The rules between settings (each predicate is components/rules.ts'): order, limits, drain. */
const SETTINGS_RULES: readonly SettingsRule[] = [
  ...(
    [
      ["cpu", "cpu"],
      ["memory", "memory"],
      ["ephemeralStorage", "ephemeral-storage"],
    ] as const
  ).map(([field, kind]) => {
    const limitAt = `resources.limits.${field}` as const;
    return rule([`resources.requests.${field}`, limitAt], (request, limit) =>
      exceedsLimit(request, limit)
        ? `requests.${kind} ${request} is above limits.${kind} ${limit}. Fix: ${set(limit)} (or raise ${keyName(keyAt(limitAt))})`
        : undefined,
    );
  }),
  rule(["server.shutdownDelaySeconds", "server.shutdownGraceSeconds"], (delay, grace) =>
    drainCutOff(delay, grace)
      ? `shutdownDelaySeconds ${delay} is not below shutdownGraceSeconds ${grace}, so the server would be cut off before it drains. Fix: ${set(String(Math.max(0, grace - 1)))} (or raise ${keyName(keyAt("server.shutdownGraceSeconds"))})`
      : undefined,
  ),
  rule(["autoscaling.minReplicas", "autoscaling.maxReplicas"], (min, max) =>
    replicasOutOfOrder(min, max)
      ? `minReplicas ${min} is above maxReplicas ${max}. Fix: ${set(String(max))} (or raise ${keyName(keyAt("autoscaling.maxReplicas"))})`
      : undefined,
  ),
];

/**
 * Why `value` is not a valid value of `key` (its own validation, without coercion or default),
 * worded for a component's contract: the value, then what is wrong. Undefined when it is valid.
 */
export function keyViolation(key: ConfigKey, value: unknown): string | undefined {
  const result = configShape[key].value.safeParse(value);
  const message = result.error?.issues[0]?.message;
  return message === undefined ? undefined : reasonFor(value, message);
}

const valueAt = (tree: unknown, path: string) =>
  path.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown>)?.[part], tree);

/**
 * The settings part of a component's contract: every setting under `fields` (dotted paths into
 * the settings, e.g. `resources` or `server.uploadPage`) in `args` checked by its key's own
 * validation, then each rule between settings whose values are all under `fields` and valid.
 * Each violation names its settings path and the bad value; none: `[]`.
 */
export function settingsViolations(args: unknown, fields: readonly string[]): ArgViolation[] {
  const under = (at: string) => fields.some((f) => at === f || at.startsWith(`${f}.`));
  const violations: ArgViolation[] = [];
  for (const key of CONFIG_KEYS) {
    const at = configShape[key].at;
    const reason = at !== "" && under(at) ? keyViolation(key, valueAt(args, at)) : undefined;
    if (reason !== undefined) violations.push({ propertyPath: at, reason });
  }
  const invalid = new Set(violations.map((v) => v.propertyPath));
  for (const { paths, problem } of SETTINGS_RULES) {
    if (!paths.every((at) => under(at) && !invalid.has(at))) continue;
    const message = problem(paths.map((at) => valueAt(args, at)));
    const reason = message && reasonFor(valueAt(args, paths[0]), message);
    if (reason) violations.push({ propertyPath: paths[0], reason });
  }
  return violations;
}

/** The rules between keys; each problem is on one key, with a fix. */
function crossKeyRules(stack: string, c: FlatConfig, problem: (k: ConfigKey, m: string) => void) {
  for (const { paths, problem: broken } of SETTINGS_RULES) {
    const message = broken(paths.map((at) => c[keyAt(at)]));
    if (message !== undefined) problem(keyAt(paths[0]), message);
  }

  // food11:modelSource: the model baked in, so no other model, and an image that is built.
  if (c.modelSource !== undefined) {
    const other =
      c.imageRef !== undefined
        ? (["imageRef", "a prebuilt image, so nothing is built to bake the model into"] as const)
        : c.imageModelDir !== undefined
          ? (["imageModelDir", "another model to bake in"] as const)
          : c.modelUrl !== undefined
            ? (["modelUrl", "a model fetched at start instead of the image's"] as const)
            : undefined;
    if (other) {
      problem(
        "modelSource",
        `a model to import and ${keyName(other[0])} (${other[1]}) are both set. Fix: ${rm(other[0])} (or ${rm()})`,
      );
    }
  } else if (c.modelLabels !== undefined) {
    problem(
      "modelLabels",
      `labels for ${keyName("modelSource")}, which is not set. Fix: ${set("models/best.keras", "modelSource")} (or ${rm()})`,
    );
  }

  // food11:inferenceEngine: tfjsBackend chooses tfjs' backend on the tensorflow engine only.
  if (c.inferenceEngine === "onnxruntime" && c.tfjsBackend !== "auto") {
    problem(
      "tfjsBackend",
      `tfjsBackend ${c.tfjsBackend} chooses a tfjs backend, but ${keyName("inferenceEngine")} onnxruntime runs no tfjs. Fix: ${rm()} (or ${set(c.tfjsBackend, "inferenceEngine")})`,
    );
  }
  if (c.inferenceEngine === "wasm" && c.tfjsBackend === "tensorflow") {
    problem(
      "tfjsBackend",
      `tfjsBackend tensorflow asks for tfjs-node, but ${keyName("inferenceEngine")} wasm builds the image without it. Fix: ${rm()} (or ${set("tensorflow", "inferenceEngine")})`,
    );
  }

  // The image: a prebuilt reference wins over a configured build (so that
  // `pulumi config set food11:imageRef ...` on a committed stack deploys it), else a build.
  if (c.imageRef === undefined && c.imageRepository === undefined) {
    problem(
      "imageRepository",
      `no image source: neither an image to build nor a prebuilt image is configured. Fix: ${set("food11-classifier")} (builds app/ and pushes to ${keyName("imageRegistry")}) or ${set("<registry>/<repo>@sha256:<digest>", "imageRef")}`,
    );
  } else if (c.imageRef === undefined) {
    if (c.imageModelDir !== undefined && c.modelUrl !== undefined) {
      problem(
        "imageModelDir",
        `a model to bake in and ${keyName("modelUrl")} (a model fetched at start) are both set. Fix: ${rm()} (or ${rm("modelUrl")})`,
      );
    }
    if (c.imageExtraCaCertificatesInImage && c.imageExtraCaCertificates === undefined) {
      problem(
        "imageExtraCaCertificatesInImage",
        `is true but ${keyName("imageExtraCaCertificates")} names no file. Fix: ${set("certs/proxy-ca.pem", "imageExtraCaCertificates")} (or ${rm()})`,
      );
    }
    if ((c.registryUsername === undefined) !== (c.registryPassword === undefined)) {
      const user = c.registryUsername === undefined;
      problem(
        user ? "registryUsername" : "registryPassword",
        `registry credentials need both ${keyName("registryUsername")} and ${keyName("registryPassword")}. Fix: ${set(user ? "<user>" : "<token> --secret")}`,
      );
    }
  }

  const namespace = defaultNamespace(stack);
  if (c.namespace === undefined && !isDnsLabel(namespace)) {
    problem(
      "namespace",
      `namespace ${JSON.stringify(namespace)} ${NOT_A_LABEL}. Fix: ${set("food11-strategy1")}`,
    );
  }

  // The controller: ingressController, or the deprecated installIngressController.
  const controller = controllerOf(c);
  if (c.installIngressController && c.ingressController === "traefik") {
    problem(
      "installIngressController",
      `asks for ingress-nginx while ${keyName("ingressController")} is traefik. Fix: ${rm()}`,
    );
  }
  if (controller !== "none" && c.renderYamlToDirectory !== undefined) {
    const deprecated = c.installIngressController;
    problem(
      deprecated ? "installIngressController" : "ingressController",
      `the ${controller} controller is a Helm release, which cannot be rendered to YAML. Fix: ${set(deprecated ? "false" : "none")} (or ${rm("renderYamlToDirectory")})`,
    );
  }
  if (c.route === "gateway" && controller === "ingress-nginx") {
    problem(
      "route",
      `gateway: ingress-nginx does not implement the Gateway API. Fix: ${set("traefik", "ingressController")} (or ${set("ingress")})`,
    );
  }
  if (
    controller === "traefik" &&
    c.route === "gateway" &&
    c.gatewayNamespace !== undefined &&
    c.gatewayNamespace !== c.ingressControllerNamespace
  ) {
    problem(
      "gatewayNamespace",
      `${c.gatewayNamespace}: ingressController traefik creates the Gateway in ingressControllerNamespace ${c.ingressControllerNamespace}. Fix: ${rm()}`,
    );
  }
}

/**
 * What food11:inferenceEngine selects: the server's TFJS_BACKEND and the image's engine build args.
 * tfjsBackend, the older key, still chooses tfjs' backend on the tensorflow engine, and its `wasm`
 * is the wasm engine (crossKeyRules refuses it against another engine).
 *
 * | inferenceEngine      | image (app/Dockerfile build args)               | TFJS_BACKEND       |
 * |----------------------|-------------------------------------------------|--------------------|
 * | tensorflow (default) | LIBTENSORFLOW = imageLibtensorflow (tfjs-node)  | tfjsBackend (auto) |
 * | wasm                 | LIBTENSORFLOW=none (tfjs, no tfjs-node)         | wasm               |
 * | onnxruntime          | ENGINE=onnxruntime LIBTENSORFLOW=none (no tfjs) | onnxruntime        |
 */
function engineOf(c: FlatConfig): {
  backend: FlatConfig["tfjsBackend"] | "onnxruntime";
  buildArgs: { LIBTENSORFLOW: string; ENGINE?: "onnxruntime" };
} {
  if (c.inferenceEngine === "onnxruntime") {
    return { backend: "onnxruntime", buildArgs: { LIBTENSORFLOW: "none", ENGINE: "onnxruntime" } };
  }
  if (c.inferenceEngine === "wasm" || c.tfjsBackend === "wasm") {
    return { backend: "wasm", buildArgs: { LIBTENSORFLOW: "none" } };
  }
  return { backend: c.tfjsBackend, buildArgs: { LIBTENSORFLOW: c.imageLibtensorflow } };
}

/**
 * The image, as InferenceImage takes it (its args document each field): a prebuilt reference (a
 * warning unless pinned by digest), or a build, with the CA file withExtraCaCertificates reads.
 */
function imageOf(c: FlatConfig, warnings: string[]) {
  if (c.imageRef !== undefined) {
    if (!PINNED.test(c.imageRef)) {
      const pinned = `${c.imageRef.replace(TAG_SUFFIX, "")}@sha256:<digest>`;
      warnings.push(
        `${keyName("imageRef")} ${JSON.stringify(c.imageRef)} is not pinned by digest: a moved tag changes what runs without a diff. Pin it: ${set(pinned, "imageRef")}`,
      );
    }
    return { ref: c.imageRef } satisfies InferenceImageArgs;
  }
  // The rules made sure that a build is configured.
  const repository = c.imageRepository ?? "";
  const registry = c.imageRegistry;
  return {
    build: {
      imageName: `${registry === undefined ? repository : `${registry}/${repository}`}:${c.imageTag}`,
      registryServer: registry?.split("/")[0] ?? "",
      context: c.imageContext,
      dockerfile: c.imageDockerfile,
      platform: c.imagePlatform,
      // EXTRA_CA_CERTS once withExtraCaCertificates (stacks/settings.ts) has read the file.
      args: {
        ...(c.imageModelDir !== undefined ? { MODEL_DIR: c.imageModelDir } : {}),
        ...(c.modelUrl !== undefined ? { MODEL_URL: c.modelUrl } : {}),
        ...(c.imageBaseImage !== undefined ? { NODE_IMAGE: c.imageBaseImage } : {}),
        ...engineOf(c).buildArgs,
        ...(c.imageExtraCaCertificatesInImage ? { EXTRA_CA_CERTS_IN_IMAGE: "true" } : {}),
      } as Record<string, string>,
      ...(c.registryUsername !== undefined && c.registryPassword !== undefined
        ? { username: c.registryUsername, password: c.registryPassword }
        : {}),
    },
    ...(c.imageExtraCaCertificates !== undefined
      ? { extraCaCertificatesFile: c.imageExtraCaCertificates }
      : {}),
    // Rendering YAML builds nothing: the Deployment names the tag `pulumi up` would push.
    skipBuild: c.renderYamlToDirectory !== undefined,
  } satisfies InferenceImageArgs;
}

/** The route: the Ingress, or an HTTPRoute attached to a Gateway (sectionName when set). */
function routeOf(c: FlatConfig) {
  if (c.route === "ingress") return { kind: "ingress" as const };
  const gateway = {
    name: c.gatewayName,
    namespace: c.gatewayNamespace ?? c.ingressControllerNamespace,
    ...(c.gatewaySectionName !== undefined ? { sectionName: c.gatewaySectionName } : {}),
  };
  return { kind: "gateway" as const, gateway };
}

/**
 * The NetworkPolicy's peers and ports: the ingress controller's namespace may connect to the API
 * port, the monitoring namespace to the admin port; besides DNS, the pods may reach only the port
 * of modelUrl (443 for https, 80 for http, or the URL's own).
 */
function networkPolicyOf(c: FlatConfig): {
  apiFromNamespaces: string[];
  adminFromNamespaces: string[];
  egressTcpPorts: number[];
} {
  const egressTcpPorts: number[] = [];
  if (c.modelUrl !== undefined) {
    const url = new URL(c.modelUrl);
    egressTcpPorts.push(url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80);
  }
  return {
    apiFromNamespaces: [c.ingressControllerNamespace],
    adminFromNamespaces: c.monitoringNamespace !== undefined ? [c.monitoringNamespace] : [],
    egressTcpPorts,
  };
}

/** The settings of a valid config: every key's value in place, and what derives from several. */
function settingsOf(stack: string, c: FlatConfig) {
  const warnings: string[] = [];
  const image = imageOf(c, warnings);
  if (c.installIngressController) {
    warnings.push(
      `${keyName("installIngressController")} is deprecated: ${set("ingress-nginx", "ingressController")} && ${rm("installIngressController")}`,
    );
  }
  if (c.grafanaDashboard && c.monitoring === "none") {
    warnings.push(
      `${keyName("grafanaDashboard")} true with ${keyName("monitoring")} none: the dashboard stays empty unless your Prometheus scrapes the pods' admin port by other means. ${set("servicemonitor", "monitoring")} (or annotations)`,
    );
  }
  return merge(placed(configShape, c), {
    stack,
    namespace: { name: c.namespace ?? defaultNamespace(stack) },
    image,
    model: { backend: engineOf(c).backend },
    route: routeOf(c),
    // food11:networkPolicy: who may connect and where the pods may connect to; unset: none.
    ...(c.networkPolicy ? { networkPolicy: networkPolicyOf(c) } : {}),
    ingressController: { kind: controllerOf(c) },
    /** Non-fatal remarks (e.g. a prebuilt image pinned by tag), logged by the program. */
    warnings: warnings.map((w) => fill(w, "", stack)),
  });
}

/**
 * The schema of one stack's config: the keys, then the rules between them (once every key is
 * valid on its own), then the typed settings. Messages hold the placeholders of stacks/keys.ts
 * (the key, the stack); parseStackConfig fills them in.
 */
export function stackSchema(stack: string) {
  return flatConfigSchema
    .superRefine(
      (c, ctx) =>
        crossKeyRules(stack, c, (k, message) =>
          ctx.addIssue({ code: "custom", path: [k], message }),
        ),
      { when: (payload) => payload.issues.length === 0 },
    )
    .transform((c) => settingsOf(stack, c));
}

/** Typed, validated settings of one stack: the schema's output, what the components take. */
export type StackSettings = z.output<ReturnType<typeof stackSchema>>;
