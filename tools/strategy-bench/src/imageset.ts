import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { FOOD11_LABELS } from "./labels.js";
import { childRandom } from "./random.js";

export interface ImageSetOptions {
  dir: string;
  /** Number of classes (file names `<classIndex>_<n>.jpg`, Food-11's layout). */
  classes: number;
  perClass: number;
  /** Side of the square images, pixels. */
  size?: number;
  seed?: number;
}

/**
 * A small deterministic labeled image set in Food-11's layout: class k is a colour field of hue
 * k/classes with seeded noise and a few seeded stripes, so images of one class look alike. Same
 * options, same bytes. For demos and tests: it exercises the pipeline, it is not food.
 */
export async function generateImageSet(opts: ImageSetOptions): Promise<string[]> {
  const size = opts.size ?? 96;
  const seed = opts.seed ?? 11;
  await mkdir(opts.dir, { recursive: true });
  const files: string[] = [];
  for (let k = 0; k < opts.classes; k++) {
    const [r0, g0, b0] = hueToRgb(k / opts.classes);
    for (let n = 0; n < opts.perClass; n++) {
      const rand = childRandom(seed, k, n);
      const px = Buffer.alloc(size * size * 3);
      const stripe = 4 + Math.floor(rand() * 12);
      const phase = Math.floor(rand() * stripe);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const band = Math.floor((x + y + phase) / stripe) % 2 === 0 ? 1 : 0.7;
          const noise = (rand() - 0.5) * 60;
          const i = (y * size + x) * 3;
          px[i] = clamp(r0 * band + noise);
          px[i + 1] = clamp(g0 * band + noise);
          px[i + 2] = clamp(b0 * band + noise);
        }
      }
      const file = join(opts.dir, `${k}_${n}.jpg`);
      const jpeg = await sharp(px, { raw: { width: size, height: size, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer();
      await writeFile(file, jpeg);
      files.push(file);
    }
  }
  return files;
}

function clamp(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

function hueToRgb(h: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 12) % 12;
    return 255 * (0.5 - 0.45 * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
  };
  return [f(0), f(8), f(4)];
}

/** A run's labeled set (demo, cluster run): Food-11's 11 classes in `outDir`/images; returns that folder. */
export async function generateRunImages(
  outDir: string,
  o: { perClass: number; seed: number },
): Promise<string> {
  const dir = join(outDir, "images");
  await generateImageSet({
    dir,
    classes: FOOD11_LABELS.length,
    perClass: o.perClass,
    seed: o.seed,
  });
  return dir;
}
