/**
 * Where test/models/train.py's models are cached: `${FOOD11_CACHE}/trained-models-<hash of
 * train.py>` (npm run test:models trains them on first use). Shared by the trained-model suite and
 * the real-pods step that deploys one through food11:modelSource.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { food11CacheDir } from "../../lib/cache";

export const TRAIN_SCRIPT = path.join(__dirname, "train.py");

/** The cache directory of this train.py's models (it may not exist yet). */
export function trainedModelsDir(): string {
  const key = createHash("sha256").update(readFileSync(TRAIN_SCRIPT)).digest("hex").slice(0, 12);
  return path.join(food11CacheDir(), `trained-models-${key}`);
}

/** What train.py records per model: held-out files, their labels and Keras' probabilities. */
export interface Heldout {
  files: string[];
  labels: number[];
  probs: number[][];
  train_accuracy: number;
}
