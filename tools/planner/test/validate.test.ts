import { describe, expect, it } from "vitest";
import { syntheticValidation } from "../src/synthetic.js";

describe("the planner against a measured run (synthetic two-engine server on 127.0.0.1)", () => {
  it("compares a prediction with a real closed-loop run phase by phase", async () => {
    const { predicted, measured, comparison: e } = await syntheticValidation();
    expect(Math.max(...predicted.samples.map((x) => x.ready))).toBe(1);
    // The comparison itself, over a real run: one row per phase, every error a finite number.
    // Its size is timing on a shared machine: `npm run bench:planner` prints it (target 20 %).
    expect(e.phases.map((p) => p.phase)).toEqual(measured.phases.map((p) => String(p.phase)));
    expect(Number.isFinite(e.rateError)).toBe(true);
    expect(Number.isFinite(e.responseTimeError)).toBe(true);
  });
});
