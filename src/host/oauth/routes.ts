import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { Domain } from "../domain.ts";
import { DomainError, TooManyRequestsError } from "../errors/domain-error.ts";
import { type AuthDeps, authenticateUser } from "../http/auth.ts";
import { acceptForms } from "../http/forms.ts";
import { tooManyAttempts } from "../http/rate-limits.ts";
import { errorResponses } from "../http/schemas.ts";
import { toOAuthReply } from "./errors.ts";
import {
  DeviceAuthorization,
  DeviceRequest,
  OAuthErrorBody,
  RevokeRequest,
  RevokeResponse,
  SessionStatus,
  TokenRequest,
  TokenResponse,
} from "./schemas.ts";

/** The domain services these routes call (and authentication reads). */
type Deps = Pick<Domain, "limits" | "oauth"> & AuthDeps;

type Fields = Record<string, string | undefined>;

/** Errors here are RFC 6749 bodies (`{"error", "error_description"}`), which is all the CLI reads. */
function oauthErrors(app: FastifyInstance) {
  app.setErrorHandler((err, request, reply) => {
    const refused = toOAuthReply(err);
    if (refused.status >= 500) request.log.error({ err }, "oauth request failed");
    else
      request.log.info({ oauth_error: refused.body.error, status: refused.status }, "oauth request refused");
    return reply
      .code(refused.status)
      .header("cache-control", "no-store")
      .header("pragma", "no-cache")
      .headers(refused.headers)
      .send(refused.body);
  });
}

const oauthResponses = { 400: OAuthErrorBody, 409: OAuthErrorBody, 429: OAuthErrorBody, 500: OAuthErrorBody };

/** Refusals that mean a wrong guess, not the normal course of a device sign-in or a rotation race. */
const GUESSES = new Set(["invalid_grant", "invalid_client", "invalid_request", "unsupported_grant_type"]);

function tooMany(what: string, seconds: number) {
  return new TooManyRequestsError(tooManyAttempts(what, seconds));
}

/** `POST /oauth/token`, `/oauth/device`, `/oauth/revoke` at the origin root, as the CLI calls them. */
export const oauthRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (app, { services }) => {
  await acceptForms(app, "list");
  oauthErrors(app);
  const meta = (req: { ip: string; headers: { "user-agent"?: string } }) => ({
    ip: req.ip,
    userAgent: req.headers["user-agent"],
  });
  // Per client address, on the store all processes share (src/host/http/rate-limits.ts).
  const { oauthTokenRefusals: refusedTokens, deviceStarts } = services.limits;

  app.post(
    "/oauth/token",
    {
      schema: {
        tags: ["cli auth"],
        summary: "Token endpoint: authorization_code (+PKCE), refresh_token (rotating), device_code",
        description:
          "Form-encoded, `client_id=cli_native`, no client secret. A refresh token replayed just after rotation answers 409 `refresh_replay_benign_retry`; replayed later it revokes the whole session (`invalid_grant`).",
        security: [],
        body: TokenRequest,
        response: { 200: TokenResponse, ...oauthResponses },
      },
    },
    async (req, reply) => {
      const wait = await refusedTokens.retryAfter(req.ip);
      if (wait) throw tooMany("refused token requests", wait);
      const tokens = await services.oauth.token(req.body as Fields, meta(req)).catch(async (err) => {
        if (err instanceof DomainError && GUESSES.has(err.code)) await refusedTokens.note(req.ip);
        throw err;
      });
      return reply.header("cache-control", "no-store").header("pragma", "no-cache").send(tokens);
    },
  );

  app.post(
    "/oauth/device",
    {
      schema: {
        tags: ["cli auth"],
        summary: "Device authorization (RFC 8628) for `spec-kitty auth login --headless`",
        security: [],
        body: DeviceRequest,
        response: { 200: DeviceAuthorization, ...oauthResponses },
      },
    },
    async (req, reply) => {
      const wait = await deviceStarts.note(req.ip);
      if (wait) throw tooMany("device sign-ins", wait);
      const started = await services.oauth.deviceAuthorization(req.body as Fields);
      return reply.header("cache-control", "no-store").send(started);
    },
  );

  app.post(
    "/oauth/revoke",
    {
      schema: {
        tags: ["cli auth"],
        summary: "Sign out: revoke the session of a refresh or access token (RFC 7009)",
        security: [],
        body: RevokeRequest,
        response: { 200: RevokeResponse, ...oauthResponses },
      },
    },
    async (req, reply) => {
      const result = await services.oauth.revoke((req.body as Fields).token);
      return reply.header("cache-control", "no-store").send(result);
    },
  );
};

/** `GET /api/v1/session-status` (`spec-kitty auth doctor --server`). Registered under `/api/v1`. */
export const sessionStatusRoutes: FastifyPluginAsyncTypebox<{ services: Deps }> = async (
  app,
  { services },
) => {
  app.get(
    "/session-status",
    {
      onRequest: authenticateUser(services),
      schema: {
        tags: ["cli auth"],
        summary: "Whether the caller's CLI session is active",
        security: [{ bearer: [] }],
        response: { 200: SessionStatus, ...errorResponses },
      },
    },
    async (req) => {
      const { tokenId } = req.auth;
      if (services.oauth.isSessionId(tokenId)) return services.oauth.sessionStatus(tokenId);
      return {
        status: "active" as const,
        session_id: null,
        current_generation: null,
        auth_method: "api_token",
      };
    },
  );
};
