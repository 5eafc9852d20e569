import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { DomainError } from "../errors/domain-error.ts";

export const healthRoutes: FastifyPluginAsyncTypebox<{ ready: () => Promise<boolean> }> = async (
  app,
  opts,
) => {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["health"],
        summary: "Process is up",
        response: {
          200: Type.Object(
            { status: Type.Literal("ok") },
            { description: "The process answers.", examples: [{ status: "ok" }] },
          ),
        },
      },
    },
    async () => ({ status: "ok" as const }),
  );
  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "Database reachable and migrations applied",
        response: {
          200: Type.Object(
            { status: Type.Literal("ready") },
            {
              description: "The database answers and every migration is applied.",
              examples: [{ status: "ready" }],
            },
          ),
        },
        errors: ["not_ready"],
      },
    },
    async () => {
      if (!(await opts.ready())) {
        throw new DomainError("not_ready", "The database is unreachable or migrations are not applied.", {
          retryable: true,
        });
      }
      return { status: "ready" as const };
    },
  );
};
