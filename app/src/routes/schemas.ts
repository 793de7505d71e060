// JSON schemas shared by the routes (Fastify validates querystrings and serialises responses
// with them).

export const MAX_TOPK = 11;
export const DEFAULT_TOPK = 5;

export const errorSchema = {
  $id: "error",
  type: "object",
  required: ["statusCode", "error", "code", "message"],
  properties: {
    statusCode: { type: "integer" },
    error: { type: "string" },
    code: { type: "string" },
    message: { type: "string" },
  },
} as const;

export const topkQuerySchema = {
  type: "object",
  properties: {
    topk: { type: "integer", minimum: 1, maximum: MAX_TOPK, default: DEFAULT_TOPK },
  },
} as const;

const classScore = {
  type: "object",
  required: ["label", "index", "probability"],
  properties: {
    label: { type: "string" },
    index: { type: "integer" },
    probability: { type: "number" },
  },
} as const;

export const predictionSchema = {
  type: "object",
  required: ["label", "index", "probability", "top", "model", "image", "timings"],
  properties: {
    label: { type: "string" },
    index: { type: "integer" },
    probability: { type: "number" },
    top: { type: "array", items: classScore },
    model: {
      type: "object",
      required: ["name", "version", "backend", "preprocess"],
      properties: {
        name: { type: "string" },
        version: { type: "string" },
        backend: { type: "string" },
        preprocess: { type: "string" },
      },
    },
    image: {
      type: "object",
      required: ["format", "width", "height", "bytes"],
      properties: {
        format: { type: "string" },
        width: { type: "integer" },
        height: { type: "integer" },
        bytes: { type: "integer" },
      },
    },
    timings: {
      type: "object",
      description:
        "Milliseconds: the classifier stages, and the whole request as the server saw it.",
      required: ["decodeMs", "preprocessMs", "inferenceMs", "totalMs", "requestMs"],
      properties: {
        decodeMs: { type: "number" },
        preprocessMs: { type: "number" },
        queueMs: { type: "number" },
        inferenceMs: { type: "number" },
        totalMs: { type: "number" },
        requestMs: { type: "number" },
      },
    },
  },
} as const;

export const errorResponses = {
  "4xx": { $ref: "error#" },
  "5xx": { $ref: "error#" },
} as const;
