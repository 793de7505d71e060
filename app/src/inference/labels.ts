import { readFile } from "node:fs/promises";

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

/** Reads a labels file; returns undefined when it does not exist. */
export async function readLabelsFile(file: string): Promise<string[] | undefined> {
  try {
    return parseLabels(await readFile(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
