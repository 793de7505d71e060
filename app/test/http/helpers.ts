// Shared test helpers: a stub classifier (fast, no model), generated images (real JPEG/PNG/WebP
// bytes made with sharp, a truncated JPEG, a PNG whose header claims a pixel bomb) and a
// multipart body builder (so tests send exactly the bytes they mean).
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { buildApp } from "../../src/app.js";
import type { ClassifierLike, Prediction } from "../../src/classifier-contract.js";
import { FOOD11_LABELS } from "../../src/inference/labels.js";

export const LABELS: readonly string[] = FOOD11_LABELS;

/** Same names as app/src/inference/errors.ts, so the HTTP layer maps them alike. */
export class QueueFullError extends Error {
  override name = "QueueFullError";
  readonly statusCode = 503;
  readonly code = "QUEUE_FULL";
  readonly retryAfterSeconds = 2;
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
    async classify(_image: Buffer, topk = 5): Promise<Prediction> {
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

export async function stubApp(extra: { classifier?: ClassifierLike } = {}) {
  const classifier = extra.classifier ?? stubClassifier();
  const app = await buildApp({
    classifier,
    modelName: "stub-model",
    modelVersion: "7",
    preprocess: "unit",
    maxInputPixels: MAX_PIXELS,
    bodyLimitBytes: BODY_LIMIT,
    defaultMetrics: false,
  });
  await app.ready();
  await app.modelLoaded;
  return { app, classifier };
}

// ---- images ----

/** A deterministic 96x64 test pattern. */
function pattern(width = 96, height = 64) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 255) / width;
      data[o + 1] = (y * 255) / height;
      data[o + 2] = ((x + y) * 3) % 256;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

export const images = {
  jpeg: () => pattern().jpeg({ quality: 90 }).toBuffer(),
  png: () => pattern().png().toBuffer(),
  webp: () => pattern().webp({ quality: 90 }).toBuffer(),
  /** A real JPEG cut in half: the header reads fine, the scan data ends early. */
  truncatedJpeg: async () => {
    const full = await pattern(256, 256).jpeg({ quality: 95 }).toBuffer();
    return full.subarray(0, Math.floor(full.length / 2));
  },
  /** A valid little PNG whose IHDR says 20000 x 20000 (400 MP): a decompression bomb's header. */
  pixelBombPng: () => {
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      return Buffer.concat([len, body, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20_000, 0);
    ihdr.writeUInt32BE(20_000, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 0; // greyscale
    // one row of zeros, deflated: the rest would be too, which is what makes bombs small
    const idat = deflateSync(Buffer.alloc(20_001));
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr),
      chunk("IDAT", idat),
      chunk("IEND", Buffer.alloc(0)),
    ]);
  },
  gif: () =>
    sharp({ create: { width: 8, height: 8, channels: 3, background: "#f00" } })
      .gif()
      .toBuffer(),
  /** Bytes that are no image at all. */
  garbage: () => randomBytesSeeded(2048),
};

function randomBytesSeeded(n: number): Buffer {
  // deterministic "random" bytes that cannot start with an image signature
  const b = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x & 0xff;
  }
  b[0] = 0x42;
  return b;
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

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
