// Probes. /healthz: the process is alive and serving HTTP. /readyz: the model is loaded and
// warmed up and the server is not draining (SIGTERM turns it to 503 at once).
import type { FastifyPluginAsync } from "fastify";

const statusSchema = {
  type: "object",
  required: ["status"],
  properties: { status: { type: "string" } },
} as const;

export const healthRoutes: FastifyPluginAsync = async (fastify) => {
  fastify.get("/healthz", { schema: { response: { 200: statusSchema } } }, async () => ({
    status: "ok",
  }));
  fastify.get(
    "/readyz",
    {
      schema: {
        response: { 200: statusSchema, 503: statusSchema },
      },
    },
    async (_request, reply) => {
      const { model } = fastify;
      if (!model.ready) reply.code(503).header("retry-after", "1");
      return { status: model.status };
    },
  );
};
