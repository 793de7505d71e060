import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadtestRows } from "../src/csv.js";
import { summarize } from "../src/loadtest.js";
import type { LoadtestMeta } from "../src/runmeta.js";

/** One run's files as the tools write them, with exact figures chosen by the test. */
export interface FakeRun {
  name: string;
  stack: string;
  /** OKAY per phase; every phase lasts 10 s with these mean response times (s). */
  okay: number[];
  responseTime: number[];
  /** Responses with this status instead of 200, per phase (default none). */
  errors?: { status: number; count: number[] };
  /** Memory used per monitor sample, KB (requested is memRequestedKB). */
  memUsedKB: number[];
  memRequestedKB: number;
  cpuLimit: number;
  correct: number;
  samples: number;
  meta?: Partial<LoadtestMeta>;
}

function histogramStub() {
  return { getValueAtPercentile: () => 0 } as never;
}

/** Writes <dir>/<stack>/{accuracy.json,loadtest.csv,loadtest.meta.json,monitor.csv}, manifest.yaml. */
export async function writeRuns(
  dir: string,
  runs: FakeRun[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const manifestRuns = [];
  for (const r of runs) {
    const d = join(dir, r.stack);
    await mkdir(d, { recursive: true });
    const acc = r.correct / r.samples;
    await writeFile(
      join(d, "accuracy.json"),
      JSON.stringify({
        model: "demo",
        backend: "wasm",
        metrics: {
          samples: r.samples,
          accuracy: acc,
          weighted: { precision: acc, recall: acc, f1: acc },
        },
      }),
    );
    const phases = r.okay.map((ok, i) => {
      const bad = r.errors?.count[i] ?? 0;
      const codes = new Map<number, number>();
      if (ok > 0) codes.set(200, ok);
      if (bad > 0) codes.set(r.errors?.status ?? 500, bad);
      return summarize(
        i + 1,
        20,
        1,
        `2026-01-01T10:00:${String(i * 10).padStart(2, "0")}.000Z`,
        10,
        {
          transactions: ok + bad,
          okay: ok,
          failedStatus: bad,
          socketFailures: 0,
          bytes: 0,
          totalResponseSeconds: (ok + bad) * (r.responseTime[i] ?? 0),
          histogram: histogramStub(),
          statusCodes: codes,
        },
      );
    });
    await writeFile(join(d, "loadtest.csv"), loadtestRows(phases));
    const totalCodes: Record<string, number> = {};
    for (const p of phases) {
      for (const [c, n] of Object.entries(p.statusCodes)) totalCodes[c] = (totalCodes[c] ?? 0) + n;
    }
    const meta: LoadtestMeta = {
      url: "http://127.0.0.1:8080/test",
      schedule: "original-30min x0.01",
      timeScale: 0.01,
      delayScale: 0.01,
      seed: 1,
      plannedSeconds: 10 * phases.length,
      fullLength: false,
      loopback: true,
      machine: {
        hostname: "testhost",
        cores: 2,
        memoryBytes: 8 * 1024 ** 3,
        loadBefore: [0.5, 0.6, 0.7],
        loadAfter: [1.5, 0.9, 0.8],
      },
      statusCodes: totalCodes,
      socketFailures: 0,
      ...r.meta,
    };
    await writeFile(join(d, "loadtest.meta.json"), JSON.stringify(meta));
    const monitor = [
      "time,replicas,cpu_requested,mem_requested_kb,cpu_limit,mem_limit_kb,cpu_used,mem_used_kb",
      ...r.memUsedKB.map(
        (m, i) =>
          `2026-01-01T10:00:${String(i * 5).padStart(2, "0")}.000Z,1,1,${r.memRequestedKB},${r.cpuLimit},6291456,0.8,${m}`,
      ),
    ].join("\n");
    await writeFile(join(d, "monitor.csv"), `${monitor}\n`);
    manifestRuns.push({
      name: r.name,
      stack: r.stack,
      model: "demo",
      accuracy: `${r.stack}/accuracy.json`,
      loadtest: `${r.stack}/loadtest.csv`,
      monitor: `${r.stack}/monitor.csv`,
    });
  }
  const manifest = join(dir, "manifest.yaml");
  await writeFile(
    manifest,
    stringify({ title: "Three near-equal runs", ...extra, runs: manifestRuns }),
  );
  return manifest;
}

/** A run of the demo's usual shape: 3 of 33 right, the same response time in each phase. */
const nearEqual = (
  name: string,
  okay: number[],
  responseTime: number,
  memUsedKB: number[],
  memRequestedKB: number,
  cpuLimit: number,
): FakeRun => ({
  name,
  stack: name,
  okay,
  responseTime: okay.map(() => responseTime),
  memUsedKB,
  memRequestedKB,
  cpuLimit,
  correct: 3,
  samples: 33,
});

/** Three runs whose figures are within a few percent of each other (the demo's usual case). */
export const NEAR_EQUAL: FakeRun[] = [
  nearEqual("baseline", [50, 60, 55], 0.52, [1_000_000, 1_010_000, 1_020_000], 2_097_152, 2),
  nearEqual("strategy1", [51, 60, 56], 0.53, [1_005_000, 1_012_000, 1_018_000], 2_097_152, 3),
  nearEqual("strategy2", [50, 61, 55], 0.55, [1_002_000, 1_011_000, 1_030_000], 4_718_592, 2),
];
