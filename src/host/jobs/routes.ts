import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { Domain } from "../domain.ts";
import { DomainError } from "../errors/domain-error.ts";
import { requireAdmin } from "../http/auth.ts";
import { Operation } from "./schemas.ts";
import { operationView } from "./views.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "jobs">;

const KindSummary = Type.Object({
  kind: Type.String(),
  pending: Type.Integer({ description: "Waiting jobs, including those waiting for a retry's backoff" }),
  due: Type.Integer({ description: "Pending jobs whose time has come" }),
  running: Type.Integer(),
  lease_expired: Type.Integer({ description: "Running jobs whose worker stopped; taken over shortly" }),
  dead_last_24h: Type.Integer({ description: "Jobs that used up their attempts in the last 24 hours" }),
  oldest_due_age_seconds: Type.Integer({ description: "How long the oldest due job has waited" }),
});

const Params = Type.Object({ operation_id: Type.String({ maxLength: 64 }) });

export const operationRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/tracker/operations/:operation_id/",
    {
      schema: {
        tags: ["operations"],
        summary:
          "Poll an asynchronous operation: pending, running, completed (with result) or failed (with error)",
        params: Params,
        response: { 200: Operation },
      },
    },
    async (req) => {
      const job = await services.jobs.get(req.params.operation_id, req.auth.team.id);
      if (!job)
        throw new DomainError(
          "operation_not_found",
          `No operation '${req.params.operation_id}' in this team.`,
        );
      return operationView(job);
    },
  );

  app.get(
    "/team/jobs-summary/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["operations"],
        summary: "This team's background job queue per kind: depth, oldest due job's age, dead jobs (admins)",
        response: {
          200: Type.Object(
            { kinds: Type.Array(KindSummary) },
            {
              description: "One row per job kind this team has queued, running or dead in the last 24 hours.",
              examples: [
                {
                  kinds: [
                    {
                      kind: "inventory.refresh",
                      pending: 1,
                      due: 1,
                      running: 0,
                      lease_expired: 0,
                      dead_last_24h: 0,
                      oldest_due_age_seconds: 4,
                    },
                  ],
                },
              ],
            },
          ),
        },
      },
    },
    async (req) => ({ kinds: await services.jobs.summary(req.auth.team.id) }),
  );
};
