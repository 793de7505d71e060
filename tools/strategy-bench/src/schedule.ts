import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

/**
 * One siege invocation: `siege -c users -d delay -t duration` (or `-r reps`).
 * `delay` is siege's -d: each user sleeps a random 0..delay seconds before each request.
 */
export interface Phase {
  users: number;
  delaySeconds: number;
  durationSeconds: number;
  /** Like siege -r: each user stops after this many requests (the phase still ends at its time). */
  reps?: number;
}

export interface Schedule {
  name: string;
  phases: Phase[];
}

/** A phase group's `repeat` and `duration` (s, default 60), as every schedule file writes them. */
const repeatedPhase = {
  repeat: z.number().int().positive().default(1),
  duration: z
    .number()
    .positive()
    .max(24 * 3600)
    .default(60),
};

/**
 * A schedule file's schema, the siege schedule's and the planner's rate schedule's:
 * `{ name? (default `defaultName`), phases: [{ repeat?, duration?, ...fields }] }`.
 */
export function phaseFileSchema<S extends z.ZodRawShape>(defaultName: string, fields: S) {
  return z
    .object({
      name: z.string().min(1).default(defaultName),
      phases: z.array(z.object({ ...repeatedPhase, ...fields }).strict()).min(1),
    })
    .strict();
}

/** A schedule file's phase groups expanded: each group's phase `repeat` times. */
export function repeatGroups<G extends { repeat: number }, P>(
  groups: readonly G[],
  phase: (g: G) => P,
): P[] {
  return groups.flatMap((g) => Array.from({ length: g.repeat }, () => phase(g)));
}

/** The YAML/JSON schedule file: `{ name?, phases: [{ repeat?, users, delay, duration?, reps? }] }`. */
const scheduleFileSchema = phaseFileSchema("custom", {
  users: z.number().int().positive().max(1000),
  delay: z.number().nonnegative().max(3600),
  reps: z.number().int().positive().optional(),
});

export type ScheduleFile = z.input<typeof scheduleFileSchema>;

/**
 * The original recipe's 30-minute schedule, one-minute siege phases:
 * 5x(c20,d100), 2x(c20,d50), 2x(c20,d10), 1x(c20,d3), 5x(c20,d1), 5x(c30,d1),
 * 1x(c20,d3), 2x(c20,d60), 7x(c20,d80).
 */
export const ORIGINAL_SCHEDULE_FILE: ScheduleFile = {
  name: "original-30min",
  phases: [
    { repeat: 5, users: 20, delay: 100 },
    { repeat: 2, users: 20, delay: 50 },
    { repeat: 2, users: 20, delay: 10 },
    { repeat: 1, users: 20, delay: 3 },
    { repeat: 5, users: 20, delay: 1 },
    { repeat: 5, users: 30, delay: 1 },
    { repeat: 1, users: 20, delay: 3 },
    { repeat: 2, users: 20, delay: 60 },
    { repeat: 7, users: 20, delay: 80 },
  ],
};

export function parseSchedule(raw: unknown): Schedule {
  const f = scheduleFileSchema.parse(raw);
  const phases = repeatGroups(f.phases, (g) => ({
    users: g.users,
    delaySeconds: g.delay,
    durationSeconds: g.duration,
    ...(g.reps === undefined ? {} : { reps: g.reps }),
  }));
  return { name: f.name, phases };
}

export function originalSchedule(): Schedule {
  return parseSchedule(ORIGINAL_SCHEDULE_FILE);
}

export async function readScheduleFile(path: string): Promise<Schedule> {
  const text = await readFile(path, "utf8");
  return parseSchedule(parseYaml(text));
}

/**
 * Shorten a schedule: every phase lasts `timeScale` times as long. Delays are multiplied by
 * `delayScale` (default: the same factor) so each user makes about as many requests per phase as in
 * the full schedule — the shape of the load is kept, fast-forwarded. Pass delayScale 1 to keep the
 * real think times instead (then slow phases such as d100 send almost nothing when shortened).
 */
export function scaleSchedule(s: Schedule, timeScale: number, delayScale = timeScale): Schedule {
  if (!(timeScale > 0) || !(delayScale >= 0)) {
    throw new Error(
      `time scale must be > 0 and delay scale >= 0 (got ${timeScale}, ${delayScale})`,
    );
  }
  if (timeScale === 1 && delayScale === 1) return s;
  return {
    name: `${s.name} x${timeScale}`,
    phases: s.phases.map((p) => ({
      ...p,
      durationSeconds: p.durationSeconds * timeScale,
      delaySeconds: p.delaySeconds * delayScale,
    })),
  };
}

/** The schedule's length: its phases' durations summed, seconds. */
export function scheduleSeconds(s: Schedule): number {
  return s.phases.reduce((a, p) => a + p.durationSeconds, 0);
}
