import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { PROVIDER_ERRORS, ROUTING_ERRORS } from "../http/error-schemas.ts";
import { cliRoute, IdempotencyKeyHeaders } from "../http/schemas.ts";
import { OriginBindBody, OriginLink } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "idempotency" | "origins">;

export const originRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.post(
    "/tracker/mission-origin/bind/",
    cliRoute(
      "Record the issue a mission started from (requires Idempotency-Key). The issue must belong to the " +
        "mapped resource; the same origin again answers with the existing link; another origin → 409.",
      {
        body: OriginBindBody,
        headers: IdempotencyKeyHeaders,
        response: { 200: OriginLink },
        errors: [...ROUTING_ERRORS, ...PROVIDER_ERRORS, "issue_not_found", "origin_conflict"],
      },
    ),
    (req, reply) => services.idempotency.run(req, reply, () => services.origins.bind(req.auth, req.body)),
  );
};
