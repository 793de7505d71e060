/**
 * The one error vocabulary of a request's stages. Each error carries a stable `code` (for
 * callers of the module), the HTTP status (`statusCode`) and, when the client should see it,
 * the public code of the error body (`publicCode`) and its headers: the HTTP layer copies
 * them (app/src/errors.ts) and maps nothing by name. An error without a public code (a worker
 * that failed) is a server fault: 500 internal_error.
 */
export class InferenceError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** The `code` of the HTTP error body; undefined: not the client's business (a 500). */
  readonly publicCode: string | undefined;
  /** Response headers that go with it (Retry-After on a 503). */
  readonly headers: Record<string, string>;
  constructor(
    code: string,
    statusCode: number,
    message: string,
    options: { cause?: unknown; publicCode?: string; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = statusCode;
    this.publicCode = options.publicCode;
    this.headers = options.headers ?? {};
  }
}

/** The client sent bytes that are not a decodable image (truncated, corrupt, not an image). */
export class ImageDecodeError extends InferenceError {
  constructor(
    message: string,
    code = "IMAGE_DECODE_FAILED",
    options: { cause?: unknown; publicCode?: string } = {},
  ) {
    super(code, 400, message, { publicCode: "corrupt_image", ...options });
  }
}

/** Empty body: a special case of ImageDecodeError with its own code. */
export class EmptyImageError extends ImageDecodeError {
  constructor() {
    super("the image is empty", "IMAGE_EMPTY", { publicCode: "empty_body" });
  }
}

/**
 * Not JPEG, PNG or WebP: a real image in another format, or (with a declared media type) bytes
 * that are no image at all.
 */
export class UnsupportedImageFormatError extends InferenceError {
  readonly format: string;
  constructor(format: string, message?: string) {
    super(
      "IMAGE_FORMAT_UNSUPPORTED",
      415,
      message ?? `unsupported image format '${format}': send JPEG, PNG or WebP`,
      { publicCode: "not_an_image" },
    );
    this.format = format;
  }
}

/** The declared media type (Content-Type) is not accepted, or disagrees with the bytes. */
export class MediaTypeError extends InferenceError {
  constructor(kind: "unsupported" | "mismatch", message: string) {
    super(kind === "unsupported" ? "MEDIA_TYPE_UNSUPPORTED" : "MEDIA_TYPE_MISMATCH", 415, message, {
      publicCode: kind === "unsupported" ? "unsupported_media_type" : "content_type_mismatch",
    });
  }
}

/** The image has more pixels than MAX_INPUT_PIXELS allows (pixel bomb protection). */
export class ImageTooLargeError extends InferenceError {
  readonly maxPixels: number;
  constructor(maxPixels: number, width: number, height: number) {
    super(
      "IMAGE_TOO_LARGE",
      413,
      `the image has ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}`,
      { publicCode: "too_many_pixels" },
    );
    this.maxPixels = maxPixels;
  }
}

/** The bounded inference queue is full: answer 503 with Retry-After. */
export class QueueFullError extends InferenceError {
  readonly retryAfterSeconds: number;
  readonly queueMax: number;
  constructor(queueMax: number, retryAfterSeconds = 1) {
    super("QUEUE_FULL", 503, `inference queue full (${queueMax} waiting): retry later`, {
      publicCode: "overloaded",
      headers: { "retry-after": String(retryAfterSeconds) },
    });
    this.queueMax = queueMax;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** classify() called after close(). */
export class ClassifierClosedError extends InferenceError {
  constructor() {
    super("CLASSIFIER_CLOSED", 503, "classifier is closed", {
      publicCode: "shutting_down",
      headers: { "retry-after": "1" },
    });
  }
}
