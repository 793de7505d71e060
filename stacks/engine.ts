/**
 * `food11:inferenceEngine` (issue 28), in one place: what runs the model, and so which image is
 * built and what the server is told.
 *
 * | inferenceEngine       | image (app/Dockerfile build args)              | TFJS_BACKEND        |
 * |-----------------------|------------------------------------------------|---------------------|
 * | tensorflow (default)  | LIBTENSORFLOW = imageLibtensorflow (tfjs-node) | tfjsBackend (auto)  |
 * | wasm                  | LIBTENSORFLOW=none (tfjs, no tfjs-node)        | wasm                |
 * | onnxruntime           | ENGINE=onnxruntime LIBTENSORFLOW=none (no tfjs) | onnxruntime        |
 *
 * `tfjsBackend`, the older key, still chooses tfjs' backend on the tensorflow engine (its `wasm` is
 * the wasm engine, as before); set against another engine it is refused, naming both keys. Pure:
 * settings.ts calls it.
 */
import type { FlatConfig } from "./schema";

/** The engines a stack may choose. */
export const INFERENCE_ENGINES = ["tensorflow", "onnxruntime", "wasm"] as const;
export type InferenceEngine = (typeof INFERENCE_ENGINES)[number];

/** What the engine selects: the server's TFJS_BACKEND and the image's engine build args. */
export interface EngineChoice {
  backend: "auto" | "tensorflow" | "wasm" | "onnxruntime";
  buildArgs: { LIBTENSORFLOW: string; ENGINE?: "onnxruntime" };
  /** A contradiction between inferenceEngine and tfjsBackend, with the fix (key: tfjsBackend). */
  problem?: string;
}

export function engineChoice(
  c: Pick<FlatConfig, "inferenceEngine" | "tfjsBackend" | "imageLibtensorflow">,
  fix: (key: "tfjsBackend" | "inferenceEngine", value: string) => string,
  rm: (key: "tfjsBackend") => string,
): EngineChoice {
  const engine = c.inferenceEngine;
  if (engine === "onnxruntime") {
    return {
      backend: "onnxruntime",
      buildArgs: { LIBTENSORFLOW: "none", ENGINE: "onnxruntime" },
      ...(c.tfjsBackend !== "auto"
        ? {
            problem: `tfjsBackend ${c.tfjsBackend} chooses a tfjs backend, but inferenceEngine onnxruntime runs no tfjs. Fix: ${rm("tfjsBackend")} (or ${fix("inferenceEngine", c.tfjsBackend)})`,
          }
        : {}),
    };
  }
  if (engine === "wasm" || c.tfjsBackend === "wasm") {
    return {
      backend: "wasm",
      buildArgs: { LIBTENSORFLOW: "none" },
      ...(engine === "wasm" && c.tfjsBackend === "tensorflow"
        ? {
            problem: `tfjsBackend tensorflow asks for tfjs-node, but inferenceEngine wasm builds the image without it. Fix: ${rm("tfjsBackend")} (or ${fix("inferenceEngine", "tensorflow")})`,
          }
        : {}),
    };
  }
  return { backend: c.tfjsBackend, buildArgs: { LIBTENSORFLOW: c.imageLibtensorflow } };
}
