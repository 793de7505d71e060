/**
 * bench:peer, stage 2: the agreement check. The same generated images through both servers'
 * POST /predict: same top-1 label, probabilities within a tolerance.
 */
import sharp from "sharp";
import { AGREEMENT_TOLERANCE, agrees, compareOutputs } from "../../app/src/inference/agreement.js";
import { FOOD11_LABELS } from "../../app/src/inference/labels.js";
import { FormData, fetch } from "../../tools/strategy-bench/src/http.js";
import { seededRandom } from "../../tools/strategy-bench/src/random.js";

/**
 * Largest absolute difference allowed between the two servers' probabilities for one class: on
 * 224x224 PNG images (no resize, lossless decode: the model alone), and on images both servers
 * must resize (sharp's and PIL's bicubic differ slightly, and so do JPEG decoders).
 */
const EXACT_TOLERANCE = 1e-3;
const RESIZED_TOLERANCE = 0.1;
export const AGREEMENT_IMAGES = 24;

export interface Sample {
  name: string;
  type: string;
  bytes: Buffer;
  /** 224x224 PNG: no resize, lossless decode, so both servers feed the model the same pixels. */
  exact: boolean;
}

/** Deterministic test images: smooth random colour fields plus noise, various sizes, PNG and JPEG. */
export async function makeImages(n: number): Promise<Sample[]> {
  const sizes = [
    [224, 224],
    [320, 240],
    [640, 480],
    [224, 224],
    [240, 360],
    [1024, 768],
    [500, 375],
    [224, 224],
  ] as const;
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const rnd = seededRandom(1000 + i);
    const [w, h] = sizes[i % sizes.length] as readonly [number, number];
    const waves = Array.from({ length: 3 }, () =>
      Array.from({ length: 3 }, () => ({
        fx: (rnd() * 6 + 0.5) / w,
        fy: (rnd() * 6 + 0.5) / h,
        ph: rnd() * 2 * Math.PI,
        amp: 40 + rnd() * 60,
      })),
    );
    const base = [rnd() * 255, rnd() * 255, rnd() * 255];
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let c = 0; c < 3; c++) {
          let v = base[c] as number;
          for (const wv of waves[c] ?? []) {
            v += wv.amp * Math.sin(2 * Math.PI * (wv.fx * x + wv.fy * y) + wv.ph);
          }
          v += (rnd() - 0.5) * 30;
          raw[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
    const png = i % 2 === 0 || (w === 224 && h === 224);
    const bytes = png ? await img.png().toBuffer() : await img.jpeg({ quality: 92 }).toBuffer();
    out.push({
      name: `gen-${i}-${w}x${h}.${png ? "png" : "jpg"}`,
      type: png ? "image/png" : "image/jpeg",
      bytes,
      exact: png && w === 224 && h === 224,
    });
  }
  return out;
}

/** One image's 11 probabilities from a server's POST /predict (ours: ?topk=11, original: all). */
export async function predictProbabilities(
  server: { id: string; kind: string; base: string },
  s: Sample,
): Promise<number[]> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(s.bytes)], { type: s.type }), s.name);
  const url =
    server.kind === "ours"
      ? `${server.base}/predict?topk=${FOOD11_LABELS.length}`
      : `${server.base}/predict`;
  const res = await fetch(url, { method: "POST", body: form });
  if (!res.ok)
    throw new Error(`${server.id} /predict ${s.name}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    probabilities?: number[];
    top?: { index: number; probability: number }[];
  };
  if (body.probabilities) return body.probabilities;
  const probs = new Array<number>(FOOD11_LABELS.length).fill(0);
  for (const t of body.top ?? []) probs[t.index] = t.probability;
  return probs;
}

export interface AgreementPart {
  images: number;
  sameTop1: number;
  /** Images whose top-1 differs but whose reference top-2 margin is within the tolerance. */
  nearTies: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  tolerance: number;
  ok: boolean;
}

export interface Agreement {
  exact: AgreementPart;
  resized: AgreementPart;
  ok: boolean;
}

/**
 * `got` against `ref` by app/'s comparison (compareOutputs: top-1, largest difference), plus
 * what the server check reports beside it: near-ties (a top-1 that differs where the reference's
 * top-2 margin is within `tolerance`) and the mean difference.
 */
function comparePart(ref: number[][], got: number[][], tolerance: number): AgreementPart {
  const c = compareOutputs(ref.flat(), got.flat(), ref[0]?.length ?? 0);
  const nearTies = c.rows.filter((r, i) => {
    if (r.top1[0] === r.top1[1]) return false;
    const sorted = [...(ref[i] as number[])].sort((a, b) => b - a);
    return (sorted[0] as number) - (sorted[1] as number) <= tolerance;
  }).length;
  const diffs = ref.flatMap((p, i) => p.map((v, k) => Math.abs(v - (got[i]?.[k] as number))));
  return {
    images: ref.length,
    sameTop1: c.top1Agree,
    nearTies,
    maxAbsDiff: c.maxAbsDiff,
    meanAbsDiff: diffs.reduce((a, d) => a + d, 0) / Math.max(1, diffs.length),
    tolerance,
    ok: c.top1Agree + nearTies === ref.length && c.maxAbsDiff <= tolerance,
  };
}

export function compare(images: Sample[], ref: number[][], got: number[][]): Agreement {
  const pick = (exact: boolean, rows: number[][]) =>
    rows.filter((_, i) => images[i]?.exact === exact);
  const exact = comparePart(pick(true, ref), pick(true, got), EXACT_TOLERANCE);
  const resized = comparePart(pick(false, ref), pick(false, got), RESIZED_TOLERANCE);
  return { exact, resized, ok: exact.ok && resized.ok };
}

/** ONNX Runtime's answers against tfjs-node's on the agreement set (issue 28: the same predictions). */
export interface EngineAgreement {
  images: number;
  sameTop1: number;
  maxAbsDiff: number;
  /** Issue 28's bound: every probability within AGREEMENT_TOLERANCE (1e-4). */
  tolerance: number;
  ok: boolean;
}

/**
 * `got`'s answers against `ref`'s, image by image, by the rule every converted model is checked
 * with (app/src/inference/agreement.ts): top-1 on every one, probabilities within 1e-4.
 */
export function compareEngines(ref: number[][], got: number[][]): EngineAgreement {
  const c = compareOutputs(ref.flat(), got.flat(), ref[0]?.length ?? 0);
  const tolerance = AGREEMENT_TOLERANCE;
  return {
    images: ref.length,
    sameTop1: c.top1Agree,
    maxAbsDiff: c.maxAbsDiff,
    tolerance,
    ok: agrees(c, ref.length, tolerance),
  };
}
