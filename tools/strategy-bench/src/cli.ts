#!/usr/bin/env node
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { labelSelector } from "../../../components/defaults.js";
import { STACKS } from "../../../stacks/index.js";
import { registerPlanCommands } from "../../planner/src/index.js";
import { phaseLoad } from "./charts.js";
import { type ClusterRunOptions, reexecUnderLock, runCluster } from "./cluster-run.js";
import { MONITOR_INTERVAL } from "./cluster-scale.js";
import { accuracyCommand, loadtestCommand } from "./commands.js";
import { type DemoOptions, runDemo } from "./demo.js";
import {
  allowRemoteOption,
  collect,
  contextOption,
  delayScaleOption,
  kubeconfigOption,
  positive,
  quietOption,
  seedOption,
  stacksOption,
  timeScaleOption,
  wholeNumber,
} from "./flags.js";
import { generateImageSet } from "./imageset.js";
import { FOOD11_LABELS, parseLabels } from "./labels.js";
import { formatStatusCodes } from "./loadtest.js";
import { kubernetesSampler, localSampler, runMonitor, type Sampler } from "./monitor.js";
import { pidListeningOn } from "./proc.js";
import { type Manifest, readManifest } from "./report/manifest.js";
import { writeReport } from "./report/write.js";
import { checkTarget } from "./safety.js";
import { listStacks, loadStack, localBudget, notAStackMessage } from "./stack.js";

/** Ctrl-C stops the measurement cleanly (partial results are written); a second one exits. */
function interruptSignal(): AbortSignal {
  const ctl = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("\ninterrupted: finishing the current step and writing results…\n");
    ctl.abort();
    process.once("SIGINT", () => process.exit(130));
  });
  process.once("SIGTERM", () => ctl.abort());
  return ctl.signal;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

// Under `npm run strategy-bench`, npm runs us from the repository root; relative paths given on
// the command line mean the user's directory, which npm passes as INIT_CWD.
if (process.env.INIT_CWD && process.env.INIT_CWD !== process.cwd()) {
  process.chdir(process.env.INIT_CWD);
}

const program = new Command()
  .name("strategy-bench")
  .description(
    "Measure a deployment strategy the way the report did: the siege load schedule, the resource " +
      "monitor, model accuracy, and the report's tables and charts.",
  )
  .showHelpAfterError();

program
  .command("loadtest")
  .summary("replay the siege load schedule against a URL, CSV out")
  .description(
    "Replay the original 30-minute siege schedule (or a YAML schedule) against a URL; one CSV row " +
      "per phase with siege's log columns plus percentiles, and an overall row.",
  )
  .requiredOption("--url <url>", "target, e.g. http://127.0.0.1:8080/test")
  .option(
    "--schedule <file>",
    "YAML/JSON schedule: { name, phases: [{ repeat, users, delay, duration, reps }] }",
  )
  .addOption(timeScaleOption("multiply phase durations (0.1: 6 s phases)", 1))
  .addOption(delayScaleOption())
  .addOption(seedOption("seed of the users' random delays"))
  .option(
    "--timeout <s>",
    "per-request timeout, seconds (siege's default 30)",
    positive("timeout"),
    30,
  )
  .addOption(
    new Option(
      "--in-flight <mode>",
      "requests in flight when a phase ends: wait and count them, or abort them uncounted (siege)",
    )
      .choices(["drain", "abort"])
      .default("drain"),
  )
  .option("--out <file>", "CSV to write", "loadtest.csv")
  .addOption(allowRemoteOption())
  .addOption(quietOption("no progress bar"))
  .action(async (o) => {
    const r = await loadtestCommand({ ...o, signal: interruptSignal(), log });
    const a = r.overall;
    // Status codes per phase: one line per phase when any phase had an error, else one line.
    const clean = r.phases.every(
      (p) => p.socketFailures === 0 && Object.keys(p.statusCodes).every((c) => Number(c) < 400),
    );
    if (!clean) {
      for (const p of r.phases) {
        log(
          `phase ${p.phase} (${phaseLoad(p).join(" ")}): ` +
            formatStatusCodes(p.statusCodes, p.socketFailures),
        );
      }
    }
    log(
      `${r.phases.length} phases, ${a.elapsedSeconds.toFixed(1)} s: ${a.transactions} transactions, ` +
        `${a.okay} OKAY, ${a.failed} failed, availability ${a.availability.toFixed(2)}%, ` +
        `response ${a.responseTime.toFixed(3)} s (p95 ${a.p95.toFixed(3)}), ` +
        `${a.transactionRate.toFixed(2)} trans/s${r.aborted ? " (interrupted)" : ""} -> ${o.out}`,
    );
    log(`status codes: ${formatStatusCodes(a.statusCodes, a.socketFailures)}`);
    if (r.meta.problem) throw new Error(`${r.meta.problem} (results kept in ${o.out})`);
  });

program
  .command("monitor")
  .summary("sample replicas, CPU and memory of the app (Kubernetes or a local process)")
  .description(
    "Every interval, sum replicas, CPU/memory requested, limits and used (metrics.k8s.io) over the " +
      "app's pods through the Kubernetes API (kubeconfig as kubectl finds it); or, with --local-pid " +
      "or --local-url, sample a server process from /proc with the stack's requests/limits.",
  )
  .option(
    "--stack <name>",
    "stack: namespace food11-<stack>, its labels, its requests/limits",
    "strategy1",
  )
  .option("--namespace <ns>", "namespace (default: the stack's)")
  .option("--selector <labels>", "label selector (default: the stack's pod labels)")
  .addOption(kubeconfigOption())
  .addOption(contextOption())
  .option(
    "--local-pid <pid>",
    "sample this local process tree instead of a cluster",
    wholeNumber("pid"),
  )
  .option("--local-url <url>", "sample the local process listening on this URL's port")
  .option("--interval <s>", "seconds between samples", positive("interval"), MONITOR_INTERVAL)
  .option("--duration <s>", "stop after this many seconds", positive("duration"))
  .option("--until-pid <pid>", "stop when this process exits", wholeNumber("pid"))
  .option("--out <file>", "CSV to write", "monitor.csv")
  .addOption(
    new Option(
      "--columns <set>",
      "original: the recipe's 8 columns; extended: then ready_replicas, pending_replicas, " +
        "unschedulable_replicas, restarts (default on a cluster; a local process has the original's)",
    ).choices(["original", "extended"]),
  )
  .action(async (o) => {
    let sample: Sampler;
    let columns: "original" | "extended" = o.columns ?? "original";
    let untilPid: number | undefined = o.untilPid;
    if (o.localPid !== undefined || o.localUrl !== undefined) {
      let pid: number | undefined = o.localPid;
      if (pid === undefined) {
        const url = checkTarget(o.localUrl, false, "--local-url");
        const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
        pid = await pidListeningOn(port);
        if (pid === undefined) {
          throw new Error(
            `--local-url ${o.localUrl}: no local process listens on port ${port}; start the ` +
              "server first (npm start) or give its pid with --local-pid",
          );
        }
      }
      sample = localSampler(pid, localBudget(loadStack(o.stack)));
      untilPid ??= pid;
      log(`monitoring stack ${o.stack}: local process ${pid} as one replica of it`);
    } else {
      let namespace: string = o.namespace;
      if (!namespace || !o.selector) {
        // The stack's namespace and labels; an unknown stack is an error listing the valid ones,
        // unless both --namespace and --selector say where to look.
        if (!listStacks().includes(o.stack)) {
          throw new Error(
            `${notAStackMessage(o.stack, listStacks())}; or give both --namespace and --selector`,
          );
        }
        namespace ||= loadStack(o.stack).namespace.name;
      }
      const selector: string = o.selector ?? labelSelector(o.stack);
      sample = await kubernetesSampler({
        namespace,
        labelSelector: selector,
        kubeconfig: o.kubeconfig,
        context: o.context,
        onWarning: log,
      });
      columns = o.columns ?? "extended";
      log(`monitoring stack ${o.stack}: pods ${selector} in namespace ${namespace}`);
    }
    if (o.duration === undefined && untilPid === undefined) {
      throw new Error("give --duration or --until-pid so that the monitor stops by itself");
    }
    const rows = await runMonitor({
      sample,
      intervalSeconds: o.interval,
      ...(o.duration !== undefined ? { durationSeconds: o.duration } : {}),
      ...(untilPid !== undefined ? { untilPid } : {}),
      out: o.out,
      columns,
      signal: interruptSignal(),
      onError: (e) => log(`sample failed: ${e.message}`),
    });
    log(`${rows.length} samples -> ${o.out}`);
    if (rows.length === 0) throw new Error("no sample could be taken");
  });

program
  .command("accuracy")
  .summary("score a model on a labeled image set (server or direct)")
  .description(
    "Score a model on a labeled image set (Food-11's <classIndex>_<n>.jpg, or a folder per class) " +
      "through a running server's /predict or by loading the model here: accuracy, precision, " +
      "recall and F1 (support-weighted and macro, as scikit-learn), per class, confusion matrix.",
  )
  .requiredOption("--images <dir>", "labeled image folder")
  .option("--url <url>", "a running server (POST <url>/predict)")
  .option("--model-dir <dir>", "load this tfjs model directly (app/src/inference)")
  .option("--model-url <url>", "load a tfjs model from this URL directly")
  .addOption(
    new Option("--preprocess <mode>", "direct mode: input scaling").choices([
      "raw",
      "unit",
      "mobilenet",
    ]),
  )
  .addOption(
    new Option(
      "--backend <name>",
      "direct mode: the engine (a tfjs backend, or onnxruntime)",
    ).choices(["auto", "tensorflow", "wasm", "onnxruntime"]),
  )
  .option("--threads <n>", "direct mode: inference threads", wholeNumber("threads"))
  .option("--labels <file>", "labels, one per line (default: the model's, else Food-11's 11)")
  .option(
    "--per-class <n>",
    "score only the first N images of each class",
    wholeNumber("per-class"),
  )
  .option("--concurrency <n>", "images in flight", wholeNumber("concurrency"), 4)
  .option("--model <name>", "model name for the report")
  .option("--out <file>", "JSON to write", "accuracy.json")
  .option("--markdown <file>", "also write a markdown summary")
  .addOption(allowRemoteOption("allow a non-loopback --url"))
  .addOption(quietOption("no progress bar"))
  .action(async (o) => {
    if (!o.url && !o.modelDir && !o.modelUrl) {
      throw new Error("give --url (a running server) or --model-dir/--model-url (direct)");
    }
    const labels = o.labels ? parseLabels(await readFile(o.labels, "utf8")) : undefined;
    const r = await accuracyCommand({ ...o, ...(labels ? { labels } : {}) });
    const m = r.metrics;
    log(
      `${m.samples} images (${r.errors} failed): accuracy ${Math.round(m.accuracy * m.samples)} of ` +
        `${m.samples} (${(100 * m.accuracy).toFixed(1)} %; chance for 11 classes: 9.1 %), ` +
        `weighted P/R/F1 ${(100 * m.weighted.precision).toFixed(2)}/${(100 * m.weighted.recall).toFixed(2)}/` +
        `${(100 * m.weighted.f1).toFixed(2)}% -> ${o.out}`,
    );
    for (const w of m.warnings) log(`warning: ${w}`);
  });

program
  .command("make-images")
  .summary("write a small deterministic labeled image set")
  .description(
    "Write a small deterministic labeled image set in Food-11's layout (for demos/tests).",
  )
  .requiredOption("--out <dir>", "folder to write <classIndex>_<n>.jpg into")
  .option("--classes <n>", "number of classes", wholeNumber("classes"), FOOD11_LABELS.length)
  .option("--per-class <n>", "images per class", wholeNumber("per-class"), 3)
  .option("--size <px>", "image side", wholeNumber("size"), 96)
  .addOption(seedOption("seed", 11))
  .action(async (o) => {
    const files = await generateImageSet({
      dir: o.out,
      classes: o.classes,
      perClass: o.perClass,
      size: o.size,
      seed: o.seed,
    });
    log(`${files.length} images -> ${o.out}`);
  });

program
  .command("report")
  .summary("summaries, tables, charts (SVG + PNG) and a markdown report from runs")
  .description(
    "From several runs (stack, model, accuracy JSON, loadtest CSV, monitor CSV) compute the " +
      "report's summary and render its tables and charts (SVG + PNG) and a markdown report.",
  )
  .option(
    "--manifest <file>",
    "YAML/JSON: { title, runs: [{ name, stack, model, accuracy, loadtest, monitor }] }",
  )
  .option(
    "--run <spec>",
    "a run as name=..,stack=..,model=..,accuracy=..,loadtest=..,monitor=.. (repeatable)",
    collect,
  )
  .option("--title <text>", "report title")
  .option("--out <dir>", "output folder", "report")
  .action(async (o) => {
    let manifest: Manifest;
    let baseDir = process.cwd();
    if (o.manifest) {
      ({ manifest, baseDir } = await readManifest(o.manifest));
    } else if (o.run?.length) {
      manifest = {
        runs: (o.run as string[]).map((spec) => {
          const kv = Object.fromEntries(
            spec.split(",").map((p) => {
              const i = p.indexOf("=");
              return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
            }),
          );
          const acc = Number(kv.accuracy);
          return {
            ...kv,
            accuracy: Number.isFinite(acc) ? acc : kv.accuracy,
          } as Manifest["runs"][number];
        }),
      };
    } else {
      throw new Error("give --manifest or at least one --run");
    }
    if (o.title) manifest = { ...manifest, title: o.title };
    const { files, runs } = await writeReport(manifest, baseDir, resolve(o.out));
    log(
      `${runs.length} runs -> ${files.markdown}, ${files.html} and ${files.charts.length} charts (SVG + PNG)`,
    );
  });

// demo's and run's own flags (runOptions and clusterAction below read them); `prefix`: demo's
// "--cluster: " before the cluster run's.
const DEMO_RUN_DELAY_SCALE = "think-time scale (default: the time scale)";
const DEMO_RUN_SEED = "seed for delays and images";
const perClassOption = (n: number) =>
  new Option("--per-class <n>", "generated images per class (11 classes)")
    .argParser(wholeNumber("per-class"))
    .default(n);
const repeatOption = (prefix = "") =>
  new Option("--repeat <n>", `${prefix}runs per stack`).argParser(wholeNumber("repeat")).default(1);
const interleaveOption = (prefix = "") =>
  new Option("--interleave", `${prefix}with --repeat, run the stacks in turn (ABAB…)`).default(
    false,
  );
const keepClusterFlagsOption = (help: string) =>
  new Option("--keep-cluster-flags", help).default(false);

program
  .command("demo")
  .summary("the whole measurement on this machine in a few minutes, no cluster")
  .description(
    "The whole measurement on this machine, no cluster: for each stack, start the server with its " +
      "CPU threads and heap on a free 127.0.0.1 port, score accuracy on a generated labeled set, " +
      "run the shortened schedule while sampling the process, then write the report to runs/<time>/.",
  )
  .addOption(stacksOption("stack to run (repeatable; default baseline, strategy1, strategy2)"))
  .addOption(timeScaleOption("schedule time scale (0.05: 90 s per stack)", 0.05))
  .addOption(delayScaleOption(DEMO_RUN_DELAY_SCALE))
  .addOption(seedOption(DEMO_RUN_SEED))
  .addOption(perClassOption(20))
  .option(
    "--interval <s>",
    "monitor interval (default 5 s x time scale, at least 1 s)",
    positive("interval"),
  )
  .option("--out <dir>", "output folder (default runs/<timestamp>)")
  .addOption(quietOption())
  .option(
    "--cluster",
    "on real pods: each stack through pulumi up on the local cluster (npm run cluster), loaded, watched, destroyed",
    false,
  )
  .addOption(repeatOption("--cluster: "))
  .addOption(interleaveOption("--cluster: "))
  .addOption(keepClusterFlagsOption("--cluster: leave the cluster with the run's flags"))
  .action(async (o, cmd: Command) => {
    if (o.cluster) {
      // On a cluster the default is 0.2 (6 minutes of schedule per stack), not the demo's 0.05.
      const timeScale = cmd.getOptionValueSource("timeScale") === "default" ? 0.2 : o.timeScale;
      // 55 images through the ingress (not 220): scoring is not what the cluster run compares.
      const perClass = cmd.getOptionValueSource("perClass") === "default" ? 5 : o.perClass;
      await clusterAction({ ...o, timeScale, perClass });
      return;
    }
    const out = await runDemo({
      ...runOptions(o),
      ...(o.interval !== undefined ? { interval: o.interval } : {}),
    });
    log(`done: ${out}/report.md and ${out}/report.html`);
  });

/**
 * What demo and the cluster run take alike from the flags: the stacks (default all three), the
 * schedule's scaling, the seed, the image set's size, the output folder; and this CLI's log and
 * interrupt.
 */
function runOptions(
  o: Pick<DemoOptions, "timeScale" | "delayScale" | "seed" | "perClass" | "out" | "quiet"> & {
    stack?: string[];
  },
): Omit<DemoOptions, "interval"> {
  return {
    stacks: o.stack?.length ? o.stack : [...STACKS],
    timeScale: o.timeScale,
    ...(o.delayScale !== undefined ? { delayScale: o.delayScale } : {}),
    seed: o.seed,
    perClass: o.perClass,
    ...(o.out ? { out: o.out } : {}),
    quiet: o.quiet,
    log,
    signal: interruptSignal(),
  };
}

/** `demo --cluster` and `run`: under the run lock, then the cluster run. */
async function clusterAction(
  o: Omit<ClusterRunOptions, "stacks" | "log" | "signal"> & { stack?: string[] },
): Promise<void> {
  const code = await reexecUnderLock(log);
  if (code !== undefined) {
    process.exitCode = code;
    return;
  }
  const out = await runCluster({
    ...runOptions(o),
    repeat: o.repeat,
    interleave: o.interleave,
    keepClusterFlags: o.keepClusterFlags ?? false,
  });
  log(`done: ${out}/report.md and ${out}/report.html`);
}

program
  .command("run")
  .summary("one stack (or more) on real pods: deploy, load, watch, score, destroy, report")
  .description(
    "On real pods of the local cluster (npm run cluster; the demo runs without one): pulumi up " +
      "the stack, wait for the ingress, score " +
      "accuracy through it, replay the schedule (time-scaled with the autoscaling loop's clocks, " +
      "or full length) while monitoring metrics.k8s.io, list the events that matter, pulumi destroy, " +
      "and write the report. One real-cluster run at a time (run.lock).",
  )
  // Real pods are run's only mode: `--cluster` is accepted (as demo takes it) and changes nothing.
  .addOption(new Option("--cluster").hideHelp())
  .addOption(stacksOption("stack (repeatable)"))
  .addOption(
    timeScaleOption(
      "0 < k <= 1: schedule and autoscaling clocks x k (1: the full 30 minutes)",
      0.2,
    ),
  )
  .addOption(delayScaleOption(DEMO_RUN_DELAY_SCALE))
  .addOption(seedOption(DEMO_RUN_SEED))
  .addOption(perClassOption(5))
  .addOption(repeatOption())
  .addOption(interleaveOption())
  .addOption(
    keepClusterFlagsOption(
      "leave the cluster with the run's controller-manager/metrics-server flags (default: back to the defaults it had)",
    ),
  )
  .option("--out <dir>", "output folder (default runs/cluster-<timestamp>)")
  .addOption(quietOption())
  .action(async (o) => {
    if (!o.stack?.length)
      throw new Error("give --stack <name> (repeatable): baseline, strategy1, strategy2");
    await clusterAction(o);
  });

registerPlanCommands(program);

program.parseAsync(process.argv).catch((err: Error) => {
  log(`strategy-bench: ${err.message}`);
  process.exitCode = 1;
});
