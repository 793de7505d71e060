import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeImage } from "../../src/inference/decode.js";
import {
  EmptyImageError,
  ImageDecodeError,
  ImageTooLargeError,
  InferenceError,
  UnsupportedImageFormatError,
} from "../../src/inference/errors.js";
import {
  gifImage,
  makeImage,
  orientationPair,
  pixelBombPng,
  truncatedJpeg,
} from "../fixtures/images.js";

async function decodeError(buf: Buffer, maxPixels?: number): Promise<InferenceError> {
  try {
    await decodeImage(buf, 224, 224, maxPixels);
  } catch (err) {
    expect(err).toBeInstanceOf(InferenceError);
    return err as InferenceError;
  }
  throw new Error("decodeImage accepted a bad image");
}

describe("decodeImage", () => {
  it.each(["jpeg", "png", "webp"] as const)("decodes %s to 224x224 RGB bytes", async (format) => {
    const d = await decodeImage(await makeImage(format, 96, 64), 224, 224);
    expect(d.format).toBe(format);
    expect([d.width, d.height, d.sourceWidth, d.sourceHeight]).toEqual([224, 224, 96, 64]);
    expect(d.rgb.length).toBe(224 * 224 * 3);
  });

  it("resizes a lossless PNG with fit 'fill' and the cubic kernel (exact bytes, deterministic)", async () => {
    const png = await makeImage("png", 96, 64);
    const a = await decodeImage(png, 224, 224);
    const b = await decodeImage(png, 224, 224);
    expect(a.rgb.equals(b.rgb)).toBe(true);
    const ref = await sharp(png)
      .resize(224, 224, { fit: "fill", kernel: "cubic" })
      .removeAlpha()
      .raw()
      .toBuffer();
    expect(a.rgb.equals(ref)).toBe(true);
  });

  it("applies EXIF orientation 6: exactly the pre-rotated image's pixels (no resampling)", async () => {
    const { upright, tagged } = await orientationPair(80, 48);
    const a = await decodeImage(upright, 48, 80);
    const b = await decodeImage(tagged, 48, 80);
    expect([b.sourceWidth, b.sourceHeight]).toEqual([80, 48]);
    expect(b.rgb.equals(a.rgb)).toBe(true);
  });

  it("applies EXIF orientation 6 on a photo-sized image resized to 224x224 (within 1/255)", async () => {
    // libvips resizes before rotating, so the two separable passes run in the other order:
    // values may differ by one rounding step, never more.
    const { upright, tagged } = await orientationPair(640, 448);
    const a = await decodeImage(upright, 224, 224);
    const b = await decodeImage(tagged, 224, 224);
    let maxDiff = 0;
    for (let i = 0; i < a.rgb.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs((a.rgb[i] as number) - (b.rgb[i] as number)));
    }
    expect(maxDiff).toBeLessThanOrEqual(1);
    // and it is not a no-op: ignoring the tag gives very different pixels
    const ignored = await sharp(tagged)
      .resize(224, 224, { fit: "fill", kernel: "cubic" })
      .raw()
      .toBuffer();
    let ignoredDiff = 0;
    for (let i = 0; i < a.rgb.length; i++) {
      ignoredDiff = Math.max(ignoredDiff, Math.abs((a.rgb[i] as number) - (ignored[i] as number)));
    }
    expect(ignoredDiff).toBeGreaterThan(50);
  });

  it("turns grey and RGBA images into 3-channel RGB", async () => {
    const grey = await sharp({
      create: { width: 20, height: 10, channels: 3, background: { r: 90, g: 90, b: 90 } },
    })
      .greyscale()
      .png()
      .toBuffer();
    const rgba = await sharp({
      create: {
        width: 20,
        height: 10,
        channels: 4,
        background: { r: 10, g: 20, b: 30, alpha: 0.5 },
      },
    })
      .png()
      .toBuffer();
    const g = await decodeImage(grey, 4, 4);
    expect([...g.rgb.subarray(0, 3)]).toEqual([90, 90, 90]);
    const c = await decodeImage(rgba, 20, 10);
    expect([...c.rgb.subarray(0, 3)]).toEqual([10, 20, 30]);
    expect(c.rgb.length).toBe(20 * 10 * 3);
  });

  it("rejects an empty buffer with EmptyImageError (400)", async () => {
    const e = await decodeError(Buffer.alloc(0));
    expect(e).toBeInstanceOf(EmptyImageError);
    expect(e).toBeInstanceOf(ImageDecodeError);
    expect([e.code, e.statusCode]).toEqual(["IMAGE_EMPTY", 400]);
  });

  it("rejects non-image bytes with ImageDecodeError (400)", async () => {
    const e = await decodeError(Buffer.from("this is not an image, it is a text file\n"));
    expect(e).toBeInstanceOf(ImageDecodeError);
    expect([e.code, e.statusCode]).toEqual(["IMAGE_DECODE_FAILED", 400]);
  });

  it("rejects a truncated JPEG with ImageDecodeError (400)", async () => {
    const e = await decodeError(await truncatedJpeg());
    expect(e).toBeInstanceOf(ImageDecodeError);
    expect([e.code, e.statusCode]).toEqual(["IMAGE_DECODE_FAILED", 400]);
  });

  it("rejects a GIF with UnsupportedImageFormatError (415)", async () => {
    const e = await decodeError(await gifImage());
    expect(e).toBeInstanceOf(UnsupportedImageFormatError);
    expect([e.code, e.statusCode]).toEqual(["IMAGE_FORMAT_UNSUPPORTED", 415]);
  });

  it("rejects a pixel bomb (50,000 x 50,000 PNG header, 661 bytes) before decoding", async () => {
    const bomb = pixelBombPng();
    expect(bomb.length).toBeLessThan(1024);
    const e = await decodeError(bomb);
    expect(e).toBeInstanceOf(ImageTooLargeError);
    expect([e.code, e.statusCode]).toEqual(["IMAGE_TOO_LARGE", 413]);
    expect(e.message).toContain("50000x50000");
  });

  it("enforces a configured pixel limit on real images", async () => {
    const img = await makeImage("jpeg", 200, 100);
    await expect(decodeImage(img, 224, 224, 20_000)).resolves.toMatchObject({ width: 224 });
    const e = await decodeError(img, 19_999);
    expect(e).toBeInstanceOf(ImageTooLargeError);
  });
});
