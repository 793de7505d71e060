/**
 * A recommendation verified on real pods (`npm run validate:recommend`, issue 30 item 5): on the
 * local cluster's node, `recommend` under the conditions the time-scaled cluster run will have
 * (the schedule × the time scale, the controller's clocks and metrics-server's resolution, the
 * stack's windows and probe periods as cluster-scale.ts scales them), the recommended stack file
 * written in the output folder (never in the checkout), that stack deployed and loaded by the
 * cluster run (cluster-run.ts, with the schedule and the stack file), then the planner with the
 * run's own settings (`planForClusterRun`) against the measured run and the checks
 * (tools/planner/src/recommend-check.ts).
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { Command, Option } from "commander";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT } from "../../../stacks/index.js";
import {
  CONTROLLER_DEFAULTS,
  checkRecommendation,
  controllerFlags,
  knobsMarkdown,
  type PlanOptions,
  type PlanResult,
  parseNodes,
  profileNames,
  RECOMMEND_MAX_REPLICAS,
  type Recommendation,
  readProfile,
  readRecommendationRun,
  recommend,
  recommendationCheckMarkdown,
  simulatePlan,
  sloOf,
  sloText,
  validationMarkdown,
  writeStackFile,
} from "../../planner/src/index.js";
import { localClusterConfig, scaledStack } from "./cluster/context.js";
import { localClusterNode } from "./cluster/kube.js";
import { ensureCluster, restoreCluster } from "./cluster/lifecycle.js";
import { waitForGoBuilds } from "./cluster/lock.js";
import { runCluster } from "./cluster-run.js";
import { clusterTimeScaling } from "./cluster-scale.js";
import { resolveSchedule } from "./commands.js";
import {
  delayScaleOption,
  errorMarginOption,
  maxReplicasOption,
  nodesOption,
  numberValue,
  profileOption,
  quietOption,
  seedOption,
  sloP50Option,
  sloP95Option,
  wholeNumber,
} from "./flags.js";
import { runOutDir, writeJson } from "./runmeta.js";
import { listStacks, loadStack } from "./stack.js";

export const DEFAULT_RECOMMEND_SCHEDULE = join(
  PROJECT_ROOT,
  "bench",
  "planner",
  "schedules",
  "validate-recommend.yaml",
);

export interface ValidateRecommendOptions {
  schedule: string;
  sloP95: number;
  sloP50?: number;
  /** false (--no-error-margin): the SLO judged on the predicted percentiles alone. */
  errorMargin: boolean;
  profile: string[];
  /** The cluster the recommendation is for; default the local cluster's node, read from it. */
  nodes?: string[];
  timeScale: number;
  delayScale: number;
  seed: number;
  maxReplicas: number;
  base: string;
  name: string;
  perClass: number;
  out?: string;
  quiet: boolean;
  /** The recommendation and its stack file only: no cluster, no run (needs `nodes`). */
  planOnly?: boolean;
}

/** The command's flags (commander); `action` gets them parsed, with every default filled in. */
export function validateRecommendCommand(
  action: (o: ValidateRecommendOptions) => Promise<void>,
): Command {
  return new Command("validate:recommend")
    .description(
      "Recommend the cheapest stack for a siege schedule and an SLO on the local cluster's node, " +
        "deploy it on real pods, run that schedule (time-scaled as cluster runs are) and compare " +
        "measured with predicted: p95 within the SLO, no Pending pod, no failed request, " +
        "transaction rate and mean ready replicas within 20 %. Exits 1 naming a failed check.",
    )
    .addOption(
      new Option("--schedule <file>", "siege schedule (YAML/JSON, as loadtest takes)").default(
        DEFAULT_RECOMMEND_SCHEDULE,
        relative(PROJECT_ROOT, DEFAULT_RECOMMEND_SCHEDULE),
      ),
    )
    .addOption(sloP95Option("SLO: p95 response time at most this").default(0.6))
    .addOption(sloP50Option("SLO on the median too"))
    .addOption(
      errorMarginOption(
        "recommend on the predicted percentiles alone (default: the largest value the planner's error band allows must meet the SLO)",
      ),
    )
    .addOption(
      profileOption(
        "capacity profile, repeatable (default: the built-in profile of --base's engine, measured on the project's machine)",
      ),
    )
    .addOption(
      nodesOption(
        "recommend for <count>x<cpu>cpu,<memory> (repeatable; default: the cluster node's allocatable)",
      ),
    )
    .option(
      "--time-scale <k>",
      "0 < k <= 1: schedule and autoscaling clocks x k (1: full length)",
      numberValue("time scale", 0, { above: true, max: 1 }),
      0.2,
    )
    .addOption(
      delayScaleOption("think-time scale (1: the request rate recommended for)").default(1),
    )
    .addOption(seedOption("seed of the delays, the images and the plan"))
    .addOption(maxReplicasOption("maxReplicas of every candidate").default(RECOMMEND_MAX_REPLICAS))
    .option("--base <stack>", "the stack file the recommendation starts from", "baseline")
    .option(
      "--name <name>",
      "the recommended stack's name (not a stack of the project)",
      "recommended",
    )
    .option(
      "--per-class <n>",
      "generated images per class for the accuracy step",
      wholeNumber("per class", 1),
      5,
    )
    .option("--out <dir>", "output folder (default runs/validate-recommend-<timestamp>)")
    .addOption(quietOption())
    .option(
      "--plan-only",
      "only recommend (under the run's conditions) and write the stack file: no cluster; needs --nodes",
    )
    .action(async (o) => {
      if (listStacks().includes(o.name)) {
        throw new Error(
          `--name ${o.name}: a stack of the project; give a new name (default recommended)`,
        );
      }
      if (!listStacks().includes(o.base)) {
        throw new Error(
          `--base ${o.base}: not a stack of the project (valid: ${listStacks().join(", ")})`,
        );
      }
      await action({ ...o, profile: profileNames(o.profile, loadStack(o.base)) });
    });
}

/** The cluster's node as the planner's `--nodes` gives it: one node of its allocatable. */
const nodeSpec = (n: { cpuCores: number; memoryKB: number }) =>
  `1x${n.cpuCores}cpu,${n.memoryKB}Ki`;

/** The controller's settings of a cluster's HPA flags (absent = kube-controller-manager's default). */
function controllerOf(hpa: Parameters<typeof controllerFlags>[0]) {
  return { ...CONTROLLER_DEFAULTS, ...controllerFlags(hpa) };
}

/**
 * The planner's options for one stack of a cluster run folder: the settings that run deployed and
 * ran under (run.json: options, flags, scaling; manifest.yaml: the node): the stack file (the
 * run's `stackFiles`, else the project's) + the cluster's config + the time scaling's overrides,
 * the schedule × the time scale, the controller flags and metrics-server resolution the cluster
 * had, the monitor's interval, the seed. Also the nodes and the run's time and delay scales, for a caption.
 */
export async function clusterRunPlanOptions(
  runDir: string,
  stack: string,
  o: { profiles: string[]; nodes?: string[] },
): Promise<{ options: PlanOptions; nodes: string[]; timeScale: number; delayScale?: number }> {
  const run = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
  const manifest = parseYaml(readFileSync(join(runDir, "manifest.yaml"), "utf8"));
  const {
    timeScale: f,
    delayScale,
    seed,
    schedule,
    stackFiles,
  } = run.options as {
    timeScale: number;
    delayScale?: number;
    seed?: number;
    schedule?: string;
    stackFiles?: Record<string, string>;
  };
  // Relative paths (a fixture's) from the run folder; the command records absolute ones.
  const file = stackFiles?.[stack] ? resolve(runDir, stackFiles[stack]) : undefined;
  const base = localClusterConfig();
  const node = manifest.cluster.node as { cpuCores: number; memoryKB: number };
  const nodes = o.nodes ?? [nodeSpec(node)];
  const options: PlanOptions = {
    stack: scaledStack(stack, f, base, file).settings,
    schedule: await resolveSchedule(schedule && resolve(runDir, schedule), f, delayScale),
    profiles: await Promise.all(o.profiles.map((p) => readProfile(p))),
    cluster: parseNodes(nodes),
    seed: seed ?? 1,
    controller: controllerOf(run.flags.hpa),
    metricsResolutionSeconds: run.flags.metricResolutionSeconds,
    monitorIntervalSeconds: run.scaling.monitorIntervalSeconds,
  };
  return { options, nodes, timeScale: f, ...(delayScale !== undefined ? { delayScale } : {}) };
}

/** The planner for one stack of a cluster run folder, as that run deployed and ran it. */
export async function planForClusterRun(
  runDir: string,
  stack: string,
  o: { profiles: string[]; nodes?: string[] },
): Promise<PlanResult> {
  return simulatePlan((await clusterRunPlanOptions(runDir, stack, o)).options);
}

/** The recommendation under a time-scaled cluster run's conditions, its stack file in `out`. */
async function recommendForRun(
  o: ValidateRecommendOptions,
  nodes: string[],
  out: string,
): Promise<{ head: string[]; rec: Recommendation; file?: string; predicted: string[] }> {
  const f = o.timeScale;
  const scaling = clusterTimeScaling(f);
  const base = localClusterConfig();
  const schedule = await resolveSchedule(o.schedule, f, o.delayScale);
  const cluster = parseNodes(nodes);
  const slo = sloOf(o);
  const rec = recommend({
    name: o.name,
    base: scaledStack(o.base, f, base).settings,
    schedule,
    profiles: await Promise.all(o.profile.map((p) => readProfile(p))),
    cluster,
    slo,
    seed: o.seed,
    maxReplicas: o.maxReplicas,
    controller: controllerOf(scaling.hpa),
    metricsResolutionSeconds: scaling.metricResolutionSeconds,
  });
  const head = [
    `# ${o.planOnly ? "Recommendation for a run on real pods (--plan-only: not deployed)" : "Recommendation verified on real pods"}: ${schedule.name}, SLO ${sloText(slo)}`,
    "",
    `Recommended for ${cluster.description} under the run's conditions (time scale ${f}, delay scale ${o.delayScale}, seed ${o.seed}; ${scaling.lines.join("; ")}): ` +
      `${rec.candidates.length} candidates, ${rec.candidates.filter((c) => c.pass).length} meet the SLO with no failed request and no Pending pod.`,
    "",
  ];
  const best = rec.best;
  if (!best) return { head, rec, predicted: [] };
  const { file } = writeStackFile(out, o.name, o.base, best.knobs, [
    `Recommended by validate:recommend for ${schedule.name}, SLO p95 <= ${o.sloP95} s${o.errorMargin ? " with the planner's error" : ""}, on ${cluster.description}.`,
  ]);
  const r = best.result;
  const predicted = [
    `Predicted for the run: p95 ${r.latency.p95.toFixed(3)} s, ${r.load.transactionRate.toFixed(2)} requests/s, ` +
      `${r.load.failed} failed, pods peak ${best.cost.peakPods} / mean ${best.cost.meanPods.toFixed(2)}, ` +
      `${best.cost.maxPending} Pending.`,
    "",
  ];
  return { head, rec, file, predicted };
}

/**
 * The whole check: recommend, run on real pods, compare. Returns the output folder and whether
 * every check passed; validation.md / validation.json / plan.json in it, the run under run/.
 * `planOnly`: the recommendation and its stack file only, no cluster (then `nodes` is needed).
 */
export async function validateRecommendation(
  o: ValidateRecommendOptions,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ out: string; pass: boolean; failed: string[] }> {
  if (o.planOnly && !o.nodes) {
    throw new Error("--plan-only needs --nodes (without it the node is read from the cluster)");
  }
  const f = o.timeScale;
  const scaling = clusterTimeScaling(f);
  const out = runOutDir(o.out, "validate-recommend-");
  await mkdir(out, { recursive: true });
  log(`output: ${out}`);
  const say = async (text: string[]) => {
    await writeFile(join(out, "validation.md"), text.join("\n"));
    process.stdout.write(text.join("\n"));
  };
  if (o.planOnly && o.nodes) {
    const { head, rec, file, predicted } = await recommendForRun(o, o.nodes, out);
    await say([...head, ...(rec.best ? knobsMarkdown(rec) : []), "", ...predicted]);
    return file
      ? { out, pass: true, failed: [] }
      : { out, pass: false, failed: ["a recommendation (no candidate meets the SLO)"] };
  }
  // The cluster up with the run's flags first: the recommendation is for its node.
  await waitForGoBuilds(log, signal);
  const state = await ensureCluster(scaling, log);
  try {
    const { node } = await localClusterNode();
    const nodes = o.nodes ?? [nodeSpec(node)];
    const { head, rec, file, predicted } = await recommendForRun(o, nodes, out);
    if (!rec.best || !file) {
      await say([
        ...head,
        "FAILED: no candidate meets the SLO on this node: nothing to deploy.",
        "",
      ]);
      return { out, pass: false, failed: ["a recommendation (no candidate meets the SLO)"] };
    }
    log(`recommended: ${file}`);
    const runDir = await runCluster({
      stacks: [o.name],
      stackFiles: { [o.name]: file },
      schedule: resolve(o.schedule),
      timeScale: f,
      delayScale: o.delayScale,
      seed: o.seed,
      perClass: o.perClass,
      repeat: 1,
      interleave: false,
      // This command brought the cluster up with the run's flags; it restores them below.
      keepClusterFlags: true,
      out: join(out, "run"),
      quiet: o.quiet,
      log,
      ...(signal ? { signal } : {}),
    });
    const profiles = o.profile;
    const plan = await planForClusterRun(runDir, o.name, { profiles, nodes });
    const v = checkRecommendation(plan, await readRecommendationRun(join(runDir, o.name)), {
      p95: o.sloP95,
      ...(o.sloP50 !== undefined ? { p50: o.sloP50 } : {}),
    });
    await say([
      ...head,
      "## The recommended stack",
      "",
      ...knobsMarkdown(rec),
      "",
      ...predicted,
      `Stack file: ${file}; the run: ${runDir} (report.md).`,
      "",
      "## Measured against predicted",
      "",
      ...recommendationCheckMarkdown(v),
      validationMarkdown(v.comparison),
      `Profile(s): ${profiles.join(", ")}; ${plan.profile.description}.`,
      "",
    ]);
    await writeJson(join(out, "validation.json"), {
      options: o,
      nodes,
      knobs: rec.best.knobs,
      ...v,
    });
    await writeJson(join(out, "plan.json"), plan);
    return { out, pass: v.pass, failed: v.checks.filter((c) => !c.pass).map((c) => c.check) };
  } finally {
    if (state.restarted && !scaling.fullLength) {
      log(`cluster: ${await restoreCluster(state.before, log)}`);
    }
  }
}
