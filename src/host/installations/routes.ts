import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { requireAdmin } from "../http/auth.ts";
import { ValidationError } from "../http/errors.ts";
import { safeRedirectPath } from "../http/redirect-target.ts";
import { errorResponses } from "../http/schemas.ts";
import { operationView } from "../jobs/views.ts";
import type { Services } from "../services.ts";
import {
  CallbackParams,
  CallbackQuery,
  ConnectBody,
  ConnectResult,
  DisconnectQuery,
  Installation,
  InstallationListQuery,
  InstallationPage,
  InstallationParams,
  Operation,
  StartConnectBody,
  StartConnectResult,
  UpdateBody,
} from "./schemas.ts";
import { installationView } from "./service.ts";

const tags = ["installations"];

/** The provider redirects the admin's browser here; `state` (not a bearer token) says whose flow it is. */
export const connectCallbackRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    "/installations/callback/:provider/",
    {
      schema: {
        tags,
        summary: "OAuth / GitHub App setup callback (the provider redirects here)",
        security: [],
        params: CallbackParams,
        querystring: CallbackQuery,
        response: { 201: ConnectResult, 200: ConnectResult, ...errorResponses },
      },
    },
    async (req, reply) => {
      const done = await services.connect.callback(
        req.params.provider,
        req.query as Record<string, string | undefined>,
      );
      const { job } = await services.inventory.requestRefresh(done.teamId, done.installation.id, done.userId);
      if (done.returnTo) {
        const back = safeRedirectPath(done.returnTo, "return_to");
        return reply.redirect(
          `${back}${back.includes("?") ? "&" : "?"}installation_id=${done.installation.id}`,
          303,
        );
      }
      return reply.code(done.reconnected ? 200 : 201).send({
        installation: installationView(done.installation),
        reconnected: done.reconnected,
        refresh: operationView(job),
      });
    },
  );
};

export const installationRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.post(
    "/installations/connect/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary:
          "Start a GitHub App install or an OAuth connect; returns the provider URL to send the admin to",
        body: StartConnectBody,
        response: { 200: StartConnectResult, ...errorResponses },
      },
    },
    (req) => services.connect.start(req.auth, req.body),
  );

  app.get(
    "/installations/",
    {
      schema: {
        tags,
        summary: "The team's connected installations",
        querystring: InstallationListQuery,
        response: { 200: InstallationPage, ...errorResponses },
      },
    },
    (req) =>
      services.installations.page(req.auth.team.id, req.query.cursor, req.query.limit, req.query.provider),
  );

  app.get(
    "/installations/:installation_id/",
    {
      schema: {
        tags,
        summary: "One installation with its health",
        params: InstallationParams,
        response: { 200: Installation, ...errorResponses },
      },
    },
    async (req) =>
      installationView(await services.installations.get(req.auth.team.id, req.params.installation_id)),
  );

  app.post(
    "/installations/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary:
          "Connect with a token (validated with a live provider call); reconnecting the same workspace keeps its id",
        body: ConnectBody,
        response: { 201: ConnectResult, 200: ConnectResult, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { installation, reconnected } = await services.installations.connectWithCredential(
        req.auth,
        req.body,
        req.id,
      );
      const { job } = await services.inventory.requestRefresh(
        req.auth.team.id,
        installation.id,
        req.auth.user.id,
      );
      return reply
        .code(reconnected ? 200 : 201)
        .send({ installation: installationView(installation), reconnected, refresh: operationView(job) });
    },
  );

  app.patch(
    "/installations/:installation_id/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "Rename an installation",
        params: InstallationParams,
        body: UpdateBody,
        response: { 200: Installation, ...errorResponses },
      },
    },
    async (req) =>
      installationView(
        await services.installations.update(req.auth, req.params.installation_id, req.body, req.id),
      ),
  );

  app.delete(
    "/installations/:installation_id/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary:
          "Disconnect (requires ?confirm=<installation id>); its credentials are discarded and its mappings go stale",
        params: InstallationParams,
        querystring: DisconnectQuery,
        response: { 200: Installation, ...errorResponses },
      },
    },
    async (req) => {
      if (req.query.confirm !== req.params.installation_id) {
        throw new ValidationError("Confirm the disconnect by sending ?confirm=<installation id>.", [
          { field: "querystring.confirm", problem: "must equal the installation id" },
        ]);
      }
      return installationView(
        await services.installations.disconnect(req.auth, req.params.installation_id, req.id),
      );
    },
  );

  app.post(
    "/installations/:installation_id/refresh/",
    {
      preHandler: requireAdmin,
      schema: {
        tags,
        summary: "Start an inventory refresh (202 with an operation to poll)",
        params: InstallationParams,
        response: { 202: Operation, ...errorResponses },
      },
    },
    async (req, reply) => {
      await services.installations.get(req.auth.team.id, req.params.installation_id);
      const { job } = await services.inventory.requestRefresh(
        req.auth.team.id,
        req.params.installation_id,
        req.auth.user.id,
      );
      return reply.code(202).send(operationView(job));
    },
  );
};
