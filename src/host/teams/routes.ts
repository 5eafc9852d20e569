import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { type AuthDeps, authenticateUser } from "../http/auth.ts";
import { PageQuery } from "../http/pagination.ts";
import { errorResponses } from "../http/schemas.ts";
import { CurrentTeam, Me, MemberPage } from "./schemas.ts";

/** The domain services these routes call (and authentication reads). */
type Deps = Pick<Domain, "teams"> & AuthDeps;

/** `/me` needs only a token: it is how a client learns which team ids exist for `X-Team-Slug`. */
export const meRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/me",
    {
      onRequest: authenticateUser(services),
      schema: {
        tags: ["teams"],
        summary: "The caller and their teams",
        security: [{ bearer: [] }],
        response: { 200: Me, ...errorResponses },
      },
    },
    (req) => services.teams.me(req.auth.user.id),
  );
};

export const teamRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/team/",
    {
      schema: {
        tags: ["teams"],
        summary: "The team named by X-Team-Slug",
        response: { 200: CurrentTeam, ...errorResponses },
      },
    },
    (req) => ({ ...req.auth.team, role: req.auth.role }),
  );
  app.get(
    "/team/members/",
    {
      schema: {
        tags: ["teams"],
        summary: "Members of the team",
        querystring: PageQuery,
        response: { 200: MemberPage, ...errorResponses },
      },
    },
    (req) => services.teams.membersPage(req.auth.team.id, req.query.cursor ?? null, req.query.limit),
  );
};
