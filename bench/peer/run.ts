/**
 * Side-by-side benchmark: the original recipe's server (Flask + TensorFlow/Keras, bench/peer/app.py)
 * against ours (app/, Fastify + tfjs on tfjs-node and on WASM), same model, same machine, same load.
 *
 *   npm run bench:peer [-- --scale 1 --peers gunicorn,gunicorn2 --ours tensorflow,tensorflow1,wasm,onnxruntime
 *                          --no-doc --servers-only]
 *   (tensorflow1 / onnxruntime1: one engine, INFERENCE_ENGINES=1; a variant may add server settings,
 *   `tensorflow+MAX_BATCH_SIZE=1`; --servers-only skips the ceiling, engine-alone, ONNX and
 *   batching runs, to try settings)
 *
 * 1. setup (idempotent, cached in ${FOOD11_CACHE:-~/.cache/food11}): the Python virtualenv from
 *    tools/python (the project's pinned Python environment); tfjs-node from app/scripts/tfjs-node-local.sh; the demo model
 *    (npm run model:demo) and its weights written into a Keras .keras model (make_keras_model.py);
 *    app/ compiled to app/dist;
 * 2. the ceiling: Keras model.predict on batches of 32 (ceiling.py), tfjs-node on batches of 32
 *    (tfjs-raw.ts), and the reference line: the same weights under ONNX Runtime (the model through
 *    tf2onnx, make_onnx_model.py, and the server's own model.onnx; onnxruntime-node, onnx-raw.ts),
 *    each alone on the machine;
 * 3. each server in turn, alone, on a loopback port: the agreement check (the same generated
 *    images through both servers' POST /predict: same top-1 label, probabilities within TOLERANCE),
 *    a warm-up, then autocannon on GET /test at concurrency 1, 20 and 30 with a fixed number of
 *    requests each, sampling the server's process tree (RSS, CPU time) from /proc;
 *    and ours on ONNX Runtime against ours on tfjs-node (issue 28's verdicts, render.ts);
 * 4. the table into docs/benchmarks.md between <!-- bench:peer:start --> and <!-- bench:peer:end -->,
 *    and the raw figures to runs/bench-peer/<time>.json.
 *
 * By stage: setup.ts, agreement.ts, measure.ts, render.ts (a run's figures: figures.ts); this file
 * reads the flags and runs them.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { positive } from "../../tools/strategy-bench/src/flags.js";
import { AGREEMENT_IMAGES, compareEngines, makeImages } from "./agreement";
import type { Report, ServerResult } from "./figures";
import { batchingWhatIf, kerasCeiling, measureServer, onnxRaw, tfjsRaw } from "./measure";
import { DEFAULT_OURS, DEFAULT_PEERS, renderMarkdown, writeDoc } from "./render";
import {
  buildOurs,
  ensureKerasModel,
  ensureOnnxModel,
  ensureTfjsNode,
  ensureVenv,
  loadavg,
  log,
  machine,
  minuteUTC,
  OURS_ONNX,
  ROOT,
  serverSpecs,
  versions,
} from "./setup";

const args = new Command("bench:peer")
  .description("Our server side by side with the original recipe (docs/benchmarks.md).")
  .option("--scale <k>", "requests per level times k", positive("scale"), 1)
  .option("--peers <list>", "comma-separated peer servers", DEFAULT_PEERS)
  .option("--ours <list>", "comma-separated variants of ours (engine[+ENV=value])", DEFAULT_OURS)
  .option(
    "--ceiling-seconds <s>",
    "seconds of each engine-alone reference run",
    (v: string) => String(positive("ceiling seconds")(v)),
    "20",
  )
  .option("--no-doc", "do not write the table into docs/benchmarks.md")
  .option(
    "--servers-only",
    "only the servers (no ceiling, engine-alone, ONNX or batching runs): for trying settings",
    false,
  )
  .option(
    "--render <json>",
    "re-render the table from a saved runs/bench-peer/*.json instead of measuring",
  )
  .parse()
  .opts<{
    scale: number;
    peers: string;
    ours: string;
    ceilingSeconds: string;
    doc: boolean;
    serversOnly: boolean;
    render?: string;
  }>();
const { scale } = args;
const requestsFor = (c: number) => Math.max(c, Math.round((c === 1 ? 100 : 20 * c) * scale));

async function main() {
  if (args.render) {
    const md = renderMarkdown(JSON.parse(readFileSync(args.render, "utf8")) as Report);
    console.log(md);
    if (args.doc) writeDoc(md);
    return;
  }
  const startedAt = minuteUTC();
  const loadBefore = loadavg();
  const py = await ensureVenv();
  const tfjsNode = ensureTfjsNode();
  log(`tfjs-node: ${tfjsNode.ok ? "ok" : `unavailable (${tfjsNode.why})`}`);
  const keras = ensureKerasModel(py);
  const onnxModel = ensureOnnxModel(py, keras);
  const oursCmd = buildOurs();
  const ceilingSeconds = args.ceilingSeconds;

  const refs = !args.serversOnly;
  const ceiling = refs ? kerasCeiling(py, keras, ceilingSeconds) : undefined;
  const raw = refs && tfjsNode.ok ? tfjsRaw(ceilingSeconds) : undefined;
  const onnx = refs ? onnxRaw(onnxModel, ceilingSeconds, "tf2onnx's model") : undefined;
  const onnxOurs = refs ? onnxRaw(OURS_ONNX, ceilingSeconds, "the server's model.onnx") : undefined;

  const specs = serverSpecs({
    py,
    keras,
    oursCmd,
    peers: args.peers.split(",").filter(Boolean),
    ours: args.ours.split(",").filter(Boolean),
    tfjsNode: tfjsNode.ok,
  });
  const images = await makeImages(AGREEMENT_IMAGES);
  let reference: number[][] | undefined;
  const servers: ServerResult[] = [];
  const answers = new Map<string, number[][]>();
  for (const spec of specs) {
    const { result, probs } = await measureServer(spec, images, reference, requestsFor);
    servers.push(result);
    reference ??= probs;
    if (probs) answers.set(spec.id, probs);
  }
  // issue 28: ONNX Runtime's answers against tfjs-node's, image by image
  const tfjsAnswers = answers.get("ours-tensorflow");
  const ortAnswers = answers.get("ours-onnxruntime");
  const engines = tfjsAnswers && ortAnswers ? compareEngines(tfjsAnswers, ortAnswers) : undefined;

  const batching = refs && tfjsNode.ok ? batchingWhatIf(requestsFor(20)) : undefined;

  const rep: Report = {
    startedAt,
    finishedAt: minuteUTC(),
    machine: machine(loadBefore),
    versions: versions(py),
    scale,
    flags: { peers: args.peers, ours: args.ours },
    ceiling,
    tfjsRaw: raw,
    onnxRaw: onnx,
    onnxRawOurs: onnxOurs,
    engines,
    tfjsNode,
    servers,
    batching,
  };
  const outDir = path.join(ROOT, "runs", "bench-peer");
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(outFile, `${JSON.stringify(rep, null, 2)}\n`);
  const md = renderMarkdown(rep);
  console.log(md);
  if (args.doc) {
    writeDoc(md);
    log(`docs/benchmarks.md peer block rewritten; raw figures in ${path.relative(ROOT, outFile)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
