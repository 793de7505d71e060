/**
 * bench:peer's figures: what a run measured (measure.ts), renders (render.ts) and saves to
 * runs/bench-peer/<time>.json, which `--render` reads back.
 */
import type { TimedCalls } from "../../tools/strategy-bench/src/benchkit.js";
import type { MemoryMap } from "../../tools/strategy-bench/src/proc.js";
import type { Agreement, EngineAgreement } from "./agreement";

/** An engine alone, no HTTP (tfjs-raw.ts, onnx-raw.ts): batches of `batch`, and one image per call. */
interface RawRun {
  batch: number;
  intraOpThreads: string;
  predictBatch: TimedCalls;
  predictSingle: TimedCalls;
}

/** ONNX Runtime alone (onnx-raw.ts): also its peak RSS and CPU-ms per image (absent in older runs). */
interface OnnxRawRun extends RawRun {
  peakRssMiB: number;
  cpuMsPerImage?: number;
}

export interface Report {
  startedAt: string;
  finishedAt: string;
  machine: { nproc: number; cpu: string; memGiB: number; loadBefore: string; loadAfter: string };
  versions: Record<string, string>;
  scale: number;
  /** The flags as given (absent in runs before they were recorded; soak and serversOnly later). */
  flags?: { peers: string; ours: string; soak?: number; serversOnly?: boolean };
  /**
   * Keras alone (ceiling.py, which also prints its versions and threads): `model.predict` on
   * batches of `batch`, `predict_on_batch` on the same, `model.predict` on one image per call.
   */
  ceiling?: {
    batch: number;
    predictBatch: TimedCalls;
    predictOnBatch: TimedCalls;
    predictSingle: TimedCalls;
  };
  /** tfjs-node alone (tfjs-raw.ts). */
  tfjsRaw?: RawRun;
  /** ONNX Runtime on the same weights (onnx-raw.ts); absent in runs before it existed. */
  onnxRaw?: OnnxRawRun;
  /** The same on the server's own model.onnx (onnx-export.ts); absent before issue 28. */
  onnxRawOurs?: OnnxRawRun;
  /** Ours on ONNX Runtime against ours on tfjs-node, on the agreement set (issue 28). */
  engines?: EngineAgreement;
  tfjsNode: { ok: boolean; why: string };
  servers: ServerResult[];
}

export interface Level {
  concurrency: number;
  requests: number;
  ok: number;
  /** Requests autocannon wrote (see load()). */
  sent: number;
  failed: number;
  seconds: number;
  reqPerSec: number;
  /** Mean of autocannon's per-request latencies, ms. */
  mean?: number;
  p50: number;
  p95: number;
  p99: number;
  peakRssMiB: number;
  cpuSecondsPerRequest: number;
  /** CPU time of this driver process (autocannon: the load generator) per request served. */
  driverCpuSecondsPerRequest?: number;
  /**
   * Ours only: mean milliseconds per image in each stage over the level, from the server's own
   * /metrics (inference_duration_seconds{stage}, and http_request_duration_seconds of GET /test
   * as `http`): where an image's time goes between the socket and the forward pass.
   */
  stagesMs?: Record<string, number>;
}

export interface ServerResult {
  id: string;
  label: string;
  kind: string;
  backend: string;
  startupSeconds: number;
  /** Sum over the process tree of each process' VmHWM at the end of the run. */
  peakRssMiB: number;
  levels: Level[];
  /**
   * Where the tree's resident memory is (bytes by group, benchkit's memoryMapOf): after the
   * warm-up, and once the last level's requests are served.
   */
  memoryMap?: { idle: MemoryMap; afterLoad: MemoryMap };
  /** --soak: its parts at c=20, one after the other, after the levels. */
  soak?: Level[];
  agreement?: Agreement;
  error?: string;
}
