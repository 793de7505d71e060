/**
 * bench:peer's ONNX Runtime reference: the benchmark's model (make_onnx_model.py: the same weights
 * through tf2onnx) under onnxruntime-node's CPU execution provider, on batches of 32 and on one
 * image, each for `seconds`, threads as ONNX Runtime chooses them (one intra-op thread per core).
 * No HTTP, no decoding: the physical limit of this CPU on this model, as a user choosing a serving
 * stack would compare. A reference line in the table, not a backend of the server.
 *
 *   tsx bench/peer/onnx-raw.ts <ort-prefix> <model.onnx> [seconds]   → one JSON line
 */
import { createRequire } from "node:module";
import path from "node:path";

const [prefix, modelPath, secondsArg] = process.argv.slice(2);
if (!prefix || !modelPath)
  throw new Error("usage: onnx-raw.ts <ort-prefix> <model.onnx> [seconds]");
const seconds = Number(secondsArg ?? "20");
/** The part of onnxruntime-node's API used here (it is installed into a cache, not a dependency). */
interface Ort {
  InferenceSession: {
    create(
      model: string,
      opts: { executionProviders: string[]; graphOptimizationLevel: string },
    ): Promise<{
      inputNames: readonly string[];
      run(feeds: Record<string, unknown>): Promise<unknown>;
    }>;
  };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
}
const ort = createRequire(path.join(prefix, "package.json"))("onnxruntime-node") as Ort;

async function main() {
  const session = await ort.InferenceSession.create(modelPath as string, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
  });
  const input = session.inputNames[0] as string;
  const [, h, w, c] = [0, 224, 224, 3];
  // Deterministic input in [0, 1): the figures do not depend on pixel values.
  const batchOf = (n: number) => {
    const data = new Float32Array(n * h * w * c);
    for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
    return new ort.Tensor("float32", data, [n, h, w, c]);
  };
  const measure = async (n: number) => {
    const feed = { [input]: batchOf(n) };
    for (let i = 0; i < 2; i++) await session.run(feed);
    let images = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 500) {
      await session.run(feed);
      images += n;
    }
    const s = (performance.now() - t0) / 1000;
    return { imagesPerSec: images / s, msPerCall: (1000 * s * n) / images };
  };
  const batch32 = await measure(32);
  const single = await measure(1);
  console.log(
    JSON.stringify({
      batch32ImagesPerSec: +batch32.imagesPerSec.toFixed(1),
      batch32MsPerCall: +batch32.msPerCall.toFixed(1),
      singleImagesPerSec: +single.imagesPerSec.toFixed(1),
      singleMs: +single.msPerCall.toFixed(1),
      intraOpThreads: "ONNX Runtime's default (one per core)",
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
