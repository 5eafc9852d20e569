import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { requireAdmin } from "../http/auth.ts";
import { errorResponses } from "../http/schemas.ts";
import {
  ChangedMember,
  CreatedInvitation,
  CreateInvitationBody,
  Invitation,
  InvitationList,
  InvitationParams,
  MemberParams,
  RemovedMember,
  SetRoleBody,
} from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "members" | "invitations">;

/** Team administration (admins): roles, removal, invitations. Everything acts in the X-Team-Slug team. */
export const memberRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.patch(
    "/team/members/:user_id/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["teams"],
        summary: "Change a member's role (admins; the last admin cannot be demoted: 409 last_admin)",
        params: MemberParams,
        body: SetRoleBody,
        errors: ["member_not_found", "last_admin", "private_teamspace_members"],
        response: { 200: ChangedMember, ...errorResponses },
      },
    },
    async (req) => {
      const m = await services.members.setRole(req.auth, req.params.user_id, req.body.role, req.id);
      return { user_id: m.id, email: m.email, role: m.role, changed: m.changed };
    },
  );

  app.delete(
    "/team/members/:user_id/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["teams"],
        summary: "Remove a member (admins; the last admin cannot be removed: 409 last_admin)",
        params: MemberParams,
        errors: ["member_not_found", "last_admin", "private_teamspace_members"],
        response: { 200: RemovedMember, ...errorResponses },
      },
    },
    async (req) => {
      const m = await services.members.remove(req.auth, req.params.user_id, req.id);
      return { user_id: m.id, email: m.email, removed: true as const };
    },
  );

  app.get(
    "/team/invitations/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["teams"],
        summary: "Open invitations of the team (admins)",
        response: { 200: InvitationList, ...errorResponses },
      },
    },
    async (req) => ({ items: await services.invitations.open(req.auth.team.id) }),
  );

  app.post(
    "/team/invitations/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["teams"],
        summary: "Invite someone by email (admins; the link is returned once and emailed)",
        body: CreateInvitationBody,
        errors: ["already_member", "private_teamspace_members"],
        response: { 201: CreatedInvitation, ...errorResponses },
      },
    },
    async (req, reply) => {
      const created = await services.invitations.create(
        req.auth,
        { email: req.body.email, role: req.body.role ?? "member" },
        req.id,
      );
      reply.header("cache-control", "no-store");
      return reply.code(201).send({ invitation: created.invitation, invite_url: created.url });
    },
  );

  app.delete(
    "/team/invitations/:invitation_id/",
    {
      preHandler: requireAdmin,
      schema: {
        tags: ["teams"],
        summary: "Revoke an invitation (admins); its link stops working",
        params: InvitationParams,
        errors: ["invitation_not_found"],
        response: { 200: Invitation, ...errorResponses },
      },
    },
    (req) => services.invitations.revoke(req.auth, req.params.invitation_id, req.id),
  );
};
