/**
 * Inference engine figures on the demo model (no HTTP): prints a Markdown table.
 *
 *   npm run bench:inference [-- --n 40 --concurrency 20 --threads 2 --batch 1,4]
 *
 * - classifier, WASM, 1 worker, sequential: per-image decode / preprocess / inference / total;
 * - classifier, WASM, `threads` workers, `concurrency` images in flight, per max batch size;
 * - the same on tfjs-node (1 engine, `threads` intra-op threads) when it loads;
 * - raw engine: tfjs WASM in this thread, forward pass + readback (pure inference), fused or not;
 * with the peak RSS of the process (main thread + workers) during each classifier row.
 */
import { loadavg } from "node:os";
import { Command, Option } from "commander";
import sharp from "sharp";
// The measuring tools' one home for percentiles (a dev-only script: not in the image).
import { upperQuantile } from "../../tools/strategy-bench/src/benchkit.js";
import { commaList, wholeNumber } from "../../tools/strategy-bench/src/flags.js";
import { wasmBinariesDir } from "../src/inference/backend.js";
import { type Classifier, createClassifier } from "../src/inference/classifier.js";
import { createEngine } from "../src/inference/infer.js";
import { loadFromDir } from "../src/inference/model-io.js";
import { ensureDemoModel } from "./demo-model/index.js";

const {
  n: N,
  concurrency: CONCURRENCY,
  threads: THREADS,
  batch: BATCHES,
} = new Command("bench:inference")
  .description("Inference engine figures on the demo model (no HTTP): a Markdown table.")
  .option("--n <n>", "images per row", wholeNumber("n", 1), 40)
  .option("--concurrency <n>", "images in flight", wholeNumber("concurrency", 1), 20)
  .option(
    "--threads <n>",
    "workers (WASM) or intra-op threads (tfjs-node)",
    wholeNumber("threads", 1),
    2,
  )
  .addOption(
    new Option("--batch <list>", "max batch sizes, comma-separated")
      .argParser((v) => commaList(v).map(wholeNumber("batch", 1)))
      .default([1, 4], "1,4"),
  )
  .parse()
  .opts<{ n: number; concurrency: number; threads: number; batch: number[] }>();

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
const resetPeak = () => {
  peakRss = process.memoryUsage.rss();
};

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => upperQuantile(sorted(xs), 0.5);
const pct = (xs: number[], p: number) => upperQuantile(sorted(xs), p / 100);
const f1 = (x: number) => x.toFixed(1);

const { dir } = await ensureDemoModel();
// A photo-like 640x480 JPEG (gradients + noise), decoded and resized to 224x224 per request.
const W = 640;
const H = 480;
const raw = Buffer.alloc(W * H * 3);
let seed = 1;
for (let i = 0; i < raw.length; i++) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  raw[i] = ((i % (W * 3)) / 8 + (seed >>> 26)) & 255;
}
const image = await sharp(raw, { raw: { width: W, height: H, channels: 3 } })
  .jpeg({ quality: 85 })
  .toBuffer();

const rows: string[] = [];
const row = (...cells: (string | number)[]) => rows.push(`| ${cells.join(" | ")} |`);

async function sequential(c: Classifier) {
  await c.classify(image);
  const t: Record<string, number[]> = { decode: [], pre: [], inf: [], total: [] };
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const r = await c.classify(image);
    t.decode?.push(r.timings.decodeMs);
    t.pre?.push(r.timings.preprocessMs);
    t.inf?.push(r.timings.inferenceMs);
    t.total?.push(r.timings.totalMs);
  }
  return { t, rps: (1000 * N) / (performance.now() - t0) };
}

async function concurrent(c: Classifier, n: number, conc: number) {
  await Promise.all(Array.from({ length: c.stats().workers * 2 }, () => c.classify(image)));
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        next++;
        const s = performance.now();
        await c.classify(image);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { rps: (1000 * n) / (performance.now() - t0), lat };
}

// Classifier rows: WASM (1 worker sequential, THREADS workers concurrent), then tfjs-node if it loads.
const backends: ("wasm" | "tensorflow")[] = ["wasm", "tensorflow"];
let seqRps = 0;
for (const backend of backends) {
  resetPeak();
  let one: Classifier;
  try {
    one = await createClassifier({
      modelDir: dir,
      backend,
      threads: backend === "wasm" ? 1 : THREADS,
    });
  } catch (err) {
    rows.push(`| ${backend}: not available (${(err as Error).message.split(":")[0]}) | | | | |`);
    continue;
  }
  const seq = await sequential(one);
  const { t } = seq;
  if (backend === "wasm") seqRps = seq.rps;
  row(
    `${backend}, ${one.stats().workers} engine(s), sequential (c=1)`,
    `decode ${f1(median(t.decode ?? []))} + preprocess ${f1(median(t.pre ?? []))} + inference ${f1(median(t.inf ?? []))} ms`,
    `total p50 ${f1(median(t.total ?? []))} ms`,
    `${f1(seq.rps)} img/s`,
    mib(peakRss),
  );
  await one.close();
  for (const b of backend === "wasm" ? BATCHES : [1, 4]) {
    resetPeak();
    const c = await createClassifier({
      modelDir: dir,
      backend,
      threads: THREADS,
      maxBatchSize: b,
      queueMax: Math.max(64, CONCURRENCY * 2),
    });
    const r = await concurrent(c, N * 2, CONCURRENCY);
    row(
      `${backend}, ${c.stats().workers} engine(s), c=${CONCURRENCY}, max batch ${b}`,
      `p50 ${f1(median(r.lat))} / p95 ${f1(pct(r.lat, 95))} ms`,
      `${f1(r.rps / (backend === "wasm" ? seqRps : seq.rps))}x its c=1 rate`,
      `${f1(r.rps)} img/s`,
      mib(peakRss),
    );
    await c.close();
  }
}

// Raw engine in this thread, last (its WASM heap never shrinks): pure inference, fused or not.
// imported only now, so the classifier rows above measured a main thread without tfjs
const tf = await import("@tensorflow/tfjs");
const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
setWasmPaths(`${wasmBinariesDir()}/`);
await tf.setBackend("wasm");
tf.enableProdMode();
const loaded = await loadFromDir(dir);
const rawPerImage = new Map<number, number>();
for (const [b, fuse] of [
  [1, false],
  [1, true],
  ...BATCHES.filter((x) => x > 1).map((x) => [x, true] as const),
] as const) {
  const engine = await createEngine(tf, loaded.artifacts, loaded.format, { fuse });
  const input = new Float32Array(b * 224 * 224 * 3).fill(0.5);
  engine.run(input, b);
  const times: number[] = [];
  const reps = Math.max(5, Math.ceil(N / b / 2));
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    engine.run(input, b);
    times.push(performance.now() - t0);
  }
  if (fuse) rawPerImage.set(b, median(times) / b);
  engine.dispose();
  row(
    `raw WASM engine (this thread), ${fuse ? "fused" : "as loaded"}, batch ${b}`,
    `${f1(median(times))} ms/batch`,
    `${f1(median(times) / b)} ms/image`,
    `${f1((1000 * b) / median(times))} img/s`,
    "",
  );
}

clearInterval(sampler);

console.log(
  `Inference engine, demo model (MobileNetV2 224x224, 2,272,075 params), tfjs ${tf.version.tfjs} WASM` +
    ` (SIMD ${await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")}), ${N} images per row, 640x480 JPEG input.`,
);
console.log(
  `Node ${process.version}, load average before/after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log("");
console.log("| run | time | latency | throughput | peak RSS (process) |");
console.log("| --- | --- | --- | --- | --- |");
for (const r of rows) console.log(r);
console.log("");
console.log(
  `pure inference per image (raw fused WASM engine, batch 1): ${f1(rawPerImage.get(1) ?? 0)} ms`,
);
console.log(
  "peak RSS = this whole process (tsx; earlier rows' freed memory is not always returned to the" +
    " OS): an upper bound. The server's own RSS is what the HTTP benchmark measures.",
);
