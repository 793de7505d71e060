// Cheap checks on an uploaded image before it takes a place in the inference queue: the bytes
// must be JPEG, PNG or WebP (sniffed, not taken from the Content-Type), agree with a declared
// image type, and have at most MAX_INPUT_PIXELS pixels (read from the header: a pixel bomb is
// refused before anything decodes it). Truncated or corrupt data is found by the full decode in
// the inference module and reported as corrupt_image.
import sharp from "sharp";
import { HttpError } from "./errors.js";

export type ImageFormat = "jpeg" | "png" | "webp";

const SUPPORTED = "JPEG, PNG or WebP";

/** The format the magic bytes say, or undefined. */
export function sniffFormat(buf: Buffer): ImageFormat | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return "jpeg";
  if (
    buf.length >= 8 &&
    buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  ) {
    return "png";
  }
  if (
    buf.length >= 12 &&
    buf.toString("latin1", 0, 4) === "RIFF" &&
    buf.toString("latin1", 8, 12) === "WEBP"
  ) {
    return "webp";
  }
  return undefined;
}

const DECLARED: Record<string, ImageFormat> = {
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/pjpeg": "jpeg",
  "image/png": "png",
  "image/webp": "webp",
};

/** Media types that say nothing about the format; the bytes decide. */
const NEUTRAL = new Set(["", "application/octet-stream", "image/*"]);

export interface CheckedImage {
  format: ImageFormat;
  width: number;
  height: number;
}

/**
 * Validate an upload; throws HttpError (4xx) for every client mistake.
 * @param declaredType the request's (or multipart part's) Content-Type, if any
 */
export async function checkImage(
  buf: Buffer,
  declaredType: string | undefined,
  maxInputPixels: number,
): Promise<CheckedImage> {
  if (buf.length === 0) throw new HttpError(400, "empty_body", "the image is empty");
  const format = sniffFormat(buf);
  const mediaType = (declaredType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (!format) {
    throw new HttpError(415, "not_an_image", `the bytes are not a ${SUPPORTED} image`);
  }
  if (!NEUTRAL.has(mediaType)) {
    const declared = DECLARED[mediaType];
    if (declared === undefined && mediaType.startsWith("image/")) {
      throw new HttpError(
        415,
        "unsupported_media_type",
        `${mediaType} is not supported: send ${SUPPORTED}`,
      );
    }
    if (declared !== undefined && declared !== format) {
      throw new HttpError(
        415,
        "content_type_mismatch",
        `Content-Type says ${mediaType} but the bytes are ${format}`,
      );
    }
  }
  let width: number;
  let height: number;
  try {
    // Header only: no pixel is decoded here, so the pixel limit is lifted for this call.
    const meta = await sharp(buf, { limitInputPixels: false }).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch (err) {
    throw new HttpError(400, "corrupt_image", `the ${format} image cannot be read: ${msg(err)}`);
  }
  if (width <= 0 || height <= 0) {
    throw new HttpError(400, "corrupt_image", `the ${format} image has no size`);
  }
  if (width * height > maxInputPixels) {
    throw new HttpError(
      413,
      "too_many_pixels",
      `the image has ${width}x${height} = ${width * height} pixels, over the limit of ${maxInputPixels}`,
    );
  }
  return { format, width, height };
}

function msg(err: unknown): string {
  return err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
}
