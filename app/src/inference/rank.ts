/**
 * Stage 6, rank: the postprocessing of a model's output. In the worker, each output row becomes
 * probabilities (softmax unless it already is one); in the main thread, an image's row becomes
 * its classes sorted by probability, the top k of them kept.
 */

/** One class of an answer. */
export interface TopEntry {
  label: string;
  index: number;
  probability: number;
}

/** Softmax of each row, applied only to outputs that are not already probability rows. */
export function ensureProbabilities(out: Float32Array, classes: number): Float32Array {
  const rows = out.length / classes;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    for (let c = 0; c < classes; c++) {
      const v = out[r * classes + c] as number;
      sum += v;
      if (v < min) min = v;
    }
    if (min >= 0 && Math.abs(sum - 1) <= 1e-3) continue;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) max = Math.max(max, out[r * classes + c] as number);
    let z = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp((out[r * classes + c] as number) - max);
      out[r * classes + c] = e;
      z += e;
    }
    for (let c = 0; c < classes; c++) out[r * classes + c] = (out[r * classes + c] as number) / z;
  }
  return out;
}

/**
 * Classes by probability (ties: lower index first); `top` holds the first `topk`, clamped to
 * [1, labels] (a non-number counts as 1).
 */
export function rank(
  probs: Float32Array,
  labels: readonly string[],
  topk: number,
): { best: TopEntry; top: TopEntry[] } {
  const k = Math.max(1, Math.min(labels.length, Math.floor(topk) || 1));
  const ranked = Array.from(probs, (p, index) => ({
    label: labels[index] as string,
    index,
    probability: p,
  })).sort((a, b) => b.probability - a.probability || a.index - b.index);
  return { best: ranked[0] as TopEntry, top: ranked.slice(0, k) };
}
