import { randomBytes } from "node:crypto";
import { consentDesk } from "../core/consent.ts";
import {
  oauthError,
  type PendingCode,
  pendingCode,
  redirectBack,
  requestedPkce,
  storeTokens,
  tokenEndpoint,
} from "../core/oauth.ts";
import type { SimReply, SimRequest, SimRouter } from "../core/server.ts";
import type { SimStore } from "../core/store.ts";

/**
 * Linear's OAuth 2.0 endpoints: `GET /oauth/authorize` on the web origin (shows a consent page whose Authorize answers a 302
 * back to the redirect URI), `POST /oauth/token` on the API origin (form body, client credentials in
 * the body or HTTP Basic; authorization_code with PKCE S256 or plain, refresh_token with rotation) and
 * `POST /oauth/revoke`. Access tokens expire after 24 hours; refresh tokens are single-use.
 */

export interface OAuthApp {
  client_id: string;
  client_secret: string;
  name?: string;
  /** Allowed redirect URIs; empty = any http(s) URL (the host's public URL is not known in advance). */
  redirect_uris?: string[];
}

interface OrganizationCode extends PendingCode {
  organization_id: string;
}

export const ACCESS_TOKEN_TTL_S = 86_399;

export function mountOAuth(
  router: SimRouter,
  store: SimStore,
  apps: OAuthApp[],
  /** The organization the simulated user consents for. */
  consentOrganization: () => string,
) {
  const codes = new Map<string, OrganizationCode>();
  const desk = consentDesk(router);
  const appById = (id: unknown) => apps.find((a) => a.client_id === id);

  router.on("GET", "/oauth/authorize", (req) => {
    const q = req.query;
    const app = appById(q.get("client_id"));
    // Errors about the client or redirect URI are shown to the user, never redirected (RFC 6749 §4.1.2.1).
    if (!app) return oauthError(400, "invalid_client", "Unknown client_id");
    const redirect = q.get("redirect_uri") ?? "";
    if (!redirectAllowed(app, redirect)) return oauthError(400, "invalid_request", "Invalid redirect_uri");
    const back = redirectBack(redirect, q.get("state"));
    if (q.get("response_type") !== "code") return back({ error: "unsupported_response_type" });
    const pkce = requestedPkce(q);
    if (!pkce) return back({ error: "invalid_request" });
    return desk.ask({
      provider: "Linear",
      app: app.name ?? app.client_id,
      signedInAs: store.workspaces.get(consentOrganization())?.name ?? consentOrganization(),
      scopes: (q.get("scope") ?? "read").split(",").filter(Boolean),
      allow: () => {
        const code = randomBytes(20).toString("hex");
        codes.set(code, {
          ...pendingCode(app.client_id, redirect, q.get("scope") ?? "read", pkce),
          organization_id: consentOrganization(),
        });
        return back({ code });
      },
      deny: () => back({ error: "access_denied" }),
    });
  });

  const issueTokens = (app: OAuthApp, organizationId: string, scope: string, ttl: number) => {
    const access = `lin_oauth_${randomBytes(24).toString("hex")}`;
    const refresh = `lin_refresh_${randomBytes(24).toString("hex")}`;
    const meta = { client_id: app.client_id, scope };
    storeTokens(store, { access, refresh, workspaces: [organizationId], ttlSeconds: ttl, meta });
    return {
      tokens: [access, refresh],
      reply: {
        json: {
          access_token: access,
          token_type: "Bearer",
          expires_in: ttl,
          // Linear answers the granted scopes as a list.
          scope: scope.split(/[ ,]+/).filter(Boolean),
          refresh_token: refresh,
        },
      } satisfies SimReply,
    };
  };

  router.on(
    "POST",
    "/oauth/token",
    tokenEndpoint({
      store,
      codes,
      accessTtlSeconds: ACCESS_TOKEN_TTL_S,
      app: appById,
      basicAuth: true,
      fromCode: (app, pending, ttl) => issueTokens(app, pending.organization_id, pending.scope, ttl),
      fromRefresh: (app, old, ttl) => issueTokens(app, old.workspaces[0], old.meta?.scope ?? "read", ttl),
      errors: {
        invalidClient: { status: 401, error: "invalid_client", description: "Client authentication failed" },
        invalidCode: {
          status: 400,
          error: "invalid_grant",
          description: "Invalid or expired authorization code",
        },
        replayedCode: { status: 400, error: "invalid_grant", description: "Authorization code already used" },
        redirectMismatch: {
          status: 400,
          error: "invalid_grant",
          description: "redirect_uri does not match the authorization request",
        },
        pkceFailed: { status: 400, error: "invalid_grant", description: "PKCE verification failed" },
        invalidRefresh: { status: 400, error: "invalid_grant", description: "Invalid refresh token" },
        unsupportedGrant: {
          status: 400,
          error: "unsupported_grant_type",
          description: "grant_type must be authorization_code or refresh_token",
        },
      },
    }),
  );

  router.on("POST", "/oauth/revoke", (req) => {
    const token = (req.body?.token as string | undefined) ?? bearer(req);
    const c = token ? store.credentials.get(token) : undefined;
    if (!c) return oauthError(400, "invalid_request", "Unknown token");
    c.revoked = true;
    return { status: 200, json: {} };
  });
}

function redirectAllowed(app: OAuthApp, redirect: string): boolean {
  if (app.redirect_uris && app.redirect_uris.length > 0) return app.redirect_uris.includes(redirect);
  try {
    const u = new URL(redirect);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function bearer(req: SimRequest): string | null {
  const m = String(req.headers.authorization ?? "").match(/^Bearer\s+(.+)$/i);
  return m ? m[1] : null;
}
