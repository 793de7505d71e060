/**
 * The server benchmark: ours (app/, Fastify on tfjs-node, WASM or ONNX Runtime) and the original
 * recipe's server (Flask + TensorFlow/Keras, bench/peer/app.py), same model, same machine, same load.
 *
 *   npm run bench:peer [-- --scale 1 --peers gunicorn,gunicorn2 --ours tensorflow,tensorflow1,wasm,onnxruntime
 *                          --soak 5000 --no-doc --servers-only]
 *   npm run bench:server [-- --ours tensorflow,wasm --scale 0.5 --soak 5000]
 *     = bench:peer --servers-only --peers '' --ours tensorflow,onnxruntime --no-doc: ours alone, no Python
 *   (tensorflow1 / onnxruntime1: one engine, INFERENCE_ENGINES=1; a variant may add server settings,
 *   `tensorflow+MAX_BATCH_SIZE=8`; --servers-only skips the ceiling, engine-alone and ONNX runs)
 *
 * 1. setup (idempotent, cached in ${FOOD11_CACHE:-~/.cache/food11}): the demo model (npm run
 *    model:demo); app/ compiled to app/dist; tfjs-node from app/scripts/tfjs-node-local.sh when a
 *    tensorflow variant or the engine-alone run needs it; with peers or the reference runs, the
 *    Python virtualenv from tools/python and the demo model's weights written into a Keras .keras
 *    model (make_keras_model.py);
 * 2. the ceiling: Keras model.predict on batches of 32 (ceiling.py), tfjs-node on batches of 32
 *    (tfjs-raw.ts), and the reference line: the same weights under ONNX Runtime (the model through
 *    tf2onnx, make_onnx_model.py, and the server's own model.onnx; onnxruntime-node, onnx-raw.ts),
 *    each alone on the machine;
 * 3. each server in turn, alone, on a loopback port: the agreement check (the same generated
 *    images through each server's POST /predict against the first server's: same top-1 label,
 *    probabilities within TOLERANCE), a warm-up, then autocannon on GET /test at concurrency 1, 20
 *    and 30 with a fixed number of requests each, sampling the server's process tree (RSS, CPU
 *    time) from /proc; with --soak, more requests at c=20 in parts, the RSS of each;
 * 4. the report (render.ts): the table, the verdicts of issues 3, 15 and 28; into docs/benchmarks.md
 *    between <!-- bench:peer:start --> and <!-- bench:peer:end --> unless --no-doc, and the raw
 *    figures to runs/bench-peer/<time>.json. Exits 1 when a server asked for could not run.
 *
 * By stage: setup.ts, agreement.ts, measure.ts, render.ts (a run's figures: figures.ts); this file
 * reads the flags and runs them.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { commaList, positive, wholeNumber } from "../../tools/strategy-bench/src/flags.js";
import { loadavg, machine } from "../machine";
import { AGREEMENT_IMAGES, compareEngines, makeImages } from "./agreement";
import type { Report, ServerResult } from "./figures";
import { kerasCeiling, measureServer, onnxRaw, tfjsRaw } from "./measure";
import { DEFAULT_OURS, DEFAULT_PEERS, renderMarkdown, writeDoc } from "./render";
import {
  buildOurs,
  ensureDemoModel,
  ensureKerasModel,
  ensureOnnxModel,
  ensureTfjsNode,
  ensureVenv,
  log,
  minuteUTC,
  OURS_ONNX,
  PEERS,
  parseVariant,
  ROOT,
  serverSpecs,
  versions,
} from "./setup";

const args = new Command("bench:peer")
  .description("Our server, alone or beside the original recipe's (docs/benchmarks.md).")
  .option("--scale <k>", "requests per level times k", positive("scale"), 1)
  .option("--peers <list>", "comma-separated peer servers", DEFAULT_PEERS)
  .option("--ours <list>", "comma-separated variants of ours (engine[+ENV=value])", DEFAULT_OURS)
  .option(
    "--ceiling-seconds <s>",
    "seconds of each engine-alone reference run",
    (v: string) => String(positive("ceiling seconds")(v)),
    "20",
  )
  .option(
    "--soak <n>",
    "after the levels, n more requests at c=20 in parts, the RSS of each",
    wholeNumber("soak", 0),
    0,
  )
  .option("--no-doc", "do not write the table into docs/benchmarks.md")
  .option(
    "--servers-only",
    "only the servers (no ceiling, engine-alone or ONNX runs): for trying settings",
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
    soak: number;
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
  const peers = commaList(args.peers);
  const ours = commaList(args.ours);
  const unknown = peers.filter((p) => !PEERS.includes(p));
  if (unknown.length)
    throw new Error(`--peers: unknown ${unknown.join(", ")} (${PEERS.join(", ")})`);
  const refs = !args.serversOnly;
  ensureDemoModel();
  // Python only for the original's servers and the reference runs (Keras, tf2onnx)
  const py = peers.length || refs ? await ensureVenv() : undefined;
  const python = py ? { py, keras: await ensureKerasModel(py) } : undefined;
  const needsTfjsNode = refs || ours.some((v) => parseVariant(v).backend === "tensorflow");
  const tfjsNode = needsTfjsNode ? ensureTfjsNode() : { ok: false, why: "not needed by this run" };
  if (needsTfjsNode) log(`tfjs-node: ${tfjsNode.ok ? "ok" : `unavailable (${tfjsNode.why})`}`);
  const oursCmd = buildOurs();
  const secs = args.ceilingSeconds;

  const ref = refs ? python : undefined;
  const ceiling = ref ? kerasCeiling(ref.py, ref.keras, secs) : undefined;
  const raw = refs && tfjsNode.ok ? tfjsRaw(secs) : undefined;
  const onnx = ref
    ? onnxRaw(ensureOnnxModel(ref.py, ref.keras), secs, "tf2onnx's model")
    : undefined;
  const onnxOurs = refs ? onnxRaw(OURS_ONNX, secs, "the server's model.onnx") : undefined;

  const specs = serverSpecs({ python, oursCmd, peers, ours });
  const images = await makeImages(AGREEMENT_IMAGES);
  let reference: number[][] | undefined;
  const servers: ServerResult[] = [];
  const answers = new Map<string, number[][]>();
  for (const spec of specs) {
    const { result, probs } = await measureServer(spec, images, reference, requestsFor, args.soak);
    servers.push(result);
    reference ??= probs;
    if (probs) answers.set(spec.id, probs);
  }
  // issue 28: ONNX Runtime's answers against tfjs-node's, image by image
  const tfjsAnswers = answers.get("ours-tensorflow");
  const ortAnswers = answers.get("ours-onnxruntime");
  const engines = tfjsAnswers && ortAnswers ? compareEngines(tfjsAnswers, ortAnswers) : undefined;

  const rep: Report = {
    startedAt,
    finishedAt: minuteUTC(),
    machine: machine(loadBefore),
    versions: versions(py),
    scale,
    flags: { peers: args.peers, ours: args.ours, soak: args.soak, serversOnly: args.serversOnly },
    ceiling,
    tfjsRaw: raw,
    onnxRaw: onnx,
    onnxRawOurs: onnxOurs,
    engines,
    tfjsNode,
    servers,
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
  const failed = servers.filter((s) => s.error);
  if (failed.length) {
    log(`could not run: ${failed.map((s) => `${s.id} (${s.error})`).join("; ")}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
