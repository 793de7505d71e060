/**
 * bench:peer's ONNX Runtime reference: an ONNX model (the benchmark's, make_onnx_model.py: the same
 * weights through tf2onnx; or the server's own model.onnx, onnx-export.ts) under onnxruntime-node's
 * CPU execution provider (the server's copy, app/node_modules), on batches of 32 for `seconds` and
 * on one image for half as long (as tfjs-raw.ts), threads as ONNX Runtime chooses them (one
 * intra-op thread per core), with the CPU time one image costs.
 * No HTTP, no decoding: the physical limit of this CPU on this model, as a user choosing a serving
 * stack would compare.
 *
 *   tsx bench/peer/onnx-raw.ts <model.onnx> [seconds=20]   → one JSON line, shaped as tfjs-raw.ts's
 */
import { Command } from "commander";
import type { OrtModule } from "../../app/src/inference/infer-onnxruntime.js";
import { timedCalls } from "../../tools/strategy-bench/src/benchkit.js";
import { positive } from "../../tools/strategy-bench/src/flags.js";
import { appRequire } from "../app";

const [modelPath, seconds] = new Command("onnx-raw.ts")
  .description("ONNX Runtime alone on an ONNX model: batches of 32, then one image.")
  .argument("<model.onnx>", "the ONNX model")
  .argument("[seconds]", "seconds of batches of 32", positive("seconds"), 20)
  .parse().processedArgs as [string, number];
const ort = appRequire("onnxruntime-node") as OrtModule;

async function main() {
  const session = await ort.InferenceSession.create(modelPath as string, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
  });
  const input = session.inputNames[0] as string;
  const feed = (b: number) => {
    // Deterministic input in [0, 1): the figures do not depend on pixel values.
    const data = new Float32Array(b * 224 * 224 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
    return { [input]: new ort.Tensor("float32", data, [b, 224, 224, 3]) };
  };
  const timed = (b: number, secs: number) => {
    const f = feed(b);
    return timedCalls(() => session.run(f), b, secs);
  };
  const predictBatch = await timed(32, seconds);
  const cpu0 = process.cpuUsage();
  const predictSingle = await timed(1, seconds / 2);
  const cpu = process.cpuUsage(cpu0);
  const out = {
    batch: 32,
    intraOpThreads: "default (one per core)",
    predictBatch,
    predictSingle,
    // the two warm-up calls of timedCalls are counted too: a slight overestimate
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / (predictSingle.calls + 2),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(JSON.stringify(out));
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
