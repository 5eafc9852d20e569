import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Domain } from "../domain.ts";
import { httpStatusOf } from "../errors/codes.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import { requireAdmin } from "../http/auth.ts";
import { expireBrowserCookie, setBrowserCookie } from "../http/cookies.ts";
import { safeRedirectPath } from "../http/redirect-target.ts";
import { errorResponses } from "../http/schemas.ts";
import { operationView } from "../jobs/views.ts";
import { CONNECT_COOKIE } from "./connect.ts";
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

/** The domain services these routes call. */
type Deps = Pick<Domain, "connect" | "installations" | "inventory" | "sessions">;

const tags = ["installations"];

/** A browser (it asks for HTML) is answered with pages, an API client with JSON. */
const wantsPage = (req: FastifyRequest) => (req.headers.accept ?? "").includes("text/html");

/**
 * The page a browser gets when the callback fails there. The dashboard renders it; the composition
 * root passes it in, so the host never imports the dashboard.
 */
export type CallbackProblemPage = (req: FastifyRequest, reply: FastifyReply, err: DomainError) => unknown;

/**
 * The provider redirects the admin's browser here; `state` (not a bearer token) says whose flow it is,
 * and the connect cookie (or the same user's dashboard session) that this is the browser that started it.
 */
export const connectCallbackRoutes: FastifyPluginAsyncTypebox<{
  services: Deps;
  problemPage: CallbackProblemPage;
}> = async (app, { services, problemPage }) => {
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
      const browser = {
        binding: req.cookies[CONNECT_COOKIE.name],
        sessionUserId: (await services.sessions.sessionFromRequest(req))?.user.id ?? null,
      };
      // The nonce is single-use like the state it binds.
      expireBrowserCookie(reply, CONNECT_COOKIE);
      try {
        const done = await services.connect.callback(
          req.params.provider,
          req.query as Record<string, string | undefined>,
          browser,
        );
        const back = done.returnTo
          ? safeRedirectPath(done.returnTo, "return_to")
          : wantsPage(req)
            ? "/dashboard/installations/connected"
            : null;
        if (back)
          return reply.redirect(
            `${back}${back.includes("?") ? "&" : "?"}installation_id=${done.installation.id}&op=${done.refresh.id}`,
            303,
          );
        return reply.code(done.reconnected ? 200 : 201).send({
          installation: installationView(done.installation),
          reconnected: done.reconnected,
          refresh: operationView(done.refresh),
        });
      } catch (err) {
        if (
          wantsPage(req) &&
          err instanceof DomainError &&
          (httpStatusOf(err.code) < 500 || err.source === "provider")
        )
          return problemPage(req, reply, err);
        throw err;
      }
    },
  );
};

export const installationRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (
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
    async (req, reply) => {
      const { binding, ...started } = await services.connect.start(req.auth, req.body);
      // Binds the flow to this user agent; a browser that later opens authorize_url without it must be
      // signed in to the dashboard as the same user.
      setBrowserCookie(reply, CONNECT_COOKIE, binding);
      return started;
    },
  );

  app.get(
    "/installations/",
    {
      schema: {
        tags,
        summary: "The team's installations, disconnected ones included unless `status` says otherwise",
        querystring: InstallationListQuery,
        response: { 200: InstallationPage, ...errorResponses },
      },
    },
    (req) =>
      services.installations.page(req.auth.team.id, req.query.cursor, req.query.limit, {
        provider: req.query.provider,
        state: req.query.status ?? "all",
      }),
  );

  app.get(
    "/installations/:installation_id/",
    {
      schema: {
        tags,
        summary: "One installation with its health; a disconnected one says when and by whom",
        params: InstallationParams,
        response: { 200: Installation, ...errorResponses },
      },
    },
    async (req) => {
      const row = await services.installations.get(req.auth.team.id, req.params.installation_id);
      return { ...installationView(row), disconnected_by: await services.installations.disconnectedBy(row) };
    },
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
      const { installation, reconnected, refresh } = await services.installations.connectWithCredential(
        req.auth,
        req.body,
        req.id,
      );
      return reply
        .code(reconnected ? 200 : 201)
        .send({ installation: installationView(installation), reconnected, refresh: operationView(refresh) });
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
          "Disconnect (requires ?confirm=<installation id>): credentials discarded, sync stopped; it stays listed, and reconnecting the same workspace brings it and its mappings back",
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
      await services.installations.getConnected(req.auth.team.id, req.params.installation_id);
      const { job } = await services.inventory.requestRefresh(
        req.auth.team.id,
        req.params.installation_id,
        req.auth.user.id,
      );
      return reply.code(202).send(operationView(job));
    },
  );
};
