/**
 * The pure helpers the measurement tools reuse: Kubernetes quantities and the container budget
 * derived from the limits (INFERENCE_THREADS, NODE_OPTIONS).
 */
import { describe, expect, it } from "vitest";
import {
  cpuMillicores,
  heapMiB,
  inferenceThreads,
  isQuantity,
  memoryBytes,
  quantityValue,
  runtimeBudgetEnv,
} from "../../../components";
import { readStackFile, runtimeEnv } from "../../../stacks";

describe("Kubernetes quantities", () => {
  it.each([
    ["2", 2],
    ["500m", 0.5],
    ["1.5", 1.5],
    ["4Gi", 4 * 2 ** 30],
    ["4.5Gi", 4.5 * 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["1k", 1000],
    ["1e3", 1000],
    ["2M", 2e6],
    [".5", 0.5],
  ])("%s = %d", (text, value) => {
    expect(isQuantity(text)).toBe(true);
    expect(quantityValue(text)).toBe(value);
  });

  it.each(["", "3 cores", "6GB", "Gi", "1.2.3", "-", "4gi", "0x10"])("rejects %j", (text) => {
    expect(isQuantity(text)).toBe(false);
    expect(() => quantityValue(text)).toThrow(`"${text}" is not a Kubernetes quantity`);
  });

  it("rounds CPU up to whole millicores and memory up to whole bytes", () => {
    expect(cpuMillicores("0.1")).toBe(100);
    expect(cpuMillicores("0.0001")).toBe(1);
    expect(cpuMillicores("1500m")).toBe(1500);
    expect(memoryBytes("4.5Gi")).toBe(4_831_838_208);
    expect(memoryBytes("0.5")).toBe(1);
  });
});

describe("runtime budget from the limits", () => {
  it("gives ceil(limits.cpu) inference threads, at least one", () => {
    expect(inferenceThreads("3")).toBe(3);
    expect(inferenceThreads("2")).toBe(2);
    expect(inferenceThreads("1500m")).toBe(2);
    expect(inferenceThreads("250m")).toBe(1);
  });

  it("gives the Node heap half of limits.memory, in whole MiB", () => {
    expect(heapMiB("4Gi")).toBe(2048);
    expect(heapMiB("6Gi")).toBe(3072);
    expect(heapMiB("5Gi")).toBe(2560);
    expect(heapMiB("1000M")).toBe(476);
  });

  it("renders INFERENCE_THREADS and NODE_OPTIONS", () => {
    expect(runtimeBudgetEnv({ cpuLimit: "3", memoryLimit: "6Gi" })).toEqual({
      INFERENCE_THREADS: "3",
      NODE_OPTIONS: "--max-old-space-size=3072",
    });
  });

  it.each([
    ["baseline", "2", "--max-old-space-size=2048"],
    ["strategy1", "3", "--max-old-space-size=3072"],
    ["strategy2", "2", "--max-old-space-size=2560"],
  ])("runtimeEnv(readStackFile(%s)) fits the strategy's limits", (stack, threads, nodeOptions) => {
    expect(runtimeEnv(readStackFile(stack))).toEqual({
      PORT: "8080",
      ADMIN_PORT: "8081",
      HOST: "0.0.0.0",
      UPLOAD_PAGE: "true",
      MODEL_NAME: "food11-mobilenetv2",
      MODEL_VERSION: "1",
      // no PREPROCESS: food11:preprocess auto, the model's manifest.json decides
      TFJS_BACKEND: "auto",
      INFERENCE_THREADS: threads,
      NODE_OPTIONS: nodeOptions,
      SHUTDOWN_GRACE_SECONDS: "20",
      SHUTDOWN_DELAY_SECONDS: "5",
      LOG_LEVEL: "info",
    });
  });
});
