import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { memoryBytes } from "../../../components/quantity.js";
import { INFERENCE_ENGINES, PROJECT_ROOT, STACKS } from "../../../stacks/index.js";
/** The strategy-bench core (its export list): flags, stacks, schedules, CSVs, charts, reports. */
import * as core from "../../strategy-bench/src/index.js";
/** Its parsers of numeric flags, named: the options below use them inline. */
import { numberValue, wholeNumber } from "../../strategy-bench/src/index.js";
import { groupsFor, simulateGrouped } from "./aggregate.js";
import {
  dockerProbe,
  localProbe,
  measureCapacity,
  podProbe,
  type ReplicaProbe,
} from "./capacity.js";
import {
  type CapacityProfile,
  engineProfileName,
  profileNames,
  readProfile,
} from "./capacity-profile.js";
import { planCharts } from "./charts.js";
import { type Cluster, commandCluster } from "./cluster.js";
import { parseNodeShape } from "./cost.js";
import { trueRange, withBand } from "./error-band.js";
import { CONTROLLER_DEFAULTS, controllerFlags } from "./hpa.js";
import { hpaDecisionsForTrace, hpaStepsMarkdown, readHpaTraceFile } from "./hpa-replay.js";
import { planPage, recommendPage } from "./html.js";
import { constantRate, RATE_DURATION_DEFAULT, rateToSchedule, readRateSchedule } from "./load.js";
import { planMarkdown, writePlan } from "./output.js";
import { knobsMarkdown, RECOMMEND_MAX_REPLICAS, recommend, writeStackFile } from "./recommend.js";
import { type PlanResult, simulatePlan } from "./simulate.js";
import { comparePlanToRun, validationMarkdown } from "./validate.js";
import { sloOf, sloText, type VerdictOptions, verdictMarkdown } from "./verdict.js";

const log = (line: string) => process.stderr.write(`${line}\n`);
// The flags plan and recommend share: the open-loop load, the SLO and cost (verdictOptions reads
// them), the capacity profiles, the nodes, maxReplicas.
const rateOption = (help = "open-loop load: Poisson arrivals at this rate") =>
  new Option("--rate <req/s>", help).argParser(numberValue("rate", 0));
const rateScheduleOption = (help = "open-loop load per phase (YAML/JSON, as plan takes)") =>
  new Option("--rate-schedule <file>", help);
const durationOption = () =>
  new Option(
    "--duration <s>",
    `with --rate: seconds of load (default ${RATE_DURATION_DEFAULT})`,
  ).argParser(numberValue("duration", 1));
const errorMargin = () =>
  core.errorMarginOption(
    "judge the SLO on the predicted percentiles alone (default: the largest value the planner's error band allows must meet it)",
  );
const nodeShapeOption = (help: string) => new Option("--node-shape <spec>", help);
const priceCpuHourOption = (help: string) =>
  new Option("--price-cpu-hour <money>", help).argParser(numberValue("price", 0));
const priceGibHourOption = (help: string) =>
  new Option("--price-gib-hour <money>", help).argParser(numberValue("price", 0));
const fraction = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1))
    throw new InvalidArgumentError(`--accuracy must be 0..1, e.g. 0.8787 (got ${v})`);
  return n;
};
const concurrencyList = (v: string) => {
  const list = v.split(",").map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) {
    throw new InvalidArgumentError(
      `--concurrency must be whole numbers 1..1000, e.g. 1,2,4,8,16,20,30 (got ${v})`,
    );
  }
  return [...new Set(list)].sort((a, b) => a - b);
};

export interface PlanCommandOptions {
  stacks: string[];
  schedule?: string;
  /** Open-loop load: `--rate` (one phase of `duration` s) or `--rate-schedule <file>`. */
  rate?: number;
  rateSchedule?: string;
  duration?: number;
  /** Override every stack's HPA maxReplicas (internet-scale what-ifs). */
  maxReplicas?: number;
  /** Replica groups (src/plan/aggregate.ts); default: by the peak rate, 1 for siege users. */
  groups?: number;
  timeScale?: number;
  profiles?: string[];
  /** Plan each stack once per food11:inferenceEngine (named <stack>@<engine>). */
  engines?: string[];
  nodes?: string[];
  /** Without `nodes`: the cluster is as many nodes of this shape as the pods need. */
  nodeShape?: string;
  seed?: number;
  syncPeriod?: number;
  tolerance?: number;
  metricsResolution?: number;
  cpuInitializationPeriod?: number;
  initialReadinessDelay?: number;
  compare?: boolean;
  hpaOffset?: number;
  metricsOffset?: number;
}

/** Read the inputs and simulate every stack: the plan without its files. */
export async function runPlan(o: PlanCommandOptions): Promise<{
  results: PlanResult[];
  cluster: Cluster;
  profiles: CapacityProfile[];
}> {
  const load = await resolveLoad(o);
  const schedule = load.schedule;
  const given = o.profiles?.length
    ? await Promise.all(o.profiles.map((f) => readProfile(f)))
    : undefined;
  const groups = o.groups ?? (load.rates ? groupsFor(Math.max(0, ...load.rates)) : 1);
  // Each stack as deployed, or once per --engine (named <stack>@<engine>).
  const runs = o.stacks.flatMap((name) =>
    o.engines?.length
      ? o.engines.map((engine) => ({
          ...core.loadStack(name, undefined, { "food11:inferenceEngine": engine }),
          stack: `${name}@${engine}`,
        }))
      : [core.loadStack(name)],
  );
  // A group simulates 1/groups of the load on 1/groups of the cluster's nodes: the pool holds
  // enough nodes for every group's replicas.
  const cluster = commandCluster(
    o,
    Math.max(...runs.map((s) => withMaxReplicas(s, o.maxReplicas).autoscaling.maxReplicas)),
  );
  // The profiles given, else the built-in one measured for each stack's engine.
  const profilesOf = async (s: core.StackSettings) =>
    given ?? [await readProfile(engineProfileName(s.model.backend))];
  const perStack = await Promise.all(runs.map(profilesOf));
  const profiles = [...new Set(perStack.flat())];
  const results = runs.map((stack, i) =>
    simulateGrouped(
      {
        stack: withMaxReplicas(stack, o.maxReplicas),
        schedule,
        profiles: perStack[i] as CapacityProfile[],
        cluster,
        ...(load.rates ? { rates: load.rates } : {}),
        seed: o.seed ?? 1,
        controller: controllerFlags(o),
        ...(o.metricsResolution !== undefined
          ? { metricsResolutionSeconds: o.metricsResolution }
          : {}),
        ...(o.hpaOffset !== undefined ? { hpaOffsetSeconds: o.hpaOffset } : {}),
        ...(o.metricsOffset !== undefined ? { metricsOffsetSeconds: o.metricsOffset } : {}),
      },
      groups,
    ),
  );
  return { results, cluster, profiles };
}

function withMaxReplicas(s: core.StackSettings, max: number | undefined): core.StackSettings {
  if (max === undefined) return s;
  return {
    ...s,
    autoscaling: {
      ...s.autoscaling,
      maxReplicas: max,
      minReplicas: Math.min(s.autoscaling.minReplicas, max),
    },
  };
}

/** The load: a rate, a rate schedule, or siege users (`--schedule`, default the report's). */
async function resolveLoad(
  o: Pick<PlanCommandOptions, "schedule" | "rate" | "rateSchedule" | "duration" | "timeScale">,
): Promise<{ schedule: core.Schedule; rates?: number[] }> {
  const given = [o.schedule, o.rate, o.rateSchedule].filter((x) => x !== undefined).length;
  if (given > 1)
    throw new Error("give one load: --schedule <file>, --rate <req/s> or --rate-schedule <file>");
  if (o.rate !== undefined)
    return rateToSchedule(constantRate(o.rate, o.duration), o.timeScale ?? 1);
  if (o.rateSchedule)
    return rateToSchedule(await readRateSchedule(o.rateSchedule), o.timeScale ?? 1);
  return { schedule: await core.resolveSchedule(o.schedule, o.timeScale ?? 1) };
}

/** The SLO, node shape and prices of the command line. */
function verdictOptions(o: {
  sloP95?: number;
  sloP50?: number;
  /** --no-error-margin gives false: the SLO judged on the predicted figures alone. */
  errorMargin?: boolean;
  nodeShape?: string;
  priceCpuHour?: number;
  priceGibHour?: number;
}): VerdictOptions {
  if ((o.priceCpuHour === undefined) !== (o.priceGibHour === undefined)) {
    throw new Error("give both --price-cpu-hour and --price-gib-hour (no price is assumed)");
  }
  return {
    ...(o.sloP95 !== undefined || o.sloP50 !== undefined ? { slo: sloOf(o) } : {}),
    ...(o.nodeShape ? { shape: parseNodeShape(o.nodeShape) } : {}),
    ...(o.priceCpuHour !== undefined
      ? { prices: { cpuHour: o.priceCpuHour, gibHour: o.priceGibHour } }
      : {}),
  };
}

/** `plan` and `capacity`, registered on the strategy-bench program. */
export function registerPlanCommands(program: Command): void {
  program
    .command("plan")
    .summary("predict a strategy's report row and time series for a cluster, in seconds")
    .description(
      "What-if planner: simulate each stack's Deployment, HPA (kube-controller-manager's algorithm), " +
        "scheduler fit and readiness on the given nodes under the siege schedule, from a capacity " +
        "profile of one replica; print the report's row per stack and write JSON, markdown and charts. " +
        "The model and its error: docs/planning.md.",
    )
    .addOption(core.stacksOption("stack (repeatable; default baseline, strategy1, strategy2)"))
    .option(
      "--schedule <file>",
      "YAML/JSON schedule as loadtest takes (default: the report's 30 phases)",
    )
    .addOption(rateOption("open-loop load: Poisson arrivals at this rate (instead of --schedule)"))
    .addOption(
      rateScheduleOption(
        "open-loop load per phase, YAML/JSON { name?, phases: [{ rate, duration, repeat? }] } (instead of --schedule)",
      ),
    )
    .addOption(
      core.maxReplicasOption(
        "override every stack's HPA maxReplicas (1..1000, the schema's bound)",
      ),
    )
    .option(
      "--groups <k>",
      "open loop: simulate 1 of k identical replica groups at rate/k and scale up (default: peak rate / 250, at least 1)",
      wholeNumber("groups", 1),
    )
    .addOption(durationOption())
    .addOption(
      core.sloP95Option(
        "SLO: PASS when the p95 response time is at most this (and nothing failed or Pending)",
      ),
    )
    .addOption(core.sloP50Option("SLO on the median response time"))
    .addOption(errorMargin())
    .addOption(
      nodeShapeOption(
        "cost: nodes of <cpu>cpu,<memory> allocatable needed at peak, e.g. 4cpu,16Gi; without --nodes, the cluster too (as many as the pods need)",
      ),
    )
    .addOption(
      priceCpuHourOption("cost: price of one requested CPU core for one hour (no default)"),
    )
    .addOption(
      priceGibHourOption("cost: price of one requested GiB of memory for one hour (no default)"),
    )
    .addOption(core.timeScaleOption("multiply phase durations and delays, as loadtest does", 1))
    .addOption(
      core.profileOption(
        "capacity profile JSON from `strategy-bench capacity`, or builtin:tfjs-node / builtin:onnxruntime / builtin:wasm (measured) / builtin:flask-keras (repeatable: one per CPU limit; default: the built-in of each stack's inferenceEngine)",
      ),
    )
    .addOption(
      new Option(
        "--engine <list>",
        "plan each stack on each of these food11:inferenceEngine values, side by side (<stack>@<engine>), e.g. tensorflow,onnxruntime",
      ).argParser((v) => {
        const engines = core.commaList(v);
        const bad = engines.filter((e) => !(INFERENCE_ENGINES as readonly string[]).includes(e));
        if (bad.length || !engines.length)
          throw new InvalidArgumentError(
            `engine must be a comma-separated list of ${INFERENCE_ENGINES.join(", ")} (got ${JSON.stringify(v)})`,
          );
        return engines;
      }),
    )
    .addOption(
      core.nodesOption(
        "node group <count>x<cpu>cpu,<memory> of allocatable resources, repeatable (default: one node of this machine)",
      ),
    )
    .addOption(core.seedOption("seed of the users' think times (as loadtest --seed)"))
    .option(
      "--sync-period <s>",
      `HPA sync period (kube-controller-manager default ${CONTROLLER_DEFAULTS.syncPeriodSeconds})`,
      numberValue("sync period", 1),
    )
    .option(
      "--tolerance <x>",
      `HPA tolerance (default ${CONTROLLER_DEFAULTS.tolerance})`,
      numberValue("tolerance", 0),
    )
    .option(
      "--metrics-resolution <s>",
      `metrics-server --metric-resolution (default ${core.METRIC_RESOLUTION_DEFAULT})`,
      numberValue("metrics resolution", 1),
    )
    .option(
      "--cpu-initialization-period <s>",
      `HPA CPU initialization period (default ${CONTROLLER_DEFAULTS.cpuInitializationPeriodSeconds})`,
      numberValue("period", 0),
    )
    .option(
      "--initial-readiness-delay <s>",
      `HPA initial readiness delay (default ${CONTROLLER_DEFAULTS.delayOfInitialReadinessStatusSeconds})`,
      numberValue("delay", 0),
    )
    .option(
      "--accuracy <fraction>",
      "model accuracy, stated under the charts' titles (given, not predicted)",
      fraction,
      0.8787,
    )
    .option("--compare", "lay the stacks side by side in one table", false)
    .option("--out <dir>", "output folder (default runs/plan-<timestamp>)")
    .option("--no-charts", "skip the SVG/PNG charts")
    .option(
      "--measured-loadtest <csv>",
      "validate: a loadtest CSV of the same stack, schedule and seed (one --stack)",
    )
    .option("--measured-monitor <csv>", "validate: its monitor CSV (replicas over time)")
    .option(
      "--hpa-trace <file>",
      "replay only the HPA of one --stack against a scripted per-pod CPU trace (YAML/JSON) and print every sync's decision",
    )
    .option(
      "--hpa-offset <s>",
      "first HPA sync after the test's start (default 0)",
      numberValue("offset", 0),
    )
    .option(
      "--metrics-offset <s>",
      "first metrics scrape after the test's start (default 0)",
      numberValue("offset", 0),
    )
    .action(async (o) => {
      const t0 = performance.now();
      const stacks: string[] = o.stack?.length ? o.stack : [...STACKS];
      if ((o.measuredLoadtest || o.measuredMonitor) && stacks.length !== 1) {
        throw new Error("--measured-loadtest compares one stack: give exactly one --stack");
      }
      if (o.hpaTrace) {
        if (stacks.length !== 1)
          throw new Error("--hpa-trace replays one HPA: give exactly one --stack");
        const trace = await readHpaTraceFile(o.hpaTrace);
        const steps = hpaDecisionsForTrace({
          hpa: core.loadStack(stacks[0] as string),
          ...trace,
          controller: controllerFlags(o),
        });
        const out = core.runOutDir(o.out, "plan-");
        await mkdir(out, { recursive: true });
        await core.writeJson(resolve(out, "hpa-decisions.json"), steps);
        process.stdout.write(hpaStepsMarkdown(steps));
        log(`${steps.length} syncs -> ${resolve(out, "hpa-decisions.json")}`);
        return;
      }
      if (o.measuredMonitor && !o.measuredLoadtest) {
        throw new Error("--measured-monitor needs --measured-loadtest <csv> of the same run");
      }
      // The flags are PlanCommandOptions' fields by name, but for the repeatable ones.
      const { results } = await runPlan({ ...o, stacks, profiles: o.profile, engines: o.engine });
      const simulated = performance.now() - t0;
      const out = core.runOutDir(o.out, "plan-");
      await mkdir(out, { recursive: true });
      const chartDefs = o.charts ? planCharts(results, o.accuracy) : [];
      const chartFiles = await core.writeCharts(out, chartDefs);
      const charts = chartFiles.map((c) => c.id);
      const compare: boolean = o.compare;
      const v = verdictOptions(o);
      const verdict = verdictMarkdown(results, v);
      const md = planMarkdown(results, { compare, charts, verdict });
      const files = await writePlan(out, results, md);
      const html = await core.writeHtmlReport(
        out,
        planPage({
          results,
          verdict: v,
          compare,
          charts: await core.readHtmlCharts(chartDefs, chartFiles),
          ...(o.charts ? {} : { noCharts: "Charts not drawn (--no-charts)." }),
        }),
      );
      process.stdout.write(planMarkdown(results, { compare, verdict }));
      if (o.measuredLoadtest) {
        const e = comparePlanToRun(results[0] as PlanResult, {
          loadtest: await core.readLoadtestCsv(o.measuredLoadtest),
          ...(o.measuredMonitor ? { monitor: await core.readMonitorCsv(o.measuredMonitor) } : {}),
        });
        const text = validationMarkdown(e);
        await writeFile(resolve(out, "validation.md"), text);
        await core.writeJson(resolve(out, "validation.json"), e);
        process.stdout.write(`\n${text}`);
      }
      log(
        `${results.length} stack(s) simulated in ${(simulated / 1000).toFixed(2)} s; ` +
          `${files.markdown}, ${files.json}, ${html}${charts.length ? ` and ${charts.length} charts (SVG + PNG)` : ""} ` +
          `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    });

  program
    .command("recommend")
    .summary(
      "search the strategy knobs for the cheapest stack meeting an SLO; write its stack file",
    )
    .description(
      "Simulate a grid of knob values (HPA CPU target, requests.cpu, minReplicas, readiness " +
        "successThreshold; memory at the profile's working set + 25 %) under an open-loop rate, keep " +
        "the stacks meeting the SLO with no failed request and no Pending pod, write the cheapest as " +
        "Pulumi.<name>.yaml (validated by the stack loader) and compare it with the existing stacks.",
    )
    .addOption(rateOption())
    .addOption(rateScheduleOption())
    .addOption(durationOption())
    .addOption(core.sloP95Option("SLO: p95 response time at most this").makeOptionMandatory())
    .addOption(core.sloP50Option("SLO on the median"))
    .addOption(errorMargin())
    .addOption(
      core.nodesOption(
        "a fixed cluster <count>x<cpu>cpu,<memory>, repeatable (default: nodes of --node-shape as needed, else one node of this machine's size)",
      ),
    )
    .addOption(nodeShapeOption("cost: nodes of <cpu>cpu,<memory> needed at peak"))
    .addOption(priceCpuHourOption("price of one requested CPU core for one hour (no default)"))
    .addOption(priceGibHourOption("price of one requested GiB for one hour (no default)"))
    .addOption(core.profileOption("capacity profile(s), as plan takes"))
    .addOption(
      core.maxReplicasOption(`maxReplicas of every candidate (default ${RECOMMEND_MAX_REPLICAS})`),
    )
    .option(
      "--base <stack>",
      "the stack file the recommendation starts from (image, probes, …)",
      "baseline",
    )
    .option("--name <name>", "the recommended stack's name", "recommended")
    .option("--dir <dir>", "where Pulumi.<name>.yaml is written (default: the project root)")
    .option(
      "--out <dir>",
      "where report.html and its charts are written (default: --dir when given, else runs/recommend-<timestamp>)",
    )
    .addOption(core.seedOption("seed of the arrivals"))
    .action(async (o) => {
      const t0 = performance.now();
      if (o.rate === undefined && !o.rateSchedule)
        throw new Error("give --rate <req/s> or --rate-schedule <file>");
      const load = await resolveLoad({
        rate: o.rate,
        rateSchedule: o.rateSchedule,
        duration: o.duration,
      });
      const v = verdictOptions(o);
      const base = core.loadStack(o.base);
      const profiles = await Promise.all(profileNames(o.profile, base).map((f) => readProfile(f)));
      const maxReplicas: number = o.maxReplicas ?? RECOMMEND_MAX_REPLICAS;
      const cluster = commandCluster(o, maxReplicas);
      const rec = recommend({
        name: o.name,
        base,
        schedule: load.schedule,
        ...(load.rates ? { rates: load.rates } : {}),
        profiles,
        cluster,
        slo: v.slo ?? {},
        ...(v.shape ? { shape: v.shape } : {}),
        ...(v.prices ? { prices: v.prices } : {}),
        seed: o.seed,
        maxReplicas,
      });
      const lines = [
        `# Recommendation: ${load.schedule.name}, SLO ${o.sloP95} s p95${o.sloP50 !== undefined ? `, ${o.sloP50} s p50` : ""}`,
        "",
        `Cluster: ${cluster.description}. ${rec.candidates.length} candidates simulated, ${rec.candidates.filter((c) => c.pass).length} meet the SLO (${sloText(v.slo ?? {})}) with no failed request and no Pending pod.`,
        ...(v.slo?.margin
          ? [
              `With the planner's error: a candidate's predicted percentile × ${trueRange(1, v.slo.margin)[1].toFixed(2)} (the largest value its response-time band ${withBand("", v.slo.margin).trim()} allows) must meet the SLO; --no-error-margin judges the prediction alone.`,
            ]
          : []),
        `Memory: requests ${rec.memory.quantity} (${rec.memory.why}), limits twice that.`,
        "",
      ];
      const existing = STACKS.map((name) =>
        simulatePlan({
          stack: core.loadStack(name),
          schedule: load.schedule,
          ...(load.rates ? { rates: load.rates } : {}),
          profiles,
          cluster,
          seed: o.seed,
        }),
      );
      const out = core.runOutDir(o.out ?? o.dir, "recommend-");
      await mkdir(out, { recursive: true });
      /** report.html beside its charts: the recommendation (if any) against the existing stacks. */
      const page = async (stackFile?: string) => {
        const defs = planCharts(
          rec.best ? [rec.best.result, ...existing] : existing,
          undefined,
          "strategy-bench recommend",
        );
        const files = await core.writeCharts(out, defs);
        return core.writeHtmlReport(
          out,
          recommendPage({
            name: o.name,
            rec,
            existing,
            verdict: v,
            load: load.schedule.name,
            cluster: cluster.description,
            ...(stackFile ? { stackFile } : {}),
            charts: await core.readHtmlCharts(defs, files),
          }),
        );
      };
      if (!rec.best) {
        lines.push(
          "No candidate meets the SLO on this cluster: give more nodes, a larger --max-replicas or a looser SLO.",
          "",
        );
        process.stdout.write(lines.join("\n"));
        log(`no recommendation; ${await page()}`);
        process.exitCode = 1;
        return;
      }
      const best = rec.best;
      const { file } = writeStackFile(resolve(o.dir ?? PROJECT_ROOT), o.name, o.base, best.knobs, [
        `Recommended by strategy-bench recommend for ${load.schedule.name}, SLO p95 <= ${o.sloP95} s,`,
        `on ${cluster.description} (the planner's prediction${v.slo?.margin ? ", judged with its error band" : ""}; docs/planning.md for its error).`,
      ]);
      lines.push(
        "## Knobs",
        "",
        ...knobsMarkdown(rec),
        "",
        ...verdictMarkdown([best.result, ...existing], v),
        `Wrote ${file} (validated by the stack loader).`,
        "",
      );
      process.stdout.write(lines.join("\n"));
      const html = await page(file);
      log(
        `${rec.candidates.length + existing.length} simulations and ${html} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    });

  program
    .command("capacity")
    .summary("measure one replica's capacity profile (throughput, latency, CPU, memory, start-up)")
    .description(
      "Measure one replica under a stack's limits: a container (`--image`, docker run --cpus/--memory, " +
        "127.0.0.1 only) or a running local replica (`--url` + `--pid`). A concurrency sweep on /test " +
        "(closed loop, no think time) gives throughput and latency per level, CPU seconds per request " +
        "and the working set; idle usage and start-up to /readyz are measured too. Writes the JSON " +
        "profile `plan --profile` reads.",
    )
    .option("--stack <name>", "stack whose limits the replica runs under", "baseline")
    .option("--image <ref>", "image to run with docker under the stack's limits")
    .addOption(
      new Option(
        "--engine <name>",
        "the stack's food11:inferenceEngine for this measurement (the image must be that engine's image)",
      ).choices(INFERENCE_ENGINES),
    )
    .option("--url <url>", "an already-running replica on loopback, e.g. http://127.0.0.1:8080")
    .option(
      "--pod <ns/name>",
      "with --url (a kubectl port-forward): the pod, for usage from its kubelet and start-up from its status",
    )
    .addOption(
      core.kubeconfigOption("with --pod: kubeconfig (default: KUBECONFIG, ~/.kube/config)"),
    )
    .addOption(core.contextOption("with --pod: kubeconfig context"))
    .option(
      "--pid <pid>",
      "with --url: the replica's process, for CPU and RSS from /proc",
      wholeNumber("pid", 1),
    )
    .addOption(
      new Option("--concurrency <list>", "levels, comma-separated")
        .argParser(concurrencyList)
        .default([1, 2, 4, 8, 16, 20, 30], "1,2,4,8,16,20,30"),
    )
    .option("--level-seconds <s>", "seconds per level", numberValue("level seconds", 0.1), 20)
    .option(
      "--warmup-seconds <s>",
      "discarded warm-up at concurrency 1",
      numberValue("warm-up", 0),
      5,
    )
    .option("--idle-seconds <s>", "idle measurement before the sweep", numberValue("idle", 0.1), 5)
    .option(
      "--startup-seconds <s>",
      "with --url: start-up time to record (not measured)",
      numberValue("startup", 0),
    )
    .addOption(core.seedOption("seed"))
    .option("--out <file>", "profile JSON to write", "capacity-profile.json")
    .action(async (o) => {
      if (!o.image && !o.url) {
        throw new Error(
          "give --image <ref> (docker), --url <url> --pid <pid> (a local replica) or --url <url> --pod <ns/name> (a port-forwarded pod)",
        );
      }
      if (o.url && o.pid === undefined && !o.pod) {
        throw new Error(
          "--url needs --pid <pid> (a local process: CPU and memory from /proc) or --pod <ns/name> (a pod: from its kubelet)",
        );
      }
      const stack = core.loadStack(
        o.stack,
        undefined,
        o.engine ? { "food11:inferenceEngine": o.engine } : {},
      );
      const ctl = new AbortController();
      process.once("SIGINT", () => ctl.abort());
      const probe: ReplicaProbe = o.image
        ? await dockerProbe(o.image, stack)
        : o.pod
          ? await podProbe(o.url, o.pod, stack, { kubeconfig: o.kubeconfig, context: o.context })
          : localProbe(o.url, o.pid);
      try {
        const profile = await measureCapacity({
          probe,
          cpuLimitCores: core.cpuCores(stack.resources.limits.cpu),
          memoryLimitBytes: memoryBytes(stack.resources.limits.memory),
          concurrency: o.concurrency,
          levelSeconds: o.levelSeconds,
          warmupSeconds: o.warmupSeconds,
          idleSeconds: o.idleSeconds,
          ...(o.startupSeconds !== undefined ? { startupSeconds: o.startupSeconds } : {}),
          seed: o.seed,
          signal: ctl.signal,
          log,
        });
        await mkdir(dirname(resolve(o.out)), { recursive: true });
        await core.writeJson(o.out, profile);
        log(`${profile.levels.length} levels -> ${o.out}`);
      } finally {
        await probe.stop();
      }
    });
}
