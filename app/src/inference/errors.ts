/**
 * Typed errors of the inference module. Each carries a stable `code` and the HTTP status the
 * server should answer with (`statusCode`), so the HTTP layer maps them without parsing messages.
 */
export class InferenceError extends Error {
  readonly code: string;
  readonly statusCode: number;
  constructor(code: string, statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** The client sent bytes that are not a decodable image (empty, truncated, corrupt, not an image). */
export class ImageDecodeError extends InferenceError {
  constructor(message: string, code = "IMAGE_DECODE_FAILED", options?: { cause?: unknown }) {
    super(code, 400, message, options);
  }
}

/** Empty body: a special case of ImageDecodeError with its own code. */
export class EmptyImageError extends ImageDecodeError {
  constructor() {
    super("empty image: no bytes received", "IMAGE_EMPTY");
  }
}

/** A real image in a format the server does not accept (only JPEG, PNG and WebP are). */
export class UnsupportedImageFormatError extends InferenceError {
  readonly format: string;
  constructor(format: string) {
    super(
      "IMAGE_FORMAT_UNSUPPORTED",
      415,
      `unsupported image format '${format}': send JPEG, PNG or WebP`,
    );
    this.format = format;
  }
}

/** The image has more pixels than MAX_INPUT_PIXELS allows (pixel bomb protection). */
export class ImageTooLargeError extends InferenceError {
  readonly maxPixels: number;
  constructor(maxPixels: number, width?: number, height?: number) {
    const dims = width && height ? ` (${width}x${height} = ${width * height} pixels)` : "";
    super("IMAGE_TOO_LARGE", 413, `image exceeds the pixel limit of ${maxPixels} pixels${dims}`);
    this.maxPixels = maxPixels;
  }
}

/** The bounded inference queue is full: answer 503 with Retry-After. */
export class QueueFullError extends InferenceError {
  readonly retryAfterSeconds: number;
  readonly queueMax: number;
  constructor(queueMax: number, retryAfterSeconds = 1) {
    super("QUEUE_FULL", 503, `inference queue full (${queueMax} waiting): retry later`);
    this.queueMax = queueMax;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** classify() called after close(). */
export class ClassifierClosedError extends InferenceError {
  constructor() {
    super("CLASSIFIER_CLOSED", 503, "classifier is closed");
  }
}

export function isInferenceError(err: unknown): err is InferenceError {
  return err instanceof InferenceError;
}
