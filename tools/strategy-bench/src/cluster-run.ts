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
 *
 * Its parts, in cluster/: lock.ts (the run lock, the machine's rules), lifecycle.ts (the cluster
 * up with the run's flags, and restored), kube.ts (the node, others' pods), run-one.ts (one
 * stack's run, by stage: node.ts, deploy.ts, ready.ts, load.ts, events.ts, entry.ts).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type ClusterRunOptions,
  localClusterConfig,
  type RunContext,
  type RunEntry,
  type ScaledStack,
  scaledStack,
} from "./cluster/context.js";
import { localClusterNode } from "./cluster/kube.js";
import { ensureCluster, restoreCluster } from "./cluster/lifecycle.js";
import { waitForGoBuilds } from "./cluster/lock.js";
import { runName, runOrder } from "./cluster/order.js";
import { runOne } from "./cluster/run-one.js";
import { clusterTimeScaling, stackFit } from "./cluster-scale.js";
import { generateRunImages } from "./imageset.js";
import type { Manifest } from "./report/manifest.js";
import { finishRuns } from "./report/write.js";
import { runOutDir, writeJson } from "./runmeta.js";
import { listStacks, notAStackMessage } from "./stack.js";

/** What the cluster run's importers use (the CLI, its tests, bench/planner). */
export { type ClusterRunOptions, effectiveSettings } from "./cluster/context.js";
export { reexecUnderLock } from "./cluster/lock.js";
export { runName, runOrder } from "./cluster/order.js";

/**
 * The whole experiment on real pods; returns the output folder (report.md in it). A run that
 * fails is named in the report (its step) and the others still make it.
 */
export async function runCluster(o: ClusterRunOptions): Promise<string> {
  const valid = [...listStacks(), ...Object.keys(o.stackFiles ?? {})];
  const fileOf = (s: string) => o.stackFiles?.[s];
  for (const s of o.stacks) {
    if (!valid.includes(s)) throw new Error(notAStackMessage(s, valid));
  }
  if (!Number.isInteger(o.repeat) || o.repeat < 1)
    throw new Error(`--repeat ${o.repeat}: give a whole number >= 1`);
  const scaling = clusterTimeScaling(o.timeScale);
  const t0 = Date.now();
  const outDir = runOutDir(o.out, "cluster-");
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
  const { kubeconfig, node } = await localClusterNode();
  o.log(
    `node ${node.name}: ${node.cpuCores} cores, ${(node.memoryKB / 1024 ** 2).toFixed(1)} GiB allocatable`,
  );
  const imagesDir = await generateRunImages(outDir, o);
  const baseConfig = localClusterConfig();
  const ctx: RunContext = {
    o,
    interference: [],
    ingress,
    scaling,
    node,
    kubeconfig,
    outDir,
    imagesDir,
  };
  const perStack = new Map(
    o.stacks.map((s) => [s, scaledStack(s, o.timeScale, baseConfig, fileOf(s))]),
  );
  const order = runOrder(o.stacks, o.repeat, o.interleave);
  const fits: Record<string, string> = {};
  for (const s of o.stacks) {
    fits[s] = stackFit(node, (perStack.get(s) as ScaledStack).settings).text;
  }
  const runs: RunEntry[] = [];
  const failures: string[] = [];
  const wall: Record<string, Record<string, number>> = {};
  for (const { stack, repetition } of order) {
    if (o.signal?.aborted) break;
    const name = runName(stack, repetition, o.repeat);
    try {
      const r = await runOne(ctx, stack, repetition, perStack.get(stack) as ScaledStack);
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
  const runNames = order.map((x) => runName(x.stack, x.repetition, o.repeat));
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
      `Cluster flags: ${flags.source}${restarted ? ` (restarted for this run; ${restored || "kept"})` : ""}; run order: ${runNames.join(", ")}; wall time ${(loadWallSeconds / 60).toFixed(1)} min (${(wallSeconds / 60).toFixed(1)} with the cluster's restore).`,
    ],
    cluster: {
      node,
      timeScaling: {
        factor: o.timeScale,
        fullLength: scaling.fullLength,
        lines: scaling.lines,
        warnings: scaling.warnings,
        notApplied,
        stacks: Object.fromEntries(
          [...perStack].map(([s, { scaling: t }]) => [s, [...t.lines, ...t.warnings]]),
        ),
      },
      fits,
      ingress:
        ingress === "traefik"
          ? "Traefik on 127.0.0.1:80"
          : "a stand-in ingress (Traefik does not run on this cluster now: its binary is not built): a loopback reverse proxy in strategy-bench on 127.0.0.1:80 to the Service's ready endpoints, round robin, plus the Ingress status write",
      order: runNames,
      failures,
      interference: ctx.interference,
    },
    runs,
  };
  await writeJson(join(outDir, "run.json"), {
    options: { ...o, log: undefined, signal: undefined },
    scaling,
    kcmArgs: scaling.kcmArgs,
    flags,
    wall,
    wallSeconds,
    failures,
  });
  await finishRuns(
    manifest,
    outDir,
    failures,
    o.log,
    ` (wall time ${(wallSeconds / 60).toFixed(1)} min)`,
  );
  return outDir;
}
