/**
 * The planner's HPA against the real kube-controller-manager (issue 13, second validation): the
 * harness `npm run validate:hpa` runs (scripts/e2e/hpa-validate.sh starts the kwok loopback
 * control plane, scripts/e2e/hpa-validate.ts reads the flags and calls runHpaValidation):
 *
 * 1. serves metrics.k8s.io/v1beta1 on 127.0.0.1 over HTTPS (a self-signed certificate made with
 *    openssl at run time), registered with the aggregator as kwokctl registers metrics-server: an
 *    APIService with insecureSkipTLSVerify and an ExternalName Service to localhost; every pod's
 *    CPU usage is the scripted trace's value at the sample's time (seconds after the HPA's first
 *    sync);
 * 2. per stack, a Deployment and an autoscaling/v2 HPA built from the stack's settings, in their
 *    own namespace, both played at once;
 * 3. records the controller's decisions: its log (`--vmodule=horizontal=4`: every sync's proposal
 *    and decision), the HPA's status every second (desired/current replicas, utilization,
 *    lastScaleTime, conditions), its events, and the pods' creation / start / Ready times;
 * 4. replays the same trace with the planner (`replayHpaRun`), sync phase and period as
 *    observed, pod start/ready delays as measured, and compares sync by sync.
 *
 * Writes <out>/hpa-validation.{md,json}; 0 when every stack's decisions are equal step for step,
 * 1 otherwise. The parts that need no cluster are validate-hpa.ts.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { V1Pod } from "@kubernetes/client-node";
import {
  k8sClients,
  loadStack,
  podCondition,
  type StackSettings,
  writeJson,
} from "../../strategy-bench/src/index.js";
import { CONTROLLER_DEFAULTS } from "./hpa.js";
import {
  HPA_VALIDATION_METRIC_AGE_SECONDS as AGE_SECONDS,
  HPA_VALIDATION_TRACE,
  hpaComparisonMarkdown,
  METRICS_API,
  metricsApiGroup,
  metricsApiResourceList,
  type ObservedPod,
  parseKcmHpaLog,
  renderPodMetricsList,
  replayHpaRun,
  type StatusSample,
  validationObjects,
  HPA_VALIDATION_WINDOW_SECONDS as WINDOW_SECONDS,
} from "./validate-hpa.js";

const MEMORY_BYTES = 512 * 1024 * 1024;
/** The controller's sync period: the local cluster's, kube-controller-manager's default. */
const SYNC_PERIOD_SECONDS = CONTROLLER_DEFAULTS.syncPeriodSeconds;

export interface HpaValidationArgs {
  out: string;
  stacks: string[];
  durationSeconds: number;
  /** Overrides the stacks' scale-down stabilization window (the HPA applied and the replay). */
  scaleDownWindow?: number;
  /** kube-controller-manager's log file. */
  kcmLog: string;
}

const log = (m: string) => process.stderr.write(`validate:hpa: ${m}\n`);
const ms = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).getTime());
const isReady = (p: V1Pod) => podCondition(p, "Ready");

/**
 * kubectl, asynchronously: this process serves the metrics API the API server proxies to, and
 * kubectl's discovery reaches it, so a synchronous child would deadlock the server.
 */
function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      "kubectl",
      args,
      { encoding: "utf8", maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolvePromise(stdout),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
const apply = (objs: unknown[]) =>
  kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objs }));

function selfSignedCert(dir: string): { key: string; cert: string } {
  const key = join(dir, "metrics.key");
  const cert = join(dir, "metrics.crt");
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ].concat(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]),
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

interface StackRun {
  stack: string;
  settings: StackSettings;
  namespace: string;
  name: string;
  /** The HPA controller's first request for this namespace (trace time 0), epoch ms. */
  traceZeroMs?: number;
  metricRequests: number[];
  hpaCreatedMs?: number;
  status: StatusSample[];
  pods: Map<string, ObservedPod & { deletedSeenMs?: number }>;
}

type Core = Awaited<ReturnType<typeof k8sClients>>["core"];

/**
 * metrics.k8s.io/v1beta1 on 127.0.0.1 over HTTPS: discovery, no node metrics, and every pod of
 * a run's namespace at the trace's usage; the HPA controller's first request for a namespace is
 * that run's trace time 0. Returns the port, the clients seen and the unknown paths asked.
 */
async function serveMetricsApi(runs: readonly StackRun[], core: Core, tlsDir: string) {
  const byNs = new Map(runs.map((r) => [r.namespace, r]));
  const unknownPaths = new Map<string, number>();
  const clients = new Map<string, number>();
  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  /** A Kubernetes API failure: a v1 Status with `code` and its reason or message. */
  const failure = (
    res: ServerResponse,
    code: number,
    why: { reason: string } | { message: string },
  ) => send(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", ...why, code });
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const nowMs = Date.now();
    const url = new URL(req.url ?? "/", "https://localhost");
    const who = `${req.headers["x-remote-user"] ?? "-"} | ${req.headers["user-agent"] ?? "-"}`;
    clients.set(who, (clients.get(who) ?? 0) + 1);
    const p = url.pathname.replace(/\/+$/, "");
    if (p === `/apis/${METRICS_API}`) return send(res, 200, metricsApiResourceList());
    if (p === "/apis/metrics.k8s.io") return send(res, 200, metricsApiGroup());
    if (p === "/apis") {
      return send(res, 200, {
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: [metricsApiGroup()],
      });
    }
    if (p === `/apis/${METRICS_API}/nodes`) {
      const list = { kind: "NodeMetricsList", apiVersion: METRICS_API, metadata: {}, items: [] };
      return send(res, 200, list);
    }
    const m = /^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(
      p,
    );
    if (!m) {
      if (!unknownPaths.has(p))
        log(`metrics API: unknown path ${req.method} ${req.url} (${who}) → 404`);
      unknownPaths.set(p, (unknownPaths.get(p) ?? 0) + 1);
      return failure(res, 404, { reason: "NotFound" });
    }
    const namespace = decodeURIComponent(m[1] as string);
    const run = byNs.get(namespace);
    if (run && /horizontal-pod-autoscaler|kube-controller-manager/.test(who)) {
      run.traceZeroMs ??= nowMs;
      run.metricRequests.push(nowMs);
    }
    const labelSelector = url.searchParams.get("labelSelector");
    const pods = (
      await core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) })
    ).items
      .map((pod) => ({
        name: pod.metadata?.name ?? "",
        namespace,
        labels: pod.metadata?.labels ?? {},
        ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
        ...(pod.status?.startTime ? { startTimeMs: ms(pod.status.startTime) as number } : {}),
        containers: (pod.spec?.containers ?? []).map((c) => c.name),
      }))
      .filter((x) => !m[2] || x.name === m[2]);
    const list = renderPodMetricsList({
      pods,
      nowMs,
      ...(run?.traceZeroMs !== undefined ? { traceZeroMs: run.traceZeroMs } : {}),
      trace: HPA_VALIDATION_TRACE,
      windowSeconds: WINDOW_SECONDS,
      ageSeconds: AGE_SECONDS,
      memoryBytes: MEMORY_BYTES,
    });
    if (!m[2]) return send(res, 200, list);
    const item = list.items[0];
    if (!item) return failure(res, 404, { reason: "NotFound" });
    return send(res, 200, { kind: "PodMetrics", apiVersion: METRICS_API, ...item });
  };
  const server = createServer(selfSignedCert(tlsDir), (req, res) => {
    handler(req, res).catch((e) => {
      log(`metrics API: ${req.url}: ${e}`);
      failure(res, 500, { message: String(e) });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  log(`${METRICS_API} on https://127.0.0.1:${port}`);
  const close = () => {
    server.close();
    server.closeAllConnections?.();
  };
  return { port, clients, unknownPaths, close };
}

/** Runs the validation in KUBECONFIG's cluster; 0 when every stack's decisions are equal. */
export async function runHpaValidation(args: HpaValidationArgs): Promise<number> {
  const t0 = Date.now();
  mkdirSync(args.out, { recursive: true });
  const { core, autoscaling } = await k8sClients();
  // --scale-down-window: the stack file's key overridden, so the HPA applied and the planner's
  // replay both take it (checked by the stack schema, as a stack file's value is)
  const overrides =
    args.scaleDownWindow === undefined
      ? {}
      : { "food11:scaleDownStabilizationSeconds": args.scaleDownWindow };
  const runs: StackRun[] = args.stacks.map((stack) => ({
    stack,
    settings: loadStack(stack, undefined, overrides),
    namespace: `hpa-validate-${stack}`,
    name: "food11",
    metricRequests: [],
    status: [],
    pods: new Map(),
  }));
  const metrics = await serveMetricsApi(runs, core, args.out);
  try {
    await apply([
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "hpa-validate-metrics", namespace: "kube-system" },
        spec: { type: "ExternalName", externalName: "localhost" },
      },
      {
        apiVersion: "apiregistration.k8s.io/v1",
        kind: "APIService",
        metadata: { name: "v1beta1.metrics.k8s.io" },
        spec: {
          group: "metrics.k8s.io",
          version: "v1beta1",
          groupPriorityMinimum: 100,
          versionPriority: 100,
          insecureSkipTLSVerify: true,
          service: { name: "hpa-validate-metrics", namespace: "kube-system", port: metrics.port },
        },
      },
    ]);

    // ---- the workloads
    /** A run's Deployment and HPA (the HPA applied once the metrics API answers). */
    const objectsOf = (r: StackRun) =>
      validationObjects(r.settings, { namespace: r.namespace, name: r.name });
    for (const r of runs) {
      const namespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: r.namespace } };
      await apply([namespace, objectsOf(r).deployment]);
    }
    const pollPods = async (r: StackRun) => {
      const list = await core.listNamespacedPod({ namespace: r.namespace });
      const now = Date.now();
      for (const p of list.items) {
        const name = p.metadata?.name ?? "";
        const rec = r.pods.get(name) ?? {};
        rec.createdMs ??= ms(p.metadata?.creationTimestamp);
        if (p.status?.startTime) rec.startMs ??= ms(p.status.startTime);
        const ready = isReady(p);
        if (ready?.lastTransitionTime) rec.readyMs ??= ms(ready.lastTransitionTime);
        if (p.metadata?.deletionTimestamp) rec.deletedSeenMs ??= now;
        r.pods.set(name, rec);
      }
      return list.items;
    };
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ready = await Promise.all(runs.map(async (r) => (await pollPods(r)).some(isReady)));
      if (ready.every(Boolean)) break;
      if (Date.now() > deadline)
        throw new Error("the Deployments' first pods did not become Ready in 120 s");
      await sleep(500);
    }
    // kube-controller-manager's view of a pod within its CPU initialization period: a sample counts
    // once its timestamp is a full window after the pod's Ready transition. The HPA's first sync
    // comes one sync period after it is created, with a sample AGE_SECONDS old: create the HPAs
    // late enough that the first pods pass that rule (5 s to spare) at every sync, as the
    // planner's initial pods (Ready long before) do.
    const readyAt = Math.max(
      ...runs.flatMap((r) => [...r.pods.values()].map((p) => p.readyMs ?? 0)),
    );
    const hpaAt = readyAt + (WINDOW_SECONDS + AGE_SECONDS - SYNC_PERIOD_SECONDS + 5) * 1000;
    await sleep(Math.max(0, hpaAt - Date.now()));
    // Through the aggregator, as the controller reads it (the APIService is Available once it
    // answers discovery); the first pods have a sample by now.
    const rawPath = `/apis/${METRICS_API}/namespaces/${runs[0]?.namespace}/pods`;
    for (let i = 0; ; i++) {
      try {
        const raw = await kubectl(["get", "--raw", rawPath]);
        log(`kubectl get --raw ${rawPath} → ${raw.trim().slice(0, 400)}`);
        writeFileSync(join(args.out, "kubectl-get-raw-pods.json"), raw);
        break;
      } catch (e) {
        if (i >= 60)
          throw new Error(
            `the metrics API did not answer through the aggregator: ${(e as { stderr?: string }).stderr ?? e}`,
          );
        await sleep(1000);
      }
    }

    for (const r of runs) {
      await apply([objectsOf(r).hpa]);
      r.hpaCreatedMs = Date.now();
    }
    log(
      `HPAs created for ${runs.map((r) => r.stack).join(", ")}; playing the ${args.durationSeconds} s trace from each HPA's first sync`,
    );

    // ---- play and record
    const firstSyncDeadline = Date.now() + 90_000;
    let lastReport = 0;
    for (;;) {
      const now = Date.now();
      await Promise.all(
        runs.map(async (r) => {
          const [h] = await Promise.all([
            autoscaling.readNamespacedHorizontalPodAutoscalerStatus({
              name: r.name,
              namespace: r.namespace,
            }),
            pollPods(r),
          ]);
          const s = h.status;
          const util = s?.currentMetrics?.[0]?.resource?.current?.averageUtilization;
          r.status.push({
            timeMs: Date.now(),
            ...(s?.desiredReplicas !== undefined ? { desiredReplicas: s.desiredReplicas } : {}),
            ...(s?.currentReplicas !== undefined ? { currentReplicas: s.currentReplicas } : {}),
            ...(util !== undefined ? { utilization: util } : {}),
            ...(s?.lastScaleTime ? { lastScaleTimeMs: ms(s.lastScaleTime) as number } : {}),
            conditions: Object.fromEntries(
              (s?.conditions ?? []).map((c) => [c.type, c.reason ?? c.status]),
            ),
          });
        }),
      );
      if (runs.some((r) => r.traceZeroMs === undefined) && now > firstSyncDeadline) {
        throw new Error(
          "the HPA controller made no metrics request within 90 s of the HPAs' creation",
        );
      }
      const end = (r: StackRun) => (r.traceZeroMs ?? now) + args.durationSeconds * 1000 + 3000;
      if (runs.every((r) => r.traceZeroMs !== undefined && now > end(r))) break;
      if (now - lastReport > 60_000) {
        lastReport = now;
        const t = (r: StackRun) =>
          r.traceZeroMs === undefined ? "-" : `${Math.round((now - r.traceZeroMs) / 1000)} s`;
        const line = (r: StackRun, s = r.status[r.status.length - 1]) =>
          `${r.stack}: t=${t(r)} desired=${s?.desiredReplicas} current=${s?.currentReplicas} util=${s?.utilization ?? "-"}%`;
        log(runs.map((r) => line(r)).join("; "));
      }
      await sleep(1000 - (Date.now() % 1000) + 100);
    }

    // ---- the controller's decisions, the planner's, compared
    const kcmText = readFileSync(args.kcmLog, "utf8");
    writeFileSync(
      join(args.out, "kube-controller-manager.hpa.log"),
      kcmText
        .split("\n")
        .filter((l) => /horizontal\.go|podautoscaler|replica_calculator/.test(l))
        .join("\n"),
    );
    const entries = parseKcmHpaLog(kcmText, new Date().getUTCFullYear());
    const results: Array<Record<string, unknown>> = [];
    const sections: string[] = [];
    let allEqual = true;
    for (const r of runs) {
      const { settings } = r;
      const replay = replayHpaRun({
        entries,
        scaleTarget: `Deployment/${r.namespace}/${r.name}`,
        settings,
        traceZeroMs: r.traceZeroMs as number,
        hpaCreatedMs: r.hpaCreatedMs ?? 0,
        durationSeconds: args.durationSeconds,
        pods: [...r.pods.values()],
        status: r.status,
        defaultPeriodSeconds: SYNC_PERIOD_SECONDS,
      });
      const { syncs, periodSeconds: period, comparison: cmp, nominal, planner } = replay;
      const { startDelays, readyDelays, podStartSeconds, podReadySeconds } = replay;
      const first = syncs[0];
      allEqual &&= cmp.equal;
      const events = (await core.listNamespacedEvent({ namespace: r.namespace })).items
        .filter((e) => e.involvedObject?.kind === "HorizontalPodAutoscaler")
        .map((e) => ({
          reason: e.reason,
          message: e.message,
          count: e.count,
          first: e.firstTimestamp,
          last: e.lastTimestamp,
        }));
      const phase = first
        ? ((first.timeMs - (r.hpaCreatedMs ?? first.timeMs)) / 1000).toFixed(3)
        : "-";
      const a = settings.autoscaling;
      const title = `${r.stack} (target ${a.targetCpuUtilization} %, ${a.minReplicas}–${a.maxReplicas} replicas, scale-down window ${a.scaleDownStabilizationSeconds} s)`;
      sections.push(
        [
          hpaComparisonMarkdown(title, cmp),
          `With the planner's default grid (syncs every 15.000 s): ${nominal.equal ? "equal step for step too" : `NOT equal (${nominal.mismatches.join("; ")})`}.`,
          "",
          `First sync ${phase} s after the HPA was created; ${syncs.length} syncs in ${args.durationSeconds} s, mean period ${period.toFixed(3)} s (planner's grid: 0 + k × that). ` +
            `Pods the controller created: ${replay.created}; kwok started them after ${startDelays.join(", ")} s (median ${podStartSeconds}) and made them Ready ${readyDelays.join(", ")} s later (median ${podReadySeconds}); whole seconds, as the API stamps them. ` +
            `Metrics requests from the controller: ${r.metricRequests.length}.`,
          "",
          "Events (SuccessfulRescale):",
          "",
          ...events.map(
            (e) =>
              `- ${e.reason}: ${e.message} (×${e.count ?? 1}, first ${e.first ? new Date(e.first).toISOString() : "-"})`,
          ),
          "",
        ].join("\n"),
      );
      results.push({
        stack: r.stack,
        namespace: r.namespace,
        hpa: objectsOf(r).hpa.spec,
        equal: cmp.equal,
        mismatches: cmp.mismatches,
        equalWithNominalGrid: nominal.equal,
        nominalGridMismatches: nominal.mismatches,
        hpaCreatedAt: r.hpaCreatedMs && new Date(r.hpaCreatedMs).toISOString(),
        firstSyncAt: first && new Date(first.timeMs).toISOString(),
        syncPeriodSeconds: period,
        podStartSeconds,
        podReadySeconds,
        startDelays,
        readyDelays,
        controllerRescales: cmp.controllerRescales,
        plannerRescales: cmp.plannerRescales,
        rows: cmp.rows,
        controllerSyncs: syncs,
        planner,
        status: r.status,
        metricRequests: r.metricRequests,
        events,
        pods: Object.fromEntries(r.pods),
      });
    }
    const wall = (Date.now() - t0) / 1000;
    const counts = (m: Map<string, number>, sep: string) =>
      [...m].map(([k, v]) => `${k} ×${v}`).join(sep);
    const md = [
      "## The planner's HPA against kube-controller-manager v1.36.1",
      "",
      `Trace (m per pod from t s after the first sync): ${HPA_VALIDATION_TRACE.map((p) => `${p.at}: ${p.millicoresPerPod}`).join(", ")}; ${args.durationSeconds} s; sync period ${SYNC_PERIOD_SECONDS} s (the default); metric window ${WINDOW_SECONDS} s, timestamp = the request's second − ${AGE_SECONDS} s.`,
      "",
      ...sections,
      `Verdict: ${allEqual ? "EQUAL step for step" : "NOT EQUAL"} (${runs.map((r, i) => `${r.stack}: ${results[i]?.equal ? "equal" : "differs"}`).join(", ")}); harness ${wall.toFixed(0)} s.`,
      "",
      `Metrics API clients: ${counts(metrics.clients, "; ")}. Unknown paths: ${counts(metrics.unknownPaths, ", ") || "none"}.`,
      "",
    ].join("\n");
    writeFileSync(join(args.out, "hpa-validation.md"), md);
    await writeJson(join(args.out, "hpa-validation.json"), {
      equal: allEqual,
      trace: HPA_VALIDATION_TRACE,
      durationSeconds: args.durationSeconds,
      wallSeconds: wall,
      stacks: results,
      unknownPaths: Object.fromEntries(metrics.unknownPaths),
      clients: Object.fromEntries(metrics.clients),
    });
    process.stdout.write(md);
    log(`wrote ${join(args.out, "hpa-validation.md")} and .json`);
    return allEqual ? 0 : 1;
  } finally {
    metrics.close();
  }
}
