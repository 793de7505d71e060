import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Schedule } from "../../strategy-bench/src/index.js";
import {
  childRandom,
  phaseFileSchema,
  type Random,
  repeatGroups,
  zodIssues,
} from "../../strategy-bench/src/index.js";

/**
 * Load as a manager states it: requests per second, not siege users. An open loop: requests
 * arrive as a Poisson process of the phase's rate whatever the responses do (a slow stack gets
 * a queue, not fewer requests), from a seeded stream per phase so a plan is deterministic.
 */

/** One source of requests in the simulation: siege's closed-loop user, or an open-loop arrival stream. */
export interface LoadUser {
  /** When the next request starts, free at `now`; undefined when the source stops for the phase. */
  nextRequestAt(now: number): number | undefined;
  /** A response (or failure) arrived. */
  responded(): void;
  /** Open loop: the next request is scheduled at each arrival, not after the response. */
  readonly openLoop?: boolean;
}

/** Poisson arrivals at `rate` per second until `deadline`: exponential gaps from a seeded stream. */
export class PoissonArrivals implements LoadUser {
  readonly openLoop = true;
  private readonly rand: Random;

  constructor(
    readonly rate: number,
    phaseIndex: number,
    seed: number,
    readonly deadline: number,
  ) {
    // The stream (seed, phase, -1): apart from the siege users' (seed, phase, user >= 0).
    this.rand = childRandom(seed, phaseIndex, -1);
  }

  nextRequestAt(now: number): number | undefined {
    if (!(this.rate > 0)) return undefined;
    const gap = -Math.log(1 - this.rand()) / this.rate;
    const t = now + gap;
    return t >= this.deadline ? undefined : t;
  }

  responded(): void {}
}

/** A schedule of rates: what `--rate` and `--rate-schedule` give the planner. */
export interface RateSchedule {
  name: string;
  phases: { rate: number; durationSeconds: number }[];
}

/** The YAML/JSON rate schedule: `{ name?, phases: [{ repeat?, rate (req/s), duration? (s, default 60) }] }`. */
const rateScheduleFileSchema = phaseFileSchema("rates", {
  rate: z.number().nonnegative().max(1e6),
});

export function parseRateSchedule(raw: unknown, file = "rate schedule"): RateSchedule {
  const r = rateScheduleFileSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(
      `${file}: ${zodIssues(r.error).join("; ")}. ` +
        "Fix: { name?: string, phases: [{ rate: <req/s>, duration: <s>, repeat?: <n> }] }",
    );
  }
  const phases = repeatGroups(r.data.phases, (p) => ({
    rate: p.rate,
    durationSeconds: p.duration,
  }));
  return { name: r.data.name, phases };
}

export async function readRateSchedule(path: string): Promise<RateSchedule> {
  return parseRateSchedule(parseYaml(await readFile(path, "utf8")), path);
}

/** `--rate <r>` alone: one phase of this many seconds unless `--duration` (past the HPA's first scale-downs). */
export const RATE_DURATION_DEFAULT = 600;

/** `--rate <r>` alone: one phase of `durationSeconds` (default {@link RATE_DURATION_DEFAULT}). */
export function constantRate(rate: number, durationSeconds = RATE_DURATION_DEFAULT): RateSchedule {
  return { name: `${rate} req/s for ${durationSeconds} s`, phases: [{ rate, durationSeconds }] };
}

/**
 * The rate schedule as the simulation's schedule (phases with no siege users) and the rate of
 * each phase, which the simulation turns into {@link PoissonArrivals}.
 */
export function rateToSchedule(
  r: RateSchedule,
  timeScale = 1,
): { schedule: Schedule; rates: number[] } {
  return {
    schedule: {
      name: timeScale === 1 ? r.name : `${r.name} x${timeScale}`,
      phases: r.phases.map((p) => ({
        users: 0,
        delaySeconds: 0,
        durationSeconds: p.durationSeconds * timeScale,
      })),
    },
    rates: r.phases.map((p) => p.rate),
  };
}
