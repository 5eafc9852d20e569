import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { Pending, PullBody, PullResult, PushBody, PushResult, RunBody, RunResult } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "idempotency" | "runtime">;

const tags = ["tracker"];

export const runtimeRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.post(
    "/tracker/pull/",
    {
      schema: {
        tags,
        summary: "Normalised issues of the mapped resource, a page at a time (`cursor`, `filters` honoured)",
        body: PullBody,
        response: { 200: PullResult },
      },
    },
    (req) => services.runtime.pull(req.auth, req.body),
  );

  app.post(
    "/tracker/push/",
    {
      schema: {
        tags,
        summary:
          "Create, update, transition or link issues of the mapped resource (requires Idempotency-Key). " +
          "Up to 10 items answer 200 with the result; more answer 202 with an operation to poll.",
        body: PushBody,
        response: { 200: PushResult, 202: Pending },
      },
    },
    (req, reply) => services.idempotency.run(req, reply, () => services.runtime.push(req.auth, req.body)),
  );

  app.post(
    "/tracker/run/",
    {
      schema: {
        tags,
        summary:
          "Pull, then push (requires Idempotency-Key). 202 with an operation to poll when the pull limit " +
          "exceeds 100 or the push has more than 10 items.",
        body: RunBody,
        response: { 200: RunResult, 202: Pending },
      },
    },
    (req, reply) => services.idempotency.run(req, reply, () => services.runtime.run(req.auth, req.body)),
  );
};
