/**
 * An inference worker's start is bounded: one not ready in time is terminated and its start
 * rejected (the server then exits and is restarted), instead of a process that is never ready.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wasmBinariesDir } from "../../src/inference/backend.js";
import { loadFromDir } from "../../src/inference/model-io.js";
import type { WorkerData } from "../../src/inference/protocol.js";
import { WorkerExecutor } from "../../src/inference/worker-pool.js";
import { writeTinyLayersModel } from "../fixtures/models.js";

let tmp: string;
let data: WorkerData;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "food11-worker-start-"));
  const loaded = await loadFromDir(await writeTinyLayersModel(path.join(tmp, "layers")));
  data = {
    artifacts: loaded.artifacts,
    format: loaded.format,
    backend: "wasm",
    fuse: false,
    wasmDir: wasmBinariesDir(),
  };
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe("WorkerExecutor.start", () => {
  it("rejects, naming the bound, when the worker is not ready in time", async () => {
    await expect(WorkerExecutor.start(data, () => {}, 5)).rejects.toThrow(
      "inference worker not ready after 0.005 s: terminated",
    );
  });

  it("resolves with the engine's description when it is", async () => {
    const { exec, meta } = await WorkerExecutor.start(data, () => {});
    expect(meta).toMatchObject({ inputShape: [32, 32, 3], classes: 11 });
    expect(exec.alive).toBe(true);
    await exec.close();
  });
});
