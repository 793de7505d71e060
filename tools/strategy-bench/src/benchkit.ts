/**
 * The measuring tools' shared pieces, one home each: nearest-rank percentiles, Markdown tables,
 * the generated blocks of docs/benchmarks.md, a peak sampler, an autocannon load run, a timed loop
 * of calls (/proc readings: proc.ts; flags: flags.ts). Used by bench/ (peer, image, planner),
 * bench/engines/run.ts, tools/model-import, strategy-bench's report and the planner.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type autocannon from "autocannon";

// ---------------------------------------------------------------- percentiles

/** Nearest-rank percentile `p` (0-100) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/**
 * The element at index floor(`q` × n) of values sorted ascending (`q` 0-1), clamped to the last;
 * NaN when there are none. What bench:image and bench:engines print as p50/p95: one rank above
 * the nearest-rank percentile when q × n is whole (the median of an even count is the upper one).
 */
export function upperQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

// ---------------------------------------------------------------- markdown

/** `n` with exactly `digits` decimals and thousands separators ("1,234.50"); "n/a" if not finite. */
export function formatNumber(n: number, digits = 2): string {
  return Number.isFinite(n)
    ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "n/a";
}

/** A target's outcome, as a report's verdict line ends: **met** or **missed** (bold). */
export function metOrMissed(met: boolean): string {
  return met ? "**met**" : "**missed**";
}

export type Align = "left" | "right";

/** A Markdown table, one string per line: `| a | b |` rows under a `|---|---:|` rule (`align`, per column, default left). */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  o: { align?: readonly Align[] } = {},
): string[] {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  const rule = `|${header.map((_, i) => (o.align?.[i] === "right" ? "---:" : "---")).join("|")}|`;
  return [line(header), rule, ...rows.map(line)];
}

/** {@link markdownTable} of a label column and figures: the first column left, the others right. */
export function figureTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  return markdownTable(header, rows, { align: header.map((_, i) => (i === 0 ? "left" : "right")) });
}

// ---------------------------------------------------------------- doc blocks

const markers = (name: string) => [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`] as const;

/** `doc` with what stands between `<!-- name:start -->` and `<!-- name:end -->` set to `block`. */
export function replaceDocBlock(doc: string, name: string, block: string): string {
  const [start, end] = markers(name);
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`lacks the ${start} ... ${end} markers`);
  return `${doc.slice(0, a + start.length)}\n${block}\n${doc.slice(b)}`;
}

/** Rewrites the `name` block of the Markdown file `file`. */
export function writeDocBlock(file: string, name: string, block: string): void {
  let doc: string;
  try {
    doc = replaceDocBlock(readFileSync(file, "utf8"), name, block);
  } catch (err) {
    throw new Error(`${file} ${(err as Error).message}`);
  }
  writeFileSync(file, doc);
}

// ---------------------------------------------------------------- samplers

/**
 * Calls `read` at once and every `everyMs` until stopped; `stop` reads once more and returns the
 * largest value seen.
 */
export function peakSampler(read: () => number, everyMs = 100): { stop: () => number } {
  let peak = 0;
  const sample = () => {
    const v = read();
    if (v > peak) peak = v;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

// ---------------------------------------------------------------- timed calls

export interface TimedCalls {
  calls: number;
  seconds: number;
  imagesPerSec: number;
  msPerCall: number;
}

/**
 * Calls `once` (one run on a batch of `batch` images) twice to warm up, then in a loop for at
 * least `secs` seconds and 3 calls; the rate and time per call over the loop. bench/peer's raw
 * engine figures (tfjs-raw.ts, onnx-raw.ts).
 */
export async function timedCalls(
  once: () => unknown,
  batch: number,
  secs: number,
): Promise<TimedCalls> {
  await once();
  await once();
  let calls = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    await once();
    calls++;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < secs || calls < 3);
  return {
    calls,
    seconds: Number(elapsed.toFixed(3)),
    imagesPerSec: Number(((calls * batch) / elapsed).toFixed(2)),
    msPerCall: Number(((1000 * elapsed) / calls).toFixed(2)),
  };
}

// ---------------------------------------------------------------- load

export interface LoadOptions {
  url: string;
  connections: number;
  /** Requests autocannon sends at most. */
  amount: number;
  /** Seconds autocannon waits for one response. */
  timeout: number;
  /** Stop once this many 2xx responses have come back (the clock stops then). */
  stopAfter?: number;
}

export interface LoadRun {
  /** Per-request milliseconds of the 2xx responses (at most `stopAfter`). */
  latencies: number[];
  /** Responses with another status. */
  non2xx: number;
  /** From the first request to the last response (or to the `stopAfter`th 2xx one). */
  seconds: number;
  result: autocannon.Result;
}

/** An autocannon run against one URL, keeping each 2xx response's latency. */
export async function autocannonLoad(o: LoadOptions): Promise<LoadRun> {
  // Loaded here: the planner's modules use this file's other pieces and never start a load.
  const { default: autocannon } = await import("autocannon");
  return new Promise<LoadRun>((resolve, reject) => {
    const latencies: number[] = [];
    let non2xx = 0;
    const t0 = performance.now();
    let t1 = 0;
    const inst = autocannon(
      { url: o.url, connections: o.connections, amount: o.amount, timeout: o.timeout },
      (err, result) => {
        if (err) reject(err);
        else
          resolve({
            latencies,
            non2xx,
            seconds: ((t1 || performance.now()) - t0) / 1000,
            result,
          });
      },
    );
    inst.on("response", (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) {
        if (o.stopAfter === undefined || latencies.length < o.stopAfter) latencies.push(ms);
        if (latencies.length === o.stopAfter && !t1) {
          t1 = performance.now();
          inst.stop();
        }
      } else non2xx++;
    });
  });
}
