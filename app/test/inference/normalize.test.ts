import { describe, expect, it } from "vitest";
import { normalize } from "../../src/inference/normalize.js";

describe("normalize", () => {
  it("raw: x (for a model that rescales inside itself)", () => {
    expect([...normalize(Uint8Array.from([0, 51, 255]), "raw")]).toEqual([0, 51, 255]);
  });
  it("unit: x / 255", () => {
    expect([...normalize(Uint8Array.from([0, 51, 255]), "unit")]).toEqual([
      0,
      Math.fround(51 / 255),
      1,
    ]);
  });
  it("mobilenet: x / 127.5 - 1", () => {
    expect([...normalize(Uint8Array.from([0, 51, 255]), "mobilenet")]).toEqual([
      -1,
      Math.fround(51 / 127.5 - 1),
      1,
    ]);
  });
});
