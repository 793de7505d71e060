/**
 * Inference worker thread: its own tfjs backend (or ONNX Runtime session, infer-onnxruntime.ts)
 * and its own copy of the model. Receives preprocessed NHWC float32 batches from the main thread
 * and answers with probabilities.
 * Spawned by worker-pool.ts (as worker.ts through tsx from source, as worker.js from dist/).
 *
 * Imports only what the backend needs (tfjs-core + layers + converter + the backend), not the
 * whole @tensorflow/tfjs bundle: every worker is a separate V8 isolate, so this is paid per worker.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createEngine, createSavedModelEngine, type Engine } from "./infer.js";
import type { WorkerData, WorkerReply, WorkerRequest } from "./protocol.js";
import type { Tf } from "./tf.js";

const port = parentPort;
if (!port) throw new Error("worker.ts must run as a worker thread");
const data = workerData as WorkerData;

async function loadTf(): Promise<Tf> {
  if (data.backend === "tensorflow") {
    const name = "@tensorflow/tfjs-node";
    const mod = (await import(name)) as Tf & { default?: Tf };
    return mod.default ?? mod;
  }
  const core = await import("@tensorflow/tfjs-core");
  const layers = await import("@tensorflow/tfjs-layers");
  const converter = await import("@tensorflow/tfjs-converter");
  if (data.backend === "cpu") {
    await import("@tensorflow/tfjs-backend-cpu");
  } else {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const dir = data.wasmDir ?? "";
    wasm.setWasmPaths(dir.endsWith("/") ? dir : `${dir}/`);
  }
  return {
    ...core,
    loadLayersModel: layers.loadLayersModel,
    loadGraphModel: converter.loadGraphModel,
  } as unknown as Tf;
}

async function start(): Promise<Engine> {
  if (data.backend === "onnxruntime") {
    // No tfjs in this isolate: ONNX Runtime's binding and the session only.
    const { createOnnxEngine } = await import("./infer-onnxruntime.js");
    const ort = await import("onnxruntime-node");
    const model = data.onnx as Uint8Array | string;
    (data as Partial<WorkerData>).onnx = undefined;
    return await createOnnxEngine(ort, model, { intraOpThreads: data.intraOpThreads ?? 1 });
  }
  const tf = await loadTf();
  tf.enableProdMode();
  if (!(await tf.setBackend(data.backend))) {
    throw new Error(`tfjs backend '${data.backend}' failed to initialise`);
  }
  await tf.ready();
  if (data.format === "saved-model") {
    return await createSavedModelEngine(
      tf,
      data.savedModelDir as string,
      data.inputShape as [number, number, number],
    );
  }
  if (data.format === "onnx") throw new Error("an ONNX model runs on the onnxruntime engine only");
  const artifacts = data.artifacts as NonNullable<WorkerData["artifacts"]>;
  // The model is copied into the backend: drop this thread's copy of the weights.
  (data as Partial<WorkerData>).artifacts = undefined;
  return await createEngine(tf, artifacts, data.format, { fuse: data.fuse });
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
    port.on("message", async (msg: WorkerRequest) => {
      if (msg.type === "infer") {
        try {
          const t0 = performance.now();
          const probs = await engine.run(msg.input, msg.batch);
          const ms = performance.now() - t0;
          reply({ type: "result", id: msg.id, probs, ms }, [probs.buffer as ArrayBuffer]);
        } catch (err) {
          reply({ type: "error", id: msg.id, message: (err as Error).message ?? String(err) });
        }
      } else if (msg.type === "memory") {
        reply({ type: "memory", id: msg.id, ...engine.memory() });
      } else if (msg.type === "crash") {
        process.exit(70);
      }
    });
  },
  (err: unknown) => {
    reply({ type: "fatal", message: (err as Error).message ?? String(err) });
  },
);
