/**
 * The real engine end to end: for each strategy stack, `pulumi up` against a loopback Kubernetes
 * control plane (kube-apiserver + controller-manager + scheduler + etcd, kwok fake nodes), read
 * the objects back from the API server, then change strategy1's values to strategy2's and check
 * `pulumi preview --diff` names exactly the changed fields, apply them in place, destroy
 * everything, and render a stack to YAML. Run by scripts/e2e/run.sh (`npm run test:e2e`), which
 * builds the toolchain and starts the cluster; this file needs KUBECONFIG and the built toolchain.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Container, V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify as stringifyYaml } from "yaml";
import { cpuMillicores, memoryBytes } from "../../components/quantity";
import { listFiles, toolchain } from "../../lib/e2e/engine";
import { readStackFile, runtimeEnv, STACKS, type StackSettings } from "../../stacks";
import {
  type Clients,
  clients,
  engine,
  httpRoute,
  ingressStatusWriter,
  maybe,
  ROOT,
  until,
} from "./helpers";

/** A prebuilt, digest-pinned image reference: kwok runs no container, so it is never pulled. */
const IMAGE = `registry.example.com/food11-classifier@sha256:${"ab".repeat(32)}`;
/** Config the e2e adds to every stack: deploy the prebuilt image, install no ingress controller. */
const E2E_CONFIG = { "food11:imageRef": IMAGE, "food11:ingressController": "none" };

const kubeconfig = process.env.KUBECONFIG ?? "";
const work = mkdtempSync(join(tmpdir(), "food11-e2e-"));
const logFile = join(work, "engine.log");
let c: Clients;

/** The settings the program sees for a stack under the e2e's config. */
function settingsFor(stack: string, configFile?: string): StackSettings {
  return readStackFile(stack, configFile, E2E_CONFIG);
}

function configArgs(): string[] {
  return Object.entries(E2E_CONFIG).flatMap(([k, v]) => ["--config", `${k}=${v}`]);
}

async function up(stack: string, extra: string[] = []) {
  const ns = settingsFor(stack).namespace.name;
  const stopWriter = ingressStatusWriter(c, ns);
  try {
    const r = await engine(
      "up",
      ["--stack", stack, "--work", join(work, stack), ...configArgs(), ...extra],
      work,
      logFile,
    );
    const patched = await stopWriter();
    return { ...r, ingressStatusPatched: patched };
  } catch (err) {
    await stopWriter();
    throw err;
  }
}

function container(d: V1Deployment): V1Container {
  const ctr = d.spec?.template.spec?.containers[0];
  if (!ctr) throw new Error(`deployment ${d.metadata?.name} has no container`);
  return ctr;
}

const LABELS = (stack: string) => ({
  "app.kubernetes.io/name": "food11-classifier",
  "app.kubernetes.io/instance": stack,
  "app.kubernetes.io/component": "inference",
  "app.kubernetes.io/part-of": "food11",
  "app.kubernetes.io/managed-by": "pulumi",
});

interface Live {
  uids: Record<string, string>;
}

/** Read the six objects back and check them against the stack's settings. */
async function expectLive(
  stack: string,
  s: StackSettings,
  outputs: Record<string, unknown>,
): Promise<Live> {
  const ns = s.namespace.name;
  expect(outputs.namespace).toBe(ns);
  expect(outputs.image).toBe(IMAGE);

  const dep = await c.apps.readNamespacedDeployment({
    name: String(outputs.deploymentName),
    namespace: ns,
  });
  expect(dep.metadata?.labels).toMatchObject(LABELS(stack));
  const ctr = container(dep);
  expect(ctr.image).toBe(IMAGE);
  const res = ctr.resources ?? {};
  expect(cpuMillicores(String(res.requests?.cpu))).toBe(cpuMillicores(s.resources.requests.cpu));
  expect(memoryBytes(String(res.requests?.memory))).toBe(memoryBytes(s.resources.requests.memory));
  expect(cpuMillicores(String(res.limits?.cpu))).toBe(cpuMillicores(s.resources.limits.cpu));
  expect(memoryBytes(String(res.limits?.memory))).toBe(memoryBytes(s.resources.limits.memory));
  expect(memoryBytes(String(res.requests?.["ephemeral-storage"]))).toBe(
    memoryBytes(s.resources.requests.ephemeralStorage),
  );
  expect(memoryBytes(String(res.limits?.["ephemeral-storage"]))).toBe(
    memoryBytes(s.resources.limits.ephemeralStorage),
  );
  expect(dep.spec?.template.spec?.topologySpreadConstraints).toMatchObject([
    { topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", maxSkew: 1 },
  ]);
  expect(ctr.readinessProbe?.successThreshold).toBe(s.probes.readiness.successThreshold);
  expect(ctr.readinessProbe?.periodSeconds).toBe(s.probes.readiness.periodSeconds);
  expect(ctr.readinessProbe?.failureThreshold).toBe(s.probes.readiness.failureThreshold);
  // The probes on the admin listener; the container names both ports.
  for (const probe of [ctr.readinessProbe, ctr.livenessProbe, ctr.startupProbe]) {
    expect(probe?.httpGet?.port).toBe("admin");
  }
  expect(ctr.ports?.map((p) => [p.name, p.containerPort])).toEqual([
    ["http", 8080],
    ["admin", 8081],
  ]);
  const env = Object.fromEntries((ctr.env ?? []).map((e) => [e.name, e.value]));
  expect(env).toMatchObject(runtimeEnv(s));
  // Available: kwok marks the pods Ready on its fake nodes.
  expect(dep.status?.conditions?.find((x) => x.type === "Available")?.status).toBe("True");
  expect(dep.status?.readyReplicas ?? 0).toBeGreaterThanOrEqual(1);

  const hpa = await c.autoscaling.readNamespacedHorizontalPodAutoscaler({
    name: String(outputs.hpaName),
    namespace: ns,
  });
  expect(hpa.spec?.scaleTargetRef).toMatchObject({ kind: "Deployment", name: dep.metadata?.name });
  expect(hpa.spec?.minReplicas).toBe(s.autoscaling.minReplicas);
  expect(hpa.spec?.maxReplicas).toBe(s.autoscaling.maxReplicas);
  const cpuMetric = hpa.spec?.metrics?.find((m) => m.resource?.name === "cpu");
  expect(cpuMetric?.resource?.target).toMatchObject({
    type: "Utilization",
    averageUtilization: s.autoscaling.targetCpuUtilization,
  });

  const svc = await c.core.readNamespacedService({
    name: String(outputs.serviceName),
    namespace: ns,
  });
  expect(svc.spec?.selector).toMatchObject({
    "app.kubernetes.io/name": "food11-classifier",
    "app.kubernetes.io/instance": stack,
  });
  // The API port only (food11:monitoring annotations: no metrics port).
  expect(svc.spec?.ports?.map((p) => [p.name, p.targetPort])).toEqual([["http", "http"]]);

  const ing = await c.networking.readNamespacedIngress({
    name: String(outputs.ingressName),
    namespace: ns,
  });
  expect(ing.spec?.ingressClassName).toBe(s.ingress.className);
  const paths = (ing.spec?.rules ?? []).flatMap((r) => r.http?.paths ?? []);
  // The API's paths exactly (and the upload page's /); under another prefix ingress-nginx's
  // rewrite regex `<prefix>/(predict|test)?$` (the ? for the page at <prefix>/).
  const prefix = s.ingress.path.replace(/\/+$/, "");
  const page = s.server.uploadPage;
  expect(paths.map((p) => [p.path, p.pathType])).toEqual(
    prefix === ""
      ? ["/predict", "/test", ...(page ? ["/"] : [])].map((p) => [p, "Exact"])
      : [[`${prefix}/(predict|test)${page ? "?" : ""}$`, "ImplementationSpecific"]],
  );
  expect(paths.every((p) => p.backend.service?.port?.name === "http")).toBe(true);
  expect(paths.every((p) => p.backend.service?.name === svc.metadata?.name)).toBe(true);
  if (s.ingress.host) expect(ing.spec?.rules?.map((r) => r.host)).toContain(s.ingress.host);

  const pdb = await c.policy.readNamespacedPodDisruptionBudget({
    name: String(outputs.pdbName),
    namespace: ns,
  });
  expect(pdb.spec?.maxUnavailable).toBe(s.availability.pdbMaxUnavailable);
  expect(pdb.spec?.selector?.matchLabels).toMatchObject({ "app.kubernetes.io/instance": stack });

  // The NetworkPolicy, as the API server stored it: it selects the Deployment's pods and covers
  // both directions (kwok runs no pods, so nothing enforces it here: docs/e2e.md).
  expect(s.networkPolicy).toBeDefined();
  const netpol = await c.networking.readNamespacedNetworkPolicy({
    name: String(outputs.networkPolicyName),
    namespace: ns,
  });
  expect(netpol.metadata?.labels).toMatchObject(LABELS(stack));
  expect(dep.spec?.template.metadata?.labels).toMatchObject(
    netpol.spec?.podSelector?.matchLabels ?? { none: "" },
  );
  expect(netpol.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
  // The ingress controller's namespace to the API port, the monitoring namespace to the admin port.
  expect(
    netpol.spec?.ingress?.map((rule) => [
      rule._from?.map((p) => p.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"]),
      rule.ports?.map((p) => p.port),
    ]),
  ).toEqual([
    [s.networkPolicy?.apiFromNamespaces, ["http"]],
    [s.networkPolicy?.adminFromNamespaces, ["admin"]],
  ]);

  return {
    uids: {
      deployment: dep.metadata?.uid ?? "",
      hpa: hpa.metadata?.uid ?? "",
      service: svc.metadata?.uid ?? "",
      ingress: ing.metadata?.uid ?? "",
      pdb: pdb.metadata?.uid ?? "",
      networkPolicy: netpol.metadata?.uid ?? "",
    },
  };
}

/** A rendered manifest: kind and metadata read generically, the rest by kind. */
interface Manifest {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

const deployed: Record<string, { outputs: Record<string, unknown>; live: Live }> = {};

describe.sequential("real Pulumi engine on a loopback Kubernetes (kwok)", () => {
  beforeAll(() => {
    if (!kubeconfig)
      throw new Error(
        "KUBECONFIG is not set: run the e2e with scripts/e2e/run.sh (npm run test:e2e)",
      );
    toolchain(); // throws with the build step to run if a binary is missing
    c = clients(kubeconfig);
    mkdirSync(work, { recursive: true });
    process.stdout.write(`e2e: scratch ${work}; engine log ${logFile}; API server ${c.server}\n`);
  });

  afterAll(async () => {
    // Leave nothing behind even when a test failed midway (destroy is idempotent).
    for (const stack of STACKS) {
      if (deployed[stack])
        await engine(
          "destroy",
          ["--stack", stack, "--work", join(work, stack)],
          work,
          logFile,
        ).catch(() => undefined);
    }
  });

  for (const stack of STACKS) {
    it(`pulumi up ${stack}: Deployment, HPA, Service, Ingress, PDB, NetworkPolicy carry the stack's values; Deployment Available`, async () => {
      const r = await up(stack);
      expect(r.error, `see ${logFile}`).toBeUndefined();
      // The user's command, run by the CLI through the Node.js language host.
      expect(r.command).toEqual([
        "up",
        "--yes",
        "--diff",
        "--stack",
        stack,
        "--non-interactive",
        "--color",
        "never",
      ]);
      expect(r.ok).toBe(true);
      expect(r.summary?.create ?? 0).toBeGreaterThanOrEqual(5);
      const live = await expectLive(stack, settingsFor(stack), r.outputs ?? {});
      deployed[stack] = { outputs: r.outputs ?? {}, live };
      process.stdout.write(
        `e2e: ${stack} up: ${JSON.stringify(r.summary)}; ingress status written by the test: ${r.ingressStatusPatched.join(",") || "none (skipAwait)"}\n`,
      );
    });
  }

  it("strategy1 -> strategy2 values: preview --diff names exactly the changed fields; up applies them in place", async () => {
    const before = deployed.strategy1;
    expect(before, "strategy1 must have been deployed").toBeDefined();
    if (!before) return;
    // strategy1's stack, with strategy2's stack file values.
    const s2Config = readFileSync(join(ROOT, "Pulumi.strategy2.yaml"), "utf8");
    const changedFile = join(work, "Pulumi.strategy1-as-strategy2.yaml");
    writeFileSync(changedFile, s2Config);
    const from = settingsFor("strategy1");
    const to = settingsFor("strategy1", join(ROOT, "Pulumi.strategy2.yaml"));
    // readStackConfig reads Pulumi.yaml beside the file: the copy above is only for the engine.

    const ns = from.namespace.name;
    const dep = await c.apps.readNamespacedDeployment({
      name: String(before.outputs.deploymentName),
      namespace: ns,
    });
    const ctr = "spec.template.spec.containers[0]";
    const envIndex = (name: string) => (container(dep).env ?? []).findIndex((e) => e.name === name);
    const expectedDeployment = new Set<string>();
    if (from.resources.limits.cpu !== to.resources.limits.cpu)
      expectedDeployment.add(`${ctr}.resources.limits.cpu`);
    if (from.resources.limits.memory !== to.resources.limits.memory)
      expectedDeployment.add(`${ctr}.resources.limits.memory`);
    if (from.resources.requests.cpu !== to.resources.requests.cpu)
      expectedDeployment.add(`${ctr}.resources.requests.cpu`);
    if (from.resources.requests.memory !== to.resources.requests.memory)
      expectedDeployment.add(`${ctr}.resources.requests.memory`);
    if (from.probes.readiness.successThreshold !== to.probes.readiness.successThreshold) {
      expectedDeployment.add(`${ctr}.readinessProbe.successThreshold`);
    }
    const envFrom = runtimeEnv(from);
    const envTo = runtimeEnv(to);
    for (const name of Object.keys(envTo)) {
      if (envFrom[name] !== envTo[name])
        expectedDeployment.add(`${ctr}.env[${envIndex(name)}].value`);
    }
    const expectedHpa = new Set<string>();
    if (from.autoscaling.targetCpuUtilization !== to.autoscaling.targetCpuUtilization) {
      expectedHpa.add("spec.metrics[0].resource.target.averageUtilization");
    }
    // The report's strategy1 -> strategy2 change: CPU target, successThreshold, memory request and
    // limits (and the runtime env derived from the limits).
    expect([...expectedHpa]).toEqual(["spec.metrics[0].resource.target.averageUtilization"]);
    expect(expectedDeployment.size).toBeGreaterThanOrEqual(4);

    const args = [
      "--stack",
      "strategy1",
      "--work",
      join(work, "strategy1"),
      "--config-file",
      changedFile,
      ...configArgs(),
    ];
    const preview = await engine("preview", args, work, logFile);
    expect(preview.error, `see ${logFile}`).toBeUndefined();
    const changed = preview.steps.filter((st) => st.op !== "same");
    const byType = Object.fromEntries(changed.map((st) => [st.type, st]));
    expect(changed.map((st) => `${st.type} ${st.op}`).sort()).toEqual([
      "kubernetes:apps/v1:Deployment update",
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler update",
    ]);
    expect(
      new Set(Object.keys(byType["kubernetes:apps/v1:Deployment"]?.detailedDiff ?? {})),
    ).toEqual(expectedDeployment);
    expect(
      new Set(
        Object.keys(
          byType["kubernetes:autoscaling/v2:HorizontalPodAutoscaler"]?.detailedDiff ?? {},
        ),
      ),
    ).toEqual(expectedHpa);
    // The --diff text a reviewer reads names the same fields.
    for (const leaf of ["averageUtilization", "successThreshold", "memory"])
      expect(preview.stdout).toContain(leaf);
    expect(preview.summary).toMatchObject({ update: 2 });
    expect(preview.command?.slice(0, 2)).toEqual(["preview", "--diff"]);
    process.stdout.write(
      `e2e: preview --diff (strategy1 -> strategy2 values):\n${preview.stdout}\n`,
    );

    const r = await up("strategy1", ["--config-file", changedFile]);
    expect(r.error, `see ${logFile}`).toBeUndefined();
    expect(r.summary).toMatchObject({ update: 2 });
    expect(r.summary?.create ?? 0).toBe(0);
    expect(r.summary?.delete ?? 0).toBe(0);
    expect(r.summary?.replace ?? 0).toBe(0);
    await until(
      async () => {
        const d = await c.apps.readNamespacedDeployment({
          name: String(before.outputs.deploymentName),
          namespace: ns,
        });
        return d.status?.conditions?.find((x) => x.type === "Available")?.status === "True";
      },
      60_000,
      "the updated Deployment to be Available",
    );
    const live = await expectLive("strategy1", to, r.outputs ?? {});
    expect(live.uids).toEqual(before.live.uids); // in place: same objects
  });

  it("strategy2 with food11:route gateway: preview --diff swaps the Ingress for an HTTPRoute; up stores it on the named Gateway, prefix rewritten; and back", async () => {
    expect(deployed.strategy2, "strategy2 must have been deployed").toBeDefined();
    const ns = settingsFor("strategy2").namespace.name;
    // A Gateway to attach to (kwok runs no controller: it stays without status or address).
    const gwNs = "e2e-gateways";
    await maybe(c.core.createNamespace({ body: { metadata: { name: gwNs } } }));
    const gateway = {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "food11", namespace: gwNs },
      spec: {
        gatewayClassName: "e2e",
        listeners: [
          {
            name: "web",
            protocol: "HTTP",
            port: 80,
            allowedRoutes: { namespaces: { from: "All" } },
          },
        ],
      },
    };
    await maybe(
      c.custom.createNamespacedCustomObject({
        group: "gateway.networking.k8s.io",
        version: "v1",
        namespace: gwNs,
        plural: "gateways",
        body: gateway,
      }),
    );
    const gatewayArgs = [
      "--config",
      "food11:route=gateway",
      "--config",
      `food11:gatewayNamespace=${gwNs}`,
      "--config",
      "food11:ingressPath=/s2",
    ];
    const args = [
      "--stack",
      "strategy2",
      "--work",
      join(work, "strategy2"),
      ...configArgs(),
      ...gatewayArgs,
    ];
    const preview = await engine("preview", args, work, logFile);
    expect(preview.error, `see ${logFile}`).toBeUndefined();
    const ops = preview.steps.filter((st) => st.op !== "same").map((st) => `${st.type} ${st.op}`);
    expect(ops).toContain("kubernetes:networking.k8s.io/v1:Ingress delete");
    expect(ops).toContain("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute create");
    // Nothing else changes: the workload stays as it is.
    expect(ops.filter((op) => !/(Ingress|HTTPRoute|Gateway) /.test(op))).toEqual([]);

    const r = await up("strategy2", gatewayArgs);
    expect(r.error, `see ${logFile}`).toBeUndefined();
    expect(r.outputs?.url).toBe("http://localhost/s2/");
    expect(r.outputs?.ingressName).toBeUndefined();
    expect((await c.networking.listNamespacedIngress({ namespace: ns })).items).toEqual([]);
    const route = await httpRoute(c, ns, String(r.outputs?.httpRouteName));
    expect(route.metadata?.labels).toMatchObject(LABELS("strategy2"));
    expect(route.spec).toMatchObject({
      parentRefs: [
        { group: "gateway.networking.k8s.io", kind: "Gateway", name: "food11", namespace: gwNs },
      ],
      // One rule per published path, exactly, the server's path set whole.
      rules: ["/predict", "/test", "/"].map((p) => ({
        matches: [{ path: { type: "Exact", value: `/s2${p}` } }],
        filters: [
          {
            type: "URLRewrite",
            urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: p } },
          },
        ],
        backendRefs: [{ name: String(deployed.strategy2?.outputs.serviceName), port: 80 }],
      })),
    });

    // Back to the Ingress: the HTTPRoute goes, the Ingress comes back.
    const back = await up("strategy2");
    expect(back.error, `see ${logFile}`).toBeUndefined();
    const routes = (await c.custom.listNamespacedCustomObject({
      group: "gateway.networking.k8s.io",
      version: "v1",
      namespace: ns,
      plural: "httproutes",
    })) as { items: unknown[] };
    expect(routes.items).toEqual([]);
    expect((await c.networking.listNamespacedIngress({ namespace: ns })).items).toHaveLength(1);
    await c.core.deleteNamespace({ name: gwNs });
  });

  it("pulumi destroy leaves none of the project's objects", async () => {
    for (const stack of STACKS) {
      const r = await engine(
        "destroy",
        ["--stack", stack, "--work", join(work, stack)],
        work,
        logFile,
      );
      expect(r.error, `see ${logFile}`).toBeUndefined();
      delete deployed[stack];
    }
    const selector = "app.kubernetes.io/part-of=food11";
    for (const stack of STACKS) {
      const ns = settingsFor(stack).namespace.name;
      await until(
        async () => (await maybe(c.core.readNamespace({ name: ns }))) === undefined,
        120_000,
        `namespace ${ns} to go`,
      );
    }
    expect(
      (await c.apps.listDeploymentForAllNamespaces({ labelSelector: selector })).items,
    ).toEqual([]);
    expect(
      (await c.autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector: selector }))
        .items,
    ).toEqual([]);
    expect((await c.core.listServiceForAllNamespaces({ labelSelector: selector })).items).toEqual(
      [],
    );
    expect(
      (await c.networking.listIngressForAllNamespaces({ labelSelector: selector })).items,
    ).toEqual([]);
    expect(
      (await c.policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector: selector })).items,
    ).toEqual([]);
    expect(
      (await c.networking.listNetworkPolicyForAllNamespaces({ labelSelector: selector })).items,
    ).toEqual([]);
    const left = (await c.core.listNamespace()).items
      .map((n) => n.metadata?.name)
      .filter((n) => n?.startsWith("food11-"));
    expect(left).toEqual([]);
  });

  it("npm run render -- strategy2 writes the stack's manifests as YAML", async () => {
    const out = join(work, "render-strategy2");
    const r = await engine("render", ["strategy2", "--out", out], work, logFile, true);
    expect(r.error, `see ${logFile}`).toBeUndefined();
    expect(r.exitCode).toBe(0);
    const files = listFiles(out);
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files.every((f) => f.endsWith(".yaml"))).toBe(true);
    const docs = files.flatMap((f) =>
      parseAllDocuments(readFileSync(join(out, f), "utf8")).map((d) => d.toJS() as Manifest),
    );
    const kinds = docs.map((d) => String(d.kind));
    for (const kind of [
      "Deployment",
      "HorizontalPodAutoscaler",
      "Service",
      "Ingress",
      "PodDisruptionBudget",
      "NetworkPolicy",
    ]) {
      expect(kinds).toContain(kind);
    }
    // The stack file as it is (no e2e overrides): strategy2's values.
    const s = readStackFile("strategy2");
    const dep = docs.find((d) => d.kind === "Deployment") as V1Deployment | undefined;
    const ctr = dep?.spec?.template?.spec?.containers?.[0];
    expect(memoryBytes(String(ctr?.resources?.requests?.memory))).toBe(
      memoryBytes(s.resources.requests.memory),
    );
    expect(memoryBytes(String(ctr?.resources?.limits?.memory))).toBe(
      memoryBytes(s.resources.limits.memory),
    );
    expect(cpuMillicores(String(ctr?.resources?.limits?.cpu))).toBe(
      cpuMillicores(s.resources.limits.cpu),
    );
    expect(ctr?.readinessProbe?.successThreshold).toBe(s.probes.readiness.successThreshold);
    const hpa = docs.find((d) => d.kind === "HorizontalPodAutoscaler") as
      | V2HorizontalPodAutoscaler
      | undefined;
    expect(hpa?.spec?.metrics?.[0]?.resource?.target?.averageUtilization).toBe(
      s.autoscaling.targetCpuUtilization,
    );
    for (const d of docs) {
      if (d.kind !== "Namespace") expect(d.metadata?.namespace).toBe(s.namespace.name);
    }
    // Rendered with KUBECONFIG naming the live cluster: nothing reached it.
    expect(await maybe(c.core.readNamespace({ name: s.namespace.name }))).toBeUndefined();
    process.stdout.write(
      `e2e: render strategy2 -> ${files.length} files:\n${stringifyYaml(files)}`,
    );
  });
});
