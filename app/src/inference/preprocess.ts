/**
 * Image decoding and preprocessing with sharp (libvips), in the main thread: sharp runs its work
 * on libuv's thread pool, so the event loop is not blocked.
 *
 * Recipe (matches the original app's PIL `img.convert("RGB").resize((W, H), Image.BICUBIC)`):
 *  1. accept JPEG, PNG and WebP only (sniffed from the bytes, never from a content type);
 *  2. refuse images of more than `maxPixels` pixels (width x height from the header, before
 *     decoding: pixel-bomb protection; sharp's `limitInputPixels` is set to the same value);
 *  3. decode (first frame), apply the EXIF orientation, drop alpha, convert to 8-bit sRGB;
 *  4. resize to the model's input size ignoring aspect ratio (`fit: "fill"`) with sharp's
 *     `cubic` kernel — Catmull-Rom, i.e. Keys' bicubic with a = -0.5, the same kernel as PIL's
 *     BICUBIC, both antialiasing when downscaling;
 *  5. scale to float32 NHWC: `unit` = x / 255 (the original recipe, default) or
 *     `mobilenet` = x / 127.5 - 1 (Keras' mobilenet_v2.preprocess_input, [-1, 1]).
 */
import sharp, { type Metadata } from "sharp";
import {
  EmptyImageError,
  ImageDecodeError,
  ImageTooLargeError,
  UnsupportedImageFormatError,
} from "./errors.js";

// libvips' operation cache (default up to 50 MB) only helps when the same image is processed
// again; uploads are all different, so it would only add resident memory.
sharp.cache(false);

export type PreprocessMode = "unit" | "mobilenet";
export const ACCEPTED_FORMATS: readonly string[] = ["jpeg", "png", "webp"];
/** Default pixel limit: 40 megapixels (a 8000x5000 photo), far below sharp's 268 MP default. */
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

export interface DecodedImage {
  /** width*height*3 bytes, RGB, row-major. */
  rgb: Buffer;
  width: number;
  height: number;
  format: string;
  sourceWidth: number;
  sourceHeight: number;
}

function decodeError(err: unknown): ImageDecodeError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(msg)) {
    return new ImageDecodeError(
      "not an image: unsupported or unrecognised bytes",
      "IMAGE_DECODE_FAILED",
      {
        cause: err,
      },
    );
  }
  return new ImageDecodeError(`cannot decode image: ${msg.split("\n")[0]}`, "IMAGE_DECODE_FAILED", {
    cause: err,
  });
}

/** Decodes, EXIF-rotates and resizes an image to `width` x `height` RGB bytes. */
export async function decodeImage(
  input: Buffer | Uint8Array,
  width: number,
  height: number,
  maxPixels: number = DEFAULT_MAX_INPUT_PIXELS,
): Promise<DecodedImage> {
  if (!input || input.byteLength === 0) throw new EmptyImageError();
  const opts = { limitInputPixels: maxPixels, failOn: "error" as const };
  let meta: Metadata;
  try {
    // Header only: no pixel limit here, so the dimensions can be reported in the error below.
    meta = await sharp(input, { limitInputPixels: false, failOn: "error" }).metadata();
  } catch (err) {
    throw decodeError(err);
  }
  const format = meta.format ?? "unknown";
  if (!ACCEPTED_FORMATS.includes(format)) throw new UnsupportedImageFormatError(format);
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w <= 0 || h <= 0) throw new ImageDecodeError("image has no dimensions");
  if (w * h > maxPixels) throw new ImageTooLargeError(maxPixels, w, h);
  try {
    const { data, info } = await sharp(input, opts)
      .autoOrient()
      .removeAlpha()
      .toColourspace("srgb")
      .resize(width, height, { fit: "fill", kernel: "cubic" })
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== width * height * 3) {
      throw new Error(`unexpected decoded layout: ${info.width}x${info.height}x${info.channels}`);
    }
    return { rgb: data, width, height, format, sourceWidth: w, sourceHeight: h };
  } catch (err) {
    if (/pixel limit/i.test((err as Error).message ?? "")) {
      throw new ImageTooLargeError(maxPixels, w, h);
    }
    throw decodeError(err);
  }
}

/** x / 255 and x / 127.5 - 1 for every byte value, computed once (exactly the same floats). */
const LUT: Record<PreprocessMode, Float32Array> = {
  unit: Float32Array.from({ length: 256 }, (_, v) => v / 255),
  mobilenet: Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1),
};

/** RGB bytes → float32 NHWC values per the preprocessing mode, written into `out` at `offset`. */
export function normalize(
  rgb: Uint8Array,
  mode: PreprocessMode,
  out: Float32Array = new Float32Array(rgb.length),
  offset = 0,
): Float32Array {
  const lut = LUT[mode];
  const n = rgb.length;
  for (let i = 0; i < n; i++) out[offset + i] = lut[rgb[i] as number] as number;
  return out;
}
