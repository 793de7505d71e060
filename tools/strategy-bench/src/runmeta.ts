import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { PROJECT_ROOT } from "../../../stacks/index.js";
import { machineSchema } from "./machine.js";

/** A run folder's name: the UTC time to the second, safe in a path (2026-12-01T22-55-13Z). */
export function runTimestamp(): string {
  return new Date()
    .toISOString()
    .replace(/[:.]/g, "-")
    .replace(/-\d{3}Z$/, "Z");
}

/**
 * A run's output folder, absolute: `given` (from the working directory), else the project's
 * runs/<prefix><timestamp> (demo: runs/<timestamp>; plan: runs/plan-<timestamp>, …).
 */
export function runOutDir(given: string | undefined, prefix = ""): string {
  return resolve(given ?? join(PROJECT_ROOT, "runs", `${prefix}${runTimestamp()}`));
}

/**
 * A run's JSON file, as every command writes one (a loadtest's meta, accuracy.json, run.json,
 * events.json, summary.json, plan.json, a capacity profile…): indented by 2, a newline at the end.
 */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * What decided a load test's numbers, written by `loadtest` beside its CSV
 * (`loadtest.csv` → `loadtest.meta.json`) and read by `report`.
 */
const loadtestMetaSchema = z
  .object({
    url: z.string(),
    schedule: z.string(),
    timeScale: z.number(),
    delayScale: z.number(),
    seed: z.number(),
    /** Sum of the scheduled phase durations, seconds. */
    plannedSeconds: z.number(),
    /** The original 30-minute schedule, unscaled: the only case where the "/ 3,600" row means something. */
    fullLength: z.boolean(),
    /** The target was on this machine (then `machine` is also the server's machine). */
    loopback: z.boolean(),
    machine: machineSchema.optional(),
    statusCodes: z.record(z.string(), z.number()),
    socketFailures: z.number(),
    /** Set when most requests failed (see loadtestProblem). */
    problem: z.string().optional(),
  })
  .passthrough();

export type LoadtestMeta = z.output<typeof loadtestMetaSchema>;

export function metaPathFor(csvPath: string): string {
  return `${csvPath.replace(/\.csv$/i, "")}.meta.json`;
}

/** The meta file beside a load test CSV, or undefined when there is none (a siege log). */
export async function readLoadtestMeta(csvPath: string): Promise<LoadtestMeta | undefined> {
  let text: string;
  try {
    text = await readFile(metaPathFor(csvPath), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const parsed = loadtestMetaSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`${metaPathFor(csvPath)}: not a load test meta file (${parsed.error.message})`);
  }
  return parsed.data;
}
