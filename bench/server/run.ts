// bench:server -- the inference server alone, on the demo model, on 127.0.0.1.
//
//   npm run bench:server                       # c1 + c20 on tfjs (auto) and ONNX Runtime: prints
//                                              # the figures (writes no file)
//   npm run bench:server -- --write-docs       # ... and rewrites docs/benchmarks.md's block with them
//   npm run bench:server -- --soak             # + 5,000 requests at c20, RSS sampled throughout
//   npm run bench:server -- --requests 100
//   npm run bench:server -- --backend auto,wasm  # one section per backend (soak on the first)
//   (TFJS_BACKEND=<list> in the environment does what --backend does)
//
// 1. builds app/ (npm --prefix app run build) and the demo model if absent;
// 2. measures pure inference in-process (createClassifier, same backend and threads as the
//    server, the bundled test image, sequential): the model forward pass and the whole classify();
// 3. starts `node app/dist/server.js` on a free 127.0.0.1 port, waits for /readyz (bench/peer's
//    start: ours is started and stopped one way for both benchmarks);
// 4. autocannon against GET /test at concurrency 1 and 20 for a fixed number of requests,
//    latencies from every response, RSS sampled from /proc/<pid>/status every 100 ms;
// 5. prints the issue's targets as PASS/FAIL figures (c1 p50 <= 1.15 x pure inference; c20
//    throughput >= 1.7 x c1; RSS <= 300 MiB) -- figures, not a test: it always exits 0 unless
//    something broke; with both a tfjs backend and onnxruntime measured, the engines side by side
//    (issue 28's ratios: req/s at c20, p50 at c1, peak RSS).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import { Command, Option } from "commander";
import {
  type Align,
  autocannonLoad,
  markdownTable,
  peakSampler,
  percentileOf,
  writeDocBlock,
} from "../../tools/strategy-bench/src/benchkit.js";
import { commaList, wholeNumber } from "../../tools/strategy-bench/src/flags.js";
import { freePort } from "../../tools/strategy-bench/src/net.js";
import { procStatus } from "../../tools/strategy-bench/src/proc.js";
import { meansBetween, stageSums, start, stop } from "../peer/measure.js";

const ROOT = path.resolve(__dirname, "..", "..");
const APP = path.join(ROOT, "app");
const DOC = path.join(ROOT, "docs", "benchmarks.md");
const BLOCK = "bench:server";
const MiB = 1024 * 1024;

interface Options {
  requests: number;
  soak: boolean;
  soakRequests: number;
  docs: boolean;
  backends: string[];
  threads: number | undefined;
  build: boolean;
}

function parseArgs(argv: string[]): Options {
  const o = new Command("bench:server")
    .description("The server's own figures: pure inference, GET /test at c1 and c20, RSS.")
    .option(
      "--requests <n>",
      "requests per level (at least 20: the c20 connections)",
      wholeNumber("requests", 20),
      400,
    )
    .option("--soak", "+ 5,000 requests at c20 with RSS sampled every 500", false)
    .option("--soak-requests <n>", "requests of the soak", wholeNumber("soak requests", 1), 5000)
    .option("--write-docs", "rewrite the bench:server block of docs/benchmarks.md", false)
    // --no-docs: the default now; accepted for older command lines.
    .addOption(new Option("--no-docs").hideHelp())
    .addOption(
      new Option("--backend <list>", "engines, comma-separated")
        .argParser(commaList)
        .default(
          commaList(process.env.TFJS_BACKEND ?? "auto,onnxruntime"),
          "TFJS_BACKEND, else auto,onnxruntime",
        ),
    )
    .option(
      "--threads <n>",
      "inference threads (default: INFERENCE_THREADS, else the cores)",
      wholeNumber("threads", 1),
      process.env.INFERENCE_THREADS ? Number(process.env.INFERENCE_THREADS) : undefined,
    )
    .option("--no-build", "do not build app/ first")
    .parse(argv, { from: "user" })
    .opts<{
      requests: number;
      soak: boolean;
      soakRequests: number;
      writeDocs: boolean;
      backend: string[];
      threads?: number;
      build: boolean;
    }>();
  return {
    requests: o.requests,
    soak: o.soak,
    soakRequests: o.soakRequests,
    docs: o.writeDocs,
    backends: o.backend,
    threads: o.threads,
    build: o.build,
  };
}

const median = (xs: number[]) => percentileOf(xs, 50);
const f1 = (x: number) => x.toFixed(1);

/** Pure inference, in-process: the inference module on the test image, one image at a time. */
async function pureInference(choice: string, threads: number) {
  const { createClassifier } = await import("../../app/src/inference/classifier.js");
  const { ensureDemoModel } = await import("../../app/scripts/demo-model/index.js");
  const { dir } = await ensureDemoModel();
  const classifier = await createClassifier({
    modelDir: dir,
    backend: choice as "auto" | "tensorflow" | "wasm" | "onnxruntime",
    threads,
  });
  const image = readFileSync(path.join(APP, "assets", "test.jpg"));
  for (let i = 0; i < 5; i++) await classifier.classify(image, 5);
  const forward: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await classifier.classify(image, 5);
    forward.push(r.timings.inferenceMs);
    total.push(r.timings.totalMs);
  }
  const backend = classifier.backend;
  await classifier.close();
  return { backend, forwardMs: median(forward), classifyMs: median(total) };
}

interface Run {
  name: string;
  connections: number;
  requests: number;
  ok: number;
  errors: number;
  non2xx: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  peakRss: number;
  rssSamples: { done: number; rss: number }[];
  /** Mean forward pass and classify() time per image inside the server during this run (ms). */
  serverForwardMs: number;
  serverClassifyMs: number;
}

async function load(
  url: string,
  adminUrl: string,
  pid: number,
  name: string,
  connections: number,
  amount: number,
  sampleEvery = 0,
): Promise<Run> {
  const before = await stageSums(adminUrl);
  const rssSamples: { done: number; rss: number }[] = [];
  const sampler = peakSampler(() => procStatus(pid)?.rss ?? 0, 100, { first: false });
  const { latencies, seconds, result } = await autocannonLoad({
    url: `${url}/test`,
    connections,
    amount,
    timeout: 60,
    onResponse: (_status, served) => {
      if (sampleEvery > 0 && served % sampleEvery === 0) {
        const s = procStatus(pid);
        if (s) rssSamples.push({ done: served, rss: s.rss });
      }
    },
  });
  const peakRss = sampler.stop();
  const means = meansBetween(before, await stageSums(adminUrl));
  return {
    serverForwardMs: (means.get("inference") ?? Number.NaN) * 1000,
    serverClassifyMs: (means.get("total") ?? Number.NaN) * 1000,
    name,
    connections,
    requests: amount,
    ok: result["2xx"],
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    seconds,
    rps: result["2xx"] / seconds,
    p50: percentileOf(latencies, 50),
    p95: percentileOf(latencies, 95),
    p99: percentileOf(latencies, 99),
    peakRss,
    rssSamples,
  };
}

interface Check {
  target: string;
  value: string;
  pass: boolean;
}

interface Measured {
  backend: string;
  pure: { backend: string; forwardMs: number; classifyMs: number };
  runs: Run[];
  checks: Check[];
}

/** One backend: pure inference in-process, then the server under c1, c20 (and the soak). */
async function measure(
  o: Options,
  backend: string,
  threads: number,
  soak: boolean,
): Promise<Measured> {
  console.log(`\n== backend ${backend}: pure inference in-process (threads ${threads}) ...`);
  const pure = await pureInference(backend, threads);
  console.log(
    `  backend ${pure.backend}: forward pass ${f1(pure.forwardMs)} ms, whole classify() ${f1(pure.classifyMs)} ms (median of 40)`,
  );

  const server = await start(
    {
      id: `bench-server-${backend}`,
      label: `ours on ${backend}`,
      kind: "ours",
      backend,
      cmd: [process.execPath, path.join(APP, "dist", "server.js")],
      cwd: APP,
      env: {
        HOST: "127.0.0.1",
        TFJS_BACKEND: backend,
        INFERENCE_THREADS: String(threads),
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        // as the image sets it (app/Dockerfile)
        MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? "2",
      },
      // /readyz and /metrics: the admin listener
      ready: "/readyz",
      adminPort: true,
    },
    await freePort(),
    "inherit",
  );
  const { base: url, adminBase: adminUrl } = server;
  const pid = server.child.pid as number;
  try {
    const idle = procStatus(pid);
    console.log(`server pid ${pid} ready on ${url}, RSS ${f1((idle?.rss ?? 0) / MiB)} MiB idle`);

    // warm the HTTP path (JIT, connection pools) before measuring
    await load(url, adminUrl, pid, "warm-up", 4, 40);
    const runs: Run[] = [];
    for (const [name, c] of [
      ["c1", 1],
      ["c20", 20],
    ] as const) {
      console.log(`${name}: ${o.requests} requests, ${c} connection(s) ...`);
      const r = await load(url, adminUrl, pid, name, c, o.requests);
      runs.push(r);
      console.log(
        `  ${f1(r.rps)} req/s, p50 ${f1(r.p50)} ms, p95 ${f1(r.p95)} ms, p99 ${f1(r.p99)} ms, peak RSS ${f1(r.peakRss / MiB)} MiB, ${r.ok} ok, ${r.non2xx} non-2xx, ${r.errors} errors; in the server: forward ${f1(r.serverForwardMs)} ms, classify() ${f1(r.serverClassifyMs)} ms (means)`,
      );
    }
    let soakRun: Run | undefined;
    if (soak) {
      console.log(`soak: ${o.soakRequests} requests at c20, RSS every 500 ...`);
      soakRun = await load(url, adminUrl, pid, "soak c20", 20, o.soakRequests, 500);
      runs.push(soakRun);
      for (const s of soakRun.rssSamples)
        console.log(`  after ${s.done}: RSS ${f1(s.rss / MiB)} MiB`);
    }
    const hwm = procStatus(pid)?.hwm ?? 0;

    const [c1, c20] = runs as [Run, Run];
    const peak = Math.max(...runs.map((r) => r.peakRss));
    const checks: Check[] = [
      {
        target: "c1 p50 <= 1.15 x pure inference (forward pass)",
        value: `${f1(c1.p50)} ms vs ${f1(1.15 * pure.forwardMs)} ms (ratio ${(c1.p50 / pure.forwardMs).toFixed(2)})`,
        pass: c1.p50 <= 1.15 * pure.forwardMs,
      },
      {
        target: "c1 p50 <= 1.15 x whole classify() in-process",
        value: `${f1(c1.p50)} ms vs ${f1(1.15 * pure.classifyMs)} ms (ratio ${(c1.p50 / pure.classifyMs).toFixed(2)})`,
        pass: c1.p50 <= 1.15 * pure.classifyMs,
      },
      {
        target: "c1 p50 <= 1.15 x forward pass inside the server during c1 (mean)",
        value: `${f1(c1.p50)} ms vs ${f1(1.15 * c1.serverForwardMs)} ms (ratio ${(c1.p50 / c1.serverForwardMs).toFixed(2)})`,
        pass: c1.p50 <= 1.15 * c1.serverForwardMs,
      },
      {
        target: "c20 throughput >= 1.7 x c1",
        value: `${f1(c20.rps)} vs ${f1(1.7 * c1.rps)} req/s (ratio ${(c20.rps / c1.rps).toFixed(2)})`,
        pass: c20.rps >= 1.7 * c1.rps,
      },
      {
        target: "RSS under load <= 300 MiB",
        value: `peak sampled ${f1(peak / MiB)} MiB (VmHWM ${f1(hwm / MiB)} MiB)`,
        pass: peak <= 300 * MiB,
      },
      {
        target: "no failed requests",
        value: runs.map((r) => `${r.name}: ${r.non2xx + r.errors}`).join(", "),
        pass: runs.every((r) => r.non2xx + r.errors === 0),
      },
    ];
    if (soakRun && soakRun.rssSamples.length >= 2) {
      const first = soakRun.rssSamples[0] as { done: number; rss: number };
      const last = soakRun.rssSamples.at(-1) as { done: number; rss: number };
      checks.push({
        target: `RSS stable over ${soakRun.requests} requests (last - first sample <= 32 MiB)`,
        value: `${f1(first.rss / MiB)} MiB after ${first.done} -> ${f1(last.rss / MiB)} MiB after ${last.done}`,
        pass: last.rss - first.rss <= 32 * MiB,
      });
    }
    console.log(`targets (${pure.backend}):`);
    for (const c of checks) console.log(`  ${c.pass ? "PASS" : "FAIL"}  ${c.target}: ${c.value}`);
    return { backend, pure, runs, checks };
  } finally {
    await stop(server);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const threads = o.threads ?? cpus().length;
  const uptimeBefore = execFileSync("uptime", { encoding: "utf8" }).trim();
  if (o.build) {
    console.log("building app/ ...");
    execFileSync("npm", ["--prefix", APP, "run", "build", "--silent"], { stdio: "inherit" });
  }
  const results: Measured[] = [];
  for (const [i, backend] of o.backends.entries()) {
    results.push(await measure(o, backend, threads, o.soak && i === 0));
  }
  const uptimeAfter = execFileSync("uptime", { encoding: "utf8" }).trim();
  const machine = {
    nproc: execFileSync("nproc", { encoding: "utf8" }).trim(),
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    threads,
    load: `${uptimeBefore.replace(/.*load average/, "load average")} before, ${uptimeAfter.replace(/.*load average: /, "")} after`,
  };
  const command = `npm run bench:server${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const block = renderBlock(results, machine, command);
  if (o.docs) {
    writeDocBlock(DOC, BLOCK, block);
    // the block holds them too; on stdout as well, so a run's verdict is on the terminal
    const sideBySide = enginesSideBySide(results);
    if (sideBySide.length) console.log(sideBySide.join("\n"));
    console.log(`\nrewrote the server block of ${path.relative(ROOT, DOC)}`);
  } else {
    console.log(
      `\n${block}\n\n(not written: \`--write-docs\` puts this block into ${path.relative(ROOT, DOC)})`,
    );
  }
}

function renderBlock(
  results: Measured[],
  m: { nproc: string; cpu: string; node: string; threads: number; load: string },
  command: string,
): string {
  const out = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC with \`${command}\`: GET /test (the bundled 320x240 JPEG) on the demo model, server and load generator (autocannon) on the same machine over 127.0.0.1.`,
    "",
    `Machine: ${m.nproc} cores (${m.cpu}), Node ${m.node}, INFERENCE_THREADS=${m.threads}, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? "2"} (as in the image); ${m.load}. The machine was shared with other jobs: figures are indicative.`,
  ];
  for (const r of results) {
    const rows = r.runs.map((x) => [
      x.name,
      String(x.connections),
      String(x.requests),
      f1(x.rps),
      f1(x.p50),
      f1(x.p95),
      f1(x.p99),
      f1(x.peakRss / MiB),
      String(x.non2xx + x.errors),
      f1(x.serverForwardMs),
      f1(x.serverClassifyMs),
    ]);
    out.push(
      "",
      `### TFJS_BACKEND=${r.backend} (backend in use: ${r.pure.backend})`,
      "",
      `Pure inference in-process (the inference module alone, one image at a time, median of 40, measured just before the server starts): forward pass **${f1(r.pure.forwardMs)} ms**, whole classify() (decode + resize + preprocess + forward) ${f1(r.pure.classifyMs)} ms. The last two columns are the same two times measured inside the server during each run (means from its \`inference_duration_seconds\` histogram; under concurrency the forward pass is that of the batch an image ran in), which a shared machine's load drift does not skew against the HTTP figures.`,
      "",
      ...markdownTable(
        [
          "run",
          "connections",
          "requests",
          "req/s",
          "p50 ms",
          "p95 ms",
          "p99 ms",
          "peak RSS MiB",
          "failed",
          "server forward ms",
          "server classify ms",
        ],
        rows,
        { align: ["left", ...Array<Align>(10).fill("right")], pad: true },
      ),
      "",
      ...markdownTable(
        ["target (issue 3)", "measured", "result"],
        r.checks.map((c) => [c.target, c.value, c.pass ? "PASS" : "FAIL"]),
        { pad: true },
      ),
    );
  }
  out.push(...enginesSideBySide(results));
  return out.join("\n");
}

/** ONNX Runtime against the tfjs backend measured in the same run (issue 28's ratios). */
function enginesSideBySide(results: Measured[]): string[] {
  const ort = results.find((r) => r.pure.backend === "onnxruntime");
  const tf = results.find((r) => r.pure.backend === "tensorflow");
  if (!ort || !tf) return [];
  const run = (m: Measured, name: string) => m.runs.find((r) => r.name === name) as Run;
  const peak = (m: Measured) => Math.max(...m.runs.map((r) => r.peakRss));
  const rows: [string, number, number, string, boolean][] = [
    [
      "req/s at c20",
      run(ort, "c20").rps,
      run(tf, "c20").rps,
      ">= 1.8x",
      run(ort, "c20").rps >= 1.8 * run(tf, "c20").rps,
    ],
    [
      "p50 at c1 (ms)",
      run(ort, "c1").p50,
      run(tf, "c1").p50,
      "<= 0.5x",
      run(ort, "c1").p50 <= 0.5 * run(tf, "c1").p50,
    ],
    ["peak RSS (MiB)", peak(ort) / MiB, peak(tf) / MiB, "<= 0.5x", peak(ort) <= 0.5 * peak(tf)],
    ["forward pass in-process (ms)", ort.pure.forwardMs, tf.pure.forwardMs, "", true],
  ];
  return [
    "",
    "### The engines side by side (issue 28's ratios; bench:peer checks them against the original too)",
    "",
    ...markdownTable(
      ["figure", "onnxruntime", "tensorflow", "ratio", "target", "result"],
      rows.map(([what, a, b, target, pass]) => [
        what,
        f1(a),
        f1(b),
        `${(a / b).toFixed(2)}x`,
        target,
        target ? (pass ? "PASS" : "FAIL") : "",
      ]),
      { align: ["left", "right", "right", "right", "left", "left"], pad: true },
    ),
  ];
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
