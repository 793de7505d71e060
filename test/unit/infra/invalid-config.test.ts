/**
 * Bad stack config is rejected before any resource is registered, with a message naming the
 * stack, the key, the value and the fix. Each case is the strategy1 stack file with some keys
 * changed, run through the whole program under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { runStack } from "./mocks";

const STACK = "strategy1";
const set = (key: string, value: string) => `pulumi config set ${key} ${value} --stack ${STACK}`;

const CPU_QUANTITY = `is not a Kubernetes quantity (cpu: e.g. "2" or "500m")`;
const MEMORY_QUANTITY = `is not a Kubernetes quantity (memory: e.g. "4Gi" or "512Mi")`;
const PERCENT = "must be a whole number from 1 to 100";
const NOT_A_LABEL = `namespace "Food11_Strategy1" is not a DNS label (lower-case letters, digits, '-', at most 63)`;
/**
 * One key with a value its type or format refuses: `[key, value, what is wrong, the value the fix
 * sets]`; the message is `food11:<key> = <value>: <what>. Fix: pulumi config set ...`.
 */
const MALFORMED: [key: string, value: string, what: string, fix: string][] = [
  ["cpuLimit", "3 cores", CPU_QUANTITY, "2"],
  ["memoryLimit", "6GB", MEMORY_QUANTITY, "4Gi"],
  ["memoryRequest", "0", "must be above zero", "2Gi"],
  ["ephemeralStorageLimit", "1GB", MEMORY_QUANTITY, "512Mi"],
  ["networkPolicy", "yes", "must be true or false", "true"],
  ["createNamespace", "yes", "must be true or false", "true"],
  ["targetCpuUtilization", "0", PERCENT, "40"],
  ["targetCpuUtilization", "101", PERCENT, "40"],
  ["targetCpuUtilization", "80%", PERCENT, "40"],
  ["readinessSuccessThreshold", "0", PERCENT, "3"],
  ["minReplicas", "0", "must be a whole number from 1 to 1000", "1"],
  ["preprocess", "imagenet", "must be one of auto, raw, unit, mobilenet", "auto"],
  [
    "modelSource",
    "models/best.pt",
    "is not a .keras, .h5 or .onnx file or a SavedModel directory",
    "models/best.keras",
  ],
  [
    "imageRef",
    "https://ghcr.io/acme",
    "is not an image reference",
    "registry.example.com/food11-classifier@sha256:<64 hex digits>",
  ],
  [
    "imageModelDir",
    "../models",
    "must be a relative path inside the build context",
    "models/food11",
  ],
  ["namespace", "Food11_Strategy1", NOT_A_LABEL, "food11-strategy1"],
  ["ingressClassName", "NGINX", "is not an IngressClass name", "nginx"],
  ["ingressPath", "food11", "must be a URL path starting with /", "/"],
];

/** Problems between keys, or with more to the fix. */
const CASES: { why: string; config: Record<string, unknown>; problem: string }[] = [
  {
    why: "requests.cpu above limits.cpu",
    config: { "food11:cpuRequest": "3500m" },
    problem: `food11:cpuRequest = "3500m": requests.cpu 3500m is above limits.cpu 3. Fix: ${set("food11:cpuRequest", "3")} (or raise food11:cpuLimit)`,
  },
  {
    why: "requests.memory above limits.memory",
    config: { "food11:memoryRequest": "6.5Gi" },
    problem: `food11:memoryRequest = "6.5Gi": requests.memory 6.5Gi is above limits.memory 6Gi. Fix: ${set("food11:memoryRequest", "6Gi")} (or raise food11:memoryLimit)`,
  },
  {
    why: "an ephemeral-storage request above its limit",
    config: { "food11:ephemeralStorageRequest": "1Gi" },
    problem: `food11:ephemeralStorageRequest = "1Gi": requests.ephemeral-storage 1Gi is above limits.ephemeral-storage 512Mi. Fix: ${set("food11:ephemeralStorageRequest", "512Mi")} (or raise food11:ephemeralStorageLimit)`,
  },
  {
    why: "a monitoring namespace that is no DNS label",
    config: { "food11:monitoringNamespace": "Monitoring" },
    problem: `food11:monitoringNamespace = "Monitoring": is not a DNS label (lower-case letters, digits, '-', at most 63). Fix: ${set("food11:monitoringNamespace", "monitoring")} (or pulumi config set food11:monitoringNamespace "" --stack ${STACK} to admit none)`,
  },
  {
    why: "a model to import and another model to bake in",
    config: { "food11:modelSource": "models/best.keras", "food11:imageModelDir": "models/food11" },
    problem: `food11:modelSource = "models/best.keras": a model to import and food11:imageModelDir (another model to bake in) are both set. Fix: pulumi config rm food11:imageModelDir --stack ${STACK} (or pulumi config rm food11:modelSource --stack ${STACK})`,
  },
  {
    why: "a model to import into a prebuilt image",
    config: {
      "food11:modelSource": "models/best.keras",
      "food11:imageRef": `registry.example.com/food11-classifier@sha256:${"a".repeat(64)}`,
    },
    problem: `food11:modelSource = "models/best.keras": a model to import and food11:imageRef (a prebuilt image, so nothing is built to bake the model into) are both set. Fix: pulumi config rm food11:imageRef --stack ${STACK} (or pulumi config rm food11:modelSource --stack ${STACK})`,
  },
  {
    why: "labels without a model to import",
    config: { "food11:modelLabels": "models/labels.txt" },
    problem: `food11:modelLabels = "models/labels.txt": labels for food11:modelSource, which is not set. Fix: ${set("food11:modelSource", "models/best.keras")} (or pulumi config rm food11:modelLabels --stack ${STACK})`,
  },
  {
    why: "minReplicas above maxReplicas",
    config: { "food11:minReplicas": "4", "food11:maxReplicas": "3" },
    problem: `food11:minReplicas = "4": minReplicas 4 is above maxReplicas 3. Fix: ${set("food11:minReplicas", "3")} (or raise food11:maxReplicas)`,
  },
  {
    why: "no image source",
    config: { "food11:imageRepository": undefined, "food11:imageRegistry": undefined },
    problem: `food11:imageRepository = (unset): no image source: neither an image to build nor a prebuilt image is configured. Fix: ${set("food11:imageRepository", "food11-classifier")} (builds app/ and pushes to food11:imageRegistry) or ${set("food11:imageRef", "<registry>/<repo>@sha256:<digest>")}`,
  },
  {
    why: "a model both baked in and fetched at start",
    config: {
      "food11:imageModelDir": "models/food11",
      "food11:modelUrl": "https://m.example/model.json",
    },
    problem: `food11:imageModelDir = "models/food11": a model to bake in and food11:modelUrl (a model fetched at start) are both set. Fix: pulumi config rm food11:imageModelDir --stack ${STACK} (or pulumi config rm food11:modelUrl --stack ${STACK})`,
  },
  {
    why: "a registry user without a password",
    config: { "food11:registryUsername": "ci-bot" },
    problem: `food11:registryPassword = "": registry credentials need both food11:registryUsername and food11:registryPassword. Fix: ${set("food11:registryPassword", "<token> --secret")}`,
  },
  {
    why: "an unknown key (a typo)",
    config: { "food11:cpuLimt": "3" },
    problem: `food11:cpuLimt = "3": unknown key; did you mean food11:cpuLimit? Fix: pulumi config rm food11:cpuLimt --stack ${STACK} && ${set("food11:cpuLimit", "<value>")}`,
  },
  {
    why: "a drain delay as long as the grace period",
    config: { "food11:shutdownDelaySeconds": "20" },
    problem: `food11:shutdownDelaySeconds = "20": shutdownDelaySeconds 20 is not below shutdownGraceSeconds 20, so the server would be cut off before it drains. Fix: ${set("food11:shutdownDelaySeconds", "19")} (or raise food11:shutdownGraceSeconds)`,
  },
  {
    why: "an ingress host that is not a host name",
    config: { "food11:ingressHost": "http://food11.example.com" },
    problem: `food11:ingressHost = "http://food11.example.com": is not a host name. Fix: ${set("food11:ingressHost", "food11.example.com")} (or pulumi config rm food11:ingressHost --stack ${STACK} for any host)`,
  },
  {
    why: "a priority class that is no PriorityClass name",
    config: { "food11:priorityClassName": "High_Priority" },
    problem: `food11:priorityClassName = "High_Priority": is not a PriorityClass name (a DNS subdomain). Fix: ${set("food11:priorityClassName", "high-priority")} (or pulumi config rm food11:priorityClassName --stack ${STACK} for none)`,
  },
  {
    why: "installing the ingress controller while rendering YAML",
    config: { "food11:installIngressController": "true", "food11:renderYamlToDirectory": "out/r" },
    problem: `food11:installIngressController = "true": the ingress-nginx controller is a Helm release, which cannot be rendered to YAML. Fix: ${set("food11:installIngressController", "false")} (or pulumi config rm food11:renderYamlToDirectory --stack ${STACK})`,
  },
];

/** The program refuses `config`, registering nothing, with exactly this one problem. */
async function expectRefused(config: Record<string, unknown>, problem: string): Promise<void> {
  const run = await runStack(STACK, config);
  expect(run.resources).toHaveLength(0);
  // A RunError: the engine prints its message without a stack trace.
  expect(pulumi.RunError.isInstance(run.error)).toBe(true);
  expect((run.error as Error).message).toBe(
    `Invalid configuration for stack "${STACK}" (1 problem):\n  - ${problem}`,
  );
}

describe("invalid stack config", () => {
  it.each(MALFORMED)(
    "rejects food11:%s = %j, registering nothing",
    async (key, value, what, fix) => {
      const problem = `food11:${key} = ${JSON.stringify(value)}: ${what}. Fix: ${set(`food11:${key}`, fix)}`;
      await expectRefused({ [`food11:${key}`]: value }, problem);
    },
  );

  it.each(CASES)("rejects $why, registering nothing", async ({ config, problem }) => {
    await expectRefused(config, problem);
  });

  it("lists every problem at once", async () => {
    const run = await runStack(STACK, {
      "food11:cpuRequest": "4",
      "food11:memoryRequest": "7Gi",
      "food11:replicas": "2",
    });
    expect(run.resources).toHaveLength(0);
    expect((run.error as Error).message).toBe(
      [
        `Invalid configuration for stack "${STACK}" (3 problems):`,
        `  - food11:replicas = "2": unknown key. Fix: pulumi config rm food11:replicas --stack ${STACK}`,
        `  - food11:cpuRequest = "4": requests.cpu 4 is above limits.cpu 3. Fix: ${set("food11:cpuRequest", "3")} (or raise food11:cpuLimit)`,
        `  - food11:memoryRequest = "7Gi": requests.memory 7Gi is above limits.memory 6Gi. Fix: ${set("food11:memoryRequest", "6Gi")} (or raise food11:memoryLimit)`,
      ].join("\n"),
    );
  });

  it("never echoes the registry password", async () => {
    const run = await runStack(STACK, {
      "food11:registryPassword": "hunter2",
      "food11:registryUsername": "",
    });
    expect(run.resources).toHaveLength(0);
    const message = (run.error as Error).message;
    expect(message).not.toContain("hunter2");
    expect(message).toBe(
      `Invalid configuration for stack "${STACK}" (1 problem):\n  - food11:registryUsername = "": registry credentials need both food11:registryUsername and food11:registryPassword. Fix: ${set("food11:registryUsername", "<user>")}`,
    );
  });
});
