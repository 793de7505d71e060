/**
 * The planner against a run on real pods (docs/planning.md, Validation, "Against real pods"):
 * for one stack of a `demo --cluster` / `run --cluster` folder, the planner with the settings that
 * run deployed — the stack file plus the cluster's config plus the time scaling's overrides
 * (scale-down window, probe periods: cluster-scale.ts `stackTimeScaling`, as cluster-run.ts
 * `effectiveSettings` builds them), the controller-manager flags and metrics-server resolution the
 * cluster actually ran with (run.json `flags`), the run's schedule × time scale and seed, its
 * monitor interval, and the node's allocatable CPU and memory (manifest.yaml) — then
 * `comparePlanToRun` against its loadtest and monitor CSVs.
 *
 *   npx tsx bench/planner/against-real-pods.ts --run runs/cluster-3stack-0.1 --stack baseline \
 *     --profile bench/planner/profiles/food11-2cpu.json [--out runs/plan-vs-pods/baseline]
 *
 * Prints the validation markdown, the replicas over time (ready and Pending + Running, predicted
 * against measured) and writes validation.json / plan.json beside it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command } from "commander";
import {
  atMonitorSamples,
  comparePlanToRun,
  simulatePlan,
  validationMarkdown,
} from "../../tools/planner/src/index.js";
import { type Align, markdownTable } from "../../tools/strategy-bench/src/benchkit.js";
import { clusterRunPlanOptions } from "../../tools/strategy-bench/src/cluster-recommend.js";
import { readLoadtestCsv } from "../../tools/strategy-bench/src/csv.js";
import { nodesOption, nonNegative, profileOption } from "../../tools/strategy-bench/src/flags.js";
import { readMonitorCsv } from "../../tools/strategy-bench/src/monitor-csv.js";
import { writeJson } from "../../tools/strategy-bench/src/runmeta.js";

const ROOT = resolve(__dirname, "../..");

async function main(): Promise<void> {
  const values = new Command("against-real-pods.ts")
    .description("The planner against a real-pods run, with the settings that run deployed.")
    .requiredOption("--run <folder>", "a demo --cluster / run --cluster folder")
    .requiredOption("--stack <name>", "the run's stack to compare")
    .addOption(profileOption("capacity profile JSON (repeatable)").makeOptionMandatory())
    .addOption(
      nodesOption("node group <count>x<cpu>cpu,<memory>, repeatable (default: the run's node)"),
    )
    .option(
      "--out <dir>",
      "where validation.json and plan.json go (default runs/plan-vs-pods-<time>/<stack>)",
    )
    .option("--hpa-offset <s>", "first HPA sync after the test's start", nonNegative("hpa offset"))
    .option(
      "--metrics-offset <s>",
      "first metrics scrape after the test's start",
      nonNegative("metrics offset"),
    )
    .parse()
    .opts<{
      run: string;
      stack: string;
      profile: string[];
      nodes?: string[];
      out?: string;
      hpaOffset?: number;
      metricsOffset?: number;
    }>();
  const runDir = resolve(values.run);
  const stack = values.stack;
  // The stack, the controller's flags, metrics-server's resolution, the schedule, the seed and
  // the node as the run had them (cluster-recommend.ts, which validate:recommend uses too).
  const {
    options,
    nodes,
    timeScale: f,
    delayScale,
  } = await clusterRunPlanOptions(runDir, stack, {
    profiles: values.profile,
    ...(values.nodes ? { nodes: values.nodes } : {}),
  });
  const plan = simulatePlan({
    ...options,
    ...(values.hpaOffset ? { hpaOffsetSeconds: values.hpaOffset } : {}),
    ...(values.metricsOffset ? { metricsOffsetSeconds: values.metricsOffset } : {}),
  });
  const { stack: settings, seed } = options;
  const controller = options.controller ?? {};
  const metricsResolution = options.metricsResolutionSeconds;
  const monitorInterval = options.monitorIntervalSeconds;
  const dir = join(runDir, stack);
  const rows = await readMonitorCsv(join(dir, "monitor.csv"));
  const e = comparePlanToRun(plan, {
    loadtest: await readLoadtestCsv(join(dir, "loadtest.csv")),
    monitor: rows,
  });

  // Ready replicas over time too (the monitor's extended columns), at the measured samples
  // where the comparison has Pending + Running.
  const ready = atMonitorSamples(plan, rows, "ready", (r) => r.readyReplicas);
  const timeline = e.replicas.map((x, i) => ({
    t: x.t,
    measuredReady: ready[i]?.measured ?? Number.NaN,
    predictedReady: ready[i]?.predicted ?? Number.NaN,
    measured: x.measured,
    predicted: x.predicted,
  }));
  // Print the changes only: one line whenever any of the four counts changes.
  const counts = ["measuredReady", "predictedReady", "measured", "predicted"] as const;
  const changes = timeline.filter((x, i) => {
    const p = timeline[i - 1];
    return !p || counts.some((k) => p[k] !== x[k]);
  });
  const readyDiffs = timeline.filter(
    (x) => Number.isFinite(x.predictedReady) && Number.isFinite(x.measuredReady),
  );
  const readyMae =
    readyDiffs.reduce((a, x) => a + Math.abs(x.predictedReady - x.measuredReady), 0) /
    Math.max(1, readyDiffs.length);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const lines = [
    validationMarkdown(e),
    `Settings: time scale ${f}${delayScale !== undefined ? `, delay scale ${delayScale}` : ""}, seed ${seed}; ` +
      `sync ${controller.syncPeriodSeconds} s, CPU init ${controller.cpuInitializationPeriodSeconds} s, initial readiness delay ${controller.delayOfInitialReadinessStatusSeconds} s, ` +
      `metrics resolution ${metricsResolution} s, monitor ${monitorInterval} s; scale-down window ${settings.autoscaling.scaleDownStabilizationSeconds} s, ` +
      `readiness ${settings.probes.readiness.successThreshold} × ${settings.probes.readiness.periodSeconds} s; nodes ${nodes.join(" ")}; ` +
      `profile ${plan.profile.description}; a new pod ready after ${plan.readyDelaySeconds.toFixed(1)} s.`,
    "",
    `Replicas (ready): mean predicted ${mean(readyDiffs.map((x) => x.predictedReady)).toFixed(2)}, measured ${mean(readyDiffs.map((x) => x.measuredReady)).toFixed(2)}, mean absolute error ${readyMae.toFixed(2)}; ` +
      `Pending + Running: mean absolute error ${e.replicasMeanAbsoluteError.toFixed(2)}.`,
    "",
    ...markdownTable(
      ["t (s)", "ready predicted", "ready measured", "Pending + Running predicted", "measured"],
      changes.map((x) =>
        [x.t.toFixed(0), x.predictedReady, x.measuredReady, x.predicted, x.measured].map(String),
      ),
      { align: Array<Align>(5).fill("right") },
    ),
    "",
    ...plan.notes.map((n) => `- ${n}`),
    "",
  ];
  const out = resolve(values.out ?? join(ROOT, "runs", `plan-vs-pods-${Date.now()}`, stack));
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "validation.md"), lines.join("\n"));
  await writeJson(join(out, "validation.json"), {
    ...e,
    ready: timeline,
    settings: { f, seed, controller, nodes: nodes.join(" "), metricsResolution },
  });
  await writeJson(join(out, "plan.json"), plan);
  process.stdout.write(lines.join("\n"));
  process.stderr.write(`-> ${out}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
