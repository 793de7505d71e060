// The HTTP error body. Every error response has the body
//   { "statusCode": 415, "error": "Unsupported Media Type", "code": "not_an_image", "message": "..." }
// and the one error handler (app.ts) maps whatever was thrown to it with toHttpError(): the
// request stages' InferenceErrors carry their public code, status and headers themselves
// (inference/errors.ts, the one vocabulary of an image's problems); HttpError is for what only
// HTTP knows (routing, multipart, readiness); Fastify's and @fastify/multipart's codes are mapped.
import { STATUS_CODES } from "node:http";
import { InferenceError } from "./inference/errors.js";

/** An error only HTTP knows (routing, multipart, readiness), with its public code. */
export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

/** The JSON body of an error response. */
export function errorBody(e: HttpError): ErrorBody {
  return {
    statusCode: e.statusCode,
    error: STATUS_CODES[e.statusCode] ?? "Error",
    code: e.code,
    message: e.message,
  };
}

/** Fastify's and @fastify/multipart's error codes, mapped to ours. */
const FRAMEWORK_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, "body_too_large"],
  FST_REQ_FILE_TOO_LARGE: [413, "body_too_large"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, "unsupported_media_type"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, "bad_content_length"],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, "empty_body"],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, "bad_request"],
  FST_ERR_VALIDATION: [400, "invalid_request"],
  FST_FILES_LIMIT: [400, "too_many_files"],
  FST_PARTS_LIMIT: [413, "too_many_parts"],
  FST_FIELDS_LIMIT: [413, "too_many_fields"],
  FST_PROTO_VIOLATION: [400, "bad_multipart"],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, "bad_multipart"],
  FST_INVALID_JSON_FIELD_ERROR: [400, "bad_multipart"],
  FST_MP_PREMATURE_CLOSE: [400, "bad_multipart"],
};

const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(2));

function stringProp(o: unknown, key: string): string | undefined {
  const v = (o as Record<string, unknown> | null)?.[key];
  return typeof v === "string" ? v : undefined;
}

/**
 * Map anything thrown to an HttpError. Client mistakes become 4xx; only genuine server faults
 * become 500 (`internal: true` tells the caller to log the original at error level). `limits`:
 * the server's, named in the messages of the errors they cause.
 */
export function toHttpError(
  err: unknown,
  limits: { bodyLimitBytes?: number } = {},
): { http: HttpError; internal: boolean } {
  if (err instanceof HttpError) return { http: err, internal: err.statusCode >= 500 };
  if (err instanceof InferenceError && err.publicCode !== undefined) {
    const http = new HttpError(err.statusCode, err.publicCode, err.message, err.headers);
    return { http, internal: false };
  }
  const code = stringProp(err, "code");
  const message = stringProp(err, "message") ?? String(err);
  if (code && FRAMEWORK_ERRORS[code]) {
    const [status, ours] = FRAMEWORK_ERRORS[code];
    // The limit, as too_many_pixels states its own (Fastify's message names none).
    const said =
      ours === "body_too_large" && limits.bodyLimitBytes !== undefined
        ? `the upload is over the limit of ${limits.bodyLimitBytes} bytes (${mib(limits.bodyLimitBytes)} MiB, BODY_LIMIT_BYTES)`
        : message;
    return { http: new HttpError(status, ours, said), internal: false };
  }
  // Any other error that carries a 4xx status (Fastify's, busboy's).
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const ours = (code ?? "bad_request").toLowerCase();
    return { http: new HttpError(status, ours, message), internal: false };
  }
  return {
    http: new HttpError(500, "internal_error", "internal server error"),
    internal: true,
  };
}
