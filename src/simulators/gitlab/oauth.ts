import { randomBytes } from "node:crypto";
import { consentDesk } from "../core/consent.ts";
import {
  type OAuthErrorSpec,
  type PendingCode,
  pendingCode,
  redirectMatches,
  requestedPkce,
  tokenEndpoint,
} from "../core/oauth.ts";
import type { SimReply, SimRouter } from "../core/server.ts";
import type { SimStore } from "../core/store.ts";
import type { GitlabWorld } from "./world.ts";

/**
 * GitLab's OAuth 2 provider (Doorkeeper) as the host uses it:
 *   GET  /oauth/authorize  the consent page for the seeded `oauth_user`; Authorize answers 302 to
 *                          `redirect_uri?code=&state=`, Cancel to `redirect_uri?error=access_denied&state=`
 *   POST /oauth/token      authorization_code (PKCE S256 or plain) and refresh_token grants, form or JSON body,
 *                          client credentials in the body or HTTP Basic. Access tokens live 2 hours; refresh
 *                          tokens rotate (the spent one answers invalid_grant). A reused code is refused and
 *                          revokes the tokens it produced.
 */

const ACCESS_TTL_S = 7200;

const INVALID_GRANT =
  "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const INVALID_CLIENT =
  "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";

interface Grant extends PendingCode {
  username: string;
}

const invalidGrant: OAuthErrorSpec = { status: 400, error: "invalid_grant", description: INVALID_GRANT };

const errorPage = (status: number, text: string): SimReply => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8" },
  raw: `<!DOCTYPE html><html><body><h1>An error has occurred</h1><p>${text}</p></body></html>`,
});

export function mountOAuth(router: SimRouter, store: SimStore, world: GitlabWorld) {
  const apps = new Map((world.extras.oauth_apps ?? []).map((a) => [a.client_id, a]));
  const grants = new Map<string, Grant>();
  const desk = consentDesk(router);

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
    if (!redirectMatches(app.redirect_uris, redirectUri))
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
    const pkce = requestedPkce(q);
    if (!pkce) {
      return back({ error: "invalid_request", error_description: "Code challenge method is not supported." });
    }
    const username = world.extras.oauth_user ?? world.users[0].username;
    return desk.ask({
      provider: "GitLab",
      app: app.name,
      signedInAs: username,
      scopes: scope.split(/\s+/),
      allow: () => {
        const code = randomBytes(32).toString("hex");
        grants.set(code, { ...pendingCode(app.client_id, redirectUri, scope, pkce), username });
        return back({ code });
      },
      deny: () =>
        back({
          error: "access_denied",
          error_description: "The resource owner or authorization server denied the request.",
        }),
    });
  });

  function issueTokens(
    clientId: string,
    username: string,
    scope: string,
    ttl: number,
  ): { reply: SimReply; tokens: string[] } {
    const user = world.userNamed(username);
    const access = randomBytes(32).toString("hex");
    const refresh = randomBytes(32).toString("hex");
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

  router.on(
    "POST",
    "/oauth/token",
    tokenEndpoint({
      store,
      codes: grants,
      accessTtlSeconds: ACCESS_TTL_S,
      app: (id) => apps.get(id),
      basicAuth: true,
      fromCode: (app, grant, ttl) => issueTokens(app.client_id, grant.username, grant.scope, ttl),
      fromRefresh: (app, old, ttl) =>
        issueTokens(app.client_id, old.meta!.user, old.meta!.scope ?? "api", ttl),
      errorHeaders: { "cache-control": "no-store", pragma: "no-cache" },
      errors: {
        invalidClient: { status: 401, error: "invalid_client", description: INVALID_CLIENT },
        missingParameter: (name) => ({
          status: 400,
          error: "invalid_request",
          description: `Missing required parameter: ${name}.`,
        }),
        invalidCode: invalidGrant,
        replayedCode: invalidGrant,
        redirectMismatch: invalidGrant,
        pkceFailed: invalidGrant,
        invalidRefresh: invalidGrant,
        unsupportedGrant: {
          status: 400,
          error: "unsupported_grant_type",
          description: "The authorization grant type is not supported by the authorization server.",
        },
      },
    }),
  );
}
