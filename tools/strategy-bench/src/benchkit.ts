/**
 * The measuring tools' shared pieces, one home each: nearest-rank percentiles, Markdown tables,
 * the generated blocks of docs/benchmarks.md, /proc readings of a process (tree), an autocannon
 * load run, a timed loop of calls and a flag-by-flag argv walk. Used by bench/server, bench/peer, scripts/e2e's HPA
 * validation and the planner (tools/planner, src/report/).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import type autocannon from "autocannon";

// ---------------------------------------------------------------- percentiles

/** Nearest-rank percentile `p` (0-100) of values sorted ascending; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** The same, of values in any order (sorts a copy). */
export function percentileOf(xs: readonly number[], p: number): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

/**
 * The element at index floor(`q` × n) of values sorted ascending (`q` 0-1), clamped to the last;
 * NaN when there are none. What bench:image and bench:inference print as p50/p95: one rank above
 * the nearest-rank percentile when q × n is whole (the median of an even count is the upper one).
 */
export function upperQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

// ---------------------------------------------------------------- markdown

export type Align = "left" | "right";

/**
 * A Markdown table, one string per line: `| a | b |` rows under a `|---|---:|` rule (`align`,
 * per column, default left). With `pad`, cells padded to the column's width and the rule spaced
 * (`| --- | ---: |`), the way Biome formats a table, so `biome check` passes on a written doc.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  o: { align?: readonly Align[]; pad?: boolean } = {},
): string[] {
  const right = (i: number) => o.align?.[i] === "right";
  if (!o.pad) {
    const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
    const rule = `|${header.map((_, i) => (right(i) ? "---:" : "---")).join("|")}|`;
    return [line(header), rule, ...rows.map(line)];
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, 3, ...rows.map((r) => (r[i] ?? "").length)),
  );
  const cell = (text: string, i: number) =>
    right(i) ? text.padStart(widths[i] as number) : text.padEnd(widths[i] as number);
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (right(i) ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)];
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

/** What stands between the markers (the `block` replaceDocBlock wrote), or undefined. */
export function readDocBlock(doc: string, name: string): string | undefined {
  const [start, end] = markers(name);
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  return a < 0 || b < a ? undefined : doc.slice(a + start.length + 1, b - 1);
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

// ---------------------------------------------------------------- /proc (Linux)

const PAGE_BYTES = 4096;
/** Clock ticks per second for /proc times (USER_HZ); 100 on Linux. */
export const CLOCK_TICKS = 100;

/** A `kB` line of /proc/<pid>/status (VmRSS, VmHWM, ...), in kB; undefined when absent. */
export function statusKB(status: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, "m").exec(status);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Resident memory now and its high-water mark, in bytes, of one process (undefined once gone). */
export function procStatus(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    return {
      rss: (statusKB(text, "VmRSS") ?? 0) * 1024,
      hwm: (statusKB(text, "VmHWM") ?? 0) * 1024,
    };
  } catch {
    return undefined;
  }
}

/** Groups of a process' resident memory, by what is mapped (see {@link memoryMapOf}). */
export const MEMORY_GROUPS = ["tensorflow", "files", "heap", "anonymous"] as const;
export type MemoryMap = Record<(typeof MEMORY_GROUPS)[number], number>;
const emptyMemoryMap = (): MemoryMap =>
  Object.fromEntries(MEMORY_GROUPS.map((g) => [g, 0])) as MemoryMap;

/**
 * Resident bytes of a /proc/<pid>/smaps text, by group: `tensorflow`, mappings of files whose path
 * names TensorFlow (libtensorflow_cc, libtensorflow_framework, the Python wheel's _pywrap_*
 * modules), file-backed, so shared with the page cache; `files`, every other file (the runtime's
 * executable, its libraries); `heap`, glibc's main arena ([heap], grown by brk); `anonymous`, the
 * other anonymous mappings: V8's heaps, glibc's other arenas and its mmap'd large blocks (tensors'
 * buffers), thread stacks.
 */
export function memoryMapOf(smaps: string): MemoryMap {
  const out = emptyMemoryMap();
  let group: keyof MemoryMap = "anonymous";
  for (const line of smaps.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? "";
      group = name.startsWith("/")
        ? /tensorflow/i.test(name)
          ? "tensorflow"
          : "files"
        : name === "[heap]"
          ? "heap"
          : "anonymous";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[group] += Number(rss[1]) * 1024;
  }
  return out;
}

/** {@link memoryMapOf} summed over a process tree (a process gone meanwhile counts 0). */
export function treeMemoryMap(root: number): MemoryMap {
  const out = emptyMemoryMap();
  for (const pid of treePids(root)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps`, "utf8");
    } catch {
      continue;
    }
    const m = memoryMapOf(text);
    for (const g of MEMORY_GROUPS) out[g] += m[g];
  }
  return out;
}

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** utime + stime + the reaped children's cutime + cstime, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

/** /proc/<pid>/stat's text read: the fields after the command name (which may hold spaces and parentheses). */
export function parseProcStat(pid: number, text: string): ProcStat {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state).
  const num = (field: number) => Number(rest[field - 3]);
  return {
    pid,
    ppid: num(4),
    ticks: num(14) + num(15),
    cpuSeconds: (num(14) + num(15) + num(16) + num(17)) / CLOCK_TICKS,
    rssBytes: num(24) * PAGE_BYTES,
  };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** The pids of `root` and all its descendants. */
export function treePids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface TreeUsage {
  pids: number[];
  cpuSeconds: number;
  rssBytes: number;
  /** Sum over the tree of each process' peak RSS since it started (VmHWM). */
  hwmBytes: number;
}

/** CPU time and memory of a process tree: `root` and its descendants. */
export function treeUsage(root: number): TreeUsage {
  const pids = treePids(root);
  let cpuSeconds = 0;
  let rssBytes = 0;
  let hwmBytes = 0;
  for (const pid of pids) {
    const s = readStat(pid);
    if (!s) continue;
    cpuSeconds += s.cpuSeconds;
    rssBytes += s.rssBytes;
    hwmBytes += procStatus(pid)?.hwm ?? 0;
  }
  return { pids, cpuSeconds, rssBytes, hwmBytes };
}

/** VmRSS of one process in kB, 0 once it is gone (async: for samplers that must not block). */
export async function readRssKB(pid: number): Promise<number> {
  try {
    return statusKB(await readFile(`/proc/${pid}/status`, "utf8"), "VmRSS") ?? 0;
  } catch {
    return 0;
  }
}

async function readStatAsync(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(pid, await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The process and all its descendants (a server started through npm runs as a child of it),
 * root first, breadth first; none when `root` is gone. Async: for samplers that must not block.
 */
export async function processTree(root: number): Promise<ProcStat[]> {
  const entries = await readdir("/proc");
  const stats = (
    await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => readStatAsync(Number(e))))
  ).filter((s): s is ProcStat => s !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const self = stats.find((s) => s.pid === root);
  if (!self) return [];
  const out: ProcStat[] = [];
  const queue = [self];
  while (queue.length > 0) {
    const s = queue.shift() as ProcStat;
    out.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/**
 * Calls `read` every `everyMs` (and once at the start unless `first: false`) until stopped;
 * `stop` reads once more and returns the largest value seen.
 */
export function peakSampler(
  read: () => number,
  everyMs = 100,
  o: { first?: boolean } = {},
): { stop: () => number } {
  let peak = 0;
  const sample = () => {
    const v = read();
    if (v > peak) peak = v;
  };
  if (o.first ?? true) sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** The summed RSS of `root`'s process tree, sampled every `everyMs` (the tree re-read every 20th). */
export function rssSampler(root: number, everyMs = 100): { stop: () => number } {
  let pids = treePids(root);
  let ticks = 0;
  return peakSampler(() => {
    if (++ticks % 20 === 0) pids = treePids(root);
    let sum = 0;
    for (const pid of pids) sum += readStat(pid)?.rssBytes ?? 0;
    return sum;
  }, everyMs);
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
  /** Called on every response once it is counted, with the 2xx latencies kept so far. */
  onResponse?: (status: number, served: number) => void;
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
      o.onResponse?.(status, latencies.length);
    });
  });
}

// ---------------------------------------------------------------- argv

/**
 * Walks `argv` flag by flag (the bench scripts' own small parsers): `on(flag, value)` handles one
 * and returns true, `value()` taking the next argument ("<flag> needs a value" when there is
 * none); a flag `on` does not know throws `unknown(flag)`.
 */
export function eachFlag(
  argv: readonly string[],
  on: (flag: string, value: () => string) => boolean,
  unknown: (flag: string) => Error,
): void {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (!on(flag, value)) throw unknown(flag);
  }
}
