import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { labelKey } from "./labels.js";

export interface LabeledImage {
  path: string;
  label: string;
}

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;
const FOOD11_NAME = /^(\d+)_(\d+)\.[a-z]+$/i;

/**
 * A labeled image set, in one of two layouts:
 * - Food-11's own: `<classIndex>_<n>.jpg` in one folder (e.g. evaluation/), the label is
 *   `labels[classIndex]`;
 * - a folder per class: folder names matched to `labels` (ignoring case, spaces, "/", "-", "_";
 *   "Noodles-Pasta" is "Noodles/Pasta") or numeric (a class index).
 * Files are sorted; `perClass` keeps the first N of each class.
 */
export async function loadLabeledSet(
  dir: string,
  labels: readonly string[],
  perClass?: number,
): Promise<LabeledImage[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const byKey = new Map(labels.map((l) => [labelKey(l), l]));
  const classLabel = (name: string): string | undefined => {
    if (/^\d+$/.test(name)) return labels[Number(name)];
    return byKey.get(labelKey(name));
  };
  const out: LabeledImage[] = [];
  const flat = entries.filter((e) => e.isFile() && FOOD11_NAME.test(e.name) && IMAGE.test(e.name));
  if (flat.length > 0) {
    for (const e of flat) {
      const idx = Number((FOOD11_NAME.exec(e.name) as RegExpExecArray)[1]);
      const label = labels[idx];
      if (label === undefined) {
        throw new Error(`${e.name}: class index ${idx} out of range (${labels.length} labels)`);
      }
      out.push({ path: join(dir, e.name), label });
    }
    // Numeric order inside a class (0_2 before 0_10).
    out.sort((a, b) => naturalCompare(a.path, b.path));
  } else {
    const unknown: string[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const label = classLabel(e.name);
      if (label === undefined) {
        unknown.push(e.name);
        continue;
      }
      const files = (await readdir(join(dir, e.name)))
        .filter((f) => IMAGE.test(f))
        .sort(naturalCompare);
      for (const f of files) out.push({ path: join(dir, e.name, f), label });
    }
    if (unknown.length > 0) {
      throw new Error(`folders not matching any label: ${unknown.join(", ")}`);
    }
  }
  if (out.length === 0) {
    throw new Error(`${dir}: no labeled images (<classIndex>_<n>.jpg, or a folder per class)`);
  }
  if (perClass === undefined) return out;
  const seen = new Map<string, number>();
  return out.filter((x) => {
    const n = seen.get(x.label) ?? 0;
    seen.set(x.label, n + 1);
    return n < perClass;
  });
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}
