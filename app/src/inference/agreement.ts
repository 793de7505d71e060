/**
 * Whether a model's outputs agree with a reference's on the same inputs (issue 28): the top-1
 * class the same on every input, and no probability further from the reference's than the
 * tolerance. One rule for every check of a converted model: `npm run model:import` (each format
 * against the source in its own framework), the demo model's builder (its model.onnx against the
 * tfjs model), bench:peer (ONNX Runtime's answers against tfjs-node's); and the server, which
 * refuses a manifest whose recorded figures break it (manifest.ts, verificationProblems).
 */

/** The tolerance on |p_model - p_reference|: the demo model's, an import's unless --tolerance. */
export const AGREEMENT_TOLERANCE = 1e-4;

/** The figures a check records (a manifest's `verification.formats.<format>`). */
export interface AgreementFigures {
  /** Inputs whose top-1 class is the same under both. */
  top1Agree: number;
  /** Largest |p_model - p_reference| over every input and class (Infinity for a NaN). */
  maxAbsDiff: number;
}

/** The comparison of two sets of outputs, input by input. */
export interface OutputComparison extends AgreementFigures {
  /** Each input's top-1 class (the reference's, the model's) and its largest difference. */
  rows: { top1: [number, number]; maxAbsDiff: number }[];
}

/** Index of the largest of `classes` values from `start`. */
function argmax(p: ArrayLike<number>, start: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) {
    if ((p[start + c] as number) > (p[start + best] as number)) best = c;
  }
  return best;
}

/** Compares `got` with `reference`, both rows of `classes` outputs, one row per input. */
export function compareOutputs(
  reference: ArrayLike<number>,
  got: ArrayLike<number>,
  classes: number,
): OutputComparison {
  const rows: OutputComparison["rows"] = [];
  const n = classes > 0 ? Math.floor(reference.length / classes) : 0;
  let top1Agree = 0;
  let maxAbsDiff = 0;
  for (let r = 0; r < n; r++) {
    const start = r * classes;
    const top1: [number, number] = [argmax(reference, start, classes), argmax(got, start, classes)];
    let d = 0;
    for (let c = start; c < start + classes; c++) {
      d = Math.max(d, Math.abs((reference[c] as number) - (got[c] as number)));
    }
    if (Number.isNaN(d)) d = Number.POSITIVE_INFINITY;
    if (top1[0] === top1[1]) top1Agree++;
    maxAbsDiff = Math.max(maxAbsDiff, d);
    rows.push({ top1, maxAbsDiff: d });
  }
  return { top1Agree, maxAbsDiff, rows };
}

/** Why figures over `images` inputs break the rule at `tolerance` (empty: they agree). */
export function agreementProblems(
  figures: AgreementFigures,
  images: number,
  tolerance: number,
): string[] {
  const problems: string[] = [];
  if (figures.top1Agree !== images) {
    problems.push(`top-1 agreed on ${figures.top1Agree} of ${images} inputs`);
  }
  if (!(figures.maxAbsDiff <= tolerance)) {
    problems.push(`max |dp| ${figures.maxAbsDiff} above the tolerance ${tolerance}`);
  }
  return problems;
}

/** True when figures over `images` inputs keep the rule at `tolerance`. */
export function agrees(figures: AgreementFigures, images: number, tolerance: number): boolean {
  return agreementProblems(figures, images, tolerance).length === 0;
}
