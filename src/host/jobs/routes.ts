import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { NotFoundError } from "../http/errors.ts";
import { errorResponses } from "../http/schemas.ts";
import type { Services } from "../services.ts";
import { operationView } from "./views.ts";

const Params = Type.Object({ operation_id: Type.String({ maxLength: 64 }) });

export const operationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    "/tracker/operations/:operation_id/",
    {
      schema: {
        tags: ["operations"],
        summary:
          "Poll an asynchronous operation: pending, running, completed (with result) or failed (with error)",
        params: Params,
        response: { 200: Type.Unknown(), ...errorResponses },
      },
    },
    async (req) => {
      const job = await services.jobs.get(req.params.operation_id, req.auth.team.id);
      if (!job)
        throw new NotFoundError(
          "operation_not_found",
          `No operation '${req.params.operation_id}' in this team.`,
        );
      return operationView(job);
    },
  );
};
