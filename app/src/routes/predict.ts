// POST /predict (multipart field `file`, or a raw image body) and GET /test (the bundled image).
// The respond stage: read the upload, probe it (inference/probe.ts: the one header read, before
// the classifier admits it), classify, answer.
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "../errors.js";
import { type ProbedImage, probeImage } from "../inference/probe.js";
import { errorResponses, predictionSchema, topkQuerySchema } from "./schemas.js";

interface TopkQuery {
  topk: number;
}

interface Upload {
  bytes: Buffer;
  declaredType: string | undefined;
}

/** The one `file` part of a multipart form; every other mistake is a 4xx. */
async function readMultipart(request: FastifyRequest): Promise<Upload> {
  let upload: Upload | undefined;
  const others: string[] = [];
  try {
    for await (const part of request.parts()) {
      if (part.type !== "file") continue;
      if (part.fieldname !== "file") {
        others.push(part.fieldname);
        part.file.resume(); // drain it; the files limit (1) still counts it
        continue;
      }
      upload = { bytes: await part.toBuffer(), declaredType: part.mimetype };
    }
  } catch (err) {
    // Anything the multipart parser throws comes from the client's bytes.
    if (err instanceof HttpError) throw err;
    const status = (err as { statusCode?: number }).statusCode;
    if (typeof status === "number" && status < 500) throw err;
    throw new HttpError(
      400,
      "bad_multipart",
      `malformed multipart body: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!upload) {
    const got = others.length ? ` (got a file in: ${others.join(", ")})` : "";
    throw new HttpError(400, "missing_file", `the form has no \`file\` field${got}`);
  }
  return upload;
}

/** The upload of a POST /predict: a multipart `file` part or the raw body. */
async function readUpload(request: FastifyRequest): Promise<Upload> {
  if (request.isMultipart()) return readMultipart(request);
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new HttpError(400, "empty_body", "send an image: multipart field `file` or a raw body");
  }
  return { bytes: body, declaredType: request.headers["content-type"] };
}

/** 503 not_ready until the model is loaded and warmed up. */
function readyClassifier(fastify: FastifyInstance) {
  const { model } = fastify;
  if (!model.loaded || !model.classifier) {
    throw new HttpError(503, "not_ready", `the model is ${model.status}`, { "retry-after": "5" });
  }
  return model.classifier;
}

async function classify(
  fastify: FastifyInstance,
  reply: FastifyReply,
  image: ProbedImage,
  topk: number,
) {
  const { appOptions, metrics } = fastify;
  const classifier = readyClassifier(fastify);
  const k = Math.min(topk, classifier.labels.length);
  const result = await classifier.classify(image, k);
  metrics.observeInference(result.timings);
  return {
    label: result.label,
    index: result.index,
    probability: result.probability,
    top: result.top,
    model: {
      name: appOptions.modelName,
      version: appOptions.modelVersion,
      backend: classifier.backend,
      preprocess: appOptions.preprocess,
    },
    image: {
      format: image.format,
      width: image.width,
      height: image.height,
      bytes: image.bytes.length,
    },
    timings: {
      ...Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, round(v)])),
      requestMs: round(reply.elapsedTime),
    },
  };
}

/** Milliseconds to two decimals (the answer's timings, the request log line's `ms`). */
export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

const routeSchema = {
  schema: {
    querystring: topkQuerySchema,
    response: { 200: predictionSchema, ...errorResponses },
  },
};

/** POST /predict and GET /test: upload → probe → classify → answer. */
export const predictRoutes: FastifyPluginAsync = async (fastify) => {
  const maxPixels = fastify.appOptions.maxInputPixels;
  // The bundled test image is probed once, on the first GET /test.
  let testImage: Promise<ProbedImage> | undefined;
  fastify.post<{ Querystring: TopkQuery }>("/predict", routeSchema, async (request, reply) => {
    const upload = await readUpload(request);
    readyClassifier(fastify);
    const image = await probeImage(upload.bytes, maxPixels, upload.declaredType ?? "");
    return classify(fastify, reply, image, request.query.topk);
  });
  fastify.get<{ Querystring: TopkQuery }>("/test", routeSchema, async (request, reply) => {
    readyClassifier(fastify);
    testImage ??= probeImage(fastify.appOptions.testImage, maxPixels, "image/jpeg");
    return classify(fastify, reply, await testImage, request.query.topk);
  });
};
