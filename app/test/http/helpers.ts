// Shared test helpers: a stub classifier (fast, no model), the upload images of the HTTP tests
// (from ../fixtures/images.ts), a multipart body builder (so tests send exactly the bytes they
// mean) and the requests that send them; a free port for a server process, and the server as one.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import { buildApp } from "../../src/app.js";
import type { ClassifierLike, Prediction } from "../../src/classifier-contract.js";
import { FOOD11_LABELS } from "../../src/inference/labels.js";
import type { ProbedImage } from "../../src/inference/probe.js";
import {
  garbageBytes,
  gifImage,
  makeImage,
  pixelBombPng,
  truncatedJpeg,
} from "../fixtures/images.js";

export const LABELS: readonly string[] = FOOD11_LABELS;

/** A TCP port free on 127.0.0.1 right now (for PORT / ADMIN_PORT of a server process). */
export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, "close");
  return port;
}

/**
 * The server as a process: `node --import tsx src/server.ts` (or `argv`) in app/, on free
 * 127.0.0.1 ports (PORT, ADMIN_PORT), `env` over this process's environment; its stdout and
 * stderr collected in `output()`. `ready(ms)` polls the admin listener's /readyz until 200, and
 * throws with the output when the server exits first or `ms` pass.
 */
export async function serverProcess(
  env: Record<string, string>,
  argv = ["--import", "tsx", path.join("src", "server.ts")],
) {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, argv, {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: "127.0.0.1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const collect = (d: Buffer) => {
    out += d;
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const admin = `http://127.0.0.1:${adminPort}`;
  const ready = async (ms = 120_000) => {
    const deadline = Date.now() + ms;
    const status = () =>
      fetch(`${admin}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
    while ((await status()) !== 200) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`server not ready:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    child,
    port,
    adminPort,
    base: `http://127.0.0.1:${port}`,
    admin,
    exited: once(child, "exit") as Promise<[number | null, string | null]>,
    output: () => out,
    ready,
  };
}

export interface StubClassifier extends ClassifierLike {
  calls: number;
  /** Resolve or hold classify() calls: set to a promise to make them wait. */
  gate: Promise<void> | undefined;
  /** Throw this from classify() instead of answering. */
  fail: Error | undefined;
  closed: boolean;
}

/** A classifier that answers a fixed distribution: index i gets (i+1)/66, so Vegetable/Fruit wins. */
export function stubClassifier(): StubClassifier {
  const probs = LABELS.map((_, i) => (i + 1) / 66);
  const stub: StubClassifier = {
    calls: 0,
    gate: undefined,
    fail: undefined,
    closed: false,
    backend: "stub",
    inputSize: { width: 224, height: 224 },
    labels: LABELS,
    async classify(_image: Buffer | ProbedImage, topk = 5): Promise<Prediction> {
      stub.calls++;
      if (stub.gate) await stub.gate;
      if (stub.fail) throw stub.fail;
      const top = probs
        .map((probability, index) => ({ label: LABELS[index] as string, index, probability }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, topk);
      const best = top[0] as Prediction["top"][number];
      return {
        ...best,
        top,
        timings: { decodeMs: 1, preprocessMs: 2, queueMs: 0, inferenceMs: 3, totalMs: 6 },
      };
    },
    stats: () => ({ queueDepth: 0, inFlight: 0, workers: 1, queueMax: 4 }),
    async close() {
      stub.closed = true;
    },
  };
  return stub;
}

export const BODY_LIMIT = 256 * 1024;
export const MAX_PIXELS = 1_000_000;

/** buildApp with the tests' defaults (a stub classifier, "stub-model" v7, small limits, no
 * process metrics); not waited on (see stubApp). */
export function buildTestApp(opts: Partial<Parameters<typeof buildApp>[0]> = {}) {
  return buildApp({
    classifier: stubClassifier(),
    modelName: "stub-model",
    modelVersion: "7",
    preprocess: "unit",
    maxInputPixels: MAX_PIXELS,
    bodyLimitBytes: BODY_LIMIT,
    defaultMetrics: false,
    ...opts,
  });
}

/**
 * A test app over a real classifier of the demo model (its name, version and preprocessing; 1 MiB
 * bodies, 4096x4096 pixels), its model loaded. `opts` override.
 */
export async function demoApp(
  classifier: ClassifierLike,
  opts: Partial<Parameters<typeof buildApp>[0]> = {},
) {
  const app = await buildTestApp({
    classifier,
    modelName: "food11-mobilenetv2-demo",
    modelVersion: "demo",
    maxInputPixels: 4096 * 4096,
    bodyLimitBytes: 1024 * 1024,
    ...opts,
  });
  await app.modelLoaded;
  return app;
}

/** A test app whose model is loaded and warmed up. */
export async function stubApp(extra: { classifier?: ClassifierLike } = {}) {
  const classifier = extra.classifier ?? stubClassifier();
  const app = await buildTestApp({ classifier });
  await app.ready();
  await app.modelLoaded;
  return { app, classifier };
}

// ---- images ----

/** 96x64 JPEG, PNG and WebP, and the bad images of the HTTP tests. */
export const images = {
  jpeg: () => makeImage("jpeg"),
  png: () => makeImage("png"),
  webp: () => makeImage("webp"),
  /** A real JPEG cut in half: the header reads fine, the scan data ends early. */
  truncatedJpeg,
  /** A valid little PNG whose IHDR says 20000 x 20000 (400 MP): a decompression bomb's header. */
  pixelBombPng: () => pixelBombPng(20_000, 20_000),
  gif: gifImage,
  /** Bytes that are no image at all. */
  garbage: () => garbageBytes(2048),
};

// ---- multipart ----

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer | string;
}

export const BOUNDARY = "----food11TestBoundary7MA4YWxkTrZu0gW";

/** A multipart/form-data body with exactly the given parts. */
export function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += "\r\n";
    if (p.contentType) head += `Content-Type: ${p.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), Buffer.from(p.data), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
  };
}

/** POST `bytes` as a raw body of `type` (default a JPEG to /predict). */
export function postRaw(
  app: FastifyInstance,
  bytes: Buffer,
  type = "image/jpeg",
  url = "/predict",
) {
  return app.inject({ method: "POST", url, headers: { "content-type": type }, payload: bytes });
}

/** POST `bytes` as the multipart field `file` (a JPEG by default). */
export function postFile(
  app: FastifyInstance,
  bytes: Buffer,
  url = "/predict",
  type = "image/jpeg",
) {
  return app.inject({
    method: "POST",
    url,
    ...multipart([{ name: "file", filename: "a.jpg", contentType: type, data: bytes }]),
  });
}

/**
 * What every engine answers to a truncated JPEG: 400 corrupt_image from the real decoder, and the
 * next request served.
 */
export async function expectCorruptImageRefused(app: FastifyInstance): Promise<void> {
  const res = await postRaw(app, await images.truncatedJpeg());
  expect(res.statusCode).toBe(400);
  expect(res.json()).toMatchObject({ statusCode: 400, code: "corrupt_image" });
  expect((await app.inject("/test")).statusCode).toBe(200);
}

/**
 * What every engine answers to more requests at once than its queue holds (`n` JPEGs): each a 200
 * or a 503 overloaded with Retry-After 1 at once, at least one of each, and then /test served.
 */
export async function expectQueueOverflow(app: FastifyInstance, n = 12): Promise<void> {
  const jpeg = await images.jpeg();
  const results = await Promise.all(Array.from({ length: n }, () => postRaw(app, jpeg)));
  const ok = results.filter((r) => r.statusCode === 200);
  const full = results.filter((r) => r.statusCode === 503);
  expect(ok.length + full.length).toBe(n);
  expect(ok.length).toBeGreaterThanOrEqual(1);
  expect(full.length).toBeGreaterThanOrEqual(1);
  for (const r of full) {
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.json()).toMatchObject({ statusCode: 503, code: "overloaded" });
  }
  expect((await app.inject("/test")).statusCode).toBe(200);
}
