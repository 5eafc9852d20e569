import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { Domain } from "../domain.ts";
import { requireAdmin } from "../http/auth.ts";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { errorResponses } from "../http/schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "audit">;

const AuditEvent = Type.Object({
  id: Type.String(),
  action: Type.String(),
  target_type: Type.String(),
  target_id: Type.String(),
  actor_user_id: Type.Union([Type.String(), Type.Null()]),
  before: Type.Unknown(),
  after: Type.Unknown(),
  request_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: "date-time" }),
});

const AuditQuery = Type.Interface(
  [PageQuery],
  { action: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/audit-events/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["audit"],
        summary: "The team's audit trail, newest first (admins)",
        querystring: AuditQuery,
        response: { 200: pageOf(AuditEvent), ...errorResponses },
      },
    },
    (req) => services.audit.page(req.auth.team.id, req.query.cursor, req.query.limit, req.query.action),
  );
};
