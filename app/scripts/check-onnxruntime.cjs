#!/usr/bin/env node
// Does onnxruntime-node load from the current directory's node_modules, and does the baked model
// (/app/model/model.onnx, or $CHECK_ONNX_MODEL) run on its CPU execution provider? Exit 0 and one
// line saying so; else exit 1 with why. Only with ENGINE=onnxruntime (app/Dockerfile's ONNX Runtime
// image); any other image only says it has no ONNX Runtime and exits 0. Run by app/Dockerfile's
// runtime stage, an exec-form RUN (the image has no shell): the image's build fails when it fails.
// Without a baked model (MODEL_URL) only the binding is checked.
"use strict";
const { createRequire } = require("node:module");
const fs = require("node:fs");
const path = require("node:path");

if (process.env.ENGINE !== "onnxruntime") {
  console.log(`ENGINE=${process.env.ENGINE || "tfjs"}: no ONNX Runtime in this image`);
  process.exit(0);
}
const requireHere = createRequire(path.join(process.cwd(), "package.json"));
const model = process.env.CHECK_ONNX_MODEL || "/app/model/model.onnx";

async function main() {
  const ort = requireHere("onnxruntime-node");
  const version = ort.env.versions.node;
  if (!fs.existsSync(model)) {
    console.log(`onnxruntime-node ${version} loads; no ${model} baked in (MODEL_URL): not run`);
    return;
  }
  const session = await ort.InferenceSession.create(model, { executionProviders: ["cpu"] });
  const meta = session.inputMetadata[0];
  const dims = meta.shape.map((d) => (typeof d === "number" && d > 0 ? d : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  const out = await session.run({
    [session.inputNames[0]]: new ort.Tensor("float32", new Float32Array(size), dims),
  });
  const y = out[session.outputNames[0]];
  const finite = Array.from(y.data).every(Number.isFinite);
  if (!finite) throw new Error(`${model} gave non-finite outputs`);
  console.log(
    `onnxruntime-node ${version} loads (CPU); ${model} runs: input ${JSON.stringify(meta.shape)} -> output ${JSON.stringify(y.dims)}`,
  );
  await session.release();
}

main().catch((err) => {
  console.error(
    [
      `ONNX Runtime does not work in this image (ENGINE=onnxruntime): ${String(err?.message ?? err).split("\n")[0]}`,
      "Why: onnxruntime-node ships its CPU binaries for linux x64/arm64 (glibc) inside the npm package; a",
      "missing platform, a pruned binary or a model.onnx that is not an NHWC float32 image classifier stops here.",
      "Fix: build on linux/amd64 or linux/arm64 with a Debian-based NODE_IMAGE, or serve with tfjs (ENGINE=tfjs,",
      "stack: pulumi config set food11:inferenceEngine tensorflow).",
    ].join("\n"),
  );
  process.exit(1);
});
