/**
 * The inference engines without HTTP, side by side: ONNX Runtime's settings (issue 28) and tfjs's
 * engines. Prints Markdown tables and the load of the machine before and after, so a run on a
 * shared machine says so. (HTTP, the server as deployed: npm run bench:server / bench:peer.)
 *
 *   npm run bench:onnxruntime [-- --n 60 --part engines,session,decode]
 *   npm run bench:engines [-- --n 60 --image app/assets/test.jpg]   # = --part engines --rows tfjs
 *
 * - engines: the classifier (decode + normalise + queue + engine, no HTTP) on the demo model and
 *   assets/test.jpg (or --image), in a process of its own per row: one session with 2 intra-op
 *   threads against one session per core with 1 each, batches of 1, 8 and 32; c=1 (p50 of
 *   classify's total and of the forward pass) and c=20 (images/s, CPU-seconds per image over the
 *   process, peak RSS). tfjs-node's default (2 engines x 1 thread, batch 1) as the reference when
 *   it loads. `--rows tfjs` (`npm run bench:engines`) measures the tfjs engines instead: WASM with
 *   1 and 2 workers (batch 1), tfjs-node with 1 engine x 2 intra-op threads and 2 engines x 1
 *   thread (batch 4).
 * - session: ONNX Runtime sessions alone (no decode), one image at a time with a 5 ms pause
 *   between runs (a server between requests): 1 session x 2 threads with its idle pool threads
 *   spinning (ONNX Runtime's default) or not; 2 sessions x 1 thread with and without the memory
 *   arena and weight pre-packing: forward p50, CPU-milliseconds per image, RSS the sessions add.
 * - decode: decode + resize to 224x224 (decode.ts) per kernel and JPEG shrink-on-load, on the
 *   agreement set of bench:peer (bench/peer/agreement.ts), test.jpg and 1920x1080 / 4032x3024
 *   photo-like JPEGs: ms per image (p50, one at a time; sharp's libvips threads as configured),
 *   and how far each recipe's predictions (ONNX Runtime, demo model) move from the server's
 *   (cubic): top-1 the same on how many images, largest probability difference.
 */
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command, Option } from "commander";
import { ensureDemoModel } from "../../app/lib/demo-model/index.js";
import { compareOutputs } from "../../app/src/inference/agreement.js";
import { type ClassifierOptions, createClassifier } from "../../app/src/inference/classifier.js";
import { DECODE_RECIPE, type DecodeRecipe, decodeImage } from "../../app/src/inference/decode.js";
import {
  createOnnxEngine,
  type OnnxEngineOptions,
  type OrtModule,
} from "../../app/src/inference/infer-onnxruntime.js";
import { normalize } from "../../app/src/inference/normalize.js";
import { probeImage } from "../../app/src/inference/probe.js";
import {
  figureTable,
  peakSampler,
  upperQuantile,
} from "../../tools/strategy-bench/src/benchkit.js";
import { commaList, wholeNumber } from "../../tools/strategy-bench/src/flags.js";
import { APP, appRequire, TEST_JPG } from "../app.js";
import { loadavg } from "../machine.js";
import { makeImages } from "../peer/agreement.js";

const self = __filename;
/** app/'s copy of sharp: the one decode.ts runs (its concurrency is what the decode rows vary). */
const sharp = appRequire("sharp") as typeof import("sharp");
const onnxRuntime = () => appRequire("onnxruntime-node") as OrtModule;
const median = (xs: number[]) =>
  upperQuantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const f1 = (x: number) => x.toFixed(1);
/** CPU milliseconds of this process per item since `since` (a process.cpuUsage() reading). */
const cpuMsPer = (since: NodeJS.CpuUsage, items: number) => {
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / 1000 / items;
};

/** Runs `once` `total` times with `inFlight` calls at a time (a closed loop of that many callers). */
async function closedLoop(inFlight: number, total: number, once: () => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        next++;
        await once();
      }
    }),
  );
}

/** Runs `fn(arg)` of this file in a child process of its own (its RSS is its own), returns its result. */
function inChild<T>(role: string, arg: unknown): Promise<T | { error: string }> {
  const child = fork(self, ["--child", role, "--child-arg", JSON.stringify(arg)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
  });
  return new Promise((resolve) => {
    child.on("message", (m) => resolve(m as T));
    child.on("exit", (code) => resolve({ error: `exited ${code}` }));
  });
}

// ---------------------------------------------------------------- engines

interface EngineRow {
  inferenceMs: number;
  totalMs: number;
  rps1: number;
  rps20: number;
  cpuMsPerImage20: number;
  peakMiB: number;
  engines: number;
}

async function engineRow(
  cfg: ClassifierOptions & { n: number; image: string },
): Promise<EngineRow> {
  const { n, image, ...opts } = cfg;
  const peak = peakSampler(() => process.memoryUsage.rss(), 10);
  const img = readFileSync(image);
  const dir = (await ensureDemoModel()).dir;
  const c = await createClassifier({ modelDir: dir, ...opts });
  for (let i = 0; i < 5; i++) await c.classify(img);
  const inf: number[] = [];
  const total: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = await c.classify(img);
    inf.push(r.timings.inferenceMs);
    total.push(r.timings.totalMs);
  }
  const rps1 = (1000 * n) / (performance.now() - t0);
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  await closedLoop(20, 2 * n, () => c.classify(img));
  const rps20 = (2000 * n) / (performance.now() - t0);
  const cpuMsPerImage20 = cpuMsPer(cpu0, 2 * n);
  const out = {
    inferenceMs: median(inf),
    totalMs: median(total),
    rps1,
    rps20,
    cpuMsPerImage20,
    peakMiB: peak.stop() / 2 ** 20,
    engines: c.stats().workers,
  };
  await c.close();
  return out;
}

/** The engines part's rows: ONNX Runtime's settings, or (`--rows tfjs`) the tfjs engines'. */
const ENGINE_ROWS: Record<"onnxruntime" | "tfjs", [string, ClassifierOptions][]> = {
  onnxruntime: [
    [
      "ONNX Runtime, 1 session x 2 intra-op threads, batch 1",
      { backend: "onnxruntime", threads: 2, engines: 1 },
    ],
    [
      "ONNX Runtime, 2 sessions x 1 intra-op thread, batch 1",
      { backend: "onnxruntime", threads: 2, engines: 2 },
    ],
    [
      "ONNX Runtime, 2 sessions x 2 intra-op threads, batch 1",
      { backend: "onnxruntime", threads: 4, engines: 2 },
    ],
    [
      "ONNX Runtime, 1 session x 2, batch 8",
      { backend: "onnxruntime", threads: 2, engines: 1, maxBatchSize: 8 },
    ],
    [
      "ONNX Runtime, 2 sessions x 1, batch 8",
      { backend: "onnxruntime", threads: 2, engines: 2, maxBatchSize: 8 },
    ],
    [
      "ONNX Runtime, 2 sessions x 1, batch 32",
      { backend: "onnxruntime", threads: 2, engines: 2, maxBatchSize: 32 },
    ],
    [
      "tfjs-node, 2 engines x 1 (the server's default), batch 1",
      { backend: "tensorflow", threads: 2, engines: 2 },
    ],
  ],
  tfjs: [
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
  ],
};

async function engines(
  n: number,
  image: string,
  rows: [string, ClassifierOptions][],
): Promise<string[]> {
  const table: string[][] = [];
  for (const [name, cfg] of rows) {
    const r = await inChild<EngineRow>("engine", { ...cfg, n, image });
    if ("error" in r) {
      table.push([name, `not available (${r.error})`, "", "", "", "", "", ""]);
      continue;
    }
    table.push([
      name,
      f1(r.inferenceMs),
      f1(r.totalMs),
      f1(r.rps1),
      f1(r.rps20),
      f1(r.cpuMsPerImage20),
      String(Math.round(r.peakMiB)),
    ]);
  }
  return [
    `### engines: demo model, ${path.relative(APP, image)}, ${n} images at c=1 then ${2 * n} at c=20 (classify, no HTTP)`,
    "",
    ...figureTable(
      [
        "engine",
        "forward p50 ms (c=1)",
        "classify p50 ms (c=1)",
        "img/s c=1",
        "img/s c=20",
        "CPU ms/img c=20",
        "peak RSS MiB",
      ],
      table,
    ),
  ];
}

// ---------------------------------------------------------------- session

/**
 * Two sessions in this process (as the server's two engines), each `intraOpThreads` threads, run
 * one image at a time with a 5 ms pause between runs (a server between requests): forward p50,
 * CPU-ms per image, and the RSS the two sessions added (after their runs, over before loading).
 */
async function sessionRow(arg: OnnxEngineOptions & { n: number; sessions: number }) {
  const { n, sessions, ...opts } = arg;
  const ort = onnxRuntime();
  const dir = (await ensureDemoModel()).dir;
  const bytes = path.join(dir, "model.onnx");
  const x = new Float32Array(224 * 224 * 3).fill(0.5);
  const rss0 = process.memoryUsage.rss();
  const list = [];
  for (let i = 0; i < sessions; i++) list.push(await createOnnxEngine(ort, bytes, opts));
  for (const e of list) for (let i = 0; i < 5; i++) await e.run(Float32Array.from(x), 1);
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const e = list[i % sessions] as Awaited<ReturnType<typeof createOnnxEngine>>;
    const t = performance.now();
    await e.run(Float32Array.from(x), 1);
    ms.push(performance.now() - t);
    await sleep(5);
  }
  const cpuMsPerImage = cpuMsPer(cpu0, n);
  const addedMiB = (process.memoryUsage.rss() - rss0) / 2 ** 20;
  for (const e of list) e.dispose();
  return { forwardMs: median(ms), cpuMsPerImage, addedMiB };
}

async function session(n: number): Promise<string[]> {
  const rows: [string, OnnxEngineOptions & { sessions: number }][] = [
    [
      "1 session x 2 threads, spinning on (ONNX Runtime's default)",
      { sessions: 1, intraOpThreads: 2, spinning: true },
    ],
    ["1 session x 2 threads, spinning off (the engine's)", { sessions: 1, intraOpThreads: 2 }],
    ["2 sessions x 1 thread (the engine's)", { sessions: 2, intraOpThreads: 1 }],
    ["2 sessions x 1 thread, no memory arena", { sessions: 2, intraOpThreads: 1, memArena: false }],
    [
      "2 sessions x 1 thread, no weight pre-packing",
      { sessions: 2, intraOpThreads: 1, prepacking: false },
    ],
  ];
  const table: string[][] = [];
  for (const [name, opts] of rows) {
    const r = await inChild<{ forwardMs: number; cpuMsPerImage: number; addedMiB: number }>(
      "session",
      { ...opts, n },
    );
    if ("error" in r) table.push([name, r.error, "", ""]);
    else table.push([name, f1(r.forwardMs), f1(r.cpuMsPerImage), String(Math.round(r.addedMiB))]);
  }
  return [
    `### sessions: one image at a time, 5 ms pause between runs, ${n} runs`,
    "",
    ...figureTable(
      ["sessions", "forward p50 ms", "CPU ms per image", "RSS added by the sessions, MiB"],
      table,
    ),
  ];
}

// ---------------------------------------------------------------- decode

const RECIPES: [string, DecodeRecipe][] = [
  ["cubic (the server's)", { kernel: "cubic", fastShrinkOnLoad: true }],
  ["cubic, no shrink-on-load", { kernel: "cubic", fastShrinkOnLoad: false }],
  ["linear", { kernel: "linear", fastShrinkOnLoad: true }],
  ["nearest", { kernel: "nearest", fastShrinkOnLoad: true }],
  ["mitchell", { kernel: "mitchell", fastShrinkOnLoad: true }],
  ["lanczos3", { kernel: "lanczos3", fastShrinkOnLoad: true }],
];

/** A photo-like JPEG (gradients, waves and noise) of w x h. */
async function photo(w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  let seed = 7;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const v = 128 + 90 * Math.sin((x * (c + 1)) / 97 + y / 53) + ((seed >>> 27) - 16);
        raw[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

async function decodeRow(arg: { concurrency: number; n: number }) {
  sharp.concurrency(arg.concurrency);
  const ort = onnxRuntime();
  const dir = (await ensureDemoModel()).dir;
  const engine = await createOnnxEngine(ort, path.join(dir, "model.onnx"), {
    intraOpThreads: 1,
  });
  const agreement = (await makeImages(24)).map((s) => s.bytes);
  const sets: [string, Buffer[]][] = [
    ["test.jpg 320x240", [readFileSync(TEST_JPG)]],
    ["agreement set (24)", agreement],
    ["JPEG 1920x1080", [await photo(1920, 1080)]],
    ["JPEG 4032x3024", [await photo(4032, 3024)]],
  ];
  const probe = (b: Buffer) => probeImage(b);
  const predict = async (bytes: Buffer, recipe: DecodeRecipe) => {
    const d = await decodeImage(await probe(bytes), 224, 224, undefined, recipe);
    return engine.run(normalize(d.rgb, "unit"), 1);
  };
  // every image's probabilities under `recipe`, one row after another
  const all = sets.flatMap(([, b]) => b);
  const predictAll = async (recipe: DecodeRecipe) => {
    const rows: number[] = [];
    for (const b of all) rows.push(...(await predict(b, recipe)));
    return rows;
  };
  // the server's predictions, to compare each recipe with
  const ref = await predictAll(DECODE_RECIPE);
  const out: Record<string, Record<string, number>> = {};
  for (const [name, recipe] of RECIPES) {
    const row: Record<string, number> = {};
    for (const [setName, images] of sets) {
      const probed = await Promise.all(images.map(probe));
      const reps = Math.max(1, Math.ceil(arg.n / images.length));
      for (const p of probed) await decodeImage(p, 224, 224, undefined, recipe); // warm
      const ms: number[] = [];
      for (let r = 0; r < reps; r++) {
        for (const p of probed) {
          const t = performance.now();
          await decodeImage(p, 224, 224, undefined, recipe);
          ms.push(performance.now() - t);
        }
      }
      row[setName] = median(ms);
    }
    // top-1 and largest difference against the server's, by app/'s agreement rule
    const moved = compareOutputs(ref, await predictAll(recipe), engine.classes);
    // throughput: 8 decodes in flight (the server's libuv pool runs 4 at a time), CPU per image
    const testJpg = await probe(readFileSync(TEST_JPG));
    const total = 4 * arg.n;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await closedLoop(8, total, () => decodeImage(testJpg, 224, 224, undefined, recipe));
    const perSecond = (1000 * total) / (performance.now() - t0);
    out[name] = {
      ...row,
      perSecond,
      cpuMs: cpuMsPer(cpu0, total),
      top1Same: moved.top1Agree,
      images: all.length,
      maxDiff: moved.maxAbsDiff,
    };
  }
  engine.dispose();
  return { sets: sets.map(([s]) => s), out };
}

async function decode(n: number): Promise<string[]> {
  const lines: string[] = [];
  for (const concurrency of [0, 1]) {
    const r = await inChild<{ sets: string[]; out: Record<string, Record<string, number>> }>(
      "decode",
      { concurrency, n },
    );
    const threads =
      concurrency === 0
        ? "sharp.concurrency() default (one libvips thread per core)"
        : "sharp.concurrency(1)";
    if ("error" in r) {
      lines.push(`### decode + resize, ${threads}: ${r.error}`, "");
      continue;
    }
    const table = Object.entries(r.out).map(([name, v]) => [
      name,
      ...r.sets.map((s) => f1(v[s] as number)),
      f1(v.perSecond as number),
      f1(v.cpuMs as number),
      `${v.top1Same}/${v.images}`,
      (v.maxDiff as number).toExponential(1),
    ]);
    lines.push(
      `### decode + resize to 224x224 (ms per image, p50 of one at a time), ${threads}`,
      "",
      ...figureTable(
        [
          "recipe",
          ...r.sets,
          "test.jpg/s, 8 in flight",
          "CPU ms/img",
          "top-1 as the server's",
          "max |Δp| vs the server's",
        ],
        table,
      ),
      "",
    );
  }
  return lines;
}

// ---------------------------------------------------------------- main

const o = new Command("bench-engines")
  .description(
    "ONNX Runtime's settings measured: engines, sessions and threads, decoding (--rows tfjs: tfjs's engines).",
  )
  .option("--n <n>", "images (or calls) per row", wholeNumber("n", 1), 60)
  .addOption(
    new Option("--part <list>", "parts to run, comma-separated")
      .argParser(commaList)
      .default(["engines", "session", "decode"], "engines,session,decode"),
  )
  .addOption(
    new Option("--rows <set>", "the engines part's rows: ONNX Runtime's settings, or tfjs's")
      .choices(["onnxruntime", "tfjs"])
      .default("onnxruntime"),
  )
  .addOption(
    new Option("--image <path>", "the engines part's image").default(
      TEST_JPG,
      "app/assets/test.jpg",
    ),
  )
  // One row in a child process of its own (inChild).
  .addOption(new Option("--child <role>").choices(["engine", "session", "decode"]).hideHelp())
  .addOption(new Option("--child-arg <json>").default("{}").hideHelp())
  .parse()
  .opts<{
    n: number;
    part: string[];
    rows: "onnxruntime" | "tfjs";
    image: string;
    child?: "engine" | "session" | "decode";
    childArg: string;
  }>();

async function main(): Promise<void> {
  if (o.child) {
    const fn = { engine: engineRow, session: sessionRow, decode: decodeRow }[o.child];
    process.send?.(await fn(JSON.parse(o.childArg)));
    process.exit(0);
  }
  const { n, part: parts } = o;
  await ensureDemoModel();
  console.log(
    `bench-engines --part ${parts.join(",")} --rows ${o.rows}, load before: ${loadavg()}`,
  );
  console.log("");
  if (parts.includes("engines")) {
    const rows = ENGINE_ROWS[o.rows];
    console.log([...(await engines(n, path.resolve(o.image), rows)), ""].join("\n"));
  }
  if (parts.includes("session")) console.log([...(await session(n)), ""].join("\n"));
  if (parts.includes("decode")) console.log((await decode(n)).join("\n"));
  console.log(`load after: ${loadavg()}`);
}

void main();
