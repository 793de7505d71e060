import { readBeside } from "./model-io.js";

/** The 11 Food-11 classes in the model's output index order. */
export const FOOD11_LABELS: readonly string[] = Object.freeze([
  "Bread",
  "Dairy product",
  "Dessert",
  "Egg",
  "Fried food",
  "Meat",
  "Noodles/Pasta",
  "Rice",
  "Seafood",
  "Soup",
  "Vegetable/Fruit",
]);

/** Parses a labels file: one label per line, blank lines and surrounding whitespace ignored. */
export function parseLabels(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * A model's labels: `labels` when given, else the labels file (default labels.txt) beside the
 * model (`base`, model-io.ts), else the 11 Food-11 classes.
 */
export async function modelLabels(
  base: string,
  opts: { labels?: readonly string[]; labelsFile?: string },
): Promise<string[]> {
  if (opts.labels) return [...opts.labels];
  const text = await readBeside(base, opts.labelsFile ?? "labels.txt");
  return text !== undefined ? parseLabels(text) : [...FOOD11_LABELS];
}
