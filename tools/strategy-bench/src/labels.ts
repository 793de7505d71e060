/**
 * The 11 Food-11 classes in the model's output order (the server's own list), and the server's
 * reader of a labels file.
 */
export { FOOD11_LABELS, parseLabels } from "../../../app/src/inference/labels.js";

/** Compare label names loosely: case, spaces, "/", "-", "_" do not matter. */
export function labelKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}
