/**
 * bench:peer's ONNX Runtime reference: the benchmark's model (make_onnx_model.py: the same weights
 * through tf2onnx) under onnxruntime-node's CPU execution provider, on batches of 32 for `seconds`
 * and on one image for half as long (as tfjs-raw.ts), threads as ONNX Runtime chooses them (one
 * intra-op thread per core).
 * No HTTP, no decoding: the physical limit of this CPU on this model, as a user choosing a serving
 * stack would compare. A reference line in the table, not a backend of the server.
 *
 *   tsx bench/peer/onnx-raw.ts <ort-prefix> <model.onnx> [seconds=20]   → one JSON line, shaped as tfjs-raw.ts's
 */
import { createRequire } from "node:module";
import path from "node:path";
import { timedCalls } from "../../tools/strategy-bench/src/benchkit.js";

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
  const timed = (b: number, secs: number) => {
    // Deterministic input in [0, 1): the figures do not depend on pixel values.
    const data = new Float32Array(b * 224 * 224 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
    const feed = { [input]: new ort.Tensor("float32", data, [b, 224, 224, 3]) };
    return timedCalls(() => session.run(feed), b, secs);
  };
  const out = {
    batch: 32,
    intraOpThreads: "default (one per core)",
    predictBatch: await timed(32, seconds),
    predictSingle: await timed(1, seconds / 2),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(JSON.stringify(out));
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
