/** The report's reading and summarising: a manifest's runs read from their files, one summary each. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { z } from "zod";
import { sortTimeline, type TimelineEntry } from "../cluster-scale.js";
import { parseLoadtestCsv } from "../csv.js";
import { formatStatusCodes } from "../loadtest.js";
import type { Machine } from "../machine.js";
import { parseMonitorCsv } from "../monitor-csv.js";
import { type LoadtestMeta, readLoadtestMeta } from "../runmeta.js";
import {
  type LoadSummary,
  loadSeries,
  monitorSeries,
  type ResourceSummary,
  type RunSeries,
  summarizeLoad,
  summarizeResources,
} from "../summary.js";
import { type environmentSchema, type Manifest, manifestSchema } from "./manifest.js";

/** Chance accuracy of an 11-class classifier. */
export const CHANCE_ACCURACY = 1 / 11;

export interface AccuracyFigures {
  accuracy: number;
  precision?: number;
  recall?: number;
  f1?: number;
  samples?: number;
  backend?: string;
  /** The model the server said it serves (name, version), when scored through a server. */
  serverModel?: { name: string; version: string };
}

async function readAccuracy(spec: number | string, baseDir: string): Promise<AccuracyFigures> {
  if (typeof spec === "number") return { accuracy: spec };
  const j = JSON.parse(await readInput(resolve(baseDir, spec), "accuracy")) as {
    backend?: string;
    serverModel?: { name: string; version: string };
    metrics?: {
      accuracy: number;
      samples: number;
      weighted: { precision: number; recall: number; f1: number };
    };
  };
  if (!j.metrics || typeof j.metrics.accuracy !== "number") {
    throw new Error(`${spec}: not an accuracy result (no metrics.accuracy)`);
  }
  return {
    accuracy: j.metrics.accuracy,
    precision: j.metrics.weighted.precision,
    recall: j.metrics.weighted.recall,
    f1: j.metrics.weighted.f1,
    samples: j.metrics.samples,
    ...(j.backend ? { backend: j.backend } : {}),
    ...(j.serverModel ? { serverModel: j.serverModel } : {}),
  };
}

async function readInput(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(
      `${what} file ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (err as Error).message}; ` +
        "paths in a manifest are relative to the manifest's folder",
    );
  }
}

export interface RunSummary {
  name: string;
  stack: string;
  model: string;
  accuracy: AccuracyFigures;
  load: LoadSummary;
  resources: ResourceSummary;
  config?: Record<string, string>;
  /** The load test's meta file (this tool's loadtest), when present. */
  meta?: LoadtestMeta;
  environment?: z.output<typeof environmentSchema>;
  /** Total responses by status code, when known. */
  statusCodes?: Record<string, number>;
  socketFailures: number;
  /** The original 30-minute schedule at full length (the "/ 3,600" figure means something). */
  fullLength: boolean;
  /** Series for the charts over time and per phase (chart-list.ts). */
  series: RunSeries;
  /** Anything that makes this run's numbers doubtful, in words. */
  warnings: string[];
  /** The events that matter (cluster runs), in time order. */
  events?: TimelineEntry[];
  repetition?: number;
  /** The HPA's CPU target (% of requests) the run deployed, when the manifest says it. */
  hpaTarget?: number;
}

/** The machine the server of a run ran on, when known. */
export function serverMachine(r: Pick<RunSummary, "environment" | "meta">): Machine | undefined {
  return r.environment?.machine ?? (r.meta?.loopback ? r.meta.machine : undefined);
}

function runWarnings(r: Omit<RunSummary, "warnings">): string[] {
  const w: string[] = [];
  const attempts = r.load.transactions + r.socketFailures;
  if (r.load.okay === 0) {
    const codes = r.statusCodes ? `; ${formatStatusCodes(r.statusCodes, r.socketFailures)}` : "";
    w.push(
      `${r.name}: no successful request (0 OKAY of ${attempts.toLocaleString("en-US")} requests${codes}): ` +
        "its response time and transaction rate are not measured (n/a), and its load figures mean " +
        "nothing; check the load test's URL (a 404 means a wrong path) and the server's log.",
    );
  } else if (r.meta?.problem) {
    w.push(`${r.name}: ${r.meta.problem}.`);
  }
  const machine = serverMachine(r);
  const limit = r.resources.cpuLimitPerReplica;
  if (machine && Number.isFinite(limit) && limit > machine.cores) {
    w.push(
      `${r.name}: limits.cpu ${limit} exceeds the ${machine.cores} cores of the machine it ran on` +
        `${machine.hostname ? ` (${machine.hostname})` : ""}: it could not use its CPU limit, so its ` +
        "speed figures measure the machine, not the strategy.",
    );
  }
  const before = machine?.loadBefore?.[0] ?? r.meta?.machine?.loadBefore?.[0];
  const cores = machine?.cores ?? r.meta?.machine?.cores;
  if (before !== undefined && cores !== undefined && before > cores) {
    w.push(
      `${r.name}: the machine was busy before the run (load average ${before} on ${cores} cores): ` +
        "its speed figures are partly other work's.",
    );
  }
  if (servedDemoModel(r) && !/demo/i.test(r.model)) {
    w.push(
      `${r.name}: the model is named "${r.model}" but the server answered with the untrained demo ` +
        `model (${r.accuracy.serverModel?.name}): its accuracy is about chance (9.1 %).`,
    );
  }
  if (r.resources.samples === 0) {
    w.push(`${r.name}: the monitor CSV has no sample: memory and CPU figures are n/a.`);
  }
  return w;
}

export async function summarizeRuns(manifest: Manifest, baseDir: string): Promise<RunSummary[]> {
  const m = manifestSchema.parse(manifest);
  return Promise.all(
    m.runs.map(async (r) => {
      const loadPath = resolve(baseDir, r.loadtest);
      const loadRows = parseLoadtestCsv(await readInput(loadPath, "loadtest"), loadPath);
      const monitorPath = resolve(baseDir, r.monitor);
      const monitorRows = parseMonitorCsv(await readInput(monitorPath, "monitor"));
      const events = r.events
        ? sortTimeline(
            JSON.parse(await readInput(resolve(baseDir, r.events), "events")) as TimelineEntry[],
          )
        : undefined;
      const meta = await readLoadtestMeta(loadPath);
      const load = summarizeLoad(loadRows);
      const haveCodes = loadRows.some((x) => x.statusCodes !== undefined);
      const statusCodes: Record<string, number> = {};
      for (const row of loadRows) {
        for (const [c, n] of Object.entries(row.statusCodes ?? {})) {
          statusCodes[c] = (statusCodes[c] ?? 0) + n;
        }
      }
      const base = {
        name: r.name ?? `${r.stack} / ${r.model}`,
        stack: r.stack,
        model: r.model,
        accuracy: await readAccuracy(r.accuracy, baseDir),
        load,
        resources: summarizeResources(monitorRows),
        ...(r.config ? { config: r.config } : {}),
        ...(meta ? { meta } : {}),
        ...(r.environment ? { environment: r.environment } : {}),
        ...(haveCodes ? { statusCodes } : meta ? { statusCodes: meta.statusCodes } : {}),
        socketFailures: loadRows.reduce((a, x) => a + x.socketFailures, 0),
        // Without a meta file (a siege log), a run of about 1,800 s is taken as the full schedule.
        fullLength: meta ? meta.fullLength : Math.abs(load.durationSeconds - 1800) <= 90,
        series: {
          time: monitorSeries(monitorRows),
          phase: loadSeries(loadRows),
        },
        ...(events ? { events } : {}),
        ...(r.repetition ? { repetition: r.repetition } : {}),
        ...(r.hpaTargetCpuUtilization !== undefined
          ? { hpaTarget: r.hpaTargetCpuUtilization }
          : {}),
      };
      return { ...base, warnings: runWarnings(base) };
    }),
  );
}

/** The server answered with the untrained demo model (app/src/config.ts names it so). */
function servedDemoModel(r: Pick<RunSummary, "accuracy">): boolean {
  const m = r.accuracy.serverModel;
  return m !== undefined && (m.version === "demo" || /-demo$/.test(m.name));
}

/**
 * True when the report is a demo: the manifest says so, else a run's model is named "demo" or
 * its server answered with the demo model.
 */
export function isDemo(manifest: { demo?: boolean | undefined }, runs: RunSummary[]): boolean {
  return manifest.demo ?? runs.some((r) => /demo/i.test(r.model) || servedDemoModel(r));
}
