import { describe, expect, it } from "vitest";
import { classificationMetrics } from "../src/metrics.js";

describe("classificationMetrics (scikit-learn's definitions)", () => {
  it("matches accuracy_score and precision_recall_fscore_support on a hand-worked case", () => {
    // Class "c" is never predicted (precision 0/0), class "d" never true (recall 0/0).
    const yTrue = ["a", "a", "a", "a", "b", "b", "b", "c", "c", "c"];
    const yPred = ["a", "a", "b", "d", "b", "b", "a", "a", "b", "d"];
    const m = classificationMetrics(yTrue, yPred, ["a", "b", "c", "d"]);
    // Confusion (rows true a..d, columns predicted a..d), worked out by hand:
    expect(m.confusion).toEqual([
      [2, 1, 0, 1],
      [1, 2, 0, 0],
      [1, 1, 0, 1],
      [0, 0, 0, 0],
    ]);
    // tp a=2 b=2 c=0 d=0; predicted a=4 b=4 c=0 d=2; support a=4 b=3 c=3 d=0.
    expect(m.accuracy).toBe(0.4);
    const byLabel = Object.fromEntries(m.perClass.map((c) => [c.label, c]));
    expect(byLabel.a).toMatchObject({ precision: 0.5, recall: 0.5, f1: 0.5, support: 4 });
    expect(byLabel.b?.precision).toBe(0.5);
    expect(byLabel.b?.recall).toBeCloseTo(2 / 3, 12);
    expect(byLabel.b?.f1).toBeCloseTo(4 / 7, 12);
    expect(byLabel.c).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 3 });
    expect(byLabel.d).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
    // average="weighted": weights 4,3,3,0 over 10 samples.
    expect(m.weighted.precision).toBeCloseTo(0.35, 12); // (0.5*4 + 0.5*3) / 10
    expect(m.weighted.recall).toBeCloseTo(0.4, 12); // equals accuracy
    expect(m.weighted.f1).toBeCloseTo(13 / 35, 12); // (0.5*4 + 4/7*3) / 10 = 0.3714285714
    // average="macro": over the 4 labels present in y_true or y_pred.
    expect(m.macro.precision).toBeCloseTo(0.25, 12);
    expect(m.macro.recall).toBeCloseTo(7 / 24, 12); // 0.2916666667
    expect(m.macro.f1).toBeCloseTo(15 / 56, 12); // 0.2678571429
    // zero_division="warn": ill-defined values are 0 and flagged.
    expect(m.warnings).toHaveLength(2);
    expect(m.warnings[0]).toMatch(/Precision is ill-defined.*: c$/);
    expect(m.warnings[1]).toMatch(/Recall is ill-defined.*: d$/);
  });

  it("scores only labels present in the data, in the given order", () => {
    const m = classificationMetrics(["x", "y", "y"], ["y", "y", "y"], ["y", "z", "x"]);
    expect(m.labels).toEqual(["y", "x"]);
    expect(m.accuracy).toBeCloseTo(2 / 3, 12);
    // y: precision 2/3, recall 1, f1 0.8; x: 0 (no predictions), recall 0, f1 0.
    expect(m.weighted.precision).toBeCloseTo((2 / 3) * (2 / 3), 12); // 0.4444444444
    expect(m.weighted.f1).toBeCloseTo((0.8 * 2) / 3, 12); // 0.5333333333
    expect(m.macro.recall).toBeCloseTo(0.5, 12);
    expect(m.macro.f1).toBeCloseTo(0.4, 12);
  });

  it("gives 1 everywhere for perfect predictions and no warnings", () => {
    const m = classificationMetrics(["a", "b"], ["a", "b"]);
    expect(m.accuracy).toBe(1);
    expect(m.weighted).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(m.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(m.warnings).toEqual([]);
  });
});
