import { childRandom, type Random } from "./random.js";
import type { Phase } from "./schedule.js";

/**
 * The siege users of one phase: C users in a closed loop, each sleeping uniform(0, D) seconds
 * before each request and sending the next only after the previous response (`siege -c C -d D`).
 *
 * The one home of their rule, for the loadtest's real users (loadtest.ts userLoop, on the clock)
 * and the planner's simulated ones (in simulated seconds): the random stream per phase and user
 * (`childRandom(seed, phaseIndex, user)`, one draw per request), a user whose next sleep would
 * end at or after the phase's deadline stops, and siege's `-r` reps. So for a given seed the
 * planner's users think exactly as the measured ones did.
 */
export class SiegeUser {
  private done = 0;
  private readonly rand: Random;

  constructor(
    readonly phase: Phase,
    readonly phaseIndex: number,
    readonly user: number,
    seed: number,
    /** Absolute time the phase ends; no request starts at or after it. */
    readonly deadline: number,
  ) {
    this.rand = childRandom(seed, phaseIndex, user);
  }

  /**
   * When this user, free at `now` (phase start, or its last response), starts its next request;
   * undefined when it stops for this phase.
   */
  nextRequestAt(now: number): number | undefined {
    if (this.phase.reps !== undefined && this.done >= this.phase.reps) return undefined;
    const delay = this.rand() * this.phase.delaySeconds;
    if (now + delay >= this.deadline) return undefined;
    return now + delay;
  }

  /** A response (or failure) arrived. */
  responded(): void {
    this.done++;
  }
}

/** The phase's users, its deadline `start` + its duration (seconds, on the caller's clock). */
export function phaseUsers(phase: Phase, phaseIndex: number, seed: number, start: number) {
  const deadline = start + phase.durationSeconds;
  return Array.from(
    { length: phase.users },
    (_, u) => new SiegeUser(phase, phaseIndex, u, seed, deadline),
  );
}
