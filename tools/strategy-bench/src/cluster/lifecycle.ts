/**
 * The local cluster (scripts/cluster/cluster.sh) as a run needs it: up with the HPA flags and
 * metric resolution the time scaling wants (restarted when it runs with other flags, and back to
 * the defaults after the run), which ingress serves it, and its env in this process.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CLUSTER_STATE_DIR } from "../../../../lib/cluster/stack.js";
import { e2eCacheDir } from "../../../../lib/e2e/cache.js";
import { PROJECT_ROOT } from "../../../../stacks/index.js";
import {
  type ClusterTimeScaling,
  clusterTimeScaling,
  flagDifferences,
  flagsFromArgv,
  flagsFromRecord,
  type RunningFlags,
} from "../cluster-scale.js";
import { procCmdline } from "../proc.js";
import { foreignPods } from "./kube.js";
import { StepError } from "./step.js";

const CLUSTER_SH = join(PROJECT_ROOT, "scripts", "cluster", "cluster.sh");

function cmdline(pidFile: string): string[] | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? procCmdline(pid) : undefined;
}

/** The HPA flags and metric resolution the running cluster has: its processes', else the record. */
function runningFlags(dir: string = CLUSTER_STATE_DIR): RunningFlags | undefined {
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
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("exit", (c) => r(c ?? 1));
  });
}

/** What `cluster up` is given to run with a time scaling's controller flags and resolution. */
const upEnv = (s: ClusterTimeScaling) => ({
  FOOD11_KCM_ARGS: s.kcmArgs.join(" "),
  FOOD11_METRIC_RESOLUTION: `${s.metricResolutionSeconds}s`,
});

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
  const bin = join(e2eCacheDir(), "bin");
  return CLUSTER_BINARIES.filter((b) => !existsSync(join(bin, b)));
}

/** `cluster status`: which components are not running, and whether the API answers. */
function parseClusterStatus(text: string): { notRunning: string[]; apiReady: boolean } {
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
    if ((await clusterScript(["up"], upEnv(want), log)) !== 0) {
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
export async function restoreCluster(
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
  if ((await clusterScript(["up"], upEnv(defaults), log)) !== 0)
    return "restoring the default flags failed at cluster up";
  return "restored to the default flags after the run";
}
