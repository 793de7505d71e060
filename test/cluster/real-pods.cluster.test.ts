/**
 * Real pods (npm run test:cluster): the program, through the Pulumi CLI and its language host as
 * users run it, against the local single-node cluster of scripts/cluster/cluster.sh — a real
 * kubelet, containerd and runc, metrics-server, kube-proxy and Traefik, the image built by
 * `docker.Image` from app/ and pulled by digest from the local registry.
 *
 * For every stack: `pulumi up` builds, pushes and deploys; the pods become Ready under enforced
 * restricted Pod Security; the node's /proc and cgroups say what the server really runs with;
 * /test and /predict answer through the ingress controller, the Service and the pod, /metrics,
 * /healthz and /readyz do not (404: the route publishes the API's paths, the admin listener has
 * its own port), while the pod's admin port serves them inside the node, the probes on it pass
 * and the monitor reads the pod's usage from metrics.k8s.io; a second `up` is no diff. On strategy1, under a bounded loopback load: the HPA scales out on real
 * metrics, a pod deleted under load, the scale-down, then strategy1 → strategy2 rolled out; all
 * counting failed requests. Finally `destroy` leaves nothing and the image stays in the registry.
 * Then strategy1 switched to `food11:inferenceEngine onnxruntime` (issue 28): `pulumi preview
 * --diff` shows the new image and TFJS_BACKEND only, `up` builds the ONNX Runtime image and its pod
 * is Ready under restricted Pod Security, /test answers on onnxruntime through the ingress, and the
 * HPA scales it out under load and back in, with no failed request.
 *
 * Needs: KUBECONFIG of that cluster, the built toolchain (pulumi, providers), root (it reads the
 * node's /proc and enters its network namespace). Figures go to $FOOD11_CLUSTER_REPORT (JSON).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpuMillicores, memoryBytes } from "../../components/quantity";
import { clusterEngineArgs, clusterStackConfig, clusterVersions } from "../../lib/cluster/stack";
import { toolchain } from "../../lib/e2e/engine";
import { readStackFile, runtimeEnv, STACKS, type StackSettings } from "../../stacks";
import { FormData, fetch } from "../../tools/strategy-bench/src/http.js";
import { kubernetesSampler } from "../../tools/strategy-bench/src/monitor";
import { describeOutcomes, failures, Load } from "../../tools/strategy-bench/src/steady-load.js";
import { type Clients, clients, engine, httpRoute, ROOT, until } from "../e2e/helpers";
import { containerPid, inNode, namespaceDeleted, podEphemeralBytes, processFacts } from "./helpers";

const S = clusterVersions();
const kubeconfig = process.env.KUBECONFIG ?? "";
/** Traefik on loopback; at port 80 it is the stacks' `url` output as is (checked below). */
const INGRESS = `http://127.0.0.1${S.INGRESS_PORT === "80" ? "" : `:${S.INGRESS_PORT}`}/`;
const REGISTRY = `127.0.0.1:${S.REGISTRY_PORT}`;
const work = mkdtempSync(join(tmpdir(), "food11-cluster-"));
const logFile = join(work, "engine.log");
/** What every stack gets here: the base image made here; build from this checkout's app/. */
const CLUSTER_CONFIG: Record<string, string> = clusterStackConfig(S, ROOT);
/**
 * strategy1 as the load steps run it (stated in docs/e2e.md): one 2-core node fits two pods of
 * requests.cpu 1, so maxReplicas 2; scale-down stabilization 30 s instead of 300 s so that the
 * scale-down is seen within the test.
 */
const LOAD_CONFIG: Record<string, string> = {
  "food11:maxReplicas": "2",
  "food11:scaleDownStabilizationSeconds": "30",
};
const figures: Record<string, unknown> = {};
let c: Clients;

function settingsFor(stack: string, extra: Record<string, string> = {}, file?: string) {
  return readStackFile(stack, file, { ...CLUSTER_CONFIG, ...extra });
}
function args(stack: string, extra: Record<string, string> = {}, file?: string): string[] {
  return clusterEngineArgs(stack, join(work, stack), extra, file, CLUSTER_CONFIG);
}
async function pulumiUp(stack: string, extra: Record<string, string> = {}, file?: string) {
  const t0 = Date.now();
  const r = await engine("up", args(stack, extra, file), work, logFile);
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

/**
 * `pulumi up` of `stack` with `config`, then a load of 8 users with no think time on /test through
 * the ingress for `seconds`, until the HPA has made 2 pods Ready. Records how long that took and
 * the CPU utilization the HPA acted on (`${key}.scale_up_seconds_to_2_ready`,
 * `${key}.cpu_utilization_at_scale_up`), which must be over the stack's target.
 */
async function upAndScaleOut(
  stack: string,
  s: StackSettings,
  config: Record<string, string>,
  seconds: number,
  key: string,
) {
  const r = await pulumiUp(stack, config);
  expect(r.ok, r.error).toBe(true);
  const dep = String(r.outputs?.deploymentName);
  const load = new Load(`${INGRESS}test`, 8, 0, seconds);
  const t0 = load.now();
  await until(
    async () => (await deploymentOf(s, dep)).status?.readyReplicas === 2,
    240_000,
    `the HPA to scale ${dep} (${stack}) to 2 ready replicas`,
  );
  const tScaled = load.now();
  const hpa = await c.autoscaling.readNamespacedHorizontalPodAutoscaler({
    name: String(r.outputs?.hpaName),
    namespace: s.namespace.name,
  });
  const cpuNow = hpa.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
  figures[`${key}.scale_up_seconds_to_2_ready`] = (tScaled - t0) / 1000;
  figures[`${key}.cpu_utilization_at_scale_up`] = cpuNow;
  expect(cpuNow ?? 0).toBeGreaterThan(s.autoscaling.targetCpuUtilization);
  return { dep, load };
}

/**
 * Waits for the HPA to bring `dep` back to 1 replica; records how long it took and the HPA's
 * events (`${key}.scale_down_seconds`, `${key}.events`).
 */
async function scaledIn(stack: string, s: StackSettings, dep: string, key: string) {
  const t0 = Date.now();
  await until(
    async () => (await deploymentOf(s, dep)).status?.replicas === 1,
    300_000,
    `the HPA to scale ${dep} (${stack}) back to 1 replica`,
  );
  figures[`${key}.scale_down_seconds`] = (Date.now() - t0) / 1000;
  figures[`${key}.events`] = await hpaEvents(s);
}

async function podsOf(s: StackSettings): Promise<V1Pod[]> {
  // The namespace holds the stack's Deployment only.
  const list = await c.core.listNamespacedPod({ namespace: s.namespace.name });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}
const isReady = (p: V1Pod) =>
  p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false;

async function deploymentOf(s: StackSettings, name: string) {
  return c.apps.readNamespacedDeployment({ name, namespace: s.namespace.name });
}
async function replicaSets(s: StackSettings): Promise<string[]> {
  const l = await c.apps.listNamespacedReplicaSet({ namespace: s.namespace.name });
  return l.items
    .filter((r) => (r.spec?.replicas ?? 0) > 0)
    .map((r) => r.metadata?.name ?? "")
    .sort();
}
async function hpaEvents(s: StackSettings): Promise<string[]> {
  const l = await c.core.listNamespacedEvent({ namespace: s.namespace.name });
  return l.items
    .filter((e) => e.involvedObject?.kind === "HorizontalPodAutoscaler")
    .map(
      (e) => `${e.lastTimestamp?.toISOString?.() ?? e.eventTime ?? ""} ${e.reason}: ${e.message}`,
    );
}

/** A JPEG of the repo's test fixtures for /predict. */
function sampleImage(): Buffer {
  return readFileSync(join(ROOT, "app", "assets", "test.jpg"));
}

beforeAll(() => {
  if (!kubeconfig) throw new Error("KUBECONFIG is not set: run npm run test:cluster");
  const t = toolchain();
  if (!t.dockerProviderBinary)
    throw new Error(
      "the Pulumi Docker provider is not built: scripts/e2e/build.sh docker-provider",
    );
  c = clients(kubeconfig);
  process.stdout.write(`cluster: scratch ${work}; engine log ${logFile}\n`);
});

afterAll(() => {
  const out = process.env.FOOD11_CLUSTER_REPORT ?? join(work, "figures.json");
  writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`cluster: figures in ${out}\n`);
});

describe.each(STACKS)("%s on a real node", (stack) => {
  const s = settingsFor(stack);
  const ns = s.namespace.name;
  let outputs: Record<string, unknown> = {};

  it("pulumi up builds and pushes the image, deploys it by digest, and the pod becomes Ready under restricted Pod Security", async () => {
    const r = await pulumiUp(stack);
    expect(r.ok, r.error).toBe(true);
    outputs = r.outputs ?? {};
    const image = String(outputs.image);
    expect(image).toMatch(
      new RegExp(`^localhost:${S.REGISTRY_PORT}/food11-classifier@sha256:[a-f0-9]{64}$`),
    );
    const nsObj = await c.core.readNamespace({ name: ns });
    expect(nsObj.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const pods = await podsOf(s);
    expect(pods.length).toBe(1);
    const pod = pods[0] as V1Pod;
    expect(isReady(pod)).toBe(true);
    expect(pod.spec?.nodeName).toBe(S.NODE_NAME);
    expect(pod.spec?.containers[0]?.image).toBe(image);
    const created = pod.metadata?.creationTimestamp
      ? new Date(pod.metadata.creationTimestamp)
      : undefined;
    const ready = pod.status?.conditions?.find((x) => x.type === "Ready")?.lastTransitionTime;
    figures[`${stack}.up_seconds`] = r.seconds;
    if (created && ready)
      figures[`${stack}.pod_ready_seconds`] =
        (new Date(ready).getTime() - created.getTime()) / 1000;
  });

  it("inside the node, the server runs as 10001 with no capabilities, a read-only root, the stack's CPU quota, memory limit and derived env", () => {
    // The pod read in the previous test is the one running: re-read and inspect its container.
    return (async () => {
      const pod = (await podsOf(s))[0] as V1Pod;
      const cid = pod.status?.containerStatuses?.[0]?.containerID ?? "";
      const facts = processFacts(containerPid(cid));
      expect(facts.cmdline).toEqual(["node", "dist/server.js"]);
      expect(facts.uid).toBe(10001);
      expect(facts.gid).toBe(10001);
      expect(facts.capEff).toBe("0000000000000000");
      expect(facts.noNewPrivs).toBe(1);
      expect(facts.seccomp).toBe(2); // filter mode: RuntimeDefault
      expect(facts.rootReadOnly).toBe(true);
      expect(facts.memoryLimitBytes).toBe(memoryBytes(s.resources.limits.memory));
      expect(facts.cpuQuotaMicros).toBe(
        (cpuMillicores(s.resources.limits.cpu) * facts.cpuPeriodMicros) / 1000,
      );
      const env = runtimeEnv(s);
      for (const k of ["INFERENCE_THREADS", "NODE_OPTIONS", "SHUTDOWN_GRACE_SECONDS"]) {
        expect(facts.env[k], k).toBe(env[k]);
      }
      figures[`${stack}.process`] = {
        uid: facts.uid,
        capEff: facts.capEff,
        rootReadOnly: facts.rootReadOnly,
        memoryLimitBytes: facts.memoryLimitBytes,
        cpuQuota: `${facts.cpuQuotaMicros}/${facts.cpuPeriodMicros}`,
        INFERENCE_THREADS: facts.env.INFERENCE_THREADS,
        NODE_OPTIONS: facts.env.NODE_OPTIONS,
      };
    })();
  });

  it("/test and /predict answer through the ingress controller; the Service's ClusterIP answers inside the node", async () => {
    const url = String(outputs.url ?? "");
    expect(url).toBe("http://127.0.0.1/");
    const t = await fetch(`${INGRESS}test`);
    expect(t.status).toBe(200);
    const tb = (await t.json()) as {
      label?: string;
      top?: { label: string }[];
      model?: { backend?: string };
    };
    expect(typeof tb.label).toBe("string");
    // the image is the tfjs-node image (libtensorflow from the wheel here: clusterStackConfig)
    expect(tb.model?.backend).toBe("tensorflow");
    const form = new FormData();
    form.append("file", new Blob([sampleImage()], { type: "image/jpeg" }), "test.jpg");
    const p = await fetch(`${INGRESS}predict?topk=3`, { method: "POST", body: form });
    expect(p.status).toBe(200);
    const pb = (await p.json()) as { top?: unknown[] };
    expect(pb.top?.length).toBe(3);
    const svc = await c.core.readNamespacedService({
      name: String(outputs.serviceName),
      namespace: ns,
    });
    const port = svc.spec?.ports?.[0]?.port ?? 80;
    const body = inNode(S.NODE_NETNS ?? "", [
      "curl",
      "-sf",
      `http://${svc.spec?.clusterIP}:${port}/test`,
    ]);
    expect(typeof (JSON.parse(body) as { label?: string }).label).toBe("string");
  });

  it("the admin port: /metrics, /healthz, /readyz are 404 through the ingress, served on the pod's admin port inside the node; the probes use it and pass; the monitor reads metrics.k8s.io", async () => {
    // Through the ingress: the route publishes /predict, /test and / only.
    const status = async (path: string) => (await fetch(`${INGRESS}${path}`)).status;
    const throughIngress = {
      metrics: await status("metrics"),
      healthz: await status("healthz"),
      readyz: await status("readyz"),
      page: await status(""),
    };
    expect(throughIngress).toEqual({ metrics: 404, healthz: 404, readyz: 404, page: 200 });
    // The Service publishes the API port only (food11:monitoring annotations).
    const svc = await c.core.readNamespacedService({
      name: String(outputs.serviceName),
      namespace: ns,
    });
    expect(svc.spec?.ports?.map((p) => [p.name, p.targetPort])).toEqual([["http", "http"]]);
    // Inside the node, at the pod's IP: the admin port serves /metrics and the probes' routes,
    // the API port does not.
    const pod = (await podsOf(s))[0] as V1Pod;
    const ip = pod.status?.podIP ?? "";
    const curl = (url: string) =>
      inNode(S.NODE_NETNS ?? "", ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url]);
    const metrics = inNode(S.NODE_NETNS ?? "", ["curl", "-sf", `http://${ip}:8081/metrics`]);
    expect(metrics).toMatch(/inference_backend_info\{backend="tensorflow",threads="\d+"\} 1/);
    expect(metrics).toMatch(/^model_ready 1$/m);
    const inside = {
      adminHealthz: curl(`http://${ip}:8081/healthz`),
      adminReadyz: curl(`http://${ip}:8081/readyz`),
      adminTest: curl(`http://${ip}:8081/test`),
      apiMetrics: curl(`http://${ip}:8080/metrics`),
    };
    expect(inside).toEqual({
      adminHealthz: "200",
      adminReadyz: "200",
      adminTest: "404",
      apiMetrics: "404",
    });
    // The pod's prometheus.io/* annotations name the admin port.
    expect(pod.metadata?.annotations?.["prometheus.io/port"]).toBe("8081");
    // The kubelet's probes target the admin port and pass: Ready, never restarted.
    const ctr = pod.spec?.containers[0];
    for (const probe of [ctr?.startupProbe, ctr?.readinessProbe, ctr?.livenessProbe]) {
      expect(probe?.httpGet?.port).toBe("admin");
    }
    expect(isReady(pod)).toBe(true);
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    // strategy-bench monitor reads pods and metrics.k8s.io (metrics-server, from the kubelet),
    // never the server's /metrics: one pod, its usage known.
    const sample = await kubernetesSampler({
      namespace: ns,
      labelSelector: String(outputs.labelSelector),
      kubeconfig,
    });
    let row = await sample();
    await until(
      async () => {
        row = await sample();
        return Number.isFinite(row.cpuUsed) && Number.isFinite(row.memUsedKB);
      },
      120_000,
      "metrics.k8s.io to report the pod's usage",
    );
    expect(row.replicas).toBe(1);
    expect(row.memUsedKB).toBeGreaterThan(0);
    figures[`${stack}.admin`] = { throughIngress, inside, monitor: row };
  });

  it("a second pulumi up with nothing changed is no diff: no rebuild, same digest, same ReplicaSet", async () => {
    const before = await replicaSets(s);
    const r = await pulumiUp(stack);
    expect(r.ok, r.error).toBe(true);
    const changed = Object.entries(r.summary ?? {}).filter(([op, n]) => op !== "same" && n > 0);
    expect(changed).toEqual([]);
    expect(r.outputs?.image).toBe(outputs.image);
    expect(await replicaSets(s)).toEqual(before);
    figures[`${stack}.noop_up_seconds`] = r.seconds;
  });

  if (stack === "strategy1") {
    it("under load the HPA scales out on real metrics; a pod deleted under load and the scale-down cost no failed request; strategy1 → strategy2 rolls out under load with none", async () => {
      const s1 = settingsFor(stack, LOAD_CONFIG);
      // 4. Load (stops by itself in 6 min); the HPA scales out to 2 Ready pods.
      const { dep, load } = await upAndScaleOut(stack, s1, LOAD_CONFIG, 360, "hpa");

      // 6. Delete one pod of two under load.
      const victims = (await podsOf(s1)).filter(isReady);
      const victim = victims[0]?.metadata?.name ?? "";
      const tKill = load.now();
      await c.core.deleteNamespacedPod({ name: victim, namespace: ns });
      await until(
        async () => {
          const pods = await podsOf(s1);
          return (
            pods.filter(isReady).length === 2 && !pods.some((p) => p.metadata?.name === victim)
          );
        },
        240_000,
        "a replacement for the deleted pod",
      );
      const tReplaced = load.now();
      const killWindow = load.window(tKill, tReplaced);
      figures["kill.window"] = describeOutcomes(killWindow);
      figures["kill.replacement_ready_seconds"] = (tReplaced - tKill) / 1000;
      const duringScale = load.window(0, tKill);
      figures["hpa.scale_up_window"] = describeOutcomes(duringScale);
      await load.stop();

      // What the server writes (the size of food11:ephemeralStorageRequest): after minutes of
      // load, each pod's logs and /tmp stay far below its ephemeral-storage request.
      const storage: Record<string, { logs: number; emptyDir: number }> = {};
      for (const pod of await podsOf(s1)) {
        const m = pod.metadata ?? {};
        storage[String(m.name)] = podEphemeralBytes(ns, String(m.name), String(m.uid));
      }
      figures["ephemeral.after_load_bytes"] = storage;
      figures["ephemeral.requests_served"] = load.outcomes.length;
      for (const [pod, used] of Object.entries(storage)) {
        expect(used.logs + used.emptyDir, pod).toBeLessThan(
          memoryBytes(s1.resources.requests.ephemeralStorage),
        );
      }

      // 4b. After the load: back to one replica (30 s stabilization).
      await scaledIn(stack, s1, dep, "hpa");
      expect(failures(duringScale)).toEqual([]);
      expect(failures(killWindow).length).toBe(0);

      // 5. strategy1 → strategy2 under a steady light load (2 users, 200 ms think time). The
      //    node's two CPUs fit the surge pod beside the old one only at one replica: maxReplicas 1.
      const s2file = join(ROOT, "Pulumi.strategy2.yaml");
      const rolloutCfg = { ...LOAD_CONFIG, "food11:maxReplicas": "1" };
      const to = settingsFor(stack, rolloutCfg, s2file);
      const rsBefore = await replicaSets(s1);
      const light = new Load(`${INGRESS}test`, 2, 200, 420);
      const r = await pulumiUp(stack, rolloutCfg, s2file);
      await new Promise((res) => setTimeout(res, 10_000));
      await light.stop();
      figures["rollout.seconds"] = r.seconds;
      figures["rollout.window"] = describeOutcomes(light.outcomes);
      expect(r.ok, r.error).toBe(true);
      const rsAfter = await replicaSets(to);
      expect(rsAfter).not.toEqual(rsBefore);
      const d = await deploymentOf(to, dep);
      const ctr = d.spec?.template.spec?.containers[0];
      // The API server writes quantities canonically (4.5Gi reads back as 4608Mi).
      expect(memoryBytes(ctr?.resources?.requests?.memory ?? "0")).toBe(
        memoryBytes(to.resources.requests.memory),
      );
      expect(ctr?.readinessProbe?.successThreshold).toBe(to.probes.readiness.successThreshold);
      expect(failures(light.outcomes)).toEqual([]);
    });
  }

  if (stack === "baseline") {
    it("through Traefik, both routes: an Ingress under a prefix (NGINX provider: rewrite honoured) and an HTTPRoute on the Gateway (URLRewrite), each stripping the prefix", async () => {
      const body = async (path: string) => {
        const res = await fetch(`${INGRESS}${path}`);
        return {
          status: res.status,
          json:
            res.status === 200
              ? ((await res.json()) as { label?: string; model?: { backend?: string } })
              : undefined,
        };
      };
      // 1. The Ingress at /baseline: the server has no /baseline route, so a 200 at
      //    /baseline/test means the prefix was stripped; the root no longer routes here.
      const r1 = await pulumiUp(stack, { "food11:ingressPath": "/baseline" });
      expect(r1.ok, r1.error).toBe(true);
      expect(r1.outputs?.url).toBe(`${INGRESS}baseline/`);
      const t1 = await until(
        async () => (await body("baseline/test")).status === 200,
        60_000,
        "the Ingress at /baseline to route",
      ).then(() => body("baseline/test"));
      expect(typeof t1.json?.label).toBe("string");
      expect((await body("test")).status).toBe(404);
      // the page at <prefix>/; no admin path under the prefix
      expect((await fetch(`${INGRESS}baseline/`)).status).toBe(200); // the upload page (HTML)
      for (const p of ["metrics", "healthz", "readyz"]) {
        expect((await body(`baseline/${p}`)).status, `/baseline/${p}`).toBe(404);
      }

      // 2. The HTTPRoute at /gw on the cluster's Gateway: the Ingress goes, the route is accepted
      //    by Traefik, /gw/test answers, and the url comes from the Gateway's status address.
      const r2 = await pulumiUp(stack, { "food11:route": "gateway", "food11:ingressPath": "/gw" });
      expect(r2.ok, r2.error).toBe(true);
      expect(r2.outputs?.url).toBe(`${INGRESS}gw/`);
      expect(r2.outputs?.ingressName).toBeUndefined();
      expect((await c.networking.listNamespacedIngress({ namespace: ns })).items).toEqual([]);
      await until(
        async () => (await body("gw/test")).status === 200,
        60_000,
        "the HTTPRoute at /gw to route",
      );
      const route = await httpRoute(c, ns, String(r2.outputs?.httpRouteName));
      const parent = route.status?.parents?.[0];
      expect(parent?.controllerName).toBe("traefik.io/gateway-controller");
      expect(parent?.conditions?.find((x) => x.type === "Accepted")?.status).toBe("True");
      expect(parent?.conditions?.find((x) => x.type === "ResolvedRefs")?.status).toBe("True");
      const t2 = await body("gw/test");
      expect(typeof t2.json?.label).toBe("string");
      expect(t2.json?.model?.backend).toBe("tensorflow");
      expect((await body("baseline/test")).status).toBe(404);
      expect((await fetch(`${INGRESS}gw/`)).status).toBe(200); // the upload page (HTML)
      for (const p of ["metrics", "healthz", "readyz"]) {
        expect((await body(`gw/${p}`)).status, `/gw/${p}`).toBe(404);
      }

      // 3. The HTTPRoute at /: the whole host.
      const r3 = await pulumiUp(stack, { "food11:route": "gateway" });
      expect(r3.ok, r3.error).toBe(true);
      expect(r3.outputs?.url).toBe(INGRESS);
      await until(async () => (await body("test")).status === 200, 60_000, "the HTTPRoute at /");
      for (const p of ["metrics", "healthz", "readyz"]) {
        expect((await body(p)).status, `/${p}`).toBe(404);
      }
      figures.routes = {
        ingress_prefix: r1.outputs?.url,
        httproute_prefix: r2.outputs?.url,
        httproute_root: r3.outputs?.url,
        httproute_parent: parent,
      };
    });
  }

  it("pulumi destroy leaves nothing; the image stays in the registry", async () => {
    const r = await engine("destroy", args(stack), work, logFile);
    expect(r.ok, r.error).toBe(true);
    await namespaceDeleted(c, ns);
    const tags = (await (
      await fetch(`http://${REGISTRY}/v2/food11-classifier/tags/list`)
    ).json()) as {
      tags?: string[];
    };
    expect(tags.tags ?? []).toContain(
      "build" in s.image ? s.image.build.imageName.split(":").at(-1) : "",
    );
  });
});

describe("strategy1 on ONNX Runtime (food11:inferenceEngine onnxruntime)", () => {
  const stack = "strategy1";
  const ORT: Record<string, string> = { ...LOAD_CONFIG, "food11:inferenceEngine": "onnxruntime" };
  const s = settingsFor(stack, ORT);
  const ns = s.namespace.name;
  let tfjsImage = "";

  it("switching engines: pulumi preview --diff shows the new image and TFJS_BACKEND, nothing else", async () => {
    const r0 = await pulumiUp(stack, LOAD_CONFIG);
    expect(r0.ok, r0.error).toBe(true);
    tfjsImage = String(r0.outputs?.image);
    const preview = await engine("preview", args(stack, ORT), work, logFile);
    expect(preview.error, `see ${logFile}`).toBeUndefined();
    const changed = preview.steps.filter((st) => st.op !== "same");
    expect([...new Set(changed.map((st) => st.type))].sort()).toEqual([
      "docker:index/image:Image",
      "kubernetes:apps/v1:Deployment",
    ]);
    const dep = changed.find((st) => st.type === "kubernetes:apps/v1:Deployment");
    for (const path of Object.keys(dep?.detailedDiff ?? {})) {
      expect(path).toMatch(/^spec\.template\.spec\.containers\[0\]\.(image|env\[\d+\]\.value)$/);
    }
    expect(preview.stdout).toContain("onnxruntime");
    expect(preview.command?.slice(0, 2)).toEqual(["preview", "--diff"]);
    figures["onnxruntime.preview_changes"] = changed.map((st) => ({
      type: st.type,
      op: st.op,
      diff: Object.keys(st.detailedDiff),
    }));
  });

  it("pulumi up builds the ONNX Runtime image; its pod is Ready under restricted Pod Security and runs TFJS_BACKEND=onnxruntime", async () => {
    const r = await pulumiUp(stack, ORT);
    expect(r.ok, r.error).toBe(true);
    const image = String(r.outputs?.image);
    expect(image).toMatch(
      new RegExp(`^localhost:${S.REGISTRY_PORT}/food11-classifier@sha256:[a-f0-9]{64}$`),
    );
    expect(image).not.toBe(tfjsImage);
    const nsObj = await c.core.readNamespace({ name: ns });
    expect(nsObj.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    await until(
      async () => {
        // Terminating pods count: the tfjs pod answers through the ingress until it is gone.
        const pods = (await c.core.listNamespacedPod({ namespace: ns })).items;
        return (
          pods.length === 1 &&
          isReady(pods[0] as V1Pod) &&
          pods[0]?.spec?.containers[0]?.image === image
        );
      },
      240_000,
      "the ONNX Runtime pod to be the only pod (the tfjs pod gone, not just terminating)",
    );
    const pod = (await podsOf(s))[0] as V1Pod;
    const facts = processFacts(containerPid(pod.status?.containerStatuses?.[0]?.containerID ?? ""));
    expect(facts.cmdline).toEqual(["node", "dist/server.js"]);
    expect(facts.uid).toBe(10001);
    expect(facts.rootReadOnly).toBe(true);
    expect(facts.env.TFJS_BACKEND).toBe("onnxruntime");
    figures["onnxruntime.up_seconds"] = r.seconds;
  });

  it('/test answers "backend": "onnxruntime" through the ingress; the admin port\'s /metrics says so', async () => {
    const t = await fetch(`${INGRESS}test?topk=3`);
    expect(t.status).toBe(200);
    const body = (await t.json()) as {
      label?: string;
      top?: unknown[];
      model?: { backend?: string };
    };
    expect(body.model?.backend).toBe("onnxruntime");
    expect(body.top?.length).toBe(3);
    // /metrics is on the pod's admin port, inside the node (the route publishes the API only)
    const ip = ((await podsOf(s))[0] as V1Pod).status?.podIP ?? "";
    const metrics = inNode(S.NODE_NETNS ?? "", ["curl", "-sf", `http://${ip}:8081/metrics`]);
    expect(metrics).toMatch(/inference_backend_info\{backend="onnxruntime",threads="\d+"\} 1/);
    const form = new FormData();
    form.append("file", new Blob([sampleImage()], { type: "image/jpeg" }), "test.jpg");
    const p = await fetch(`${INGRESS}predict?topk=1`, { method: "POST", body: form });
    expect(p.status).toBe(200);
  });

  it("under load the HPA scales the ONNX Runtime deployment out on real metrics and back in, no failed request", async () => {
    const { dep, load } = await upAndScaleOut(stack, s, ORT, 300, "onnxruntime.hpa");
    await load.stop();
    figures["onnxruntime.hpa.window"] = describeOutcomes(load.outcomes);
    await scaledIn(stack, s, dep, "onnxruntime.hpa");
    expect(failures(load.outcomes)).toEqual([]);
  });

  it("pulumi destroy leaves nothing", async () => {
    const r = await engine("destroy", args(stack, ORT), work, logFile);
    expect(r.ok, r.error).toBe(true);
    await namespaceDeleted(c, ns);
  });
});
