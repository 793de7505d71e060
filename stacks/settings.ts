/**
 * Raw stack config (`food11:*` keys) to typed {@link StackSettings}, or a {@link StackConfigError}
 * that names the stack, each bad key, its value and the fix. Pure: no Pulumi runtime.
 */
import type { z } from "zod";
import { cpuMillicores, memoryBytes } from "../components/quantity";
import { type EngineChoice, engineChoice } from "./engine";
import {
  CONFIG_KEYS,
  type ConfigKey,
  type FlatConfig,
  flatConfigSchema,
  PROJECT,
  THIS_KEY,
} from "./schema";

/** The image to deploy: built from app/ and pushed, or a prebuilt reference. */
export type ImageSettings =
  | {
      source: "build";
      /** `registry/repository:tag` (or `repository:tag` for Docker Hub). */
      imageName: string;
      /** Registry server for credentials (host part of imageRegistry); empty for Docker Hub. */
      registryServer: string;
      context: string;
      dockerfile: string;
      platform: string;
      /**
       * Docker build args: LIBTENSORFLOW always (download, wheel, or none for the WASM backend),
       * ENGINE=onnxruntime for the ONNX Runtime image (stacks/engine.ts);
       * MODEL_DIR, MODEL_URL, NODE_IMAGE, EXTRA_CA_CERTS_IN_IMAGE only when configured;
       * EXTRA_CA_CERTS once {@link withExtraCaCertificates} has read the configured file.
       */
      args: Record<string, string>;
      /** The configured imageExtraCaCertificates file, as given; read by withExtraCaCertificates. */
      extraCaCertificatesFile?: string;
      /** Credentials; both set or both unset. */
      username?: string;
      password?: string;
    }
  | {
      source: "prebuilt";
      ref: string;
      /** Whether the reference carries a `@sha256:` digest. */
      pinned: boolean;
    };

/**
 * Typed, validated settings of one stack: what the components take. Inferred from
 * {@link toSettings}, which builds them: its object literal is the one description of the shape.
 */
export type StackSettings = ReturnType<typeof toSettings>;

/** One rejected key. */
export interface ConfigProblem {
  /** `food11:<key>`. */
  key: string;
  /** The value as given (undefined when the key is unset). */
  value: unknown;
  /** What is wrong and the fix. */
  message: string;
}

/** A stack whose config is rejected; the message lists every problem. */
export class StackConfigError extends Error {
  override readonly name = "StackConfigError";
  constructor(
    readonly stackName: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `Invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems
        .map((p) => `  - ${p.key} = ${formatValue(p.key, p.value)}: ${p.message}`)
        .join("\n")}`,
    );
  }
}

function formatValue(key: string, value: unknown): string {
  if (value === undefined) return "(unset)";
  // Never echo a credential into a log.
  if (key === `${PROJECT}:registryPassword` && value !== "") return "[secret]";
  return JSON.stringify(value);
}

/** The fix a problem names: `pulumi config set food11:<key> <example> --stack <stack>`. */
function setCommand(stack: string, key: string, example: string): string {
  return `pulumi config set ${PROJECT}:${key} ${example} --stack ${stack}`;
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[y.length] ?? 0;
}

function closestKey(key: string): ConfigKey | undefined {
  let best: ConfigKey | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of CONFIG_KEYS) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** `registry/path/name[:tag][@sha256:<64 hex>]`, lower-case path components as Docker wants. */
const IMAGE_REF =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const REGISTRY = /^[a-zA-Z0-9.-]+(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/;

/**
 * Strip the `food11:` namespace from raw config and drop other namespaces (`kubernetes:*`,
 * `pulumi:*`, ...). Bare keys are taken as `food11:` keys.
 */
export function ownKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const colon = key.indexOf(":");
    if (colon === -1) own[key] = value;
    else if (key.slice(0, colon) === PROJECT) own[key.slice(colon + 1)] = value;
  }
  return own;
}

/**
 * Validate the raw config of `stack` (keys `food11:<key>` or bare `<key>`; values strings as the
 * engine gives them, or YAML scalars) and return its typed settings. Throws a
 * {@link StackConfigError} listing every problem, each with stack, key, value and fix.
 */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackSettings {
  const own = ownKeys(raw);
  const problems: ConfigProblem[] = [];
  const fix = (key: string, example: string) => setCommand(stack, key, example);

  for (const key of Object.keys(own)) {
    if ((CONFIG_KEYS as string[]).includes(key)) continue;
    const guess = closestKey(key);
    problems.push({
      key: `${PROJECT}:${key}`,
      value: own[key],
      message: `unknown key${guess ? `; did you mean ${PROJECT}:${guess}?` : "."} Fix: pulumi config rm ${PROJECT}:${key} --stack ${stack}${guess ? ` && ${fix(guess, "<value>")}` : ""}`,
    });
  }
  const known = Object.fromEntries(
    Object.entries(own).filter(([key]) => (CONFIG_KEYS as string[]).includes(key)),
  );

  const parsed = flatConfigSchema.safeParse(known);
  if (!parsed.success) {
    problems.push(...zodProblems(parsed.error.issues, known, stack));
    throw new StackConfigError(stack, problems);
  }
  const c = parsed.data;
  const problem = (key: ConfigKey, message: string) =>
    problems.push({ key: `${PROJECT}:${key}`, value: own[key], message });

  // Requests within limits.
  if (cpuMillicores(c.cpuRequest) > cpuMillicores(c.cpuLimit)) {
    problem(
      "cpuRequest",
      `requests.cpu ${c.cpuRequest} is above limits.cpu ${c.cpuLimit}. Fix: ${fix("cpuRequest", c.cpuLimit)} (or raise ${PROJECT}:cpuLimit)`,
    );
  }
  if (memoryBytes(c.memoryRequest) > memoryBytes(c.memoryLimit)) {
    problem(
      "memoryRequest",
      `requests.memory ${c.memoryRequest} is above limits.memory ${c.memoryLimit}. Fix: ${fix("memoryRequest", c.memoryLimit)} (or raise ${PROJECT}:memoryLimit)`,
    );
  }
  if (memoryBytes(c.ephemeralStorageRequest) > memoryBytes(c.ephemeralStorageLimit)) {
    problem(
      "ephemeralStorageRequest",
      `requests.ephemeral-storage ${c.ephemeralStorageRequest} is above limits.ephemeral-storage ${c.ephemeralStorageLimit}. Fix: ${fix("ephemeralStorageRequest", c.ephemeralStorageLimit)} (or raise ${PROJECT}:ephemeralStorageLimit)`,
    );
  }
  if (c.shutdownDelaySeconds >= c.shutdownGraceSeconds) {
    problem(
      "shutdownDelaySeconds",
      `shutdownDelaySeconds ${c.shutdownDelaySeconds} is not below shutdownGraceSeconds ${c.shutdownGraceSeconds}, so the server would be cut off before it drains. Fix: ${fix("shutdownDelaySeconds", String(Math.max(0, c.shutdownGraceSeconds - 1)))} (or raise ${PROJECT}:shutdownGraceSeconds)`,
    );
  }
  if (c.minReplicas > c.maxReplicas) {
    problem(
      "minReplicas",
      `minReplicas ${c.minReplicas} is above maxReplicas ${c.maxReplicas}. Fix: ${fix("minReplicas", String(c.maxReplicas))} (or raise ${PROJECT}:maxReplicas)`,
    );
  }

  // The engine (stacks/engine.ts): the image's build args and the server's TFJS_BACKEND.
  const engine = engineChoice(
    c,
    fix,
    (key) => `pulumi config rm ${PROJECT}:${key} --stack ${stack}`,
  );
  if (engine.problem) problem("tfjsBackend", engine.problem);

  // Image source: a prebuilt reference (which wins over a configured build, so that
  // `pulumi config set food11:imageRef ...` on a committed stack deploys it), else a build.
  const warnings: string[] = [];
  let image: ImageSettings | undefined;
  if (c.imageRef !== "") {
    if (!IMAGE_REF.test(c.imageRef)) {
      problem(
        "imageRef",
        `is not an image reference. Fix: ${fix("imageRef", "registry.example.com/food11-classifier@sha256:<64 hex digits>")}`,
      );
    } else {
      const pinned = /@sha256:[a-f0-9]{64}$/.test(c.imageRef);
      if (!pinned) {
        warnings.push(
          `${PROJECT}:imageRef ${JSON.stringify(c.imageRef)} is not pinned by digest: a moved tag changes what runs without a diff. Pin it: ${fix("imageRef", `${c.imageRef.replace(/:[\w][\w.-]*$/, "")}@sha256:<digest>`)}`,
        );
      }
      image = { source: "prebuilt", ref: c.imageRef, pinned };
    }
  } else if (c.imageRepository !== "") {
    const before = problems.length;
    if (!REPOSITORY.test(c.imageRepository)) {
      problem(
        "imageRepository",
        `is not a Docker repository name (lower-case, e.g. food11-classifier). Fix: ${fix("imageRepository", "food11-classifier")}`,
      );
    }
    if (c.imageRegistry !== "" && !REGISTRY.test(c.imageRegistry)) {
      problem(
        "imageRegistry",
        `is not a registry (host[:port][/path]). Fix: ${fix("imageRegistry", "localhost:5001")}`,
      );
    }
    if (!TAG.test(c.imageTag)) {
      problem("imageTag", `is not a Docker tag. Fix: ${fix("imageTag", "0.1.0")}`);
    }
    if (c.imageModelDir !== "" && c.modelUrl !== "") {
      problem(
        "imageModelDir",
        `a model to bake in and ${PROJECT}:modelUrl (a model fetched at start) are both set. Fix: pulumi config rm ${PROJECT}:imageModelDir --stack ${stack} (or pulumi config rm ${PROJECT}:modelUrl --stack ${stack})`,
      );
    }
    if (c.imageModelDir !== "" && !/^(?!\/)(?!.*\.\.)[\w./-]+$/.test(c.imageModelDir)) {
      problem(
        "imageModelDir",
        `must be a relative path inside the build context. Fix: ${fix("imageModelDir", "models/food11")}`,
      );
    }
    if (c.imageBaseImage !== "" && !IMAGE_REF.test(c.imageBaseImage)) {
      problem(
        "imageBaseImage",
        `is not an image reference. Fix: ${fix("imageBaseImage", "node:24-slim@sha256:<digest>")}`,
      );
    }
    if (c.imageExtraCaCertificatesInImage && c.imageExtraCaCertificates === "") {
      problem(
        "imageExtraCaCertificatesInImage",
        `is true but ${PROJECT}:imageExtraCaCertificates names no file. Fix: ${fix("imageExtraCaCertificates", "certs/proxy-ca.pem")} (or pulumi config rm ${PROJECT}:imageExtraCaCertificatesInImage --stack ${stack})`,
      );
    }
    if (!PLATFORM.test(c.imagePlatform)) {
      problem(
        "imagePlatform",
        `is not a platform (os/arch). Fix: ${fix("imagePlatform", "linux/amd64")}`,
      );
    }
    if ((c.registryUsername === "") !== (c.registryPassword === "")) {
      const missing = c.registryUsername === "" ? "registryUsername" : "registryPassword";
      problem(
        missing,
        `registry credentials need both ${PROJECT}:registryUsername and ${PROJECT}:registryPassword. Fix: ${fix(missing, missing === "registryPassword" ? "<token> --secret" : "<user>")}`,
      );
    }
    if (problems.length === before) {
      const name =
        c.imageRegistry === "" ? c.imageRepository : `${c.imageRegistry}/${c.imageRepository}`;
      image = {
        source: "build",
        imageName: `${name}:${c.imageTag}`,
        registryServer: c.imageRegistry.split("/")[0] ?? "",
        context: c.imageContext,
        dockerfile: c.imageDockerfile,
        platform: c.imagePlatform,
        args: {
          ...(c.imageModelDir !== "" ? { MODEL_DIR: c.imageModelDir } : {}),
          ...(c.modelUrl !== "" ? { MODEL_URL: c.modelUrl } : {}),
          ...(c.imageBaseImage !== "" ? { NODE_IMAGE: c.imageBaseImage } : {}),
          ...engine.buildArgs,
          ...(c.imageExtraCaCertificatesInImage ? { EXTRA_CA_CERTS_IN_IMAGE: "true" } : {}),
        },
        ...(c.imageExtraCaCertificates !== ""
          ? { extraCaCertificatesFile: c.imageExtraCaCertificates }
          : {}),
        ...(c.registryUsername !== ""
          ? { username: c.registryUsername, password: c.registryPassword }
          : {}),
      };
    }
  } else {
    problem(
      "imageRepository",
      `no image source: neither an image to build nor a prebuilt image is configured. Fix: ${fix("imageRepository", "food11-classifier")} (builds app/ and pushes to ${PROJECT}:imageRegistry) or ${fix("imageRef", "<registry>/<repo>@sha256:<digest>")}`,
    );
  }

  // Names.
  const namespace = c.namespace === "" ? `food11-${stack}` : c.namespace;
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    problem(
      "namespace",
      `namespace ${JSON.stringify(namespace)} is not a DNS label (lower-case letters, digits, '-', at most 63). Fix: ${fix("namespace", "food11-strategy1")}`,
    );
  }
  if (c.ingressControllerNamespace.length > 63 || !DNS_LABEL.test(c.ingressControllerNamespace)) {
    problem(
      "ingressControllerNamespace",
      `is not a DNS label (lower-case letters, digits, '-', at most 63). Fix: ${fix("ingressControllerNamespace", "ingress-nginx")}`,
    );
  }
  if (
    c.monitoringNamespace !== "" &&
    (c.monitoringNamespace.length > 63 || !DNS_LABEL.test(c.monitoringNamespace))
  ) {
    problem(
      "monitoringNamespace",
      `is not a DNS label (lower-case letters, digits, '-', at most 63). Fix: ${fix("monitoringNamespace", "monitoring")} (or pulumi config set ${PROJECT}:monitoringNamespace "" --stack ${stack} to admit none)`,
    );
  }
  if (!DNS_HOST.test(c.ingressClassName) || c.ingressClassName.startsWith("*")) {
    problem(
      "ingressClassName",
      `is not an IngressClass name. Fix: ${fix("ingressClassName", "nginx")}`,
    );
  }
  if (c.ingressHost !== "" && !DNS_HOST.test(c.ingressHost)) {
    problem(
      "ingressHost",
      `is not a host name. Fix: ${fix("ingressHost", "food11.example.com")} (or pulumi config rm ${PROJECT}:ingressHost --stack ${stack} for any host)`,
    );
  }
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(c.ingressPath)) {
    problem("ingressPath", `must be a URL path starting with /. Fix: ${fix("ingressPath", "/")}`);
  }
  if (!/^\d+[kKmMgG]?$/.test(c.ingressProxyBodySize)) {
    problem(
      "ingressProxyBodySize",
      `is not an nginx size (e.g. 10m). Fix: ${fix("ingressProxyBodySize", "10m")}`,
    );
  }
  if (c.modelUrl !== "" && !(/^https?:\/\/\S+$/.test(c.modelUrl) && URL.canParse(c.modelUrl))) {
    problem(
      "modelUrl",
      `must be an http(s) URL. Fix: ${fix("modelUrl", "https://models.example.com/food11/model.json")}`,
    );
  }
  // The controller: ingressController, or the deprecated installIngressController.
  let controller = c.ingressController;
  if (c.installIngressController) {
    if (controller === "traefik") {
      problem(
        "installIngressController",
        `asks for ingress-nginx while ${PROJECT}:ingressController is traefik. Fix: pulumi config rm ${PROJECT}:installIngressController --stack ${stack}`,
      );
    } else {
      controller = "ingress-nginx";
      warnings.push(
        `${PROJECT}:installIngressController is deprecated: ${fix("ingressController", "ingress-nginx")} && pulumi config rm ${PROJECT}:installIngressController --stack ${stack}`,
      );
    }
  }
  if (controller !== "none" && c.renderYamlToDirectory !== "") {
    const key = c.installIngressController ? "installIngressController" : "ingressController";
    problem(
      key,
      `the ${controller} controller is a Helm release, which cannot be rendered to YAML. Fix: ${key === "ingressController" ? fix("ingressController", "none") : fix("installIngressController", "false")} (or pulumi config rm ${PROJECT}:renderYamlToDirectory --stack ${stack})`,
    );
  }
  if (c.route === "gateway" && controller === "ingress-nginx") {
    problem(
      "route",
      `gateway: ingress-nginx does not implement the Gateway API. Fix: ${fix("ingressController", "traefik")} (or ${fix("route", "ingress")})`,
    );
  }
  const gatewayNamespace =
    c.gatewayNamespace === "" ? c.ingressControllerNamespace : c.gatewayNamespace;
  for (const [key, value] of [
    ["gatewayName", c.gatewayName],
    ["gatewayNamespace", gatewayNamespace],
  ] as const) {
    if (value.length > 63 || !DNS_LABEL.test(value)) {
      problem(
        key,
        `${JSON.stringify(value)} is not a DNS label (lower-case letters, digits, '-', at most 63). Fix: ${fix(key, key === "gatewayName" ? "food11" : "traefik")}`,
      );
    }
  }
  if (c.gatewaySectionName !== "" && !DNS_LABEL.test(c.gatewaySectionName)) {
    problem(
      "gatewaySectionName",
      `is not a listener name (a DNS label). Fix: ${fix("gatewaySectionName", "web")} (or pulumi config set ${PROJECT}:gatewaySectionName "" --stack ${stack} for every listener)`,
    );
  }
  if (
    controller === "traefik" &&
    c.gatewayNamespace !== "" &&
    c.gatewayNamespace !== c.ingressControllerNamespace &&
    c.route === "gateway"
  ) {
    problem(
      "gatewayNamespace",
      `${c.gatewayNamespace}: ingressController traefik creates the Gateway in ingressControllerNamespace ${c.ingressControllerNamespace}. Fix: pulumi config rm ${PROJECT}:gatewayNamespace --stack ${stack}`,
    );
  }

  if (problems.length > 0 || image === undefined) {
    throw new StackConfigError(stack, problems);
  }
  return toSettings(stack, c, namespace, image, warnings, controller, gatewayNamespace, engine);
}

function zodProblems(
  issues: z.core.$ZodIssue[],
  known: Record<string, unknown>,
  stack: string,
): ConfigProblem[] {
  return issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    return {
      key: `${PROJECT}:${key}`,
      value: known[key],
      // The schema's messages end in "Fix: pulumi config set <this key> <value>": name the key
      // and the stack.
      message: issue.message.includes(THIS_KEY)
        ? `${issue.message.replace(THIS_KEY, `${PROJECT}:${key}`)} --stack ${stack}`
        : issue.message,
    };
  });
}

function toSettings(
  stack: string,
  c: FlatConfig,
  namespace: string,
  image: ImageSettings,
  warnings: string[],
  controller: FlatConfig["ingressController"],
  gatewayNamespace: string,
  engine: EngineChoice,
) {
  return {
    stack,
    namespace: { name: namespace, create: c.createNamespace },
    image,
    model: {
      name: c.modelName,
      version: c.modelVersion,
      ...(c.modelUrl !== "" ? { url: c.modelUrl } : {}),
      preprocess: c.preprocess,
      engine: c.inferenceEngine,
      backend: engine.backend,
    },
    server: {
      logLevel: c.logLevel,
      shutdownGraceSeconds: c.shutdownGraceSeconds,
      shutdownDelaySeconds: c.shutdownDelaySeconds,
    },
    resources: {
      requests: {
        cpu: c.cpuRequest,
        memory: c.memoryRequest,
        ephemeralStorage: c.ephemeralStorageRequest,
      },
      limits: { cpu: c.cpuLimit, memory: c.memoryLimit, ephemeralStorage: c.ephemeralStorageLimit },
    },
    autoscaling: {
      minReplicas: c.minReplicas,
      maxReplicas: c.maxReplicas,
      targetCpuUtilization: c.targetCpuUtilization,
      scaleUpStabilizationSeconds: c.scaleUpStabilizationSeconds,
      scaleDownStabilizationSeconds: c.scaleDownStabilizationSeconds,
    },
    probes: {
      timeoutSeconds: c.probeTimeoutSeconds,
      readiness: {
        periodSeconds: c.readinessPeriodSeconds,
        successThreshold: c.readinessSuccessThreshold,
        failureThreshold: c.readinessFailureThreshold,
      },
      liveness: {
        periodSeconds: c.livenessPeriodSeconds,
        failureThreshold: c.livenessFailureThreshold,
      },
      startup: {
        periodSeconds: c.startupPeriodSeconds,
        failureThreshold: c.startupFailureThreshold,
      },
    },
    ingress: {
      className: c.ingressClassName,
      ...(c.ingressHost !== "" ? { host: c.ingressHost } : {}),
      path: c.ingressPath,
      proxyBodySize: c.ingressProxyBodySize,
    },
    route: routeOf(c, gatewayNamespace),
    availability: { pdbMaxUnavailable: c.pdbMaxUnavailable },
    security: { runAsUser: c.runAsUser },
    // networkPolicy (food11:networkPolicy): who may connect and where the pods may connect to
    // (networkPolicyOf); unset: no NetworkPolicy.
    ...(c.networkPolicy ? { networkPolicy: networkPolicyOf(c) } : {}),
    ingressController: {
      /** Which controller the stack installs, if any. */
      kind: controller,
      namespace: c.ingressControllerNamespace,
      serviceType: c.ingressControllerServiceType,
    },
    // renderYamlToDirectory, when set: render YAML there instead of deploying; nothing is built.
    ...(c.renderYamlToDirectory !== "" ? { renderYamlToDirectory: c.renderYamlToDirectory } : {}),
    /** Non-fatal remarks (e.g. a prebuilt image pinned by tag), logged by the program. */
    warnings,
  };
}

/** The route: the Ingress, or an HTTPRoute attached to a Gateway (sectionName when set). */
function routeOf(c: FlatConfig, gatewayNamespace: string) {
  if (c.route === "ingress") return { kind: "ingress" as const };
  const sectionName = c.gatewaySectionName !== "" ? { sectionName: c.gatewaySectionName } : {};
  const gateway = { name: c.gatewayName, namespace: gatewayNamespace, ...sectionName };
  return { kind: "gateway" as const, gateway };
}

/**
 * The NetworkPolicy's peers and ports: the ingress controller's and the monitoring namespace may
 * connect; besides DNS, the pods may reach only the port of modelUrl (443 for https, 80 for http,
 * or the URL's own).
 */
function networkPolicyOf(c: FlatConfig): {
  ingressFromNamespaces: string[];
  egressTcpPorts: number[];
} {
  const namespaces = [c.ingressControllerNamespace, c.monitoringNamespace].filter(
    (ns) => ns !== "",
  );
  const egressTcpPorts: number[] = [];
  if (c.modelUrl !== "") {
    const url = new URL(c.modelUrl);
    egressTcpPorts.push(url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80);
  }
  return { ingressFromNamespaces: [...new Set(namespaces)], egressTcpPorts };
}

/** A PEM certificate block. */
const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

/**
 * Reads the stack's imageExtraCaCertificates file (when set and the image is built) with `read`
 * (a path relative to the project root, or absolute) and returns the settings with its
 * certificates as the EXTRA_CA_CERTS build arg. Only certificate blocks are passed on. Throws a
 * {@link StackConfigError} naming the key when the file cannot be read, holds no certificate, or
 * holds a private key.
 */
export function withExtraCaCertificates(
  settings: StackSettings,
  read: (file: string) => string,
): StackSettings {
  const image = settings.image;
  if (image.source !== "build" || image.extraCaCertificatesFile === undefined) return settings;
  const file = image.extraCaCertificatesFile;
  const key = `${PROJECT}:imageExtraCaCertificates`;
  const fail = (why: string): never => {
    throw new StackConfigError(settings.stack, [
      {
        key,
        value: file,
        message: `${why}. Fix: ${setCommand(settings.stack, "imageExtraCaCertificates", "<a PEM file of CA certificates>")} (or pulumi config rm ${key} --stack ${settings.stack})`,
      },
    ]);
  };
  let text = "";
  try {
    text = read(file);
  } catch (error) {
    fail(`cannot be read (${(error as Error).message})`);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    fail("holds a private key: give the CA certificates only, never a key");
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) fail("holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  return {
    ...settings,
    image: {
      ...image,
      args: { ...image.args, EXTRA_CA_CERTS: `${certificates.join("\n")}\n` },
    },
  };
}
