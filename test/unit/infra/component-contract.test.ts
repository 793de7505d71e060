/**
 * Each component checks its own args at construction (components/contract.ts): every violated
 * property is reported, together, as one pulumi.InputPropertiesError (propertyPath + a reason
 * naming the bad value), and nothing is registered, not even the component. Each real stack's
 * args still construct. The components are constructed directly, under setMocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  InferenceImage,
  type InferenceImageArgs,
  InferenceService,
  type InferenceServiceArgs,
  IngressController,
  TraefikController,
  type TraefikControllerArgs,
} from "../../../components";
import {
  inferenceServiceArgs,
  ingressControllerArgs,
  parseStackConfig,
  readStackFile,
  STACKS,
} from "../../../stacks";
import { promiseOf } from "./mocks";

/** Every registration since the last reset: `type name`. */
const registered: string[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push(`${args.type} ${args.name}`);
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        return args.inputs;
      },
    },
    "food11",
    "contract",
    false,
  );
});

beforeEach(() => {
  registered.length = 0;
});

/** Let the (asynchronous) registrations of a construction reach the mocks. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Construct, and return what it threw and what got registered. */
async function attempt(
  construct: () => unknown,
): Promise<{ error: unknown; registered: string[] }> {
  let error: unknown;
  try {
    construct();
  } catch (e) {
    error = e;
  }
  await settle();
  return { error, registered: [...registered] };
}

/** A violation as a test expects it: the exact path and a text the reason must contain. */
type Want = [propertyPath: string, inReason: string];

async function expectRejected(construct: () => unknown, want: Want[]): Promise<void> {
  const { error, registered } = await attempt(construct);
  expect(registered).toEqual([]);
  expect(pulumi.InputPropertiesError.isInstance(error)).toBe(true);
  const e = error as pulumi.InputPropertiesError;
  expect(e.errors.map((x) => x.propertyPath)).toEqual(want.map(([path]) => path));
  for (const [i, [path, text]] of want.entries()) {
    expect(e.errors[i]?.reason, path).toContain(text);
    // The message lists every violation too (a program run prints only the message).
    expect(e.message).toContain(`${path}: ${e.errors[i]?.reason}`);
  }
}

const IMAGE = "localhost:5001/food11-classifier:0.1.0";
/** The args index.ts passes for a stack (its settings, composed by stacks/index.ts). */
const imageArgs = (stack: string): InferenceImageArgs => readStackFile(stack).image;
const serviceArgs = (stack: string) => inferenceServiceArgs(readStackFile(stack), { image: IMAGE });
const controllerArgs = (stack: string) => ingressControllerArgs(readStackFile(stack));
/** InferenceService's args for a stack that sets nothing: every value the schema's default. */
const defaultServiceArgs = () =>
  inferenceServiceArgs(parseStackConfig("defaults", { imageRef: IMAGE }), { image: IMAGE });

// biome-ignore lint/suspicious/noExplicitAny: the cases pass values the types forbid, as JS may.
type Loose = any;

const FROM_1 = "must be a whole number from 1";
const QUANTITY = "must be a Kubernetes quantity such as";

/** A deep copy of `args` with the value at the dotted `path` replaced. */
function withValue<T>(args: T, path: string, value: unknown): T {
  const copy = structuredClone(args) as Loose;
  const keys = path.split(".");
  const last = keys.pop() as string;
  let at = copy;
  for (const key of keys) at = at[key];
  at[last] = value;
  return copy;
}

describe("valid args (each real stack's) still construct", () => {
  it.each(STACKS)("%s", async (stack) => {
    const image = new InferenceImage(`ok-${stack}`, imageArgs(stack));
    const service = new InferenceService(`ok-${stack}`, serviceArgs(stack));
    const controller = new IngressController(`ok-${stack}`, controllerArgs(stack));
    await Promise.all([image.urn, service.urn, controller.urn].map((urn) => promiseOf(urn)));
    expect(await promiseOf(service.deploymentName)).toBe("food11-classifier");
    await settle();
    expect(registered).toEqual(
      expect.arrayContaining([
        `food11:image:InferenceImage ok-${stack}`,
        `docker:index/image:Image ok-${stack}-image`,
        `food11:service:InferenceService ok-${stack}`,
        `kubernetes:apps/v1:Deployment ok-${stack}-deployment`,
        `kubernetes:policy/v1:PodDisruptionBudget ok-${stack}-pdb`,
        `food11:ingress:IngressController ok-${stack}`,
        `kubernetes-ingress-nginx:index:IngressController ok-${stack}-controller`,
      ]),
    );
  });

  it("accepts the edges of every range (the schema's)", async () => {
    const base = serviceArgs("baseline");
    const edge: InferenceServiceArgs = {
      ...base,
      env: {},
      resources: {
        requests: { ...base.resources.requests, cpu: "2", memory: "4Gi" },
        limits: { ...base.resources.limits, cpu: "2", memory: "4Gi" },
      },
      autoscaling: {
        minReplicas: 3,
        maxReplicas: 3,
        targetCpuUtilization: 100,
        scaleUpStabilizationSeconds: 0,
        scaleDownStabilizationSeconds: 3600,
      },
      availability: { pdbMaxUnavailable: 1 },
      server: { shutdownGraceSeconds: 1, uploadPage: true },
    };
    const { error } = await attempt(() => new InferenceService("edges", edge));
    expect(error).toBeUndefined();
  });
});

describe("InferenceImage", () => {
  const build = imageArgs("baseline").build as NonNullable<InferenceImageArgs["build"]>;
  const CASES: { why: string; args: Loose; want: Want[] }[] = [
    {
      why: "neither build nor ref",
      args: {},
      want: [
        ["build", "neither build nor ref"],
        ["ref", "neither build nor ref"],
      ],
    },
    {
      why: "both build and ref",
      args: { build, ref: "ghcr.io/acme/food11:1" },
      want: [
        ["build", `"ghcr.io/acme/food11:1"`],
        ["ref", `"ghcr.io/acme/food11:1"`],
      ],
    },
    {
      why: "an empty image name",
      args: { build: { ...build, imageName: "" } },
      want: [["build.imageName", `"" is not allowed`]],
    },
    {
      why: "an image name with spaces",
      args: { build: { ...build, imageName: "food11 classifier" } },
      want: [["build.imageName", `"food11 classifier"`]],
    },
    { why: "an empty ref", args: { ref: "  " }, want: [["ref", `"  " is not allowed`]] },
    {
      why: "skipBuild that is not a boolean",
      args: { build, skipBuild: "yes" },
      want: [["skipBuild", `"yes"`]],
    },
  ];
  it.each(CASES)("rejects $why, registering nothing", async ({ args, want }) => {
    await expectRejected(() => new InferenceImage("bad", args), want);
  });
});

describe("InferenceService", () => {
  const base = serviceArgs("strategy1");
  /** strategy1's resources with some requests (and limits) changed. */
  const resources = (requests: Loose, limits: Loose = {}) => ({
    requests: { ...base.resources.requests, ...requests },
    limits: { ...base.resources.limits, ...limits },
  });
  const defaultResources = (requests: Loose) => {
    const { resources } = defaultServiceArgs();
    return { ...resources, requests: { ...resources.requests, ...requests } };
  };
  const autoscaling = (changes: Loose) => ({ ...base.autoscaling, ...changes });
  const probes = (probe: "readiness" | "liveness" | "startup", changes: Loose) => ({
    ...base.probes,
    [probe]: { ...base.probes[probe], ...changes },
  });
  /** One field out of its range or format: `[propertyPath, value, what the reason says]`. */
  const OUT_OF_RANGE: [path: string, value: unknown, reason: string][] = [
    ["resources.requests.cpu", "3 cores", `"3 cores" is not a Kubernetes quantity`],
    ["resources.limits.memory", "6GB", `"6GB" is not a Kubernetes quantity`],
    ["autoscaling.minReplicas", 0, `0 is not allowed: ${FROM_1}`],
    ["autoscaling.maxReplicas", 0, "0 is not allowed"],
    ["autoscaling.targetCpuUtilization", 0, `0 is not allowed: ${FROM_1} to 100`],
    ["autoscaling.targetCpuUtilization", 101, "101 is not allowed"],
    ["autoscaling.targetCpuUtilization", 40.5, "40.5 is not allowed"],
    [
      "autoscaling.scaleUpStabilizationSeconds",
      -1,
      "-1 is not allowed: must be a whole number from 0 to 3600",
    ],
    ["autoscaling.scaleDownStabilizationSeconds", 3601, "3601 is not allowed"],
    ["probes.timeoutSeconds", 0, `0 is not allowed: ${FROM_1}`],
    ["probes.readiness.periodSeconds", 0, "0 is not allowed"],
    ["probes.readiness.successThreshold", 0, "0 is not allowed"],
    ["probes.readiness.failureThreshold", 1.5, "1.5 is not allowed"],
    ["probes.liveness.periodSeconds", 0, "0 is not allowed"],
    ["probes.liveness.failureThreshold", 0, "0 is not allowed"],
    ["probes.startup.periodSeconds", "5", `"5" is not allowed`],
    ["probes.startup.failureThreshold", -1, "-1 is not allowed"],
    ["availability.pdbMaxUnavailable", -1, `-1 is not allowed: ${FROM_1} to 1000`],
    ["ingress.path", "food11", `"food11" is not allowed: must be a URL path starting with /`],
    ["ingress.className", "", `"" is not an IngressClass name`],
    ["ingress.host", "food 11", `"food 11" is not a host name`],
    ["ingress.proxyBodySize", "ten", `"ten" is not an nginx size`],
    ["server.shutdownGraceSeconds", -1, `-1 is not allowed: ${FROM_1} to 600`],
    // terminationGracePeriodSeconds is whole seconds.
    ["server.shutdownGraceSeconds", 2.5, "2.5 is not allowed"],
    ["pod.runAsUser", 0, `0 is not allowed: ${FROM_1}`],
    ["instance", "", `"" is not allowed: must be a label value`],
    ["namespace.name", "Food11_Strategy1", `"Food11_Strategy1" is not allowed`],
    ["image", "", `"" is not allowed`],
  ];
  it.each(OUT_OF_RANGE)("rejects %s = %j, registering nothing", async (path, value, reason) => {
    await expectRejected(
      () => new InferenceService("bad", withValue(base, path, value)),
      [[path, reason]],
    );
  });

  const CASES: { why: string; args: Partial<Loose>; want: Want[] }[] = [
    {
      why: "a negative CPU limit",
      args: { resources: resources({}, { cpu: "-1" }) },
      want: [["resources.limits.cpu", `"-1" is not allowed: must be above zero`]],
    },
    {
      why: "requests.cpu above limits.cpu",
      args: { resources: resources({ cpu: "3500m" }) },
      want: [["resources.requests.cpu", "requests.cpu 3500m is above limits.cpu 3"]],
    },
    {
      why: "requests.memory above limits.memory (exactly, in binary units)",
      args: { resources: resources({ memory: "6442450945" }) },
      want: [
        ["resources.requests.memory", "requests.memory 6442450945 is above limits.memory 6Gi"],
      ],
    },
    {
      why: "requests above the limits of the schema's defaults",
      args: { ...defaultServiceArgs(), resources: defaultResources({ cpu: "4" }) },
      want: [["resources.requests.cpu", "requests.cpu 4 is above limits.cpu 2"]],
    },
    {
      why: "a side left out (the component defaults nothing)",
      args: { resources: { requests: base.resources.requests } },
      want: [
        ["resources.limits.cpu", `undefined is not allowed: ${QUANTITY}`],
        ["resources.limits.memory", `undefined is not allowed: ${QUANTITY}`],
        ["resources.limits.ephemeralStorage", `undefined is not allowed: ${QUANTITY}`],
      ],
    },
    {
      why: "an ephemeral-storage request above its limit",
      args: { resources: resources({ ephemeralStorage: "1Gi" }) },
      want: [
        [
          "resources.requests.ephemeralStorage",
          "requests.ephemeral-storage 1Gi is above limits.ephemeral-storage 512Mi",
        ],
      ],
    },
    {
      why: "an ephemeral-storage limit left out",
      args: {
        resources: { requests: base.resources.requests, limits: { cpu: "3", memory: "6Gi" } },
      },
      want: [["resources.limits.ephemeralStorage", `undefined is not allowed: ${QUANTITY}`]],
    },
    {
      why: "an ephemeral-storage limit that is no quantity",
      args: { resources: resources({}, { ephemeralStorage: "half a disk" }) },
      want: [["resources.limits.ephemeralStorage", `"half a disk" is not a Kubernetes quantity`]],
    },
    {
      why: "a NetworkPolicy peer that is no namespace",
      args: {
        networkPolicy: {
          apiFromNamespaces: ["ingress-nginx"],
          adminFromNamespaces: ["Monitoring"],
          egressTcpPorts: [],
        },
      },
      want: [["networkPolicy.adminFromNamespaces[0]", `"Monitoring" is not a DNS label`]],
    },
    {
      why: "a NetworkPolicy egress port out of range",
      args: {
        networkPolicy: {
          apiFromNamespaces: [],
          adminFromNamespaces: [],
          egressTcpPorts: [443, 70000],
        },
      },
      want: [
        [
          "networkPolicy.egressTcpPorts[1]",
          "70000 is not allowed: must be an integer from 1 to 65535",
        ],
      ],
    },
    {
      why: "a Gateway route whose names are no DNS labels",
      args: {
        gatewayRoute: {
          gateway: { name: "Food11", namespace: "traefik", sectionName: "Web" },
          readGateway: false,
        },
      },
      want: [
        ["gatewayRoute.gateway.name", `"Food11" is not a DNS label`],
        ["gatewayRoute.gateway.sectionName", `"Web" is not a listener name`],
      ],
    },
    {
      why: "minReplicas above maxReplicas",
      args: { autoscaling: autoscaling({ minReplicas: 4, maxReplicas: 3 }) },
      want: [["autoscaling.minReplicas", "minReplicas 4 is above maxReplicas 3"]],
    },
    {
      why: "a SHUTDOWN_GRACE_SECONDS that disagrees with shutdownGraceSeconds",
      args: { server: { ...base.server, shutdownGraceSeconds: 10 } },
      want: [
        [
          "env.SHUTDOWN_GRACE_SECONDS",
          `"20" disagrees with shutdownGraceSeconds 10, from which terminationGracePeriodSeconds 15`,
        ],
      ],
    },
    {
      why: "a drain delay (SHUTDOWN_DELAY_SECONDS) as long as the grace",
      args: {
        server: { ...base.server, shutdownGraceSeconds: 5 },
        env: { ...base.env, SHUTDOWN_GRACE_SECONDS: "5" },
      },
      want: [["env.SHUTDOWN_DELAY_SECONDS", `"5" is not below shutdownGraceSeconds 5`]],
    },
    {
      why: "an ADMIN_PORT other than the container's admin port",
      args: { env: { ...base.env, ADMIN_PORT: "9090" } },
      want: [["env.ADMIN_PORT", `"9090" is not the container port 8081`]],
    },
    {
      why: "an UPLOAD_PAGE that disagrees with server.uploadPage",
      args: { server: { ...base.server, uploadPage: false } },
      want: [["env.UPLOAD_PAGE", `"true" disagrees with server.uploadPage false`]],
    },
    {
      why: "an unknown monitoring mode",
      args: { monitoring: { scrape: "podmonitor" as never, grafanaDashboard: false } },
      want: [["monitoring.scrape", `"podmonitor" is not allowed`]],
    },
  ];
  it.each(CASES)("rejects $why, registering nothing", async ({ args, want }) => {
    await expectRejected(() => new InferenceService("bad", { ...base, ...args }), want);
  });

  it("reports several violations together", async () => {
    await expectRejected(
      () =>
        new InferenceService("bad", {
          ...base,
          resources: resources({ cpu: "4", memory: "7Gi" }),
          autoscaling: {
            ...base.autoscaling,
            minReplicas: 6,
            maxReplicas: 5,
            targetCpuUtilization: 0,
          },
          probes: probes("readiness", { successThreshold: 0 }),
          ingress: { ...base.ingress, path: "api" },
          availability: { pdbMaxUnavailable: -1 },
        }),
      // Each setting's own check first (in the schema's key order), then the rules between them.
      [
        ["autoscaling.targetCpuUtilization", "0 is not allowed"],
        ["probes.readiness.successThreshold", "0 is not allowed"],
        ["ingress.path", `"api"`],
        ["availability.pdbMaxUnavailable", "-1 is not allowed"],
        ["resources.requests.cpu", "requests.cpu 4 is above limits.cpu 3"],
        ["resources.requests.memory", "requests.memory 7Gi is above limits.memory 6Gi"],
        ["autoscaling.minReplicas", "minReplicas 6 is above maxReplicas 5"],
      ],
    );
  });
});

const TYPES = "LoadBalancer, NodePort, ClusterIP";
const NOT_A_LABEL = "is not a DNS label";

describe("IngressController", () => {
  const base = controllerArgs("baseline");
  const OUT_OF_RANGE: [path: string, value: unknown, reason: string][] = [
    ["namespace", "", `"" ${NOT_A_LABEL}`],
    ["namespace", "Ingress_Nginx", `"Ingress_Nginx" ${NOT_A_LABEL}`],
    ["className", " ", `" " is not an IngressClass name`],
    ["serviceType", "Ingress", `"Ingress" is not allowed: must be one of ${TYPES}`],
  ];
  it.each(OUT_OF_RANGE)("rejects %s = %j, registering nothing", async (path, value, reason) => {
    await expectRejected(
      () => new IngressController("bad", withValue(base, path, value)),
      [[path, reason]],
    );
  });

  it("reports several violations together", async () => {
    await expectRejected(
      () =>
        new IngressController("bad", {
          namespace: "",
          className: "",
          serviceType: "External",
        } as Loose),
      [
        ["namespace", `""`],
        ["className", `""`],
        ["serviceType", `"External"`],
      ],
    );
  });
});

describe("TraefikController", () => {
  const base: TraefikControllerArgs = {
    namespace: "traefik",
    serviceType: "LoadBalancer",
    gateway: { name: "food11" },
  };
  const CASES: { why: string; args: Loose; want: Want[] }[] = [
    {
      why: "a namespace that is no DNS label",
      args: { ...base, namespace: "Traefik" },
      want: [["namespace", `"Traefik" ${NOT_A_LABEL}`]],
    },
    {
      why: "a Gateway name that is no DNS label",
      args: { ...base, gateway: { name: "food_11" } },
      want: [["gateway.name", `"food_11" ${NOT_A_LABEL}`]],
    },
    {
      why: "an IngressClass name that is none",
      args: { ...base, ingressNginxClassName: "NGINX" },
      want: [["ingressNginxClassName", `"NGINX" is not an IngressClass name`]],
    },
    {
      why: "no route kind to serve, and an unknown Service type",
      args: { namespace: "traefik", serviceType: "Ingress" },
      want: [
        ["gateway", "neither ingressNginxClassName nor gateway is given"],
        ["serviceType", `"Ingress" is not allowed: must be one of ${TYPES}`],
      ],
    },
  ];
  it.each(CASES)("rejects $why, registering nothing", async ({ args, want }) => {
    await expectRejected(() => new TraefikController("bad", args), want);
  });
});
