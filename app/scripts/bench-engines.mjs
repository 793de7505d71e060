// Engine configurations compared on the compiled code (as production runs it), each in its own
// process so its RSS is its own: c=1 and c=20 throughput and peak RSS (main thread + workers).
//
//   npm run build && node scripts/bench-engines.mjs [n=60] [image=assets/test.jpg]
//
// Rows: WASM 1 and 2 workers (batch 1), and when @tensorflow/tfjs-node loads, tfjs-node with
// 1 engine x 2 intra-op threads and 2 engines x 1 thread (batch 4). Prints a Markdown table.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";

const self = fileURLToPath(import.meta.url);
const app = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

async function runRow(cfg, n, imagePath) {
  const { createClassifier } = await import(
    new URL("../dist/inference/classifier.js", import.meta.url).href
  );
  const rss = () => process.memoryUsage.rss();
  let peak = rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 10);
  const img = readFileSync(imagePath);
  const c = await createClassifier({ modelDir: `${app}/models/demo`, ...cfg });
  for (let i = 0; i < 5; i++) await c.classify(img);
  const inf = [];
  const total = [];
  let t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await c.classify(img);
    inf.push(r.timings.inferenceMs);
    total.push(r.timings.totalMs);
  }
  const rps1 = (1000 * n) / (performance.now() - t0);
  let next = 0;
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < 2 * n) {
        next++;
        await c.classify(img);
      }
    }),
  );
  const rps20 = (2000 * n) / (performance.now() - t0);
  clearInterval(timer);
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = {
    backend: c.backend,
    engines: c.stats().workers,
    inferenceMs: med(inf),
    totalMs: med(total),
    rps1,
    rps20,
    peakMiB: peak / 2 ** 20,
  };
  await c.close();
  return out;
}

const program = new Command("bench:engines")
  .description("Engine configurations on the compiled code, each in its own process.")
  .argument(
    "[n]",
    "images classified at c=1 (twice as many at c=20)",
    (v) => {
      const x = Number(v);
      if (!(Number.isInteger(x) && x >= 1))
        throw new InvalidArgumentError(`n must be a whole number >= 1 (got ${JSON.stringify(v)})`);
      return x;
    },
    60,
  )
  .argument("[image]", "the image", `${app}/assets/test.jpg`)
  // One row in a child process of its own (measure below): its configuration, JSON.
  .addOption(new Option("--row <json>").hideHelp())
  .parse();
const [n, image] = program.processedArgs;
const { row } = program.opts();

if (row) {
  const res = await runRow(JSON.parse(row), n, image);
  process.send?.(res);
  process.exit(0);
}

const rows = [
  ["WASM, 1 worker", { backend: "wasm", threads: 1 }],
  ["WASM, 2 workers", { backend: "wasm", threads: 2 }],
  [
    "tfjs-node, 1 engine x 2 intra-op, batch 4",
    { backend: "tensorflow", threads: 2, engines: 1, maxBatchSize: 4 },
  ],
  [
    "tfjs-node, 2 engines x 1 intra-op, batch 4",
    { backend: "tensorflow", threads: 2, engines: 2, maxBatchSize: 4 },
  ],
];
console.log(
  `demo model, ${image}, ${n} images at c=1 then ${2 * n} at c=20; load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log("");
console.log(
  "| engines | inference p50 | c=1 total p50 | c=1 img/s | c=20 img/s | c=20 / c=1 | peak RSS |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [name, cfg] of rows) {
  const child = fork(self, ["--row", JSON.stringify(cfg), String(n), image], {
    stdio: ["ignore", "ignore", "ignore", "ipc"],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
  });
  const res = await new Promise((resolve) => {
    child.on("message", resolve);
    child.on("exit", (code) => resolve({ error: `exited ${code}` }));
  });
  if (res.error) {
    console.log(`| ${name} | not available (${res.error}) | | | | | |`);
    continue;
  }
  const f = (x) => x.toFixed(1);
  console.log(
    `| ${name} | ${f(res.inferenceMs)} ms | ${f(res.totalMs)} ms | ${f(res.rps1)} | ${f(res.rps20)} | ${(res.rps20 / res.rps1).toFixed(2)}x | ${Math.round(res.peakMiB)} MiB |`,
  );
}
console.log(
  `load after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
