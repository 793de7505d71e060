#!/usr/bin/env node
// Does @tensorflow/tfjs-node load from the current directory's node_modules, on the tensorflow
// backend, and compute? Exit 0 and one line saying so; else exit 1 with why and how to fix it.
// With LIBTENSORFLOW=none (the WASM image, built without tfjs-node) or ENGINE=onnxruntime (the ONNX
// Runtime image, without tfjs) it only says so and exits 0.
// Run by app/Dockerfile's runtime stage (an exec-form RUN: the image has no shell; the image's
// build fails when tfjs-node does not load) and by scripts/tfjs-node-local.sh after a host install.
"use strict";
const { createRequire } = require("node:module");
const path = require("node:path");

const requireHere = createRequire(path.join(process.cwd(), "package.json"));
const source = process.env.LIBTENSORFLOW ? ` (LIBTENSORFLOW=${process.env.LIBTENSORFLOW})` : "";
if (process.env.ENGINE === "onnxruntime") {
  console.log("ENGINE=onnxruntime: no tfjs-node, the server runs on ONNX Runtime");
  process.exit(0);
}
if (process.env.LIBTENSORFLOW === "none") {
  console.log("LIBTENSORFLOW=none: no tfjs-node, the server runs on WASM");
  process.exit(0);
}
try {
  const tf = requireHere("@tensorflow/tfjs-node");
  if (tf.getBackend() !== "tensorflow") throw new Error(`the backend is ${tf.getBackend()}`);
  const y = tf
    .tensor2d([
      [1, 2],
      [3, 4],
    ])
    .matMul(tf.tensor2d([[5], [6]]))
    .dataSync();
  if (y[0] !== 17 || y[1] !== 39) throw new Error(`matMul gave ${Array.from(y)}, not 17,39`);
  const v = tf.version ?? {};
  console.log(
    `tfjs-node loads${source}: backend tensorflow, tfjs-node ${v["tfjs-node"] ?? "?"}, TensorFlow ${tf.backend().binding?.TF_Version ?? "?"}`,
  );
} catch (err) {
  const why = String(err?.message ?? err).split("\n")[0];
  console.error(
    [
      `tfjs-node does not load${source}: ${why}`,
      "Why: @tensorflow/tfjs-node's install downloads libtensorflow from storage.googleapis.com; where that host",
      "cannot be reached (blocked networks, TLS-intercepting proxies) npm keeps the package without its library.",
      "Fix: take libtensorflow from PyPI's tensorflow-cpu wheel instead:",
      "  image: docker build --build-arg LIBTENSORFLOW=wheel ...   (stack: pulumi config set food11:imageLibtensorflow wheel)",
      "  host:  npm run tfjs-node:local",
      "or serve on WASM: --build-arg LIBTENSORFLOW=none   (stack: pulumi config set food11:tfjsBackend wasm)",
    ].join("\n"),
  );
  process.exit(1);
}
