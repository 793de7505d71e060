/**
 * The tfjs namespace an engine runs on, typed as the whole `@tensorflow/tfjs`: tfjs-node, or
 * tfjs-core with the WASM or CPU backend plus the layers and converter loaders (worker.ts builds
 * it). infer.ts and fuse.ts take it as a parameter.
 */
import type * as tfTypes from "@tensorflow/tfjs";

export type Tf = typeof tfTypes;
