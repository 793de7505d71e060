/** The report's manifest: which runs, their files, and what a cluster run adds (YAML or JSON). */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { machineSchema } from "../machine.js";

/** What decided a run's numbers beyond its files: where it ran and on what. */
export const environmentSchema = z
  .object({
    /** The machine the server ran on (the demo's, or a node's). */
    machine: machineSchema.optional(),
    /** tfjs backend of the server ("tensorflow", "wasm"). */
    backend: z.string().optional(),
    /** How the stack ran, e.g. "one local server process". */
    where: z.string().optional(),
  })
  .strict();

const runSchema = z
  .object({
    /** The point's label; default "<stack> / <model>". */
    name: z.string().min(1).optional(),
    stack: z.string().min(1),
    model: z.string().min(1),
    /** An accuracy JSON written by `strategy-bench accuracy`, or a fraction (0.8787). */
    accuracy: z.union([z.string().min(1), z.number().min(0).max(1)]),
    loadtest: z.string().min(1),
    monitor: z.string().min(1),
    /** Optional recipe rows for the configuration table (e.g. from the stack file). */
    config: z.record(z.string(), z.string()).optional(),
    environment: environmentSchema.optional(),
    /** The cluster run's events.json: the events that matter, with their times. */
    events: z.string().min(1).optional(),
    /** Which repetition of its stack this run is (an interleaved run repeats each stack). */
    repetition: z.number().int().positive().optional(),
    /** The HPA's CPU target (% of requests) the run deployed: the charts' HPA target line. */
    hpaTargetCpuUtilization: z.number().positive().max(100).optional(),
  })
  .strict();

/** What a run on real pods adds: the node, the time scaling, what each stack fits. */
const clusterSchema = z
  .object({
    node: z.object({ name: z.string(), cpuCores: z.number(), memoryKB: z.number() }).strict(),
    timeScaling: z
      .object({
        factor: z.number(),
        fullLength: z.boolean(),
        lines: z.array(z.string()),
        warnings: z.array(z.string()).default([]),
        /** Cluster flags the scaling wanted but the cluster could not be given, and why. */
        notApplied: z.array(z.string()).default([]),
        /** Per stack: its overrides (stabilization windows, probe periods), in words. */
        stacks: z.record(z.string(), z.array(z.string())).default({}),
      })
      .strict(),
    /** Per stack: how many of its pods fit on the node by requests, in words. */
    fits: z.record(z.string(), z.string()).default({}),
    /** What served the Ingress. */
    ingress: z.string().optional(),
    /** The order the runs were made in ("strategy1 #1", …). */
    order: z.array(z.string()).default([]),
    /** Steps that failed, named ("strategy2 #1: up: …"). */
    failures: z.array(z.string()).default([]),
    /** Other pods that held node capacity during a run. */
    interference: z.array(z.string()).default([]),
  })
  .strict();

/** A report manifest (YAML or JSON); paths are relative to the manifest. */
export const manifestSchema = z
  .object({
    title: z.string().default("Deployment strategies: accuracy against cost and speed"),
    /** Paragraphs printed under the title (e.g. what the demo can and cannot show). */
    notes: z.array(z.string()).default([]),
    /** A demo (untrained model, one machine); default: a run's model name contains "demo". */
    demo: z.boolean().optional(),
    /** Set by a cluster run (strategy-bench run, demo --cluster). */
    cluster: clusterSchema.optional(),
    runs: z.array(runSchema).min(1),
  })
  .strict();

export type Manifest = z.input<typeof manifestSchema>;

export async function readManifest(path: string): Promise<{ manifest: Manifest; baseDir: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new Error(
      `--manifest ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
        "give the YAML file listing the runs (docs/measuring.md, 'A report manifest')",
    );
  }
  return { manifest: parseYaml(text) as Manifest, baseDir: dirname(resolve(path)) };
}

export type ClusterInfo = z.output<typeof clusterSchema>;
