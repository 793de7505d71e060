/**
 * The server's folder (app/) as the benchmarks use it: its bundled test image, and its own
 * packages. The root package does not depend on tfjs-node or onnxruntime-node, and a benchmark
 * must run the very copies the server runs (sharp's concurrency, say, is per copy).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export const APP = path.resolve(__dirname, "..", "app");
/** The image the server's `GET /test` classifies (app/assets/test.jpg). */
export const TEST_JPG = path.join(APP, "assets", "test.jpg");
/** `require` from app/: its node_modules. */
export const appRequire = createRequire(path.join(APP, "package.json"));

/** The version of app/'s copy of the package `name`; "absent" where it is not installed. */
export function appPackageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(path.join(APP, "node_modules", name, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
  } catch {
    return "absent";
  }
}
