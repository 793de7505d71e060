/**
 * What-if for dynamic batching: our classifier (app/dist/inference/classifier.js, the server's
 * inference module, decoding + preprocessing + inference, no HTTP) on the bundled test image with
 * `concurrency` callers in a closed loop, for each `maxBatchSize` (ClassifierOptions; the server
 * itself runs with the default, 1). Prints one JSON line.
 *
 *   tsx bench/peer/batching.ts <model dir> <backend> <concurrency> <images> <maxBatch,...>
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

interface Classification {
  batchSize?: number;
}
interface Classifier {
  classify(image: Buffer): Promise<Classification>;
  close(): Promise<void>;
  readonly backend: string;
}
type CreateClassifier = (opts: Record<string, unknown>) => Promise<Classifier>;

async function main() {
  const [dir, backend = "tensorflow", concArg = "20", imagesArg = "200", batchesArg = "1,8,32"] =
    process.argv.slice(2);
  if (!dir)
    throw new Error(
      "usage: batching.ts <model dir> <backend> <concurrency> <images> <maxBatch,...>",
    );
  const app = path.resolve(__dirname, "../../app");
  const mod = (await import(
    pathToFileURL(path.join(app, "dist", "inference", "classifier.js")).href
  )) as { createClassifier: CreateClassifier };
  const image = readFileSync(path.join(app, "assets", "test.jpg"));
  const concurrency = Number(concArg);
  const images = Number(imagesArg);
  const runs = [];
  for (const maxBatchSize of batchesArg.split(",").map(Number)) {
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
