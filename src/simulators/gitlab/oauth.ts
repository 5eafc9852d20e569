import { createHash, randomBytes } from "node:crypto";
import type { SimReply, SimRequest, SimRouter } from "../core/server.ts";
import type { SimStore } from "../core/store.ts";
import type { GitlabWorld, SeedOAuthApp } from "./world.ts";

/**
 * GitLab's OAuth 2 provider (Doorkeeper) as the host uses it:
 *   GET  /oauth/authorize  auto-consents for the seeded `oauth_user`: 302 to `redirect_uri?code=&state=`
 *   POST /oauth/token      authorization_code (PKCE S256 or plain) and refresh_token grants, form or JSON body,
 *                          client credentials in the body or HTTP Basic. Access tokens live 2 hours; refresh
 *                          tokens rotate (the spent one answers invalid_grant). A reused code is refused and
 *                          revokes the tokens it produced.
 */

const ACCESS_TTL_S = 7200;
const CODE_TTL_MS = 10 * 60_000;

const INVALID_GRANT =
  "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const INVALID_CLIENT =
  "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";

interface Grant {
  client_id: string;
  redirect_uri: string;
  scope: string;
  username: string;
  challenge: string | null;
  challenge_method: string | null;
  expires_at: number;
  used: boolean;
  tokens: string[];
}

const oauthError = (status: number, error: string, description: string): SimReply => ({
  status,
  headers: { "cache-control": "no-store", pragma: "no-cache" },
  json: { error, error_description: description },
});

const errorPage = (status: number, text: string): SimReply => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8" },
  raw: `<!DOCTYPE html><html><body><h1>An error has occurred</h1><p>${text}</p></body></html>`,
});

function redirectUriAllowed(app: SeedOAuthApp, uri: string): boolean {
  return app.redirect_uris.some((r) => (r.endsWith("*") ? uri.startsWith(r.slice(0, -1)) : r === uri));
}

function basicAuth(req: SimRequest): { id: string; secret: string } | null {
  const m = String(req.headers.authorization ?? "").match(/^Basic\s+(.+)$/i);
  if (!m) return null;
  const [id, ...rest] = Buffer.from(m[1], "base64").toString("utf8").split(":");
  return { id: decodeURIComponent(id), secret: decodeURIComponent(rest.join(":")) };
}

export function mountOAuth(router: SimRouter, store: SimStore, world: GitlabWorld) {
  const apps = new Map((world.extras.oauth_apps ?? []).map((a) => [a.client_id, a]));
  const grants = new Map<string, Grant>();

  router.on("POST", "/_sim/gitlab/oauth-apps", (req) => {
    const b = req.body ?? {};
    if (typeof b.client_id !== "string" || typeof b.client_secret !== "string") {
      return { status: 400, json: { error: "client_id and client_secret are required" } };
    }
    apps.set(b.client_id, {
      name: b.name ?? "Simulated app",
      client_id: b.client_id,
      client_secret: b.client_secret,
      redirect_uris: b.redirect_uris ?? ["http://127.0.0.1*", "http://localhost*"],
      scopes: b.scopes ?? ["api", "read_api", "read_user"],
    });
    return { status: 201, json: { client_id: b.client_id } };
  });

  router.on("GET", "/oauth/authorize", (req) => {
    const q = req.query;
    const app = apps.get(q.get("client_id") ?? "");
    if (!app) return errorPage(401, INVALID_CLIENT);
    const redirectUri = q.get("redirect_uri") ?? "";
    if (!redirectUriAllowed(app, redirectUri))
      return errorPage(400, "The redirect URI included is not valid.");
    const back = (params: Record<string, string>): SimReply => {
      const url = new URL(redirectUri);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      if (q.get("state")) url.searchParams.set("state", q.get("state")!);
      return { status: 302, headers: { location: url.toString() } };
    };
    if (q.get("response_type") !== "code") {
      return back({
        error: "unsupported_response_type",
        error_description: "The authorization server does not support this response type.",
      });
    }
    const scope = (q.get("scope") ?? "api").trim() || "api";
    if (scope.split(/\s+/).some((s) => !app.scopes.includes(s))) {
      return back({
        error: "invalid_scope",
        error_description: "The requested scope is invalid, unknown, or malformed.",
      });
    }
    const method = q.get("code_challenge") ? (q.get("code_challenge_method") ?? "plain") : null;
    if (method && method !== "S256" && method !== "plain") {
      return back({ error: "invalid_request", error_description: "Code challenge method is not supported." });
    }
    const code = randomBytes(32).toString("hex");
    grants.set(code, {
      client_id: app.client_id,
      redirect_uri: redirectUri,
      scope,
      username: world.extras.oauth_user ?? world.users[0].username,
      challenge: q.get("code_challenge"),
      challenge_method: method,
      expires_at: Date.now() + CODE_TTL_MS,
      used: false,
      tokens: [],
    });
    return back({ code });
  });

  function issueTokens(
    clientId: string,
    username: string,
    scope: string,
  ): { reply: SimReply; tokens: string[] } {
    const user = world.userNamed(username);
    const access = randomBytes(32).toString("hex");
    const refresh = randomBytes(32).toString("hex");
    const ttl = store.accessTokenTtlSeconds ?? ACCESS_TTL_S;
    const workspaces = user.workspaces ?? [...store.workspaces.keys()];
    const meta = { user: username, client_id: clientId, scope };
    store.addCredential({
      token: access,
      workspaces,
      kind: "oauth_access",
      expires_at: Date.now() + ttl * 1000,
      meta: { ...meta, refresh_token: refresh },
    });
    store.addCredential({ token: refresh, workspaces, kind: "oauth_refresh", expires_at: null, meta });
    return {
      tokens: [access, refresh],
      reply: {
        headers: { "cache-control": "no-store", pragma: "no-cache" },
        json: {
          access_token: access,
          token_type: "Bearer",
          expires_in: ttl,
          refresh_token: refresh,
          scope,
          created_at: Math.floor(Date.now() / 1000),
        },
      },
    };
  }

  router.on("POST", "/oauth/token", (req) => {
    const b: Record<string, string> = req.body ?? {};
    const basic = basicAuth(req);
    const app = apps.get(basic?.id ?? b.client_id ?? "");
    if (!app || app.client_secret !== (basic?.secret ?? b.client_secret)) {
      return oauthError(401, "invalid_client", INVALID_CLIENT);
    }
    if (b.grant_type === "authorization_code") {
      if (!b.code) return oauthError(400, "invalid_request", "Missing required parameter: code.");
      const grant = grants.get(b.code);
      if (!grant || grant.client_id !== app.client_id || grant.expires_at <= Date.now()) {
        return oauthError(400, "invalid_grant", INVALID_GRANT);
      }
      if (grant.used) {
        // A replayed code may be stolen: what it produced is revoked too.
        for (const t of grant.tokens) {
          const c = store.credentials.get(t);
          if (c) c.revoked = true;
        }
        return oauthError(400, "invalid_grant", INVALID_GRANT);
      }
      if (grant.redirect_uri !== b.redirect_uri) return oauthError(400, "invalid_grant", INVALID_GRANT);
      if (grant.challenge) {
        const verifier = b.code_verifier ?? "";
        const computed =
          grant.challenge_method === "S256"
            ? createHash("sha256").update(verifier).digest("base64url")
            : verifier;
        if (!verifier || computed !== grant.challenge) return oauthError(400, "invalid_grant", INVALID_GRANT);
      }
      grant.used = true;
      const { reply, tokens } = issueTokens(app.client_id, grant.username, grant.scope);
      grant.tokens = tokens;
      return reply;
    }
    if (b.grant_type === "refresh_token") {
      if (!b.refresh_token)
        return oauthError(400, "invalid_request", "Missing required parameter: refresh_token.");
      const old = store.credentials.get(b.refresh_token);
      if (old?.kind !== "oauth_refresh" || old.revoked || old.meta?.client_id !== app.client_id) {
        return oauthError(400, "invalid_grant", INVALID_GRANT);
      }
      old.revoked = true; // rotation: a refresh token works once
      return issueTokens(app.client_id, old.meta.user, old.meta.scope ?? "api").reply;
    }
    return oauthError(
      400,
      "unsupported_grant_type",
      "The authorization grant type is not supported by the authorization server.",
    );
  });
}
