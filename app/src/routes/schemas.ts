// JSON schemas shared by the routes (Fastify validates querystrings and serialises responses
// with them).

export const MAX_TOPK = 11;
export const DEFAULT_TOPK = 5;

const str = { type: "string" } as const;
const int = { type: "integer" } as const;
const num = { type: "number" } as const;

/** An object schema of `properties`, each required. */
function allRequired<P extends Record<string, unknown>>(properties: P) {
  return { type: "object", required: Object.keys(properties), properties } as const;
}

export const errorSchema = {
  $id: "error",
  ...allRequired({ statusCode: int, error: str, code: str, message: str }),
} as const;

export const topkQuerySchema = {
  type: "object",
  properties: {
    topk: { type: "integer", minimum: 1, maximum: MAX_TOPK, default: DEFAULT_TOPK },
  },
} as const;

const classScore = allRequired({ label: str, index: int, probability: num });

export const predictionSchema = allRequired({
  label: str,
  index: int,
  probability: num,
  top: { type: "array", items: classScore },
  model: allRequired({ name: str, version: str, backend: str, preprocess: str }),
  image: allRequired({ format: str, width: int, height: int, bytes: int }),
  timings: {
    type: "object",
    description: "Milliseconds: the classifier stages, and the whole request as the server saw it.",
    required: ["decodeMs", "preprocessMs", "inferenceMs", "totalMs", "requestMs"],
    properties: {
      decodeMs: num,
      preprocessMs: num,
      queueMs: num,
      inferenceMs: num,
      totalMs: num,
      requestMs: num,
    },
  },
});

export const errorResponses = {
  "4xx": { $ref: "error#" },
  "5xx": { $ref: "error#" },
} as const;
