/**
 * The verification's report: each format's probabilities next to the reference's on the same
 * inputs, compared by the server's rule (app/src/inference/agreement.ts: top-1 equal on every
 * input, no probability further than the tolerance), with the inputs that broke it.
 */
import {
  type AgreementFigures,
  agrees,
  compareOutputs,
} from "../../../app/src/inference/agreement.js";
import { markdownTable } from "../../strategy-bench/src/benchkit.js";

export interface FormatCheck extends AgreementFigures {
  format: string;
  runtime: string;
  /** Inputs whose top-1 differs, or whose largest difference is above the tolerance: name, detail. */
  worst: { input: string; top1: [number, number]; maxAbsDiff: number }[];
  passed: boolean;
}

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
  const { top1Agree, maxAbsDiff, rows } = compareOutputs(reference, got, classes);
  const worst = rows
    .map((r, i) => ({ input: names[i] ?? `#${i}`, ...r }))
    .filter((r) => r.top1[0] !== r.top1[1] || r.maxAbsDiff > tolerance)
    .sort((x, y) => y.maxAbsDiff - x.maxAbsDiff);
  return {
    format,
    runtime,
    top1Agree,
    maxAbsDiff,
    worst: worst.slice(0, 5),
    passed: agrees({ top1Agree, maxAbsDiff }, rows.length, tolerance),
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
