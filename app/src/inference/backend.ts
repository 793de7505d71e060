/** Backend helpers: where the WASM binaries are, and loading the optional tfjs-node addon. */
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/** Directory of tfjs-backend-wasm's .wasm binaries (loaded from disk through a file path). */
export function wasmBinariesDir(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm"));
}

/** Resolves a path inside the tsx package (dev dependency; only needed when running .ts). */
export function tsxEsmApiPath(): string {
  return path.join(
    path.dirname(require.resolve("tsx/package.json")),
    "dist",
    "esm",
    "api",
    "index.mjs",
  );
}
