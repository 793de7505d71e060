/**
 * Our engine's raw batched throughput: tfjs-node (app/'s copy, TensorFlow 2.18.1 libraries) running
 * the demo LayersModel on batches of B random images, no HTTP, no decoding. It tells what dynamic
 * batching in the server could reach at most. Prints one JSON line.
 *
 *   tsx bench/peer/tfjs-raw.ts <model dir> [batch=32] [seconds=20]
 */
import path from "node:path";
import { Command } from "commander";
import { timedCalls } from "../../tools/strategy-bench/src/benchkit.js";
import { positive, wholeNumber } from "../../tools/strategy-bench/src/flags.js";
import { appRequire } from "../app";

/** The few tfjs-node calls used here (the root package does not depend on tfjs). */
interface Tensor {
  dataSync(): Float32Array;
  dispose(): void;
}
interface LayersModel {
  predict(x: Tensor): Tensor;
}
interface TfNode {
  getBackend(): string;
  version: { tfjs: string };
  randomUniform(shape: number[], min: number, max: number, dtype: "float32", seed: number): Tensor;
  loadLayersModel(handler: unknown): Promise<LayersModel>;
  io: { fileSystem(path: string): unknown };
}

const [dir, batch, seconds] = new Command("tfjs-raw.ts")
  .description("tfjs-node alone on the demo LayersModel, batches of B random images.")
  .argument("<model dir>", "the demo model's folder")
  .argument("[batch]", "images per batch", wholeNumber("batch", 1), 32)
  .argument("[seconds]", "seconds of batches", positive("seconds"), 20)
  .parse().processedArgs as [string, number, number];
process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
const tf = appRequire("@tensorflow/tfjs-node") as TfNode;

async function timed(model: LayersModel, b: number, secs: number) {
  const x = tf.randomUniform([b, 224, 224, 3], 0, 1, "float32", 7);
  const result = await timedCalls(
    () => {
      const y = model.predict(x);
      y.dataSync();
      y.dispose();
    },
    b,
    secs,
  );
  x.dispose();
  return result;
}

async function main() {
  const model = await tf.loadLayersModel(
    tf.io.fileSystem(path.resolve(dir as string, "model.json")),
  );
  const out = {
    backend: tf.getBackend(),
    tfjs: tf.version.tfjs,
    batch,
    intraOpThreads: process.env.TF_NUM_INTRAOP_THREADS ?? "default",
    predictBatch: await timed(model, batch, seconds),
    predictSingle: await timed(model, 1, seconds / 2),
  };
  console.log(JSON.stringify(out));
}

void main();
