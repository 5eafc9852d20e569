import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { PROVIDER_ERRORS, ROUTING_ERRORS } from "../http/error-schemas.ts";
import { cliRoute, IdempotencyKeyHeaders } from "../http/schemas.ts";
import { Pending, PullBody, PullResult, PushBody, PushResult, RunBody, RunResult } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "idempotency" | "runtime">;

export const runtimeRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.post(
    "/tracker/pull/",
    cliRoute("Normalised issues of the mapped resource, a page at a time (`cursor`, `filters` honoured)", {
      body: PullBody,
      response: { 200: PullResult },
      errors: [...ROUTING_ERRORS, ...PROVIDER_ERRORS, "invalid_query"],
    }),
    (req) => services.runtime.pull(req.auth, req.body),
  );

  app.post(
    "/tracker/push/",
    cliRoute(
      "Create, update, transition or link issues of the mapped resource (requires Idempotency-Key). " +
        "Up to 10 items answer 200 with the result; more answer 202 with an operation to poll, and so " +
        "does a small push the provider asks to slow down (the operation resumes after the wait).",
      {
        body: PushBody,
        headers: IdempotencyKeyHeaders,
        response: { 200: PushResult, 202: Pending },
        errors: [
          ...ROUTING_ERRORS,
          ...PROVIDER_ERRORS,
          "invalid_item",
          "create_in_progress",
          "mapping_needs_repair",
        ],
      },
    ),
    (req, reply) => services.idempotency.run(req, reply, () => services.runtime.push(req.auth, req.body)),
  );

  app.post(
    "/tracker/run/",
    cliRoute(
      "Pull, then push (requires Idempotency-Key). 202 with an operation to poll when the pull limit " +
        "exceeds 100, the push has more than 10 items, or the provider asks the push to slow down.",
      {
        body: RunBody,
        headers: IdempotencyKeyHeaders,
        response: { 200: RunResult, 202: Pending },
        errors: [
          ...ROUTING_ERRORS,
          ...PROVIDER_ERRORS,
          "invalid_item",
          "create_in_progress",
          "mapping_needs_repair",
        ],
      },
    ),
    (req, reply) => services.idempotency.run(req, reply, () => services.runtime.run(req.auth, req.body)),
  );
};
