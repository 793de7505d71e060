import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os, { availableParallelism } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpuBudget, wasmBinariesDir } from "../../src/inference/backend.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "cgroup-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function cgroup(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(tmp, name);
  for (const [f, v] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), `${v}\n`);
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

describe("cpuBudget", () => {
  const cores = availableParallelism();

  it("uses the cgroup v2 quota, rounded up and capped by the cores", async () => {
    expect(cpuBudget(await cgroup("v2-half", { "cpu.max": "50000 100000" }))).toBe(1);
    expect(cpuBudget(await cgroup("v2-1.5", { "cpu.max": "150000 100000" }))).toBe(
      Math.min(cores, 2),
    );
    expect(cpuBudget(await cgroup("v2-64", { "cpu.max": "6400000 100000" }))).toBe(cores);
    expect(cpuBudget(await cgroup("v2-max", { "cpu.max": "max 100000" }))).toBe(cores);
  });

  it("uses the cgroup v1 cfs quota; no cgroup files means the cores", async () => {
    const v1 = await cgroup("v1", {
      "cpu/cpu.cfs_quota_us": "100000",
      "cpu/cpu.cfs_period_us": "100000",
    });
    expect(cpuBudget(v1)).toBe(1);
    const unlimited = await cgroup("v1-unlimited", {
      "cpu/cpu.cfs_quota_us": "-1",
      "cpu/cpu.cfs_period_us": "100000",
    });
    expect(cpuBudget(unlimited)).toBe(cores);
    expect(cpuBudget(path.join(tmp, "none"))).toBe(cores);
  });
});

describe("wasmBinariesDir", () => {
  it("holds the tfjs WASM binaries", () => {
    for (const f of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"]) {
      expect(existsSync(path.join(wasmBinariesDir(), f))).toBe(true);
    }
  });
});
