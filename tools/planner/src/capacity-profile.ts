import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { notAFileMessage, type StackSettings } from "../../strategy-bench/src/index.js";

/**
 * The capacity profile of one replica: what `strategy-bench capacity` measures under a CPU limit
 * (throughput and latency against concurrency, CPU seconds per request, working-set memory idle
 * and under load, start-up time to ready), and what the planner's queue model is built from.
 *
 * Throughput at concurrency c is measured closed-loop with no think time, so the replica holds
 * exactly c requests throughout: X(c) is the completion rate of a replica with c requests in it.
 * The planner's replica queue serves at exactly that rate (see replica-queue.ts), so at each
 * measured level it reproduces the measurement by construction.
 */

export const PROFILE_KIND = "strategy-bench/capacity-profile";

const level = z
  .object({
    /** Requests in flight, held constant (closed loop, no think time). */
    concurrency: z.number().int().positive(),
    /** Successful responses per second at this concurrency. */
    throughput: z.number().positive(),
    /** Mean response time, seconds (≈ concurrency / throughput by Little's law). */
    responseTime: z.number().positive(),
    p95: z.number().positive().optional(),
    /** CPU seconds (user + system) per served request at this level. */
    cpuSecondsPerRequest: z.number().nonnegative(),
    /** Working-set memory under this load, bytes. */
    workingSetBytes: z.number().positive(),
    /** Requests the figures come from. */
    requests: z.number().int().nonnegative().optional(),
  })
  .strict();

const capacityProfileSchema = z
  .object({
    kind: z.literal(PROFILE_KIND),
    version: z.literal(1),
    /** measured: by `strategy-bench capacity`; estimated: derived from figures measured elsewhere. */
    source: z.enum(["measured", "estimated"]),
    description: z.string(),
    measuredAt: z.string().optional(),
    /** What was measured: an image reference or a URL. */
    target: z.string().optional(),
    /** The limits the replica ran under: CPU in cores (the scale of the curve), memory in bytes. */
    limits: z
      .object({ cpu: z.number().positive(), memoryBytes: z.number().positive().optional() })
      .strict(),
    levels: z
      .array(level)
      .min(1)
      .refine(
        (ls) => ls.every((l, i) => i === 0 || l.concurrency > (ls[i - 1]?.concurrency ?? 0)),
        { message: "levels must be in increasing order of concurrency, each concurrency once" },
      ),
    idle: z
      .object({ cpuCores: z.number().nonnegative(), workingSetBytes: z.number().positive() })
      .strict(),
    /** Container start to the first /readyz 200, seconds. */
    startupSeconds: z.number().nonnegative(),
    notes: z.array(z.string()).default([]),
  })
  .strict();

export type CapacityProfile = z.output<typeof capacityProfileSchema>;
export type CapacityLevel = z.output<typeof level>;

/**
 * The built-in profiles, one file each in tools/planner/profiles/<name>.json: one per engine the
 * server has, measured by `strategy-bench capacity` on the project's machine (each file says the
 * image, the machine, the CPU and the date), and `flask-keras`, the original recipe's server
 * **estimated from docs/benchmarks.md** (bench:peer, "original: Flask + Keras on gunicorn (1
 * worker)", 2 cores, same model and image, 2026-11-28): for planning what the report measured.
 */
const BUILTIN_PROFILE_NAMES = ["tfjs-node", "onnxruntime", "wasm", "flask-keras"] as const;

const PROFILES_DIR = join(import.meta.dirname, "..", "profiles");

const builtins = new Map<string, CapacityProfile>();

/** A built-in profile by name, its file read and validated once (one object per name). */
function builtinProfile(name: string): CapacityProfile | undefined {
  if (!(BUILTIN_PROFILE_NAMES as readonly string[]).includes(name)) return undefined;
  let p = builtins.get(name);
  if (!p) {
    const file = join(PROFILES_DIR, `${name}.json`);
    p = parseProfile(JSON.parse(readFileSync(file, "utf8")), file);
    builtins.set(name, p);
  }
  return p;
}

/**
 * The built-in profile of the engine a stack's server runs (`settings.model.backend`, from
 * food11:inferenceEngine): onnxruntime, wasm, else tfjs-node (tensorflow, and auto where tfjs-node
 * loads, as in the image).
 */
export function engineProfileName(backend: string): string {
  return `builtin:${backend === "onnxruntime" || backend === "wasm" ? backend : "tfjs-node"}`;
}

/** The profiles a stack is planned with: those given (`--profile`), else its engine's built-in. */
export function profileNames(given: readonly string[] | undefined, s: StackSettings): string[] {
  return given?.length ? [...given] : [engineProfileName(s.model.backend)];
}

export function parseProfile(raw: unknown, file = "capacity profile"): CapacityProfile {
  const r = capacityProfileSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(
      notAFileMessage(
        file,
        "a capacity profile",
        r.error,
        `write one with strategy-bench capacity --out ${file}`,
      ),
    );
  }
  return r.data;
}

/** A profile JSON file, or `builtin:<name>` ({@link BUILTIN_PROFILE_NAMES}). */
export async function readProfile(file: string): Promise<CapacityProfile> {
  if (file.startsWith("builtin:")) {
    const p = builtinProfile(file.slice("builtin:".length));
    if (!p) {
      throw new Error(
        `--profile ${file}: no such built-in profile. Fix: one of ${BUILTIN_PROFILE_NAMES.map(
          (k) => `builtin:${k}`,
        ).join(", ")}, or a JSON file from strategy-bench capacity`,
      );
    }
    return p;
  }
  return parseProfile(JSON.parse(await readFile(file, "utf8")), file);
}

/** Piecewise-linear interpolation over (x, y) points sorted by x; constant beyond the ends. */
export function interpolate(points: readonly (readonly [number, number])[], x: number): number {
  const first = points[0];
  if (!first) return Number.NaN;
  if (x <= first[0]) return first[1];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as readonly [number, number];
    const b = points[i] as readonly [number, number];
    if (x <= b[0]) return a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0]);
  }
  return (points[points.length - 1] as readonly [number, number])[1];
}

/**
 * One replica's service, as the queue and the metrics need it, for a given number of usable
 * cores: the completion rate with n requests in the replica, CPU seconds per request, working
 * set at a mean number of requests in flight.
 */
export interface ReplicaCapacity {
  /** Usable CPU cores: min(limits.cpu, the node's share). */
  cores: number;
  /** Completions per second with n requests in the replica (0 for n = 0). */
  rate(n: number): number;
  cpuSecondsPerRequest(n: number): number;
  idleCpuCores: number;
  workingSetBytes(meanInFlight: number): number;
}

/**
 * The profile's curve for `cores` usable cores. Measured at L0 = profile.limits.cpu; for other
 * core counts the model is CPU-bound inference: with fewer cores X_L(n) = X(n)·L/L0 (throttled
 * proportionally by the CFS quota); with more, X_L(n) = max(X(n), min(n·X(1), X(n)·L/L0)) — it
 * gains only where the measured curve was CPU-saturated, never a faster single request.
 */
export function replicaCapacity(profile: CapacityProfile, cores: number): ReplicaCapacity {
  const levels = profile.levels;
  const x1 = (levels[0] as CapacityLevel).throughput / (levels[0] as CapacityLevel).concurrency;
  const factor = cores / profile.limits.cpu;
  const tput = levels.map((l) => [l.concurrency, l.throughput] as const);
  const cpu = levels.map((l) => [l.concurrency, l.cpuSecondsPerRequest] as const);
  const mem = [
    [0, profile.idle.workingSetBytes] as const,
    ...levels.map((l) => [l.concurrency, l.workingSetBytes] as const),
  ];
  return {
    cores,
    rate: (n) => {
      if (n <= 0) return 0;
      const measured = interpolate(tput, n);
      if (factor <= 1) return measured * factor;
      return Math.max(measured, Math.min(n * x1, measured * factor));
    },
    cpuSecondsPerRequest: (n) => interpolate(cpu, Math.max(1, n)),
    idleCpuCores: Math.min(cores, profile.idle.cpuCores),
    workingSetBytes: (m) => interpolate(mem, Math.max(0, m)),
  };
}

/**
 * The profile to use for a stack's CPU limit: the one measured at that limit if given, else the
 * nearest, with a note that its curve is scaled.
 */
export function profileForLimit(
  profiles: readonly CapacityProfile[],
  cpuLimitCores: number,
): { profile: CapacityProfile; note?: string } {
  const sorted = [...profiles].sort(
    (a, b) => Math.abs(a.limits.cpu - cpuLimitCores) - Math.abs(b.limits.cpu - cpuLimitCores),
  );
  const profile = sorted[0];
  if (!profile) throw new Error("no capacity profile given");
  if (profile.limits.cpu === cpuLimitCores) return { profile };
  return {
    profile,
    note: `no profile measured at ${cpuLimitCores} CPU: the ${profile.limits.cpu}-CPU curve is scaled (docs/planning.md: X(n)·L/L0, at most n·X(1))`,
  };
}
