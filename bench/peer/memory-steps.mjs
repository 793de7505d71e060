/**
 * Where ours' resident memory comes from, step by step (docs/benchmarks.md, "Where the memory
 * goes"): a fresh `node` process per engine count imports the server's own modules (app/dist,
 * built by `npm run bench:peer` or `tsc -p app`), creates the classifier on tfjs-node, serves
 * requests, and reads /proc/self/smaps_rollup after each step; then one process starts bare
 * worker threads loading tfjs' packages one by one, to price an engine's V8 isolate. Plain
 * JavaScript run by `node`, so no loader's memory is counted. Prints Markdown.
 *
 *   node bench/peer/memory-steps.mjs
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const APP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../app");
const MiB = (kB) => Math.round(kB / 1024);

/**
 * RSS and its anonymous part of this process, MiB. (tools/strategy-bench/src/proc.ts's statusKB reads the same `Key: N kB`
 * lines, but importing that .ts module loads Node's type stripper: +23 MiB in the first step.)
 */
function rollup() {
  const s = readFileSync("/proc/self/smaps_rollup", "utf8");
  const kB = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? Number.NaN);
  return { rss: MiB(kB("Rss")), anon: MiB(kB("Anonymous")) };
}

async function steps(engines) {
  const out = [["`node` alone", rollup()]];
  await import(path.join(APP, "dist/app.js"));
  await import(path.join(APP, "dist/inference/decode.js")); // sharp, as the app resolves it
  out.push(["+ the app's modules (Fastify, sharp)", rollup()]);
  const { createClassifier } = await import(path.join(APP, "dist/inference/classifier.js"));
  const c = await createClassifier({
    modelDir: path.join(APP, "models/demo"),
    backend: "tensorflow",
    threads: 2,
    engines,
    preprocess: "unit",
  });
  out.push([
    `+ the classifier with ${engines} engine(s) (libtensorflow, the model, warm-up)`,
    rollup(),
  ]);
  const img = readFileSync(path.join(APP, "assets/test.jpg"));
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 10; i++) await c.classify(img);
    }),
  );
  out.push(["+ 200 requests, 20 at a time", rollup()]);
  await c.close();
  return out;
}

/** Anonymous MiB each new worker thread adds once it has loaded `mods`. */
async function isolates() {
  const rows = [];
  const node = ["@tensorflow/tfjs-node"];
  for (const mods of [[], ["@tensorflow/tfjs-core"], ["@tensorflow/tfjs"], node, node]) {
    const before = rollup().anon;
    await new Promise((resolve, reject) => {
      const src = `${mods.map((m) => `require(${JSON.stringify(m)});`).join("")}require("node:worker_threads").parentPort.postMessage(1);setInterval(() => {}, 1000);`;
      const w = new Worker(src, { eval: true });
      w.once("message", resolve);
      w.once("error", reject);
    });
    await new Promise((r) => setTimeout(r, 300));
    rows.push([mods.length ? mods.join(", ") : "(nothing)", rollup().anon - before]);
  }
  return rows;
}

const role = process.argv[2];
if (role === "steps") {
  console.log(JSON.stringify(await steps(Number(process.argv[3]))));
  process.exit(0);
} else if (role === "isolates") {
  console.log(JSON.stringify(await isolates()));
  process.exit(0);
}
const env = { ...process.env, MALLOC_ARENA_MAX: "2", TF_CPP_MIN_LOG_LEVEL: "2" };
const child = (...args) => {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...args], {
    cwd: APP, // resolves app/node_modules (sharp, tfjs)
    env,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`memory-steps ${args.join(" ")} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
};
console.log("| step | RSS MiB | of it anonymous |\n|---|---:|---:|");
for (const engines of [1, 2]) {
  for (const [step, m] of child("steps", String(engines)))
    console.log(`| ${step} | ${m.rss} | ${m.anon} |`);
}
console.log("\n| a worker thread that loads | anonymous MiB it adds |\n|---|---:|");
// The first tfjs-node load also initialises TensorFlow for the process; the second prices an
// engine's isolate alone.
for (const [mods, mib] of child("isolates")) console.log(`| ${mods} | ${mib} |`);
