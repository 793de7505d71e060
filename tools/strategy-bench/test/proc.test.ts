import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import * as proc from "../src/proc.js";

describe("/proc", () => {
  it("reads /proc/<pid>/stat fields after a command name with spaces and parentheses", () => {
    // Fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    //              utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss
    const text = "42 (a) b (c)) S 7 42 42 0 -1 0 0 0 0 0 150 50 20 30 20 0 1 0 100 1000 25 0";
    expect(proc.parseProcStat(42, text)).toEqual({
      pid: 42,
      ppid: 7,
      ticks: 200,
      cpuSeconds: 2.5,
      rssBytes: 25 * 4096,
    });
    const status = "Name:\tnode\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
    expect(proc.statusKB(status, "VmRSS")).toBe(1024);
    expect(proc.statusKB(status, "VmHWM")).toBe(2048);
    expect(proc.statusKB(status, "VmSwap")).toBeUndefined();
  });

  it("groups a smaps text's resident memory by what is mapped", () => {
    const map = (range: string, name: string, rssKB: number) =>
      `${range} r-xp 00000000 fe:01 123                        ${name}\nSize:  9999 kB\nRss:  ${rssKB} kB\nPss:  1 kB\n`;
    const smaps =
      map("00400000-00500000", "/usr/bin/node", 100) +
      map(
        "7f00-7f10",
        "/c/app/node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow_cc.so.2",
        2000,
      ) +
      map(
        "7f10-7f20",
        "/v/lib/python3.11/site-packages/tensorflow/python/_pywrap_tensorflow_internal.so",
        30,
      ) +
      map("01000000-02000000", "[heap]", 700) +
      map("7e00-7e10", "", 400) +
      map("7ffd-7ffe", "[stack]", 8) +
      map("7f30-7f40", "/usr/lib/x86_64-linux-gnu/libc.so.6", 12);
    expect(proc.memoryMapOf(smaps)).toEqual({
      tensorflow: 2030 * 1024,
      files: 112 * 1024,
      heap: 700 * 1024,
      anonymous: 408 * 1024,
    });
  });

  it("maps this process' memory: the groups add up to its RSS", () => {
    const m = proc.treeMemoryMap(process.pid);
    const rss = proc.procStatus(process.pid)?.rss ?? 0;
    const total = proc.MEMORY_GROUPS.reduce((a, g) => a + m[g], 0);
    expect(m.files).toBeGreaterThan(0);
    expect(m.tensorflow).toBe(0);
    // two readings a moment apart: within 10 % of each other
    expect(Math.abs(total - rss) / rss).toBeLessThan(0.1);
  });

  it("measures this process and finds a child in its tree", async () => {
    const me = proc.procStatus(process.pid);
    expect(me?.rss).toBeGreaterThan(0);
    expect(me?.hwm).toBeGreaterThanOrEqual(me?.rss ?? 0);
    const child = spawn("sleep", ["5"], { stdio: "ignore" });
    try {
      await new Promise((r) => child.once("spawn", r));
      expect(proc.processTreeSync(process.pid).map((s) => s.pid)).toContain(child.pid);
      const u = proc.treeUsage(process.pid);
      expect(u.pids).toContain(child.pid);
      expect(u.rssBytes).toBeGreaterThan(0);
      expect(u.hwmBytes).toBeGreaterThan(0);
      expect(u.cpuSeconds).toBeGreaterThan(0);
      const tree = await proc.processTree(process.pid);
      expect(tree[0]?.pid).toBe(process.pid);
      expect(tree.map((s) => s.pid)).toContain(child.pid);
      expect(await proc.readRssKB(process.pid)).toBeGreaterThan(0);
      expect(await proc.threadIds(process.pid)).toContain(process.pid);
    } finally {
      child.kill();
    }
    expect(proc.procStatus(2 ** 30)).toBeUndefined();
    expect(proc.processTreeSync(2 ** 30)).toEqual([]);
  });
});
