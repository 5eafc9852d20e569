import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Domain } from "../domain.ts";
import { PageQuery } from "../http/pagination.ts";
import { errorResponses } from "../http/schemas.ts";
import { ApiToken, ApiTokenPage, CreateApiTokenBody, CreatedApiToken, TokenParams } from "./schemas.ts";

/** The domain services these routes call. */
type Deps = Pick<Domain, "tokens">;

const DAY_MS = 86_400_000;

export const tokenRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  app.get(
    "/tokens/",
    {
      schema: {
        tags: ["tokens"],
        summary: "Your API tokens",
        querystring: PageQuery,
        response: { 200: ApiTokenPage, ...errorResponses },
      },
    },
    (req) => services.tokens.page(req.auth.user.id, req.query.cursor, req.query.limit),
  );

  app.post(
    "/tokens/",
    {
      schema: {
        tags: ["tokens"],
        summary: "Create a personal API token (the secret is shown once)",
        body: CreateApiTokenBody,
        response: { 201: CreatedApiToken, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { name, expires_in_days, scope } = req.body;
      const created = await services.tokens.create({
        userId: req.auth.user.id,
        name,
        expiresAt: expires_in_days ? new Date(Date.now() + expires_in_days * DAY_MS) : null,
        scope,
        teamId: req.auth.team.id,
        requestId: req.id,
      });
      reply.header("cache-control", "no-store");
      return reply.code(201).send(created);
    },
  );

  app.delete(
    "/tokens/:token_id/",
    {
      schema: {
        tags: ["tokens"],
        summary: "Revoke one of your API tokens",
        params: TokenParams,
        response: { 200: ApiToken, ...errorResponses },
      },
    },
    (req) =>
      services.tokens.revoke({
        userId: req.auth.user.id,
        tokenId: req.params.token_id,
        teamId: req.auth.team.id,
        requestId: req.id,
      }),
  );
};
