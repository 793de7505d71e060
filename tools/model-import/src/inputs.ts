/**
 * The verification's fixed inputs: generated images (gradients, stripes, checkers, noise, colour
 * fields, at sizes from 40 to 400 pixels, so the resize is exercised) plus the image the server
 * bundles (app/assets/test.jpg), each decoded and normalised by the server's own stages
 * (app/src/inference/decode.ts, normalize.ts) into the model's float32 input. Same inputs on every
 * run: the images are seeded and lossless (PNG).
 */
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { TEST_IMAGE_PATH } from "../../../app/src/config.js";
import { decodeImage } from "../../../app/src/inference/decode.js";
import { normalize, type PreprocessMode } from "../../../app/src/inference/normalize.js";
import { childRandom } from "../../strategy-bench/src/random.js";

/** Generated images; with app/assets/test.jpg the verification runs on GENERATED + 1 inputs. */
const GENERATED = 47;
const SEED = 27;

export interface VerificationInputs {
  /** The encoded images (what the server's classifier takes). */
  images: { name: string; bytes: Buffer }[];
  /** Their model inputs, NHWC float32, one after another (what the reference takes). */
  floats: Float32Array;
}

/** One generated picture, raw RGB bytes of width x height: pattern `kind` with seeded parameters. */
function pattern(i: number, width: number, height: number): Buffer {
  const r = childRandom(SEED, i);
  const kind = i % 6;
  const c0 = [r() * 255, r() * 255, r() * 255];
  const c1 = [r() * 255, r() * 255, r() * 255];
  const period = 4 + Math.floor(r() * 40);
  const angle = r() * Math.PI;
  const buf = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x * Math.cos(angle) + y * Math.sin(angle);
      let t: number;
      if (kind === 0)
        t = (x / width + y / height) / 2; // gradient
      else if (kind === 1)
        t = 0.5 + 0.5 * Math.sin((2 * Math.PI * u) / period); // stripes
      else if (kind === 2)
        t = ((Math.floor(x / period) + Math.floor(y / period)) & 1) as number; // checker
      else if (kind === 3)
        t = r(); // noise
      else if (kind === 4)
        t = (Math.hypot(x - width / 2, y - height / 2) / Math.hypot(width, height)) * 2; // rings
      else t = 0.15 * r(); // a colour field with a little noise
      for (let c = 0; c < 3; c++) {
        const v = (c0[c] as number) * (1 - t) + (c1[c] as number) * t;
        buf[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return buf;
}

/** The inputs for a model of input size width x height fed `mode`. */
export async function verificationInputs(
  width: number,
  height: number,
  mode: PreprocessMode,
): Promise<VerificationInputs> {
  const images: VerificationInputs["images"] = [];
  for (let i = 0; i < GENERATED; i++) {
    const r = childRandom(SEED + 1, i);
    const w = 40 + Math.floor(r() * 360);
    const h = 40 + Math.floor(r() * 360);
    const bytes = await sharp(pattern(i, w, h), { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toBuffer();
    images.push({ name: `generated-${String(i).padStart(2, "0")} (${w}x${h})`, bytes });
  }
  images.push({ name: "app/assets/test.jpg", bytes: await readFile(TEST_IMAGE_PATH) });
  const size = width * height * 3;
  const floats = new Float32Array(images.length * size);
  for (const [i, img] of images.entries()) {
    const { rgb } = await decodeImage(img.bytes, width, height);
    normalize(rgb, mode, floats, i * size);
  }
  return { images, floats };
}
