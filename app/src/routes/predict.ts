// POST /predict (multipart field `file`, or a raw image body) and GET /test (the bundled image).
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "../errors.js";
import { type CheckedImage, checkImage } from "../image-check.js";
import { errorResponses, predictionSchema, topkQuerySchema } from "./schemas.js";

interface TopkQuery {
  topk: number;
}

interface Upload {
  bytes: Buffer;
  declaredType: string | undefined;
  /** Already checked (the bundled test image, checked once). */
  checked?: CheckedImage;
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

async function classify(
  fastify: FastifyInstance,
  reply: FastifyReply,
  upload: Upload,
  topk: number,
) {
  const { model, appOptions, metrics } = fastify;
  const classifier = model.classifier;
  if (!model.loaded || !classifier) {
    throw new HttpError(503, "not_ready", `the model is ${model.status}`, { "retry-after": "5" });
  }
  const image =
    upload.checked ??
    (await checkImage(upload.bytes, upload.declaredType, appOptions.maxInputPixels));
  const k = Math.min(topk, classifier.labels.length);
  const result = await classifier.classify(upload.bytes, k);
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
    image: { ...image, bytes: upload.bytes.length },
    timings: {
      ...Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, round(v)])),
      requestMs: round(reply.elapsedTime),
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export const predictRoutes: FastifyPluginAsync = async (fastify) => {
  let testImageChecked: Promise<CheckedImage> | undefined;
  fastify.post<{ Querystring: TopkQuery }>(
    "/predict",
    {
      schema: {
        querystring: topkQuerySchema,
        response: { 200: predictionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      let upload: Upload;
      if (request.isMultipart()) {
        upload = await readMultipart(request);
      } else {
        const body = request.body;
        if (!Buffer.isBuffer(body) || body.length === 0) {
          throw new HttpError(
            400,
            "empty_body",
            "send an image: multipart field `file` or a raw body",
          );
        }
        upload = { bytes: body, declaredType: request.headers["content-type"] };
      }
      return classify(fastify, reply, upload, request.query.topk);
    },
  );

  fastify.get<{ Querystring: TopkQuery }>(
    "/test",
    {
      schema: {
        querystring: topkQuerySchema,
        response: { 200: predictionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const bytes = fastify.appOptions.testImage;
      testImageChecked ??= checkImage(bytes, "image/jpeg", fastify.appOptions.maxInputPixels);
      const checked = await testImageChecked;
      return classify(
        fastify,
        reply,
        { bytes, declaredType: "image/jpeg", checked },
        request.query.topk,
      );
    },
  );
};
