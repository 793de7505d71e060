/**
 * Image benchmark (npm run bench:image; needs the engine of `npm run cluster -- images` and
 * DOCKER_HOST from `npm run -s cluster -- env`): per variant of app/Dockerfile, built on the local
 * node:24-slim stand-in (cached layers make a rebuild quick), the image's size uncompressed (as
 * `docker images` shows it) and compressed (pushed to the local registry: what a node pulls), where
 * its bytes go, then the server in a container as the Deployment runs it (--cpus 2 --memory 2g,
 * UID 10001, read-only root): its RSS and its cgroup's memory (usage, and the working set the
 * kubelet reports) idle and under a closed-loop load on /test (full path: decode, normalise,
 * infer, rank). Prints Markdown tables.
 *
 *   npx tsx bench/image/run.ts [--seconds 30] [--users 4] [--variants wheel,wheel-slim,none]
 *                              [--app <dir with a Dockerfile>] [--tag-prefix food11-image-bench]
 *                              [--stacks baseline,strategy1,strategy2]
 *
 * `--stacks`: each variant's server is also run once per stack as that stack's Deployment runs it:
 * the container's `--memory` and `--cpus` from the stack file's limits (cpus capped at this
 * machine's cores: docker refuses more, and says so in the row) and the environment the
 * Deployment sets (stacks/ runtimeEnv: INFERENCE_THREADS, NODE_OPTIONS' heap bound, the model's
 * preprocessing and backend; the image's own demo model, not a stack's model URL).
 *
 * A variant is LIBTENSORFLOW[-RUNTIME]: `wheel` (tfjs-node, the default distroless-style runtime),
 * `wheel-slim` (RUNTIME=slim), `none` (WASM), or `onnxruntime[-RUNTIME]` (ENGINE=onnxruntime: ONNX
 * Runtime, no tfjs; its size is held to issue 28's 250 MB, printed as a verdict). `--app` builds another checkout's app/ (e.g. a git
 * worktree of an older commit, to measure before and after the same way; its Dockerfile may not
 * know RUNTIME). LIBTENSORFLOW=download cannot be built here (tfjs-node's download host is
 * unreachable): not measured. A benchmark: run it with nothing else on the machine.
 */
import { cpus } from "node:os";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "commander";
import { cpuMillicores, memoryBytes } from "../../components/quantity";
import {
  compressedBytes,
  imageBuilder,
  imageBytes,
  localBuildArgs,
  runContainer,
} from "../../lib/image/docker";
import { readStackFile, runtimeEnv } from "../../stacks";
import {
  figureTable,
  metOrMissed,
  upperQuantile,
} from "../../tools/strategy-bench/src/benchkit.js";
import { commaList, positive, wholeNumber } from "../../tools/strategy-bench/src/flags.js";
import { Load } from "../../tools/strategy-bench/src/steady-load.js";
import { APP } from "../app";

const values = new Command("bench:image")
  .description("Image variants: size, idle and under-load memory, req/s (docs/benchmarks.md).")
  .option("--seconds <s>", "seconds of load per image", positive("seconds"), 30)
  .option("--users <n>", "concurrent users of the load", wholeNumber("users", 1), 4)
  .option(
    "--variants <list>",
    "comma-separated: wheel, wheel-slim, none, onnxruntime",
    "wheel,wheel-slim,none,onnxruntime",
  )
  .option("--app <dir>", "the app/ folder to build", APP)
  .option("--tag-prefix <name>", "image tag prefix", "food11-image-bench")
  .option("--stacks <list>", "comma-separated stacks to run each image as (limits, env)", "")
  .parse()
  .opts<{
    seconds: number;
    users: number;
    variants: string;
    app: string;
    tagPrefix: string;
    stacks: string;
  }>();
const { seconds, users } = values;
const LOCAL = localBuildArgs();
const MiB = 1024 * 1024;
const RUN_COLUMNS =
  "image | idle RSS MiB | idle working set MiB | peak RSS under load MiB | peak cgroup memory MiB | peak working set MiB | req/s | p50 ms | p95 ms | failed";
const mib = (b: number) => (b / MiB).toFixed(0);
const mb = (b: number) => (b / 1e6).toFixed(0);

/**
 * `wheel-slim` -> LIBTENSORFLOW=wheel RUNTIME=slim; `none` -> LIBTENSORFLOW=none; `onnxruntime`
 * -> ENGINE=onnxruntime (LIBTENSORFLOW unused: none, as the stack passes it).
 */
function variantArgs(variant: string): Record<string, string> {
  const [lib = "", runtime] = variant.split("-");
  const engine: Record<string, string> =
    lib === "onnxruntime" ? { LIBTENSORFLOW: "none", ENGINE: "onnxruntime" } : {};
  return { LIBTENSORFLOW: lib, ...engine, ...(runtime ? { RUNTIME: runtime } : {}) };
}

/** Issue 28: the ONNX Runtime image's uncompressed size (docker's, in MB). */
const ONNXRUNTIME_IMAGE_BUDGET_MB = 250;

function label(variant: string): string {
  const a = variantArgs(variant);
  const what =
    a.ENGINE === "onnxruntime" ? "ONNX Runtime" : a.LIBTENSORFLOW === "none" ? "WASM" : "tfjs-node";
  return `${what} (${Object.entries(a)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")})`;
}

/** A stack's limits and environment as its Deployment runs the server (see `--stacks`). */
interface StackRun {
  name: string;
  describe: string;
  memory: string;
  cpus: string;
  env: Record<string, string>;
}

function stackRun(name: string): StackRun {
  const settings = readStackFile(name);
  const { cpu, memory } = settings.resources.limits;
  const asked = cpuMillicores(cpu) / 1000;
  const cores = Math.min(asked, cpus().length);
  // The image's demo model: a stack's MODEL_URL points at a cluster's model server.
  const {
    MODEL_URL: _url,
    MODEL_NAME: _name,
    MODEL_VERSION: _version,
    ...env
  } = runtimeEnv(settings);
  return {
    name,
    describe:
      `--memory ${memory} --cpus ${cores}${cores < asked ? ` (limits.cpu ${cpu}; this machine has ${cpus().length} cores)` : ""}, ` +
      `INFERENCE_THREADS=${env.INFERENCE_THREADS}, NODE_OPTIONS=${env.NODE_OPTIONS}`,
    memory: String(memoryBytes(memory)),
    cpus: String(cores),
    env,
  };
}

/**
 * The server in a container (as runContainer runs it, with `limits` and `env`): its memory idle,
 * then its peaks under the closed-loop load on /test, and the load's figures: one table row.
 */
async function measureRun(
  tag: string,
  name: string,
  limits: { memory: string; cpus: string; env?: Record<string, string> },
): Promise<string[]> {
  const c = await runContainer(tag, limits);
  try {
    await sleep(5_000);
    const idle = c.memory();
    const load = new Load(`${c.url}/test`, users, 0, seconds + 5);
    let peakRss = 0;
    let peakCgroup = 0;
    let peakWorkingSet = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      const m = c.memory();
      peakRss = Math.max(peakRss, m.rssBytes);
      peakCgroup = Math.max(peakCgroup, m.cgroupBytes);
      peakWorkingSet = Math.max(peakWorkingSet, m.workingSetBytes);
      await sleep(500);
    }
    await load.stop();
    const ok = load.outcomes.filter((o) => o.status === 200);
    const ms = ok.map((o) => o.ms).sort((a, z) => a - z);
    const pct = (q: number) => upperQuantile(ms, q);
    return [
      name,
      mib(idle.rssBytes),
      mib(idle.workingSetBytes),
      mib(peakRss),
      mib(peakCgroup),
      mib(peakWorkingSet),
      (ok.length / seconds).toFixed(1),
      String(pct(0.5)),
      String(pct(0.95)),
      String(load.outcomes.length - ok.length),
    ];
  } finally {
    c.stop();
  }
}

async function main() {
  const stackRuns = commaList(values.stacks).map(stackRun);
  const builder = imageBuilder();
  if (!builder.ok) throw new Error(builder.describe);
  const app = resolve(values.app);
  const sizeRows: string[][] = [];
  const runRows: string[][] = [];
  const breakdown: string[] = [];
  const verdicts: string[] = [];
  for (const variant of commaList(values.variants)) {
    const tag = `${values.tagPrefix}:${variant}`;
    const b = builder.build(app, tag, { ...LOCAL, ...variantArgs(variant) });
    if (b.code !== 0) throw new Error(`build ${variant} failed:\n${b.tail}`);
    const bytes = imageBytes(tag);
    const image = bytes.image ?? Number.NaN;
    const compressed = await compressedBytes(tag);
    sizeRows.push([label(variant), mib(image), mb(image), mib(compressed), mb(compressed)]);
    if (variantArgs(variant).ENGINE === "onnxruntime") {
      const met = image <= ONNXRUNTIME_IMAGE_BUDGET_MB * 1e6;
      verdicts.push(
        `${label(variant)}: image ≤ ${ONNXRUNTIME_IMAGE_BUDGET_MB} MB (issue 28): ${mb(image)} MB → ${metOrMissed(met)}`,
      );
    }
    breakdown.push(
      `${variant}: ${Object.entries(bytes)
        .map(([p, n]) => `${p} ${(n / MiB).toFixed(1)}`)
        .join(", ")} (MiB)`,
    );
    runRows.push(await measureRun(tag, label(variant), { memory: "2g", cpus: "2" }));
    for (const stack of stackRuns) {
      runRows.push(
        await measureRun(tag, `${label(variant)} under ${stack.name} (${stack.describe})`, stack),
      );
    }
  }
  console.log(
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}); container --cpus 2 --memory 2g unless a row names a stack; load: ${users} closed-loop users on /test for ${seconds} s; app ${app}; base ${LOCAL.NODE_IMAGE}; builder: ${builder.describe}.`,
  );
  console.log("");
  const sizes = "image | size MiB | size MB | compressed MiB | compressed MB".split(" | ");
  for (const l of figureTable(sizes, sizeRows)) console.log(l);
  console.log("");
  for (const l of figureTable(RUN_COLUMNS.split(" | "), runRows)) console.log(l);
  console.log("");
  for (const b of breakdown) console.log(`- ${b}`);
  for (const v of verdicts) console.log(`- ${v}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
