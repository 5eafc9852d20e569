import { createHash, randomBytes } from "node:crypto";
import type { SimReply, SimRequest, SimRouter } from "../core/server.ts";
import type { SimStore } from "../core/store.ts";

/**
 * Linear's OAuth 2.0 endpoints: `GET /oauth/authorize` on the web origin (auto-consents with a 302
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

interface PendingCode {
  client_id: string;
  redirect_uri: string;
  scope: string;
  organization_id: string;
  challenge: string | null;
  challenge_method: string | null;
  expires_at: number;
  used: boolean;
  /** Tokens minted from this code, revoked if the code is replayed. */
  issued: string[];
}

export const ACCESS_TOKEN_TTL_S = 86_399;
const CODE_TTL_MS = 10 * 60_000;

const oauthError = (status: number, error: string, description: string): SimReply => ({
  status,
  json: { error, error_description: description },
});

export function mountOAuth(
  router: SimRouter,
  store: SimStore,
  apps: OAuthApp[],
  /** The organization the simulated user consents for. */
  consentOrganization: () => string,
) {
  const codes = new Map<string, PendingCode>();
  const appById = (id: unknown) => apps.find((a) => a.client_id === id);

  router.on("GET", "/oauth/authorize", (req) => {
    const q = req.query;
    const app = appById(q.get("client_id"));
    // Errors about the client or redirect URI are shown to the user, never redirected (RFC 6749 §4.1.2.1).
    if (!app)
      return { status: 400, json: { error: "invalid_client", error_description: "Unknown client_id" } };
    const redirect = q.get("redirect_uri") ?? "";
    if (!redirectAllowed(app, redirect)) {
      return { status: 400, json: { error: "invalid_request", error_description: "Invalid redirect_uri" } };
    }
    const back = new URL(redirect);
    const state = q.get("state");
    if (state !== null) back.searchParams.set("state", state);
    if (q.get("response_type") !== "code") {
      back.searchParams.set("error", "unsupported_response_type");
      return { status: 302, headers: { location: back.toString() } };
    }
    const method = q.get("code_challenge") ? (q.get("code_challenge_method") ?? "plain") : null;
    if (method && method !== "S256" && method !== "plain") {
      back.searchParams.set("error", "invalid_request");
      return { status: 302, headers: { location: back.toString() } };
    }
    const code = randomBytes(20).toString("hex");
    codes.set(code, {
      client_id: app.client_id,
      redirect_uri: redirect,
      scope: q.get("scope") ?? "read",
      organization_id: consentOrganization(),
      challenge: q.get("code_challenge"),
      challenge_method: method,
      expires_at: Date.now() + CODE_TTL_MS,
      used: false,
      issued: [],
    });
    back.searchParams.set("code", code);
    return { status: 302, headers: { location: back.toString() } };
  });

  const issueTokens = (app: OAuthApp, organizationId: string, scope: string) => {
    const access = `lin_oauth_${randomBytes(24).toString("hex")}`;
    const refresh = `lin_refresh_${randomBytes(24).toString("hex")}`;
    const ttl = store.accessTokenTtlSeconds ?? ACCESS_TOKEN_TTL_S;
    store.addCredential({
      token: access,
      workspaces: [organizationId],
      kind: "oauth_access",
      expires_at: Date.now() + ttl * 1000,
      meta: { client_id: app.client_id, scope },
    });
    store.addCredential({
      token: refresh,
      workspaces: [organizationId],
      kind: "oauth_refresh",
      expires_at: null,
      meta: { client_id: app.client_id, scope },
    });
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

  router.on("POST", "/oauth/token", (req) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const client = clientCredentials(req, body);
    const app = appById(client.id);
    if (!app || app.client_secret !== client.secret) {
      return oauthError(401, "invalid_client", "Client authentication failed");
    }
    if (body.grant_type === "authorization_code") {
      const pending = codes.get(body.code ?? "");
      if (!pending || pending.client_id !== app.client_id || pending.expires_at < Date.now()) {
        return oauthError(400, "invalid_grant", "Invalid or expired authorization code");
      }
      if (pending.used) {
        for (const t of pending.issued) {
          const c = store.credentials.get(t);
          if (c) c.revoked = true;
        }
        return oauthError(400, "invalid_grant", "Authorization code already used");
      }
      if (pending.redirect_uri !== body.redirect_uri) {
        return oauthError(400, "invalid_grant", "redirect_uri does not match the authorization request");
      }
      if (pending.challenge && !pkceMatches(pending, body.code_verifier)) {
        return oauthError(400, "invalid_grant", "PKCE verification failed");
      }
      pending.used = true;
      const minted = issueTokens(app, pending.organization_id, pending.scope);
      pending.issued = minted.tokens;
      return minted.reply;
    }
    if (body.grant_type === "refresh_token") {
      const old = store.credentials.get(body.refresh_token ?? "");
      if (old?.kind !== "oauth_refresh" || old.revoked || old.meta?.client_id !== app.client_id) {
        return oauthError(400, "invalid_grant", "Invalid refresh token");
      }
      old.revoked = true; // refresh tokens rotate: each is good for one renewal
      return issueTokens(app, old.workspaces[0], old.meta?.scope ?? "read").reply;
    }
    return oauthError(
      400,
      "unsupported_grant_type",
      "grant_type must be authorization_code or refresh_token",
    );
  });

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

function pkceMatches(pending: PendingCode, verifier: string | undefined): boolean {
  if (!verifier) return false;
  const computed =
    pending.challenge_method === "S256"
      ? createHash("sha256").update(verifier).digest("base64url")
      : verifier;
  return computed === pending.challenge;
}

function bearer(req: SimRequest): string | null {
  const m = String(req.headers.authorization ?? "").match(/^Bearer\s+(.+)$/i);
  return m ? m[1] : null;
}

function clientCredentials(req: SimRequest, body: Record<string, string>) {
  const basic = String(req.headers.authorization ?? "").match(/^Basic\s+(.+)$/i);
  if (basic) {
    const [id, secret] = Buffer.from(basic[1], "base64").toString("utf8").split(":");
    return { id: decodeURIComponent(id ?? ""), secret: decodeURIComponent(secret ?? "") };
  }
  return { id: body.client_id, secret: body.client_secret };
}
