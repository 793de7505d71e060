/**
 * What-if for dynamic batching: our classifier (app/dist/inference/classifier.js, the server's
 * inference module, decoding + preprocessing + inference, no HTTP) on the bundled test image with
 * `concurrency` callers in a closed loop, for each `maxBatchSize` (ClassifierOptions; the server
 * itself runs with the default, 1). Prints one JSON line.
 *
 *   tsx bench/peer/batching.ts <model dir> [backend] [concurrency] [images] [maxBatches=1,8,32]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Argument, Command } from "commander";
import { commaList, wholeNumber } from "../../tools/strategy-bench/src/flags.js";

interface Classification {
  batchSize?: number;
}
interface Classifier {
  classify(image: Buffer): Promise<Classification>;
  close(): Promise<void>;
  readonly backend: string;
}
/** `1,8,32` -> [1, 8, 32]; each a whole number >= 1. */
const batchSizes = (v: string) => commaList(v).map(wholeNumber("maxBatch", 1));

type CreateClassifier = (opts: Record<string, unknown>) => Promise<Classifier>;

async function main() {
  const program = new Command("batching.ts")
    .description("Dynamic batching what-if: our classifier under closed-loop callers.")
    .argument("<model dir>", "the demo model's folder")
    .argument("[backend]", "the classifier's backend", "tensorflow")
    .argument("[concurrency]", "callers in the closed loop", wholeNumber("concurrency", 1), 20)
    .argument("[images]", "images classified per maxBatchSize", wholeNumber("images", 1), 200)
    .addArgument(
      new Argument("[maxBatches]", "maxBatchSize values, comma-separated")
        .argParser(batchSizes)
        .default([1, 8, 32], "1,8,32"),
    )
    .parse();
  const [dir, backend, concurrency, images, batches] = program.processedArgs as [
    string,
    string,
    number,
    number,
    number[],
  ];
  const app = path.resolve(__dirname, "../../app");
  const mod = (await import(
    pathToFileURL(path.join(app, "dist", "inference", "classifier.js")).href
  )) as { createClassifier: CreateClassifier };
  const image = readFileSync(path.join(app, "assets", "test.jpg"));
  const runs = [];
  for (const maxBatchSize of batches) {
    const c = await mod.createClassifier({
      modelDir: path.resolve(dir),
      backend,
      maxBatchSize,
      queueMax: 4 * concurrency,
    });
    for (let i = 0; i < 4; i++) await c.classify(image);
    let started = 0;
    let batchSum = 0;
    const t0 = performance.now();
    const lanes = Array.from({ length: concurrency }, async () => {
      while (started < images) {
        started++;
        const r = await c.classify(image);
        batchSum += r.batchSize ?? 1;
      }
    });
    await Promise.all(lanes);
    const seconds = (performance.now() - t0) / 1000;
    runs.push({
      maxBatchSize,
      images: started,
      seconds: Number(seconds.toFixed(2)),
      imagesPerSec: Number((started / seconds).toFixed(2)),
      meanBatch: Number((batchSum / started).toFixed(1)),
    });
    await c.close();
  }
  console.log(JSON.stringify({ backend, concurrency, runs }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
