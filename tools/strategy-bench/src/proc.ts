/**
 * /proc (Linux), read in one place: a process' status (resident memory, its peak), stat (CPU time,
 * parent, RSS), smaps (what the memory maps), cmdline, cgroup and threads; the process tree below a pid;
 * the pid listening on a local TCP port; /proc/self/mountinfo. A process gone meanwhile reads as
 * undefined, 0 or nothing, never as an error.
 *
 * Sync readers serve samplers on a timer in a process that does nothing else meanwhile
 * (bench:server, bench:peer); the async ones serve samplers that run beside a load generator and
 * must not block it (the monitor, the planner's local probe). Both go through the same parsers.
 */
import { readdirSync, readFileSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import { peakSampler } from "./benchkit.js";

/** A process id, or `self` (the reading process). */
export type Pid = number | "self";

const PAGE_BYTES = 4096;
/** Clock ticks per second for /proc times (USER_HZ); 100 on Linux. */
export const CLOCK_TICKS = 100;

/** The text of /proc/<pid>/<file>; undefined when it cannot be read (the process is gone). */
export function procText(pid: Pid, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

/** {@link procText}, async. */
function procTextAsync(pid: Pid, file: string): Promise<string | undefined> {
  return readFile(`/proc/${pid}/${file}`, "utf8").catch(() => undefined);
}

const isPid = (name: string) => /^\d+$/.test(name);

/** A process' argv (/proc/<pid>/cmdline); undefined when it is gone or has none (a kernel thread). */
export function procCmdline(pid: Pid): string[] | undefined {
  const argv = procText(pid, "cmdline")?.split("\0").filter(Boolean);
  return argv && argv.length > 0 ? argv : undefined;
}

// ---------------------------------------------------------------- status

/** A `kB` line of a /proc/<pid>/status text (VmRSS, VmHWM, ...), in kB; undefined when absent. */
export function statusKB(status: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, "m").exec(status);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Resident memory now and its high-water mark, in bytes, of one process (undefined once gone). */
export function procStatus(pid: Pid): { rss: number; hwm: number } | undefined {
  const text = procText(pid, "status");
  if (text === undefined) return undefined;
  return {
    rss: (statusKB(text, "VmRSS") ?? 0) * 1024,
    hwm: (statusKB(text, "VmHWM") ?? 0) * 1024,
  };
}

/** VmRSS of one process in kB, 0 once it is gone (async). */
export async function readRssKB(pid: Pid): Promise<number> {
  return statusKB((await procTextAsync(pid, "status")) ?? "", "VmRSS") ?? 0;
}

// ---------------------------------------------------------------- stat and the process tree

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

const statOf = (pid: number, text: string | undefined) =>
  text === undefined ? undefined : parseProcStat(pid, text);

/** One process' stat, undefined once it is gone. */
function procStat(pid: number): ProcStat | undefined {
  return statOf(pid, procText(pid, "stat"));
}

/** `root` and its descendants among `all` (every process' stat), root first, breadth first. */
function treeOf(root: number, all: readonly (ProcStat | undefined)[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  let self: ProcStat | undefined;
  for (const s of all) {
    if (!s) continue;
    if (s.pid === root) self = s;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  }
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
 * The process and all its descendants (a server started through npm runs as a child of it),
 * root first, breadth first; none when `root` is gone.
 */
export function processTreeSync(root: number): ProcStat[] {
  const pids = readdirSync("/proc").filter(isPid).map(Number);
  return treeOf(
    root,
    pids.map((pid) => procStat(pid)),
  );
}

/** The summed VmRSS of a process tree's processes (from {@link processTree}), in kB (async). */
export async function treeRssKB(tree: readonly ProcStat[]): Promise<number> {
  return (await Promise.all(tree.map((s) => readRssKB(s.pid)))).reduce((a, b) => a + b, 0);
}

/** {@link processTreeSync}, async. */
export async function processTree(root: number): Promise<ProcStat[]> {
  const pids = (await readdir("/proc")).filter(isPid).map(Number);
  return treeOf(
    root,
    await Promise.all(pids.map(async (pid) => statOf(pid, await procTextAsync(pid, "stat")))),
  );
}

/** The thread ids of a process (async); none once it is gone. */
export async function threadIds(pid: number): Promise<number[]> {
  return (await readdir(`/proc/${pid}/task`).catch(() => [] as string[])).map(Number);
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
  const tree = processTreeSync(root);
  return {
    pids: tree.map((s) => s.pid),
    cpuSeconds: tree.reduce((a, s) => a + s.cpuSeconds, 0),
    rssBytes: tree.reduce((a, s) => a + s.rssBytes, 0),
    hwmBytes: tree.reduce((a, s) => a + (procStatus(s.pid)?.hwm ?? 0), 0),
  };
}

/** The summed RSS of `root`'s process tree, sampled every `everyMs` (the tree re-read every 20th). */
export function rssSampler(root: number, everyMs = 100): { stop: () => number } {
  let pids = processTreeSync(root).map((s) => s.pid);
  let ticks = 0;
  return peakSampler(() => {
    if (++ticks % 20 === 0) pids = processTreeSync(root).map((s) => s.pid);
    return pids.reduce((a, pid) => a + (procStat(pid)?.rssBytes ?? 0), 0);
  }, everyMs);
}

// ---------------------------------------------------------------- smaps

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
  for (const { pid } of processTreeSync(root)) {
    const m = memoryMapOf(procText(pid, "smaps") ?? "");
    for (const g of MEMORY_GROUPS) out[g] += m[g];
  }
  return out;
}

// ---------------------------------------------------------------- sockets

/** The pid of the process listening on a local TCP port (from /proc/net/tcp{,6} and fds). */
export async function pidListeningOn(port: number): Promise<number | undefined> {
  const inodes = new Set<string>();
  for (const file of ["net/tcp", "net/tcp6"]) {
    const text = (await procTextAsync("self", file)) ?? "";
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== "0A") continue; // 0A = LISTEN
      if (Number.parseInt(local.split(":")[1] ?? "", 16) === port && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const e of (await readdir("/proc")).filter(isPid)) {
    const fds = await readdir(`/proc/${e}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      // undefined: the fd was closed meanwhile
      const link = await readlink(`/proc/${e}/fd/${fd}`).catch(() => undefined);
      const m = link === undefined ? null : /^socket:\[(\d+)\]$/.exec(link);
      if (m?.[1] && inodes.has(m[1])) return Number(e);
    }
  }
  return undefined;
}
