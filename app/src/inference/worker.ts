/**
 * Inference worker thread: its own tfjs WASM backend and its own copy of the model. Receives
 * preprocessed NHWC float32 batches from the main thread and answers with probabilities.
 * Spawned by classifier.ts (as worker.ts through tsx from source, as worker.js from dist/).
 */
import { parentPort, workerData } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createEngine, type Engine } from "./engine.js";
import type { WorkerData, WorkerReply, WorkerRequest } from "./protocol.js";

const port = parentPort;
if (!port) throw new Error("worker.ts must run as a worker thread");
const data = workerData as WorkerData;

async function start(): Promise<Engine> {
  tf.enableProdMode();
  setWasmPaths(data.wasmDir.endsWith("/") ? data.wasmDir : `${data.wasmDir}/`);
  if (!(await tf.setBackend(data.backend))) {
    throw new Error(`tfjs backend '${data.backend}' failed to initialise`);
  }
  await tf.ready();
  return await createEngine(tf, data.artifacts, data.format);
}

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

start().then(
  (engine) => {
    reply({
      type: "ready",
      inputShape: engine.inputShape,
      classes: engine.classes,
      backend: engine.backend,
    });
    port.on("message", (msg: WorkerRequest) => {
      if (msg.type === "infer") {
        try {
          const t0 = performance.now();
          const probs = engine.run(msg.input, msg.batch);
          const ms = performance.now() - t0;
          reply({ type: "result", id: msg.id, probs, ms }, [probs.buffer as ArrayBuffer]);
        } catch (err) {
          reply({ type: "error", id: msg.id, message: (err as Error).message ?? String(err) });
        }
      } else if (msg.type === "memory") {
        reply({ type: "memory", id: msg.id, ...engine.memory() });
      }
    });
  },
  (err: unknown) => {
    reply({ type: "fatal", message: (err as Error).message ?? String(err) });
  },
);
