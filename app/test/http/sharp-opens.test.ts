// No request opens its image with sharp more than twice: once to probe its header (the route,
// before the classifier admits it), once to decode it. Every sharp() call in this process is
// counted, through the real routes and the real classifier (a tiny LayersModel on WASM).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Classifier } from "../../src/inference/classifier.js";
import { wasmClassifier, writeTinyLayersModel } from "../fixtures/models.js";
import { buildTestApp, images, postFile, postRaw } from "./helpers.js";

const opened = vi.hoisted(() => ({ count: 0 }));
vi.mock("sharp", async (importOriginal) => {
  const mod = await importOriginal<typeof import("sharp")>();
  const counted = new Proxy(mod.default, {
    apply(target, self, args) {
      opened.count++;
      return Reflect.apply(target, self, args);
    },
    construct(target, args) {
      opened.count++;
      return Reflect.construct(target, args);
    },
  });
  return { ...mod, default: counted };
});

let tmp: string;
let classifier: Classifier;
let app: FastifyInstance;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "sharp-opens-"));
  const modelDir = await writeTinyLayersModel(path.join(tmp, "layers"));
  classifier = await wasmClassifier(modelDir);
  app = await buildTestApp({ classifier });
  await app.modelLoaded;
});
afterAll(async () => {
  await app?.close();
  await classifier?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** sharp() calls made while `request` runs. */
async function opens(request: () => Promise<{ statusCode: number }>, status = 200) {
  opened.count = 0;
  const res = await request();
  expect(res.statusCode).toBe(status);
  return opened.count;
}

describe("sharp opens a request's image at most twice", () => {
  it("a JPEG, a PNG and a WebP upload: probe + decode, 2 each", async () => {
    const [jpeg, png, webp] = await Promise.all([images.jpeg(), images.png(), images.webp()]);
    expect(await opens(() => postRaw(app, jpeg))).toBe(2);
    expect(await opens(() => postRaw(app, png, "image/png"))).toBe(2);
    expect(await opens(() => postFile(app, jpeg))).toBe(2);
    expect(await opens(() => postFile(app, webp, "/predict", "image/webp"))).toBe(2);
  });

  it("GET /test: the bundled image is probed once, then only decoded", async () => {
    expect(await opens(() => app.inject("/test"))).toBe(2);
    expect(await opens(() => app.inject("/test"))).toBe(1);
  });

  it("bad images stop at the first stage that finds them", async () => {
    const [bomb, truncated, garbage] = [
      images.pixelBombPng(),
      await images.truncatedJpeg(),
      images.garbage(),
    ];
    expect(await opens(() => postRaw(app, bomb, "image/png"), 413)).toBe(1);
    expect(await opens(() => postRaw(app, truncated), 400)).toBe(2);
    expect(await opens(() => postRaw(app, garbage, "application/octet-stream"), 415)).toBe(0);
  });
});
