import { describe, expect, it } from "vitest";
import {
  compareQuantities,
  parseQuantity,
  type Quantity,
  QuantityParseError,
  quantityToNumber,
  tryParseQuantity,
} from "../../../components/quantity";

const frac = (q: Quantity) => [q.numerator, q.denominator];

describe("parseQuantity", () => {
  it("parses plain, decimal-SI, binary-SI and exponent forms exactly", () => {
    expect(frac(parseQuantity("2"))).toEqual([2n, 1n]);
    expect(frac(parseQuantity("500m"))).toEqual([500n, 1000n]);
    expect(frac(parseQuantity("0.5"))).toEqual([5n, 10n]);
    expect(frac(parseQuantity(".5"))).toEqual([5n, 10n]);
    expect(frac(parseQuantity("5."))).toEqual([5n, 1n]);
    expect(frac(parseQuantity("1Ki"))).toEqual([1024n, 1n]);
    expect(frac(parseQuantity("1.5Gi"))).toEqual([15n * 2n ** 30n, 10n]);
    expect(frac(parseQuantity("128974848"))).toEqual([128974848n, 1n]);
    expect(frac(parseQuantity("129e6"))).toEqual([129000000n, 1n]);
    expect(frac(parseQuantity("1E-3"))).toEqual([1n, 1000n]);
    expect(frac(parseQuantity("1E"))).toEqual([10n ** 18n, 1n]);
    expect(frac(parseQuantity("100n"))).toEqual([100n, 10n ** 9n]);
    expect(frac(parseQuantity("3u"))).toEqual([3n, 10n ** 6n]);
    expect(frac(parseQuantity("4k"))).toEqual([4000n, 1n]);
    expect(frac(parseQuantity("2M"))).toEqual([2000000n, 1n]);
    expect(frac(parseQuantity("-1Mi"))).toEqual([-(2n ** 20n), 1n]);
    expect(frac(parseQuantity("+7Ei"))).toEqual([7n * 2n ** 60n, 1n]);
    expect(frac(parseQuantity(2))).toEqual([2n, 1n]);
    expect(frac(parseQuantity(0.25))).toEqual([25n, 100n]);
    expect(parseQuantity(" 1Gi ").text).toBe("1Gi");
  });

  it("refuses what Kubernetes refuses", () => {
    for (const bad of [
      "",
      "Gi",
      "1GB",
      "1gi",
      "1 Gi",
      "1.2.3",
      "abc",
      "1e",
      "1Ki2",
      "--1",
      "1e1001",
    ]) {
      expect(() => parseQuantity(bad), bad).toThrow(QuantityParseError);
    }
    expect(() => parseQuantity(Number.NaN)).toThrow(QuantityParseError);
    expect(() => parseQuantity("1GB")).toThrow('"1GB" is not a Kubernetes quantity');
    expect(tryParseQuantity("1GB")).toBeUndefined();
    expect(tryParseQuantity({})).toBeUndefined();
    expect(tryParseQuantity(undefined)).toBeUndefined();
  });
});

describe("compareQuantities", () => {
  const cmp = (a: string, b: string) => compareQuantities(parseQuantity(a), parseQuantity(b));
  it("compares across suffixes exactly", () => {
    // Ascending; "=" joins equal quantities. 9223372036854775809 = 2^63 + 1 and 8Ei = 2^63 are
    // indistinguishable as doubles, distinct here.
    const ascending =
      "-1 < 0 < 500m = 0.5 < 999m < 1 = 1000m < 1001m < 1e3 = 1k < 1G < 1Gi = 1024Mi < " +
      "1.5Gi = 1536Mi = 1610612736 < 1610612737 < 8Ei < 9223372036854775809";
    const ranked = ascending
      .split(" < ")
      .flatMap((group, rank) => group.split(" = ").map((q) => ({ q, rank })));
    for (const a of ranked) {
      for (const b of ranked) {
        expect(cmp(a.q, b.q), `${a.q} vs ${b.q}`).toBe(Math.sign(a.rank - b.rank));
      }
    }
  });

  it("converts to numbers for display", () => {
    expect(quantityToNumber(parseQuantity("1.5Gi"))).toBe(1610612736);
    expect(quantityToNumber(parseQuantity("250m"))).toBe(0.25);
  });
});
