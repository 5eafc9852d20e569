import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { Domain } from "../domain.ts";
import { requireAdmin } from "../http/auth.ts";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { documented, errorResponses } from "../http/schemas.ts";

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
documented(AuditEvent, {
  description: "One audited change: who did what to which target, with the state before and after.",
  examples: [
    {
      id: "aud_01JF3QG6H8J0K2M4N6P8Q0R2S4",
      action: "mapping.created",
      target_type: "mapping",
      target_id: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
      actor_user_id: "usr_01JF3Q7A2B4C6D8E0F2G4H6J8K",
      before: null,
      after: { status: "active", project_slug: "payments", resource_id: "res_01JF3Q9M6K2T8V4X7B5N1C0D2E" },
      request_id: "req_01JF3QG6H8J0K2M4N6P8Q0R2S5",
      created_at: "2026-11-30T09:15:00.000Z",
    },
  ],
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
