/**
 * Stage 2, decode: the probed image to the model's input size, RGB bytes, with sharp (libvips)
 * in the main thread; sharp runs its work on libuv's thread pool, so the event loop is not
 * blocked. This is the second and last time a request's image is opened (probe.ts was the first).
 *
 * Recipe (matches the original app's PIL `img.convert("RGB").resize((W, H), Image.BICUBIC)`):
 * decode (first frame), apply the EXIF orientation, drop alpha, convert to 8-bit sRGB, and
 * resize to the model's input size ignoring aspect ratio (`fit: "fill"`) with sharp's `cubic`
 * kernel — Catmull-Rom, i.e. Keys' bicubic with a = -0.5, the same kernel as PIL's BICUBIC,
 * both antialiasing when downscaling. sharp's `limitInputPixels` is the same pixel limit.
 */
import sharp, { type ResizeOptions } from "sharp";
import { ImageDecodeError, ImageTooLargeError } from "./errors.js";
import {
  checkPixels,
  DEFAULT_MAX_INPUT_PIXELS,
  isProbed,
  NOT_AN_IMAGE,
  type ProbedImage,
  probeImage,
} from "./probe.js";

// libvips' operation cache (up to 50 MiB by default) only helps when the same image is
// processed again; uploads are all different (and it would flatter GET /test, which decodes the
// same buffer), so it would only add resident memory: off, for the whole process.
sharp.cache(false);

/**
 * How an image is resized (the benchmark varies it: `npm run bench:onnxruntime -- --part decode`):
 * sharp's kernel, and JPEG shrink-on-load (libjpeg decodes at 1/2, 1/4 or 1/8 of the size when the
 * image is at least that many times the target, before the kernel resamples the rest).
 */
export interface DecodeRecipe {
  kernel: NonNullable<ResizeOptions["kernel"]>;
  fastShrinkOnLoad: boolean;
}

/** The server's recipe. */
export const DECODE_RECIPE: Readonly<DecodeRecipe> = Object.freeze({
  kernel: "cubic",
  fastShrinkOnLoad: true,
});

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
  const text = /unsupported image format/i.test(msg)
    ? NOT_AN_IMAGE
    : `cannot decode image: ${msg.split("\n")[0]}`;
  return new ImageDecodeError(text, "IMAGE_DECODE_FAILED", { cause: err });
}

/**
 * Decodes, EXIF-rotates and resizes an image to `width` x `height` RGB bytes. Raw bytes are
 * probed first (probe.ts); a ProbedImage is only held to `maxPixels` again.
 */
export async function decodeImage(
  image: Buffer | Uint8Array | ProbedImage,
  width: number,
  height: number,
  maxPixels: number = DEFAULT_MAX_INPUT_PIXELS,
  recipe: Readonly<DecodeRecipe> = DECODE_RECIPE,
): Promise<DecodedImage> {
  const probed = isProbed(image) ? image : await probeImage(image, maxPixels);
  checkPixels(probed, maxPixels);
  const { bytes, format, width: w, height: h } = probed;
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: "error" })
      .autoOrient()
      .removeAlpha()
      .toColourspace("srgb")
      .resize(width, height, {
        fit: "fill",
        kernel: recipe.kernel,
        fastShrinkOnLoad: recipe.fastShrinkOnLoad,
      })
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
