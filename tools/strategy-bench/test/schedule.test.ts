import { describe, expect, it } from "vitest";
import { childRandom, seededRandom } from "../src/random.js";
import {
  originalSchedule,
  parseSchedule,
  scaleSchedule,
  scheduleSeconds,
} from "../src/schedule.js";

describe("schedules", () => {
  it("is the original recipe's 30 one-minute phases", () => {
    const s = originalSchedule();
    expect(s.phases).toHaveLength(30);
    expect(scheduleSeconds(s)).toBe(1800);
    expect(s.phases.map((p) => `c${p.users}d${p.delaySeconds}`).join(" ")).toBe(
      [
        ...Array(5).fill("c20d100"),
        ...Array(2).fill("c20d50"),
        ...Array(2).fill("c20d10"),
        "c20d3",
        ...Array(5).fill("c20d1"),
        ...Array(5).fill("c30d1"),
        "c20d3",
        ...Array(2).fill("c20d60"),
        ...Array(7).fill("c20d80"),
      ].join(" "),
    );
  });

  it("scales durations and, by default, delays", () => {
    const s = scaleSchedule(originalSchedule(), 0.1);
    expect(scheduleSeconds(s)).toBeCloseTo(180, 9);
    expect(s.phases[0]).toEqual({ users: 20, delaySeconds: 10, durationSeconds: 6 });
    const keep = scaleSchedule(originalSchedule(), 0.1, 1);
    expect(keep.phases[0]).toEqual({ users: 20, delaySeconds: 100, durationSeconds: 6 });
    expect(() => scaleSchedule(originalSchedule(), 0)).toThrow();
  });

  it("parses a YAML-shaped schedule and rejects unknown keys", () => {
    const s = parseSchedule({
      name: "x",
      phases: [
        { repeat: 2, users: 3, delay: 1 },
        { users: 1, delay: 0, duration: 5, reps: 4 },
      ],
    });
    expect(s.phases).toEqual([
      { users: 3, delaySeconds: 1, durationSeconds: 60 },
      { users: 3, delaySeconds: 1, durationSeconds: 60 },
      { users: 1, delaySeconds: 0, durationSeconds: 5, reps: 4 },
    ]);
    expect(() => parseSchedule({ phases: [{ users: 1, delay: 1, concurrency: 3 }] })).toThrow();
    expect(() => parseSchedule({ phases: [] })).toThrow();
  });

  it("draws the same delays for the same seed", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(childRandom(1, 0, 0)()).not.toBe(childRandom(1, 0, 1)());
  });
});
