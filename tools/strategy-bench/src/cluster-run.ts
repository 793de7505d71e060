/**
 * The report's experiment on real pods (`demo --cluster`, `run`): for each stack in
 * turn, on the local cluster of scripts/cluster/cluster.sh, `pulumi up` (scripts/e2e/engine.ts,
 * the real CLI), wait until the ingress answers, score accuracy through it, replay the schedule
 * while the monitor reads metrics.k8s.io, collect the events that matter, `pulumi destroy`; then
 * the report over every run. A failing step tears the stack down and is named.
 *
 * Time scaling (cluster-scale.ts): the schedule × f and the autoscaling loop's clocks with it,
 * controller-manager flags and metrics-server's resolution at `cluster up` (the cluster is
 * restarted when it runs with other flags), stabilization windows and probe periods as stack
 * config. One real-cluster run at a time: the whole run holds $FOOD11_CLUSTER_DIR/run.lock.
 */
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify as toYaml } from "yaml";
import {
  CLUSTER_RUN_LOCK,
  CLUSTER_STATE_DIR,
  clusterStackConfig,
  clusterVersions,
} from "../../../lib/cluster/stack.js";
import { parseStackConfig, readStackConfig, type StackSettings } from "../../../stacks/index.js";
import {
  type ClusterTimeScaling,
  clusterTimeScaling,
  type EventLike,
  eventTimeline,
  flagDifferences,
  flagsFromArgv,
  flagsFromRecord,
  type NodeCapacity,
  PodRestarts,
  type RunningFlags,
  type StackTimeScaling,
  sortTimeline,
  stackFit,
  stackTimeScaling,
  type TimelineEntry,
} from "./cluster-scale.js";
import { runAccuracy, runLoad } from "./commands.js";
import { request } from "./http.js";
import { generateRunImages } from "./imageset.js";
import { ingressStatusWriter, startStandInProxy } from "./ingress-standin.js";
import { currentLoad, thisMachine } from "./machine.js";
import { kubernetesSampler, runMonitor } from "./monitor.js";
import { cpuCores, memoryKB } from "./quantity.js";
import type { Manifest } from "./report/manifest.js";
import { writeReport } from "./report/write.js";
import { runTimestamp } from "./runmeta.js";
import { listStacks, stackConfigRows, stackLabelSelector } from "./stack.js";

/**
 * The repository root from this file (an ESM module: import.meta, as demo.ts): scripts/cluster/
 * stack.ts's own __dirname-based default is not reliable when it is imported from ESM.
 */
const CLUSTER_ROOT = resolve(import.meta.dirname, "../../..");
const CLUSTER_SH = join(CLUSTER_ROOT, "scripts", "cluster", "cluster.sh");

export interface ClusterRunOptions {
  stacks: string[];
  timeScale: number;
  delayScale?: number;
  seed: number;
  perClass: number;
  /** Runs per stack (default 1). */
  repeat: number;
  /** ABCABC… instead of AA…BB…CC… (with repeat > 1). */
  interleave: boolean;
  /** Leave the cluster with this run's flags (the next run wants them too); default: restore. */
  keepClusterFlags?: boolean;
  out?: string;
  quiet: boolean;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/** An error naming the step it happened in. */
export class StepError extends Error {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "StepError";
  }
}

/** The order of the runs: interleaved (A B C A B C) or grouped (A A B B C C). */
export function runOrder(
  stacks: string[],
  repeat: number,
  interleave: boolean,
): { stack: string; repetition: number }[] {
  const out: { stack: string; repetition: number }[] = [];
  if (interleave) {
    for (let k = 1; k <= repeat; k++)
      for (const stack of stacks) out.push({ stack, repetition: k });
  } else {
    for (const stack of stacks)
      for (let k = 1; k <= repeat; k++) out.push({ stack, repetition: k });
  }
  return out;
}

export function runName(stack: string, repetition: number, repeat: number): string {
  return repeat > 1 ? `${stack} #${repetition}` : stack;
}

// ---------------------------------------------------------------- lock and machine rules

/**
 * Hold the run lock for the whole run: unless this process already holds it, run this same
 * command again under `flock` and return its exit code (the caller exits with it).
 */
export async function reexecUnderLock(log: (l: string) => void): Promise<number | undefined> {
  if (process.env.FOOD11_CLUSTER_RUN_LOCKED === "1") return undefined;
  await mkdir(CLUSTER_STATE_DIR, { recursive: true });
  const free = spawnSync("flock", ["-n", CLUSTER_RUN_LOCK, "true"]).status === 0;
  if (!free) log(`another real-cluster run holds ${CLUSTER_RUN_LOCK}: waiting for it`);
  const child = spawn(
    "flock",
    [CLUSTER_RUN_LOCK, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, FOOD11_CLUSTER_RUN_LOCKED: "1" } },
  );
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onTerm = forward("SIGTERM");
  process.on("SIGTERM", onTerm);
  // Ctrl-C reaches the child through the terminal's process group; ignore it here.
  const onInt = () => undefined;
  process.on("SIGINT", onInt);
  const code = await new Promise<number>((r) =>
    child.once("exit", (c, s) => r(c ?? (s ? 130 : 1))),
  );
  process.removeListener("SIGTERM", onTerm);
  process.removeListener("SIGINT", onInt);
  return code;
}

/** Wait while a Go build runs on the machine (the shared machine's rule); at most `maxMinutes`. */
export async function waitForGoBuilds(
  log: (l: string) => void,
  signal?: AbortSignal,
  maxMinutes = 90,
): Promise<void> {
  const deadline = Date.now() + maxMinutes * 60_000;
  let said = false;
  for (;;) {
    const r = spawnSync("pgrep", ["-f", "go build"], { encoding: "utf8" });
    const pids = (r.stdout ?? "").trim();
    if (!pids) return;
    if (!said) {
      log(`a Go build runs (pids ${pids.split("\n").join(" ")}): waiting for it to end`);
      said = true;
    }
    if (signal?.aborted) throw new Error("interrupted while waiting for a Go build");
    if (Date.now() > deadline) throw new Error(`a Go build still runs after ${maxMinutes} min`);
    await sleep(15_000);
  }
}

// ---------------------------------------------------------------- the cluster

function cmdline(pidFile: string): string[] | undefined {
  try {
    const pid = readFileSync(pidFile, "utf8").trim();
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return argv.length > 0 ? argv : undefined;
  } catch {
    return undefined;
  }
}

/** The HPA flags and metric resolution the running cluster has: its processes', else the record. */
export function runningFlags(dir: string = CLUSTER_STATE_DIR): RunningFlags | undefined {
  const kcm = cmdline(
    join(dir, "kwok", "clusters", "food11", "pids", "kube-controller-manager.pid"),
  );
  const ms = cmdline(join(dir, "pids", "metrics-server"));
  if (kcm && ms)
    return flagsFromArgv(kcm, ms, "the running kube-controller-manager and metrics-server");
  const record = join(dir, "cluster-flags.env");
  if (existsSync(record)) return flagsFromRecord(readFileSync(record, "utf8"), record);
  return undefined;
}

function clusterScript(
  args: string[],
  env: Record<string, string>,
  log: (l: string) => void,
): Promise<number> {
  log(
    `$ ${Object.entries(env)
      .map(([k, v]) => `${k}="${v}" `)
      .join("")}bash scripts/cluster/cluster.sh ${args.join(" ")}`,
  );
  return new Promise((r) => {
    const child = spawn("bash", [CLUSTER_SH, ...args], {
      cwd: CLUSTER_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("exit", (c) => r(c ?? 1));
  });
}

/** The binaries `cluster up` needs (its prereqs build the missing ones: not in a run). */
const CLUSTER_BINARIES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwokctl",
  "kubectl",
  "kubelet",
  "kube-proxy",
  "metrics-server",
  "traefik",
];

function missingBinaries(): string[] {
  const bin = join(process.env.FOOD11_E2E_CACHE ?? join(homedir(), ".cache", "food11-e2e"), "bin");
  return CLUSTER_BINARIES.filter((b) => !existsSync(join(bin, b)));
}

/** `cluster status`: which components are not running, and whether the API answers. */
export function parseClusterStatus(text: string): { notRunning: string[]; apiReady: boolean } {
  const notRunning = [...text.matchAll(/^(\S+)\s+not running$/gm)]
    .map((m) => m[1] as string)
    .filter((n) => n !== "dockerd" && n !== "api");
  return { notRunning, apiReady: /^api server\s+\S+ ready$/m.test(text) };
}

/** Before a restart: other namespaces' pods on the cluster still there after 10 minutes? */
async function othersStay(log: (l: string) => void): Promise<boolean> {
  const kubeconfig = join(CLUSTER_STATE_DIR, "kubeconfig");
  const t0 = Date.now();
  for (;;) {
    let others: { name: string }[] = [];
    try {
      others = await foreignPods(kubeconfig, "");
    } catch {
      return false;
    }
    if (others.length === 0) return false;
    if (Date.now() - t0 > 600_000) return true;
    log(
      `cluster: other pods run (${others.map((p) => p.name).join(", ")}): waiting before a restart`,
    );
    await sleep(15_000);
  }
}

export interface ClusterState {
  flags: RunningFlags;
  restarted: boolean;
  before?: RunningFlags;
  /** "traefik", or "stand-in" when Traefik does not run (ingress-standin.ts). */
  ingress: "traefik" | "stand-in";
  /** The scaling's cluster flags that could not be applied, and why ([] = all applied). */
  notApplied: string[];
}

/**
 * The cluster up with the flags the time scaling wants: left as is when it has them, else
 * `cluster down` and `cluster up` with them (we hold the run lock) — only when every binary
 * `cluster up` needs is there (it would otherwise build them, or fail and leave no cluster).
 * A cluster whose only missing piece is Traefik runs with the stand-in ingress. Then its env
 * (KUBECONFIG, PATH for kubectl and pulumi, DOCKER_HOST) in this process.
 */
export async function ensureCluster(
  want: ClusterTimeScaling,
  log: (l: string) => void,
): Promise<ClusterState> {
  const st = spawnSync("bash", [CLUSTER_SH, "status"], { encoding: "utf8" });
  const status = parseClusterStatus(st.stdout ?? "");
  const healthy = st.status === 0;
  const onlyIngress =
    !healthy &&
    status.apiReady &&
    status.notRunning.length === 1 &&
    status.notRunning[0] === "traefik";
  const env = {
    FOOD11_KCM_ARGS: want.kcmArgs.join(" "),
    FOOD11_METRIC_RESOLUTION: `${want.metricResolutionSeconds}s`,
  };
  const missing = missingBinaries();
  let restarted = false;
  const notApplied: string[] = [];
  const have = healthy || onlyIngress ? runningFlags() : undefined;
  const diffs = have ? flagDifferences(want, have) : ["not up"];
  if (have && diffs.length === 0) {
    log(`cluster: up with the wanted flags (${have.source})`);
  } else if (have && (await othersStay(log))) {
    const why =
      "the cluster was not restarted with the run's flags: other pods run on it (another run's stack)";
    log(`cluster: ${why}; running with its flags as they are`);
    for (const d of diffs) notApplied.push(`${d} (${why})`);
  } else if (missing.length > 0) {
    if (!have) {
      throw new StepError(
        "cluster",
        `the cluster is not up and cannot be started here: missing ${missing.join(", ")} (scripts/e2e/build.sh cluster)`,
      );
    }
    const why = `the cluster could not be restarted with the run's flags: ${missing.join(", ")} not built (cluster up would build it)`;
    log(`cluster: ${why}; running with its flags as they are`);
    for (const d of diffs) notApplied.push(`${d} (${why})`);
  } else {
    if (have) {
      log(`cluster: runs with other flags (${diffs.join("; ")}): restarting it with the run's`);
      if ((await clusterScript(["down"], {}, log)) !== 0) {
        throw new StepError("cluster", "cluster down failed");
      }
    }
    if ((await clusterScript(["up"], env, log)) !== 0) {
      // Its waits are fixed (metrics API 120 s): on a busy machine a piece may come up just after.
      await sleep(30_000);
      if (spawnSync("bash", [CLUSTER_SH, "status"], { stdio: "ignore" }).status !== 0) {
        throw new StepError(
          "cluster",
          "cluster up failed (logs in the cluster's state dir, logs/)",
        );
      }
      log("cluster: up reported a failure, but 30 s later every piece runs: going on");
    }
    restarted = true;
  }
  const flags = runningFlags();
  if (!flags) throw new StepError("cluster", "the cluster's flags are unreadable");
  const left = flagDifferences(want, flags);
  if (left.length > 0 && notApplied.length === 0) {
    throw new StepError("cluster", `the cluster's flags are not the run's: ${left.join("; ")}`);
  }
  const out = spawnSync("bash", [CLUSTER_SH, "env"], { encoding: "utf8" }).stdout ?? "";
  for (const m of out.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) {
    const [, k, v] = m;
    if (k && v !== undefined) process.env[k] = v.replace("$PATH", process.env.PATH ?? "");
  }
  const after = spawnSync("bash", [CLUSTER_SH, "status"], { encoding: "utf8" });
  const ingress = parseClusterStatus(after.stdout ?? "").notRunning.includes("traefik")
    ? "stand-in"
    : "traefik";
  if (ingress === "stand-in") {
    log(
      "cluster: Traefik does not run: the stand-in ingress (a loopback proxy to the Service's ready endpoints) serves 127.0.0.1:80",
    );
  }
  return { flags, restarted, ...(have ? { before: have } : {}), ingress, notApplied };
}

/**
 * Leave the cluster as it was found: a cluster restarted for a time-scaled run goes back to the
 * default flags when it had them before (others' runs, test:cluster, expect those).
 */
async function restoreCluster(
  before: RunningFlags | undefined,
  log: (l: string) => void,
): Promise<string> {
  const defaults = clusterTimeScaling(1);
  if (!before || flagDifferences(defaults, before).length > 0) {
    return "left with this run's flags (it did not run with the defaults before)";
  }
  log("cluster: back to the default flags it had before this run");
  if ((await clusterScript(["down"], {}, log)) !== 0)
    return "restoring the default flags failed at cluster down";
  const env = {
    FOOD11_KCM_ARGS: "",
    FOOD11_METRIC_RESOLUTION: `${defaults.metricResolutionSeconds}s`,
  };
  if ((await clusterScript(["up"], env, log)) !== 0)
    return "restoring the default flags failed at cluster up";
  return "restored to the default flags after the run";
}

async function k8sClients(kubeconfig: string) {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { core: kc.makeApiClient(k8s.CoreV1Api) };
}

export async function nodeCapacity(kubeconfig: string, name: string): Promise<NodeCapacity> {
  const { core } = await k8sClients(kubeconfig);
  const node = await core.readNode({ name });
  const a = node.status?.allocatable ?? {};
  return { name, cpuCores: cpuCores(a.cpu ?? "0"), memoryKB: memoryKB(a.memory ?? "0") };
}

/**
 * Pods of other namespaces with CPU or memory requests on the node (another engineer's stack,
 * a suite's leftovers): they take the node's capacity from the stack being measured.
 */
export async function foreignPods(
  kubeconfig: string,
  own: string,
): Promise<{ name: string; cpu: number; memoryKB: number }[]> {
  const { core } = await k8sClients(kubeconfig);
  const l = await core.listPodForAllNamespaces({});
  return l.items
    .filter((p) => p.metadata?.namespace !== own && !/^kube-/.test(p.metadata?.namespace ?? ""))
    .filter((p) => p.status?.phase === "Running" || p.status?.phase === "Pending")
    .map((p) => {
      const cs = p.spec?.containers ?? [];
      const sum = (k: string, f: (q: string) => number) =>
        cs.reduce((a, c) => a + f(c.resources?.requests?.[k] ?? "0"), 0);
      return {
        name: `${p.metadata?.namespace}/${p.metadata?.name}`,
        cpu: sum("cpu", cpuCores),
        memoryKB: sum("memory", memoryKB),
      };
    })
    .filter((p) => p.cpu > 0 || p.memoryKB > 0);
}

/**
 * Until `${url}test` answers 200 through the ingress (Traefik picks the Ingress up and a pod is
 * ready): the route carries the API's paths only, /readyz is the admin port's.
 */
async function waitIngress(url: string, seconds: number, signal?: AbortSignal): Promise<number> {
  const t0 = Date.now();
  let last = "no answer";
  while (Date.now() - t0 < seconds * 1000) {
    if (signal?.aborted) throw new Error("interrupted");
    try {
      const res = await request(`${url}test`, { headersTimeout: 30_000, bodyTimeout: 30_000 });
      await res.body.dump();
      if (res.statusCode === 200) return (Date.now() - t0) / 1000;
      last = `HTTP ${res.statusCode}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(1000);
  }
  throw new Error(`${url}test did not answer 200 within ${seconds} s (last: ${last})`);
}

// ---------------------------------------------------------------- one run

interface RunContext {
  o: ClusterRunOptions;
  /** Other pods that held node capacity during a run, in words. */
  interference: string[];
  ingress: "traefik" | "stand-in";
  scaling: ClusterTimeScaling;
  node: NodeCapacity;
  kubeconfig: string;
  outDir: string;
  imagesDir: string;
  baseConfig: Record<string, string>;
}

/** A stack's settings as this run deploys it: its file, the cluster's config, the scaling's. */
export function effectiveSettings(stack: string, overrides: Record<string, string>): StackSettings {
  return parseStackConfig(stack, { ...readStackConfig(stack), ...overrides });
}

type RunEntry = Manifest["runs"][number];

async function runOne(
  ctx: RunContext,
  stack: string,
  repetition: number,
  scaled: StackTimeScaling,
): Promise<{ entry: RunEntry; steps: Record<string, number> }> {
  const { o } = ctx;
  const name = runName(stack, repetition, o.repeat);
  const dirName = o.repeat > 1 ? `${stack}-${repetition}` : stack;
  const dir = join(ctx.outDir, dirName);
  await mkdir(dir, { recursive: true });
  const config = { ...ctx.baseConfig, ...scaled.config };
  const settings = effectiveSettings(stack, config);
  const engineLog = createWriteStream(join(dir, "engine.log"), { flags: "a" });
  const work = join(CLUSTER_STATE_DIR, "bench", stack);
  const { operate } = await import("../../../lib/e2e/engine.js");
  const steps: Record<string, number> = {};
  const say = (l: string) => o.log(`[${name}] ${l}`);
  const step = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    say(`${label}…`);
    try {
      return await f();
    } catch (err) {
      throw err instanceof StepError ? err : new StepError(label, err);
    } finally {
      steps[label] = (Date.now() - t0) / 1000;
    }
  };
  const machine = thisMachine();
  let backend: string | undefined;
  let failure: StepError | undefined;
  let loadStart = Date.now();
  const restarts = new PodRestarts(() => loadStart);
  let timeline: TimelineEntry[] = [];
  let proxy: Awaited<ReturnType<typeof startStandInProxy>> | undefined;
  try {
    await step("node", async () => {
      // Wait (up to 10 min) for other namespaces' pods to leave the node; else measure and say so.
      const t0 = Date.now();
      let others = await foreignPods(ctx.kubeconfig, settings.namespace.name);
      if (others.length > 0)
        say(`waiting for other pods to leave the node: ${others.map((p) => p.name).join(", ")}`);
      while (others.length > 0 && Date.now() - t0 < 600_000 && !o.signal?.aborted) {
        await sleep(10_000);
        others = await foreignPods(ctx.kubeconfig, settings.namespace.name);
      }
      if (others.length > 0) {
        const cpu = others.reduce((a, p) => a + p.cpu, 0);
        const text =
          `${name}: other pods held ${Number(cpu.toFixed(3))} CPU of requests on the node during the run ` +
          `(${others.map((p) => p.name).join(", ")}), so fewer of its pods fit than the table says`;
        ctx.interference.push(text);
        say(`warning: ${text}`);
      }
    });
    const out = await step("up", async () => {
      const stopWriter =
        ctx.ingress === "stand-in"
          ? await ingressStatusWriter(ctx.kubeconfig, settings.namespace.name)
          : undefined;
      try {
        const r = await operate("up", { stack, work, config, kubeconfig: ctx.kubeconfig }, (s) =>
          engineLog.write(s),
        );
        if (!r.ok)
          throw new Error(`${r.error ?? "pulumi up failed"} (log ${join(dir, "engine.log")})`);
        return r.outputs ?? {};
      } finally {
        await stopWriter?.();
      }
    });
    if (ctx.ingress === "stand-in") {
      proxy = await step("ingress", () =>
        startStandInProxy({
          kubeconfig: ctx.kubeconfig,
          namespace: settings.namespace.name,
          service: String(out.serviceName),
          log: say,
        }),
      );
    }
    const url = String(out.url ?? "http://127.0.0.1/");
    if (!url.endsWith("/"))
      throw new StepError("up", `the stack's url output ${url} does not end in /`);
    await step("ready", () => waitIngress(url, 180, o.signal));
    await step("accuracy", async () => {
      const acc = await runAccuracy({
        images: ctx.imagesDir,
        url: url.replace(/\/$/, ""),
        dir,
        quiet: o.quiet,
      });
      backend = acc.backend;
      say(
        `accuracy ${Math.round(acc.metrics.accuracy * acc.metrics.samples)} of ${acc.metrics.samples} ` +
          "(the untrained demo model: chance is 9.1 %)",
      );
    });
    await step("load", async () => {
      const sample = await kubernetesSampler({
        namespace: settings.namespace.name,
        labelSelector: stackLabelSelector(stack),
        kubeconfig: ctx.kubeconfig,
        onWarning: say,
        onPods: (pods, time) => restarts.observe(pods, time),
      });
      const stopMonitor = new AbortController();
      loadStart = Date.now();
      const monitorDone = runMonitor({
        sample,
        intervalSeconds: ctx.scaling.monitorIntervalSeconds,
        out: join(dir, "monitor.csv"),
        columns: "extended",
        signal: stopMonitor.signal,
        onError: (e) => say(`sample failed: ${e.message}`),
      });
      try {
        await runLoad({
          url: `${url}test`,
          dir,
          timeScale: o.timeScale,
          ...(o.delayScale !== undefined ? { delayScale: o.delayScale } : {}),
          seed: o.seed,
          quiet: o.quiet,
          log: say,
          say,
          ...(o.signal ? { signal: o.signal } : {}),
        });
        if (o.signal?.aborted) throw new Error("interrupted");
      } finally {
        stopMonitor.abort();
        await monitorDone;
      }
    });
  } catch (err) {
    failure = err instanceof StepError ? err : new StepError("run", err);
    say(`FAILED at ${failure.message}`);
  } finally {
    await proxy?.stop().catch(() => undefined);
    // The events, whatever happened (they explain a failure too), then always destroy.
    try {
      const { core } = await k8sClients(ctx.kubeconfig);
      const ev = await core.listNamespacedEvent({ namespace: settings.namespace.name });
      await writeFile(join(dir, "events.raw.json"), `${JSON.stringify(ev.items, null, 2)}\n`);
      timeline = sortTimeline([
        ...eventTimeline(ev.items as EventLike[], loadStart),
        ...restarts.entries,
      ]);
      await writeFile(join(dir, "events.json"), `${JSON.stringify(timeline, null, 2)}\n`);
      for (const e of timeline.filter((x) => x.kind === "scale-up" || x.kind === "scale-down")) {
        say(`t=${e.t.toFixed(0)} s ${e.kind}: ${e.message}`);
      }
    } catch (err) {
      say(`events: could not be read (${(err as Error).message})`);
    }
    try {
      await step("destroy", async () => {
        const r = await operate(
          "destroy",
          { stack, work, config, kubeconfig: ctx.kubeconfig },
          (s) => engineLog.write(s),
        );
        if (!r.ok)
          throw new Error(`${r.error ?? "pulumi destroy failed"} (log ${join(dir, "engine.log")})`);
      });
    } catch (err) {
      const e = err as StepError;
      say(`FAILED at ${e.message}`);
      failure ??= e;
    }
    await new Promise<void>((r) => engineLog.end(r));
    await writeFile(join(dir, "steps.json"), `${JSON.stringify(steps, null, 2)}\n`);
  }
  if (failure) throw failure;
  const fit = stackFit(ctx.node, settings);
  return {
    steps,
    entry: {
      name,
      stack,
      model: "demo (seeded, untrained)",
      accuracy: `${dirName}/accuracy.json`,
      loadtest: `${dirName}/loadtest.csv`,
      monitor: `${dirName}/monitor.csv`,
      events: `${dirName}/events.json`,
      ...(o.repeat > 1 ? { repetition } : {}),
      hpaTargetCpuUtilization: settings.autoscaling.targetCpuUtilization,
      config: {
        ...stackConfigRows(settings),
        "HPA scale-down stabilization (s)": String(
          settings.autoscaling.scaleDownStabilizationSeconds,
        ),
        "readiness period (s)": String(settings.probes.readiness.periodSeconds),
        "a new pod takes traffic after (s, successThreshold × period)": String(
          settings.probes.readiness.successThreshold * settings.probes.readiness.periodSeconds,
        ),
        "pods that fit on the node by requests (CPU / memory)": `${fit.fit} (${fit.byCpu} / ${fit.byMemory})`,
        "wall time: up / ready / accuracy / load / destroy (s)": [
          "up",
          "ready",
          "accuracy",
          "load",
          "destroy",
        ]
          .map((k) => (steps[k] === undefined ? "–" : steps[k]?.toFixed(0)))
          .join(" / "),
      },
      environment: {
        machine: {
          hostname: ctx.node.name,
          cores: Math.max(1, Math.floor(ctx.node.cpuCores)),
          memoryBytes: ctx.node.memoryKB * 1024,
          ...(machine.loadBefore ? { loadBefore: machine.loadBefore } : {}),
          loadAfter: currentLoad(),
        },
        ...(backend ? { backend } : {}),
        where:
          `real pods on ${ctx.node.name} (pulumi up of the stack; ${fit.fit} of maxReplicas ` +
          `${fit.maxReplicas} fit by requests), load through ${
            ctx.ingress === "traefik" ? "Traefik" : "the stand-in ingress (Traefik not running)"
          } at 127.0.0.1`,
      },
    },
  };
}

/**
 * The whole experiment on real pods; returns the output folder (report.md in it). A run that
 * fails is named in the report (its step) and the others still make it.
 */
export async function runCluster(o: ClusterRunOptions): Promise<string> {
  const valid = listStacks();
  for (const s of o.stacks) {
    if (!valid.includes(s)) {
      throw new Error(
        `--stack ${JSON.stringify(s)}: not a stack of this project (valid: ${valid.join(", ")})`,
      );
    }
  }
  if (!Number.isInteger(o.repeat) || o.repeat < 1)
    throw new Error(`--repeat ${o.repeat}: give a whole number >= 1`);
  const scaling = clusterTimeScaling(o.timeScale);
  const t0 = Date.now();
  const outDir = resolve(o.out ?? join(CLUSTER_ROOT, "runs", `cluster-${runTimestamp()}`));
  await mkdir(outDir, { recursive: true });
  o.log(`output: ${outDir}`);
  o.log(
    scaling.fullLength
      ? "full length: the 30-minute schedule with the default periods"
      : `time-scaled by ${o.timeScale}: ${scaling.lines.join("; ")}`,
  );
  for (const w of scaling.warnings) o.log(`warning: ${w}`);
  await waitForGoBuilds(o.log, o.signal);
  const { flags, restarted, before, ingress, notApplied } = await ensureCluster(scaling, o.log);
  const kubeconfig = process.env.KUBECONFIG ?? join(CLUSTER_STATE_DIR, "kubeconfig");
  const versions = clusterVersions(CLUSTER_ROOT);
  const node = await nodeCapacity(kubeconfig, versions.NODE_NAME ?? "food11-node");
  o.log(
    `node ${node.name}: ${node.cpuCores} cores, ${(node.memoryKB / 1024 ** 2).toFixed(1)} GiB allocatable`,
  );
  const imagesDir = await generateRunImages(outDir, o);
  const baseConfig = clusterStackConfig(versions, CLUSTER_ROOT);
  const ctx: RunContext = {
    o,
    interference: [],
    ingress,
    scaling,
    node,
    kubeconfig,
    outDir,
    imagesDir,
    baseConfig,
  };
  const perStack = new Map(
    o.stacks.map((s) => [s, stackTimeScaling(o.timeScale, effectiveSettings(s, baseConfig))]),
  );
  const order = runOrder(o.stacks, o.repeat, o.interleave);
  const fits: Record<string, string> = {};
  for (const s of o.stacks) {
    fits[s] = stackFit(
      node,
      effectiveSettings(s, { ...baseConfig, ...perStack.get(s)?.config }),
    ).text;
  }
  const runs: RunEntry[] = [];
  const failures: string[] = [];
  const wall: Record<string, Record<string, number>> = {};
  for (const { stack, repetition } of order) {
    if (o.signal?.aborted) break;
    const name = runName(stack, repetition, o.repeat);
    try {
      const r = await runOne(ctx, stack, repetition, perStack.get(stack) as StackTimeScaling);
      runs.push(r.entry);
      wall[name] = r.steps;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  const loadWallSeconds = (Date.now() - t0) / 1000;
  const restored =
    restarted && !scaling.fullLength
      ? o.keepClusterFlags
        ? "left with this run's flags (--keep-cluster-flags)"
        : await restoreCluster(before, o.log)
      : "";
  if (restored) o.log(`cluster: ${restored}`);
  const wallSeconds = (Date.now() - t0) / 1000;
  const manifest: Manifest = {
    title: scaling.fullLength
      ? "Deployment strategies on real pods (full length)"
      : `Deployment strategies on real pods (time-scaled by ${o.timeScale})`,
    demo: true,
    notes: [
      `Real pods: each stack deployed with \`pulumi up\` on the local single-node cluster (${node.name}: a real ` +
        "kubelet, containerd and runc, metrics-server, the HPA of kube-controller-manager, " +
        (ingress === "traefik"
          ? "Traefik as the ingress"
          : "a stand-in ingress: Traefik does not run") +
        "), loaded through the ingress at 127.0.0.1 and watched through metrics.k8s.io, then " +
        "destroyed. The model is the seeded, untrained demo model baked into the image and the images " +
        "are generated patterns: accuracy is about chance (1 in 11) and says nothing about a real model; " +
        "compare the stacks' speed, memory and scaling.",
      `Cluster flags: ${flags.source}${restarted ? ` (restarted for this run; ${restored || "kept"})` : ""}; run order: ${order
        .map((x) => runName(x.stack, x.repetition, o.repeat))
        .join(
          ", ",
        )}; wall time ${(loadWallSeconds / 60).toFixed(1)} min (${(wallSeconds / 60).toFixed(1)} with the cluster's restore).`,
    ],
    cluster: {
      node,
      timeScaling: {
        factor: o.timeScale,
        fullLength: scaling.fullLength,
        lines: scaling.lines,
        warnings: scaling.warnings,
        notApplied,
        stacks: Object.fromEntries([...perStack].map(([s, t]) => [s, [...t.lines, ...t.warnings]])),
      },
      fits,
      ingress:
        ingress === "traefik"
          ? "Traefik on 127.0.0.1:80"
          : "a stand-in ingress (Traefik does not run on this cluster now: its binary is not built): a loopback reverse proxy in strategy-bench on 127.0.0.1:80 to the Service's ready endpoints, round robin, plus the Ingress status write",
      order: order.map((x) => runName(x.stack, x.repetition, o.repeat)),
      failures,
      interference: ctx.interference,
    },
    runs,
  };
  await writeFile(
    join(outDir, "run.json"),
    `${JSON.stringify({ options: { ...o, log: undefined, signal: undefined }, scaling, kcmArgs: scaling.kcmArgs, flags, wall, wallSeconds, failures }, null, 2)}\n`,
  );
  if (runs.length === 0) {
    throw new Error(`no run finished: ${failures.join("; ")}`);
  }
  await writeFile(join(outDir, "manifest.yaml"), toYaml(manifest));
  const { files } = await writeReport(manifest, outDir, outDir);
  o.log(`report: ${files.markdown} (wall time ${(wallSeconds / 60).toFixed(1)} min)`);
  if (failures.length > 0) throw new Error(`report written, but ${failures.join("; ")}`);
  return outDir;
}
