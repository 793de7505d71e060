/**
 * bench:peer, stage 4: the report. The Markdown block of docs/benchmarks.md between
 * <!-- bench:peer:start --> and <!-- bench:peer:end --> from a run's figures (figures.ts).
 */
import path from "node:path";
import {
  type Align,
  figureTable,
  markdownTable,
  metOrMissed as verdict,
  writeDocBlock,
} from "../../tools/strategy-bench/src/benchkit.js";
import { MEMORY_GROUPS, type MemoryMap } from "../../tools/strategy-bench/src/proc.js";
import type { AgreementPart } from "./agreement";
import type { Level, Report, ServerResult } from "./figures";
import { ROOT } from "./setup";

const DOC = path.join(ROOT, "docs", "benchmarks.md");
export const DEFAULT_PEERS = "gunicorn,gunicorn2";
export const DEFAULT_OURS = "tensorflow,tensorflow1,wasm,onnxruntime";
const COLUMNS =
  "server | c | requests | req/s | p50 ms | p95 ms | p99 ms | peak RSS MiB | CPU s/req | req/s vs original | req/s vs ceiling";

const MAP_COLUMNS =
  "server | when | TensorFlow's libraries | other files | glibc heap | other anonymous | total";
const MiB = 2 ** 20;
const STAGE_COLUMNS =
  "server | c | client ms | HTTP ms | classify ms | decode + resize | normalise | queue | forward pass | rest";

/** One decimal; "—" where not a finite number (a figure absent from an older run too). */
const f1 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(1) : "—");
const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "—");
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "—");
/** An agreement line's ending: **agree** or **DISAGREE** (bold). */
const agreeOrNot = (ok: boolean) => (ok ? "**agree**" : "**DISAGREE**");
const ratio = (a: number, b: number) =>
  Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}×` : "—";

/**
 * A level's mean ms per request in each of ours' stages (`stagesMs`, NaN where absent), and
 * `rest` = classify total − decode − normalise − queue − forward pass.
 */
function stages(l: Level): { ms: (stage: string) => number; rest: number } {
  const ms = (k: string) => l.stagesMs?.[k] ?? Number.NaN;
  return {
    ms,
    rest: ms("total") - ms("decode") - ms("preprocess") - ms("queue") - ms("inference"),
  };
}

/** A row of the memory table: a server's resident MiB by group, and their total. */
const memoryRow = (label: string, when: string, m: MemoryMap) => [
  label,
  when,
  ...MEMORY_GROUPS.map((g) => f0(m[g] / MiB)),
  f0(MEMORY_GROUPS.reduce((a, g) => a + m[g], 0) / MiB),
];

/** A server's level at concurrency `c` (none for a server or level that did not run). */
const levelAt = (s: ServerResult | undefined, c: number) =>
  s?.levels.find((l) => l.concurrency === c);

function ceilingOf(rep: Report): number {
  const c = rep.ceiling;
  return c ? Math.max(c.predictBatch.imagesPerSec, c.predictOnBatch.imagesPerSec) : Number.NaN;
}

/** The flags a run was given, as they would be typed (none for the defaults). */
function commandFlags(rep: Report): string {
  const f: string[] = [];
  if (rep.scale !== 1) f.push(`--scale ${rep.scale}`);
  if (rep.flags && rep.flags.peers !== DEFAULT_PEERS) f.push(`--peers "${rep.flags.peers}"`);
  if (rep.flags && rep.flags.ours !== DEFAULT_OURS) f.push(`--ours "${rep.flags.ours}"`);
  if (rep.flags?.soak) f.push(`--soak ${rep.flags.soak}`);
  if (rep.flags?.serversOnly) f.push("--servers-only");
  return f.length ? ` -- ${f.join(" ")}` : "";
}

export function renderMarkdown(rep: Report): string {
  const ceiling = ceilingOf(rep);
  const original = rep.servers.find((s) => s.id === "original-gunicorn" && !s.error);
  const lines: string[] = [];
  lines.push(
    `Run ${rep.startedAt} → ${rep.finishedAt} (UTC) on ${rep.machine.nproc} cores (${rep.machine.cpu}), ` +
      `${rep.machine.memGiB} GiB; load average before ${rep.machine.loadBefore}, after ${rep.machine.loadAfter} ` +
      "(the machine is shared: other jobs may have run during the measurement).",
    "",
    `Command: \`npm run bench:peer${commandFlags(rep)}\` (bench/peer/run.ts). ` +
      "Same model in both (the seeded demo MobileNetV2 + GAP + Dense(11), 2,272,075 parameters, its tfjs " +
      "weights written layer by layer into a Keras `.keras` model), same bundled image (app/assets/test.jpg) " +
      "on `GET /test`, each server alone on the machine on a loopback port, autocannon in the driver process " +
      "(on the same 2 cores), a fixed number of served requests per level (100 at c=1, 20×c otherwise, " +
      "times --scale) after a 20-request warm-up; latencies are autocannon's per-request times, percentiles " +
      "nearest-rank; CPU s/req = user+system time of the server's process tree over the level / requests served.",
    "",
    "The original: bench/peer/app.py (Flask, Keras `model.predict` per request, PIL bicubic, /255) under " +
      "gunicorn (the production WSGI server such a recipe ships) with 1 worker process handling one request at " +
      "a time (TensorFlow's own thread pools use both cores), and with 2 (one per core) as a tuned variant; " +
      "worker class gthread with 1 thread, i.e. the default sync worker's one-at-a-time processing plus HTTP " +
      "keep-alive: with the sync worker, which closes every connection, autocannon's latencies were wrong " +
      "(8.7 req/s at c=1 with a p50 of 2.4 s). Flask's own threaded server was tried but left out: it answers " +
      "`Connection: close` in a way autocannon stalls on (120 s timeouts). Ours: `node app/dist/server.js` " +
      "with TFJS_BACKEND=tensorflow, wasm or onnxruntime (the demo model's model.onnx), PREPROCESS=unit, LOG_LEVEL=warn (gunicorn logs no access " +
      "lines either), MALLOC_ARENA_MAX=2 (as the image sets it), INFERENCE_THREADS default (= 2 cores), " +
      "MAX_BATCH_SIZE the server's default (1); a variant's label names the settings it changes.",
    "",
    `Versions: ${Object.entries(rep.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
    ...figureTable(COLUMNS.split(" | "), []),
  );
  for (const s of rep.servers) {
    if (s.error) {
      lines.push(
        `| ${s.label} | — | — | failed: ${s.error.split("\n")[0]?.slice(0, 120)} | | | | | | | |`,
      );
      continue;
    }
    for (const l of s.levels) {
      const o = levelAt(original, l.concurrency);
      lines.push(
        `| ${s.label} | ${l.concurrency} | ${l.ok}${l.failed ? ` (+${l.failed} failed)` : ""} | ${f1(l.reqPerSec)} | ` +
          `${f0(l.p50)} | ${f0(l.p95)} | ${f0(l.p99)} | ${f0(l.peakRssMiB)} | ${f3(l.cpuSecondsPerRequest)} | ` +
          `${o ? ratio(l.reqPerSec, o.reqPerSec) : "—"} | ${ratio(l.reqPerSec, ceiling)} |`,
      );
    }
  }
  lines.push("");
  const c = rep.ceiling;
  if (c) {
    lines.push(
      `Ceiling (TensorFlow's own batched throughput, ceiling.py, no HTTP, no decoding): Keras \`model.predict\` on ` +
        `batches of ${c.batch}: **${f1(c.predictBatch.imagesPerSec)} images/s** (${f0(c.predictBatch.msPerCall)} ms per batch); ` +
        `\`predict_on_batch\`: ${f1(c.predictOnBatch.imagesPerSec)} images/s; \`model.predict\` on one image ` +
        `(what the original server calls per request): ${f1(c.predictSingle.imagesPerSec)} images/s ` +
        `(${f0(c.predictSingle.msPerCall)} ms). The ratios above use the best batched figure, ${f1(ceiling)} images/s.`,
    );
  }
  if (rep.tfjsRaw) {
    const t = rep.tfjsRaw;
    lines.push(
      "",
      `Our engine alone (tfjs-raw.ts: tfjs-node on TensorFlow ${rep.versions["tensorflow (libs)"] ?? "?"}, no HTTP): ` +
        `batches of ${t.batch}: ${f1(t.predictBatch.imagesPerSec)} images/s (${ratio(t.predictBatch.imagesPerSec, ceiling)} of the ceiling); ` +
        `one image per call: ${f1(t.predictSingle.imagesPerSec)} images/s (${f0(t.predictSingle.msPerCall)} ms).`,
    );
  } else if (!rep.tfjsNode.ok) {
    lines.push("", `tfjs-node: not available here (${rep.tfjsNode.why}).`);
  }
  if (rep.onnxRaw) {
    const x = rep.onnxRaw;
    lines.push(
      "",
      `Reference: the same weights under ONNX Runtime (tf2onnx ${rep.versions.tf2onnx ?? "?"}, opset ${rep.versions["onnx opset"] ?? "?"}; ` +
        `onnxruntime-node ${rep.versions["onnxruntime-node"] ?? "?"}, CPU execution provider, its default threads; ` +
        `onnx-raw.ts, no HTTP, no decoding): batches of ${x.batch}: **${f1(x.predictBatch.imagesPerSec)} images/s** ` +
        `(${f0(x.predictBatch.msPerCall)} ms per batch, ${ratio(x.predictBatch.imagesPerSec, ceiling)} of the ceiling); one image per call: ` +
        `${f1(x.predictSingle.imagesPerSec)} images/s (${f1(x.predictSingle.msPerCall)} ms); peak RSS ${f0(x.peakRssMiB)} MiB. What this CPU does ` +
        "with this model when the runtime fuses the graph.",
    );
  }
  if (rep.onnxRawOurs) {
    const x = rep.onnxRawOurs;
    lines.push(
      "",
      "The same under the server's own model.onnx (onnx-export.ts, what `TFJS_BACKEND=onnxruntime` serves): " +
        `batches of ${x.batch}: ${f1(x.predictBatch.imagesPerSec)} images/s; one image per call: ` +
        `**${f1(x.predictSingle.imagesPerSec)} images/s** (${f1(x.predictSingle.msPerCall)} ms` +
        `${x.cpuMsPerImage !== undefined ? `, ${f1(x.cpuMsPerImage)} CPU-ms per image` : ""}).`,
    );
  }
  const first = rep.servers[0]?.label ?? "";
  lines.push(
    "",
    `Agreement (same generated images through each server's \`POST /predict\`, against ${first}'s):`,
    "",
  );
  const part = (name: string, a: AgreementPart) =>
    `${name}: top-1 equal on ${a.sameTop1}/${a.images}` +
    `${a.nearTies ? ` (+${a.nearTies} near-ties: reference top-2 margin ≤ ${a.tolerance})` : ""}, ` +
    `largest probability difference ${a.maxAbsDiff.toExponential(1)}, mean ${a.meanAbsDiff.toExponential(1)} ` +
    `(tolerance ${a.tolerance})`;
  for (const s of rep.servers) {
    const a = s.agreement;
    if (!a) continue;
    lines.push(
      `- ${s.label}: ${part("224×224 PNG (same pixels, the model alone)", a.exact)}; ` +
        `${part("resized PNG/JPEG (sharp vs PIL bicubic, two JPEG decoders)", a.resized)} → ` +
        `${agreeOrNot(a.ok)}.`,
    );
  }
  if (rep.engines) {
    const e = rep.engines;
    lines.push(
      `- ours on ONNX Runtime vs ours on tfjs-node (the same decode, two engines): top-1 equal on ` +
        `${e.sameTop1}/${e.images}, largest probability difference ${e.maxAbsDiff.toExponential(1)} ` +
        `(tolerance ${e.tolerance}) → ${agreeOrNot(e.ok)}.`,
    );
  }
  const staged = rep.servers.filter((s) => s.kind === "ours" && !s.error && s.levels[0]?.stagesMs);
  if (staged.length) {
    lines.push(
      "",
      "Where an image's time goes in ours (mean ms per request over each level; the server's own " +
        "`inference_duration_seconds{stage}` and `http_request_duration_seconds` on /metrics, read before and " +
        "after the level; rest = classify total − decode − normalise − queue − forward pass: batch assembly, " +
        "the transfers to and from the engine's worker thread, ranking):",
      "",
      ...figureTable(
        STAGE_COLUMNS.split(" | "),
        staged.flatMap((s) =>
          s.levels.map((l) => {
            const { ms, rest } = stages(l);
            const stageMs = ["http", "total", "decode", "preprocess", "queue", "inference"].map(ms);
            return [s.label, String(l.concurrency), ...[l.mean, ...stageMs, rest].map(f1)];
          }),
        ),
      ),
    );
  }
  const mapped = rep.servers.filter((s) => !s.error && s.memoryMap);
  if (mapped.length) {
    lines.push(
      "",
      "Where the resident memory is (MiB; /proc/<pid>/smaps of the server's process tree, each mapping's Rss " +
        "by what it maps; after the warm-up, and after the c=30 level; proc.ts `memoryMapOf`): TensorFlow's " +
        "libraries = file-backed pages of libtensorflow_cc / libtensorflow_framework (tfjs-node's, built from " +
        "the same tensorflow-cpu wheel the original runs) and of the wheel's Python modules; other files = " +
        "the runtime's executable and libraries; glibc heap = the main arena ([heap]); other anonymous = V8's " +
        "heaps (one per engine thread), glibc's other arenas and mmap'd blocks (tensors' buffers), stacks:",
      "",
      ...markdownTable(
        MAP_COLUMNS.split(" | "),
        mapped.flatMap(({ label, memoryMap: m }) =>
          m ? [memoryRow(label, "idle", m.idle), memoryRow(label, "after c=30", m.afterLoad)] : [],
        ),
        { align: ["left", "left", ...Array<Align>(5).fill("right")] },
      ),
    );
  }
  lines.push(...serverVerdicts(rep));
  lines.push(
    "",
    "Targets (issue 15; each tfjs-node variant of ours against the original on gunicorn, 1 worker):",
    "",
  );
  const tfjs = rep.servers.filter(
    (s) => s.kind === "ours" && s.backend === "tensorflow" && !s.error,
  );
  const o20 = levelAt(original, 20);
  const o30 = levelAt(original, 30);
  if (tfjs.length && o20 && o30 && original) {
    for (const ours of tfjs) {
      const u20 = levelAt(ours, 20);
      const u30 = levelAt(ours, 30);
      if (!u20 || !u30) continue;
      const thr = u20.reqPerSec / o20.reqPerSec;
      const p95 = u20.p95 / o20.p95;
      const rss20 = u20.peakRssMiB / o20.peakRssMiB;
      const rss30 = u30.peakRssMiB / o30.peakRssMiB;
      const ofCeiling = u30.reqPerSec / ceiling;
      const u1 = levelAt(ours, 1);
      const forward = u1?.stagesMs?.inference;
      const p50vsForward =
        u1 && forward !== undefined
          ? `p50 at c=1 ≤ 1.10× the forward pass: ${f1(u1.p50)} vs ${f1(forward)} ms (${(u1.p50 / forward).toFixed(2)}×) → ${verdict(u1.p50 <= 1.1 * forward)}; `
          : "";
      lines.push(
        `- ${ours.label}: peak RSS ≤ 0.8× the original's at c=20 and c=30: ${f0(u20.peakRssMiB)} vs ${f0(o20.peakRssMiB)} MiB ` +
          `(${rss20.toFixed(2)}×), ${f0(u30.peakRssMiB)} vs ${f0(o30.peakRssMiB)} MiB (${rss30.toFixed(2)}×) → ` +
          `${verdict(rss20 <= 0.8 && rss30 <= 0.8)}; throughput ≥ 6× at c=20: ${thr.toFixed(2)}× → ${verdict(thr >= 6)}; ` +
          `p95 ≤ 0.2× at c=20: ${p95.toFixed(2)}× → ${verdict(p95 <= 0.2)}; ≥ 85 % of the ceiling at c=30: ` +
          `${f1(u30.reqPerSec)} req/s = ${(100 * ofCeiling).toFixed(1)} % of ${f1(ceiling)} → ${verdict(ofCeiling >= 0.85)}; ` +
          p50vsForward +
          `ready ≤ 3 s: ${f1(ours.startupSeconds)} s → ${verdict(ours.startupSeconds <= 3)}.`,
      );
    }
  } else {
    lines.push("- not evaluated: a tfjs-node or original run is missing above.");
  }
  lines.push(
    "",
    "Why each missed target is missed, and what was tried: [Where the memory goes](#where-the-memory-goes).",
  );
  lines.push(...engineVerdicts(rep));
  lines.push(
    "",
    "Peak RSS per server over its whole run (startup included), sum of VmHWM over the process tree: " +
      rep.servers
        .filter((s) => !s.error)
        .map((s) => `${s.label} ${f0(s.peakRssMiB)} MiB (ready after ${f1(s.startupSeconds)} s)`)
        .join("; ") +
      ". The table's peak RSS column is the tree's summed RSS sampled every 100 ms during that level.",
  );
  return lines.join("\n");
}

/** Issue 3's targets, each of ours on its own; with --soak, whether its RSS holds. */
function serverVerdicts(rep: Report): string[] {
  const lines = [
    "",
    "Targets (issue 3; each of ours alone: p50 at c=1 ≤ 1.15× the forward pass in the server, req/s at c=20 ≥ 1.7× c=1's, RSS under load ≤ 300 MiB, no failed request; with --soak, its peak RSS per part growing ≤ 32 MiB from the first part to the last):",
    "",
  ];
  for (const s of rep.servers.filter((x) => x.kind === "ours" && !x.error)) {
    const [c1, c20] = [levelAt(s, 1), levelAt(s, 20)];
    if (!c1 || !c20) continue;
    const forward = c1.stagesMs?.inference ?? Number.NaN;
    const all = [...s.levels, ...(s.soak ?? [])];
    const peak = Math.max(...all.map((l) => l.peakRssMiB));
    const failed = all.reduce((n, l) => n + l.failed, 0);
    const soak = s.soak?.length ? s.soak : undefined;
    const grew = soak ? (soak.at(-1)?.peakRssMiB ?? 0) - (soak[0]?.peakRssMiB ?? 0) : 0;
    lines.push(
      `- ${s.label}: p50 at c=1 ${f1(c1.p50)} vs ${f1(forward)} ms (${ratio(c1.p50, forward)}) → ${verdict(c1.p50 <= 1.15 * forward)}; ` +
        `c=20 ${f1(c20.reqPerSec)} vs c=1 ${f1(c1.reqPerSec)} req/s (${ratio(c20.reqPerSec, c1.reqPerSec)}) → ${verdict(c20.reqPerSec >= 1.7 * c1.reqPerSec)}; ` +
        `peak RSS under load ${f0(peak)} MiB → ${verdict(peak <= 300)}; failed requests ${failed} → ${verdict(failed === 0)}` +
        (soak
          ? `; soak (${soak.reduce((n, l) => n + l.ok, 0)} requests at c=20, ${f1(soak.reduce((a, l) => a + l.reqPerSec, 0) / soak.length)} req/s): peak RSS per part ${soak.map((l) => f0(l.peakRssMiB)).join(", ")} MiB, ${grew >= 0 ? "+" : ""}${f0(grew)} → ${verdict(grew <= 32)}.`
          : "."),
    );
  }
  return lines;
}

/**
 * Issue 28's targets, ours on ONNX Runtime against ours on tfjs-node in this run, and the gap
 * between ONNX Runtime alone (one image per call, the server's model.onnx) and the server, stage by
 * stage from the server's own /metrics.
 */
function engineVerdicts(rep: Report): string[] {
  const tf = rep.servers.find((s) => s.id === "ours-tensorflow" && !s.error);
  const ort = rep.servers.find((s) => s.id === "ours-onnxruntime" && !s.error);
  const lines = [
    "",
    "Targets (issue 28; ours on ONNX Runtime against ours on tfjs-node, both in this run):",
    "",
  ];
  if (!tf || !ort) {
    lines.push(
      "- not evaluated: `--ours` needs both tensorflow and onnxruntime (and tfjs-node here).",
    );
    return lines;
  }
  const [t20, o20, t1, o1] = [levelAt(tf, 20), levelAt(ort, 20), levelAt(tf, 1), levelAt(ort, 1)];
  if (t20 && o20) {
    const r = o20.reqPerSec / t20.reqPerSec;
    const gen = o20.driverCpuSecondsPerRequest;
    lines.push(
      `- req/s at c=20 ≥ 1.8× tfjs-node's: ${f1(o20.reqPerSec)} vs ${f1(t20.reqPerSec)} (${r.toFixed(2)}×) → ${verdict(r >= 1.8)}` +
        (gen !== undefined
          ? `; the load generator (autocannon in this process, on the same cores) took ${f1(1000 * gen)} CPU-ms per request against the server's ${f1(1000 * o20.cpuSecondsPerRequest)}.`
          : "."),
    );
  }
  if (t1 && o1) {
    const r = o1.p50 / t1.p50;
    lines.push(
      `- p50 at c=1 ≤ 0.5× tfjs-node's: ${f1(o1.p50)} vs ${f1(t1.p50)} ms (${r.toFixed(2)}×) → ${verdict(r <= 0.5)}.`,
    );
  }
  const levelPeak = (s: ServerResult) => Math.max(...s.levels.map((l) => l.peakRssMiB));
  const r = ort.peakRssMiB / tf.peakRssMiB;
  lines.push(
    `- peak RSS ≤ 0.5× tfjs-node's (VmHWM over the process tree, the whole run): ${f0(ort.peakRssMiB)} vs ${f0(tf.peakRssMiB)} MiB ` +
      `(${r.toFixed(2)}×; under load, sampled: ${f0(levelPeak(ort))} vs ${f0(levelPeak(tf))} MiB) → ${verdict(r <= 0.5)}.`,
    "- image ≤ 250 MB: not measured here; `npm run bench:image -- --variants wheel,onnxruntime` prints it and its verdict.",
  );
  const e = rep.engines;
  lines.push(
    e
      ? `- predictions equal tfjs-node's (top-1 on every image of the agreement set, probabilities within ${e.tolerance}): ` +
          `top-1 ${e.sameTop1}/${e.images}, largest difference ${e.maxAbsDiff.toExponential(1)} → ${verdict(e.ok)}.`
      : "- predictions equal tfjs-node's: not evaluated (an agreement run failed).",
  );
  const raw = rep.onnxRawOurs;
  if (raw && o1?.stagesMs && o20?.stagesMs) {
    const rawMs = raw.predictSingle.msPerCall;
    lines.push(
      "",
      `From ONNX Runtime alone to the server (ms per image; ONNX Runtime alone: the server's model.onnx, one image per call, ` +
        `its default threads, ${f1(raw.predictSingle.imagesPerSec)} images/s; the server: means from its /metrics over each level; ` +
        "rest = classify total − decode − normalise − queue − forward pass: the transfers to and from the engine's worker, ranking; " +
        "HTTP = the server's own request time, classify included; client = autocannon's. Requests the load generator " +
        "abandons at a level's end are counted by the stages but not by HTTP, so at c=20 classify can exceed HTTP):",
      "",
      ...markdownTable(
        [
          "c",
          "alone: forward",
          "server: forward",
          "decode + resize",
          "normalise",
          "queue",
          "rest",
          "classify",
          "HTTP",
          "client",
          "req/s (alone: images/s)",
        ],
        [o1, o20].map((l) => {
          const { ms, rest } = stages(l);
          const stageMs = ["inference", "decode", "preprocess", "queue"].map(ms);
          return [
            String(l.concurrency),
            ...[rawMs, ...stageMs, rest, ms("total"), ms("http"), l.mean].map(f1),
            `${f1(l.reqPerSec)} (${f1(raw.predictSingle.imagesPerSec)})`,
          ];
        }),
        { align: Array<Align>(11).fill("right") },
      ),
      "",
      `At c=20 the server makes ${ratio(o20.reqPerSec, raw.predictSingle.imagesPerSec)} of ONNX Runtime's one-image-per-call rate: ` +
        `it spends ${f1(1000 * o20.cpuSecondsPerRequest)} CPU-ms per request` +
        (raw.cpuMsPerImage !== undefined
          ? ` against ${f1(raw.cpuMsPerImage)} for the forward pass alone`
          : "") +
        `, the difference being decode + resize (${f1(o20.stagesMs.decode)} ms on libuv's threads), normalising, HTTP and the ` +
        "load generator beside it on the same cores; queue is waiting, not work.",
    );
  }
  return lines;
}

export function writeDoc(markdown: string): void {
  writeDocBlock(DOC, "bench:peer", markdown);
}
