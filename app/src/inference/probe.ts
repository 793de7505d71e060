/**
 * Stage 1, probe: what an upload is, read once from its header before it takes a place in the
 * inference queue. The bytes must be JPEG, PNG or WebP (sniffed, never taken from a content
 * type), agree with a declared media type, and have at most `maxPixels` pixels (width x height
 * from the header: a pixel bomb is refused before anything decodes it). sharp reads the header
 * once here; decode.ts opens the image once more, to decode it. Truncated or corrupt pixel data
 * is only found by that decode.
 */
import sharp, { type Metadata } from "sharp";
import {
  EmptyImageError,
  ImageDecodeError,
  ImageTooLargeError,
  MediaTypeError,
  UnsupportedImageFormatError,
} from "./errors.js";

export const ACCEPTED_FORMATS = ["jpeg", "png", "webp"] as const;
export type ImageFormat = (typeof ACCEPTED_FORMATS)[number];
/**
 * Default pixel limit: 4096 x 4096 (16.7 megapixels), far below sharp's 268 MP default; the
 * server's MAX_INPUT_PIXELS default is this same value (config.ts).
 */
export const DEFAULT_MAX_INPUT_PIXELS = 4096 * 4096;

const SUPPORTED = "JPEG, PNG or WebP";
/** Why bytes sharp cannot open at all are refused (here, and by decode.ts). */
export const NOT_AN_IMAGE = "not an image: unsupported or unrecognised bytes";

/** An upload whose header has been read and accepted: decode.ts takes it from here. */
export interface ProbedImage {
  readonly bytes: Buffer | Uint8Array;
  readonly format: string;
  readonly width: number;
  readonly height: number;
}

/** True for a ProbedImage (as opposed to the raw bytes of an upload). */
export function isProbed(image: Buffer | Uint8Array | ProbedImage): image is ProbedImage {
  return !(image instanceof Uint8Array);
}

/** The format the magic bytes say, or undefined. */
export function sniffFormat(buf: Uint8Array): ImageFormat | undefined {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return "png";
  const riff = b.length >= 12 && b.toString("latin1", 0, 4) === "RIFF";
  if (riff && b.toString("latin1", 8, 12) === "WEBP") return "webp";
  return undefined;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const DECLARED: Record<string, ImageFormat> = {
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/pjpeg": "jpeg",
  "image/png": "png",
  "image/webp": "webp",
};

/** Media types that say nothing about the format; the bytes decide. */
const NEUTRAL = new Set(["", "application/octet-stream", "image/*"]);

/** Refuses a declared media type that is another image type, or disagrees with the bytes. */
function checkDeclared(declaredType: string, format: ImageFormat): void {
  const mediaType = declaredType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (NEUTRAL.has(mediaType)) return;
  const declared = DECLARED[mediaType];
  if (declared === undefined && mediaType.startsWith("image/")) {
    throw new MediaTypeError("unsupported", `${mediaType} is not supported: send ${SUPPORTED}`);
  }
  if (declared !== undefined && declared !== format) {
    throw new MediaTypeError(
      "mismatch",
      `Content-Type says ${mediaType} but the bytes are ${format}`,
    );
  }
}

function firstLine(err: unknown): string {
  return err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
}

/**
 * Reads an upload's header (sharp, no pixel decoded) and accepts it or throws the stage's
 * InferenceError (4xx). With `declaredType` (an HTTP upload's Content-Type, possibly "") bytes of
 * no accepted format are a 415 at once; without one (a library call), bytes sharp cannot read
 * are a 400 decode failure and a real image of another format a 415.
 */
export async function probeImage(
  bytes: Buffer | Uint8Array,
  maxPixels: number = DEFAULT_MAX_INPUT_PIXELS,
  declaredType?: string,
): Promise<ProbedImage> {
  if (!bytes || bytes.byteLength === 0) throw new EmptyImageError();
  const sniffed = sniffFormat(bytes);
  if (declaredType !== undefined) {
    if (!sniffed) {
      throw new UnsupportedImageFormatError("unknown", `the bytes are not a ${SUPPORTED} image`);
    }
    checkDeclared(declaredType, sniffed);
  }
  let meta: Metadata;
  try {
    // Header only: no pixel is decoded here, so the pixel limit is lifted for this call.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw sniffed
      ? new ImageDecodeError(`the ${sniffed} image cannot be read: ${firstLine(err)}`, undefined, {
          cause: err,
        })
      : new ImageDecodeError(NOT_AN_IMAGE, undefined, { cause: err });
  }
  const format = sniffed ?? meta.format ?? "unknown";
  if (!(ACCEPTED_FORMATS as readonly string[]).includes(format))
    throw new UnsupportedImageFormatError(format);
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width <= 0 || height <= 0) throw new ImageDecodeError(`the ${format} image has no size`);
  checkPixels({ width, height }, maxPixels);
  return { bytes, format, width, height };
}

/** Throws ImageTooLargeError when width x height is over `maxPixels`. */
export function checkPixels(size: { width: number; height: number }, maxPixels: number): void {
  if (size.width * size.height > maxPixels) {
    throw new ImageTooLargeError(maxPixels, size.width, size.height);
  }
}
