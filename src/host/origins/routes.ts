import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../services.ts";
import { OriginBindBody, OriginLink } from "./schemas.ts";

export const originRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    "/tracker/mission-origin/bind/",
    {
      schema: {
        tags: ["tracker"],
        summary:
          "Record the issue a mission started from (requires Idempotency-Key). The issue must belong to the " +
          "mapped resource; the same origin again answers with the existing link; another origin → 409.",
        body: OriginBindBody,
        response: { 200: OriginLink },
      },
    },
    (req, reply) => services.idempotency.run(req, reply, () => services.origins.bind(req.auth, req.body)),
  );
};
