/**
 * The verification's arithmetic: each format's probabilities next to the reference's on the same
 * inputs. A format passes when its top-1 class equals the reference's on every input and no
 * probability differs by more than the tolerance.
 */
import { markdownTable } from "../../strategy-bench/src/benchkit.js";

/** The tolerance on |p_format - p_reference| unless --tolerance says otherwise. */
export const DEFAULT_TOLERANCE = 1e-4;

export interface FormatCheck {
  format: string;
  runtime: string;
  top1Agree: number;
  maxAbsDiff: number;
  /** Inputs whose top-1 differs, or whose largest difference is above the tolerance: name, detail. */
  worst: { input: string; top1: [number, number]; maxAbsDiff: number }[];
  passed: boolean;
}

const argmax = (p: Float32Array, row: number, classes: number): number => {
  let best = 0;
  for (let c = 1; c < classes; c++) {
    if ((p[row * classes + c] as number) > (p[row * classes + best] as number)) best = c;
  }
  return best;
};

/** Compares one format's outputs (rows of `classes` probabilities) with the reference's. */
export function compare(
  format: string,
  runtime: string,
  reference: Float32Array,
  got: Float32Array,
  classes: number,
  names: readonly string[],
  tolerance: number,
): FormatCheck {
  if (got.length !== reference.length) {
    throw new Error(
      `${format}: ${got.length / classes} output rows, the reference has ${reference.length / classes}`,
    );
  }
  const rows = reference.length / classes;
  let agree = 0;
  let maxAbsDiff = 0;
  const worst: FormatCheck["worst"] = [];
  for (let r = 0; r < rows; r++) {
    const a = argmax(reference, r, classes);
    const b = argmax(got, r, classes);
    let d = 0;
    for (let c = 0; c < classes; c++) {
      d = Math.max(
        d,
        Math.abs((reference[r * classes + c] as number) - (got[r * classes + c] as number)),
      );
    }
    if (Number.isNaN(d)) d = Number.POSITIVE_INFINITY;
    maxAbsDiff = Math.max(maxAbsDiff, d);
    if (a === b) agree++;
    if (a !== b || d > tolerance)
      worst.push({ input: names[r] ?? `#${r}`, top1: [a, b], maxAbsDiff: d });
  }
  worst.sort((x, y) => y.maxAbsDiff - x.maxAbsDiff);
  return {
    format,
    runtime,
    top1Agree: agree,
    maxAbsDiff,
    worst: worst.slice(0, 5),
    passed: agree === rows && maxAbsDiff <= tolerance,
  };
}

/** The verification table (Markdown), and for a failed format its worst inputs. */
export function verificationTable(
  checks: readonly FormatCheck[],
  images: number,
  tolerance: number,
  reference: string,
): string {
  const lines = [
    `${images} inputs, reference: ${reference}, tolerance max |dp| <= ${tolerance}`,
    "",
    ...markdownTable(
      ["format", "runtime", "top-1 agrees", "max abs diff", "verdict"],
      checks.map((c) => [
        c.format,
        c.runtime,
        `${c.top1Agree}/${images}`,
        c.maxAbsDiff.toExponential(2),
        c.passed ? "ok" : "FAILED",
      ]),
      { align: ["left", "left", "right", "right", "left"] },
    ),
  ];
  for (const c of checks.filter((x) => !x.passed)) {
    lines.push("", `${c.format}: worst inputs`);
    for (const w of c.worst) {
      lines.push(
        `  ${w.input}: top-1 reference ${w.top1[0]}, ${c.format} ${w.top1[1]}; max |dp| ${w.maxAbsDiff.toExponential(2)}`,
      );
    }
  }
  return lines.join("\n");
}
