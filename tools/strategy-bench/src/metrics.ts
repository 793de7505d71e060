/**
 * Classification metrics as scikit-learn computes them: accuracy_score and
 * precision_recall_fscore_support with average="weighted" (the report's figures: recall equals
 * accuracy) and average="macro", over the labels present in y_true or y_pred, and
 * zero_division="warn" (its default): an ill-defined ratio counts as 0 and is reported in
 * `warnings`.
 */

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true samples of this label. */
  support: number;
  /** Number of samples predicted as this label. */
  predicted: number;
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

export interface ClassificationMetrics {
  samples: number;
  accuracy: number;
  weighted: Averages;
  macro: Averages;
  /** The labels scored: those present in y_true or y_pred, in `labelOrder` order. */
  labels: string[];
  perClass: ClassMetrics[];
  /** confusion[i][j]: samples of true label labels[i] predicted as labels[j]. */
  confusion: number[][];
  /** Ill-defined ratios set to 0, as scikit-learn's UndefinedMetricWarning says. */
  warnings: string[];
}

function ratio(num: number, den: number): { value: number; defined: boolean } {
  return den === 0 ? { value: 0, defined: false } : { value: num / den, defined: true };
}

/**
 * @param labelOrder preferred order of labels (e.g. the model's classes); labels seen in the data
 *   but not listed are appended in sorted order. Only labels present in the data are scored.
 */
export function classificationMetrics(
  yTrue: readonly string[],
  yPred: readonly string[],
  labelOrder: readonly string[] = [],
): ClassificationMetrics {
  if (yTrue.length !== yPred.length) {
    throw new Error(`y_true has ${yTrue.length} samples, y_pred ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new Error("no samples to score");
  const present = new Set([...yTrue, ...yPred]);
  const labels = [
    ...labelOrder.filter((l) => present.has(l)),
    ...[...present].filter((l) => !labelOrder.includes(l)).sort(),
  ];
  const index = new Map(labels.map((l, i) => [l, i]));
  const confusion = labels.map(() => labels.map(() => 0));
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i] as string) as number;
    const p = index.get(yPred[i] as string) as number;
    (confusion[t] as number[])[p] = ((confusion[t] as number[])[p] as number) + 1;
    if (t === p) correct++;
  }
  const noPredictions: string[] = [];
  const noTrueSamples: string[] = [];
  const perClass = labels.map((label, k) => {
    const row = confusion[k] as number[];
    const tp = row[k] as number;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + (r[k] as number), 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    // scikit-learn >= 1.3: F = 2tp / (2tp + fp + fn), ill-defined only when that is 0/0.
    const f1 = ratio(2 * tp, predicted + support);
    if (!precision.defined) noPredictions.push(label);
    if (!recall.defined) noTrueSamples.push(label);
    return {
      label,
      precision: precision.value,
      recall: recall.value,
      f1: f1.value,
      support,
      predicted,
    };
  });
  const n = yTrue.length;
  const weightedMean = (key: keyof Averages) =>
    perClass.reduce((a, c) => a + c[key] * c.support, 0) / n;
  const macroMean = (key: keyof Averages) =>
    perClass.reduce((a, c) => a + c[key], 0) / perClass.length;
  const warnings: string[] = [];
  if (noPredictions.length > 0) {
    warnings.push(
      `Precision is ill-defined and being set to 0.0 in labels with no predicted samples: ${noPredictions.join(", ")}`,
    );
  }
  if (noTrueSamples.length > 0) {
    warnings.push(
      `Recall is ill-defined and being set to 0.0 in labels with no true samples: ${noTrueSamples.join(", ")}`,
    );
  }
  return {
    samples: n,
    accuracy: correct / n,
    weighted: {
      precision: weightedMean("precision"),
      recall: weightedMean("recall"),
      f1: weightedMean("f1"),
    },
    macro: { precision: macroMean("precision"), recall: macroMean("recall"), f1: macroMean("f1") },
    labels,
    perClass,
    confusion,
    warnings,
  };
}
