/**
 * Resource use of a process tree from /proc (Linux): resident memory (sum of RSS over the tree,
 * sampled, plus the sum of each process' own VmHWM high-water mark) and CPU time (user + system,
 * including reaped children).
 */
import { readdirSync, readFileSync } from "node:fs";

const PAGE_BYTES = 4096;
const CLOCK_TICKS = 100;

interface Stat {
  pid: number;
  ppid: number;
  /** user + system + children's user + system, in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may contain spaces.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const num = (i: number) => Number(rest[i - 3]);
  return {
    pid,
    ppid: num(4),
    cpuSeconds: (num(14) + num(15) + num(16) + num(17)) / CLOCK_TICKS,
    rssBytes: num(24) * PAGE_BYTES,
  };
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

function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

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
    hwmBytes += vmHwm(pid);
  }
  return { pids, cpuSeconds, rssBytes, hwmBytes };
}

/** Samples the tree's summed RSS every `everyMs` until stopped; returns the peak seen. */
export function rssSampler(root: number, everyMs = 100): { stop: () => number } {
  let pids = treePids(root);
  let peak = 0;
  let ticks = 0;
  const sample = () => {
    if (++ticks % 20 === 0) pids = treePids(root);
    let sum = 0;
    for (const pid of pids) sum += readStat(pid)?.rssBytes ?? 0;
    if (sum > peak) peak = sum;
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
