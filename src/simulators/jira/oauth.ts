import { randomBytes } from "node:crypto";
import { consentDesk } from "../core/consent.ts";
import {
  oauthError,
  type PendingCode,
  pendingCode,
  redirectBack,
  redirectMatches,
  storeTokens,
  tokenEndpoint,
} from "../core/oauth.ts";
import type { SimReply, SimRouter } from "../core/server.ts";
import { bearerToken, type SimStore } from "../core/store.ts";

/**
 * Atlassian's OAuth 2.0 (3LO) endpoints, served on the simulator root (the host points both its auth URL
 * and its API URL here):
 *   GET  /authorize                          the consent page; Authorize answers 302 to `redirect_uri?code=...&state=...`
 *   POST /oauth/token                        JSON body (a form is tolerated); authorization_code and refresh_token
 *   GET  /oauth/token/accessible-resources   the sites the grant reaches
 * Access tokens live one hour; refresh tokens are only issued with `offline_access` and rotate: each use
 * spends the old one (a reuse answers 403 invalid_grant, as auth.atlassian.com does). PKCE is not part of
 * Atlassian's 3LO flow for confidential clients, so none is checked.
 */

export interface JiraOAuthApp {
  client_id: string;
  client_secret: string;
  /** Patterns; a trailing `*` matches any suffix (the host's public URL is not known in advance). */
  redirect_uris: string[];
  name?: string;
}

/** Atlassian's 3LO has no PKCE, so a code's challenge is always null. */
interface SiteCode extends PendingCode {
  sites: string[];
}

export const ACCESS_TOKEN_TTL_S = 3600;

const redirectAllowed = (app: JiraOAuthApp, uri: string) =>
  /^https?:\/\//.test(uri) && redirectMatches(app.redirect_uris, uri);

/** Atlassian access tokens are JWTs; the simulator's look the part (unsigned, never verified by clients). */
function accessTokenFor(accountId: string, scope: string, ttl: number) {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: "https://auth.atlassian.com",
    sub: accountId,
    aud: "api.atlassian.com",
    scope,
    iat: now,
    exp: now + ttl,
    jti: randomBytes(8).toString("hex"),
  };
  return `${part({ alg: "RS256", typ: "JWT", kid: "sim" })}.${part(claims)}.${randomBytes(32).toString("base64url")}`;
}

export function mountOAuth(
  router: SimRouter,
  store: SimStore,
  apps: JiraOAuthApp[],
  user: { account_id: string },
  siteUrl: (workspaceId: string) => string,
) {
  const codes = new Map<string, SiteCode>();
  const desk = consentDesk(router);
  const appById = (id: unknown) => apps.find((a) => a.client_id === id);
  const cloudSites = () => [...store.workspaces.values()].filter((w) => w.details.deployment === "cloud");
  /** Sites the user has granted each app so far: a consent adds the site picked on its screen. */
  const granted = new Map<string, Set<string>>();

  router.on("GET", "/authorize", (req) => {
    const q = req.query;
    const app = appById(q.get("client_id"));
    // Client and redirect errors are shown to the user, never redirected (RFC 6749 §4.1.2.1).
    if (!app) return oauthError(400, "invalid_client", "Unknown client_id");
    const redirect = q.get("redirect_uri") ?? "";
    if (!redirectAllowed(app, redirect))
      return oauthError(400, "invalid_request", "redirect_uri does not match the app's callback URL");
    const back = redirectBack(redirect, q.get("state"));
    const fail = (error: string) => back({ error });
    if (q.get("response_type") !== "code") return fail("unsupported_response_type");
    if (q.get("audience") !== "api.atlassian.com") return fail("invalid_request");
    return desk.ask({
      provider: "Atlassian",
      app: app.name ?? app.client_id,
      signedInAs: user.account_id,
      scopes: (q.get("scope") ?? "").split(/\s+/).filter(Boolean),
      // Atlassian's consent screen asks which site the app may use; accessible-resources then lists
      // every site the user has granted the app, this one and earlier ones.
      choice: { label: "Use app on", options: cloudSites().map((w) => ({ value: w.id, label: w.name })) },
      allow: (site) => {
        const sites = granted.get(app.client_id) ?? new Set<string>();
        sites.add(site!);
        granted.set(app.client_id, sites);
        const code = randomBytes(24).toString("base64url");
        codes.set(code, { ...pendingCode(app.client_id, redirect, q.get("scope") ?? ""), sites: [...sites] });
        return back({ code });
      },
      deny: () => fail("access_denied"),
    });
  });

  const issue = (app: JiraOAuthApp, sites: string[], scope: string, ttl: number) => {
    const access = accessTokenFor(user.account_id, scope, ttl);
    const refresh = scope.split(" ").includes("offline_access")
      ? randomBytes(48).toString("base64url")
      : undefined;
    const meta = { client_id: app.client_id, scope };
    storeTokens(store, { access, refresh, workspaces: sites, ttlSeconds: ttl, meta });
    const body: Record<string, unknown> = {
      access_token: access,
      expires_in: ttl,
      token_type: "Bearer",
      scope,
    };
    if (refresh) body.refresh_token = refresh;
    return { tokens: refresh ? [access, refresh] : [access], reply: { json: body } satisfies SimReply };
  };

  const invalidCode = { status: 403, error: "invalid_grant", description: "Invalid authorization code" };
  router.on(
    "POST",
    "/oauth/token",
    tokenEndpoint({
      store,
      codes,
      accessTtlSeconds: ACCESS_TOKEN_TTL_S,
      app: appById,
      basicAuth: false,
      fromCode: (app, pending, ttl) => issue(app, pending.sites, pending.scope, ttl),
      fromRefresh: (app, cred, ttl) => issue(app, cred.workspaces, cred.meta?.scope ?? "", ttl),
      errors: {
        invalidClient: { status: 401, error: "access_denied", description: "Unauthorized" },
        invalidCode,
        replayedCode: invalidCode,
        redirectMismatch: { status: 403, error: "invalid_grant", description: "redirect_uri does not match" },
        pkceFailed: invalidCode,
        invalidRefresh: {
          status: 403,
          error: "invalid_grant",
          description: "Unknown or invalid refresh token.",
        },
        unsupportedGrant: {
          status: 400,
          error: "unsupported_grant_type",
          description: "Unsupported grant type",
        },
      },
    }),
  );

  router.on("GET", "/oauth/token/accessible-resources", (req) => {
    const cred = store.check(bearerToken(req.headers.authorization));
    if (typeof cred === "string" || cred.kind !== "oauth_access") {
      return { status: 401, json: { code: 401, message: "Unauthorized" } };
    }
    const scopes = (cred.meta?.scope ?? "").split(" ").filter((s) => s.includes("jira"));
    return {
      json: cred.workspaces
        .map((id) => store.workspaces.get(id))
        .filter((w) => w !== undefined)
        .map((w) => ({
          id: w.id,
          url: siteUrl(w.id),
          name: w.slug,
          scopes,
          avatarUrl: "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        })),
    };
  });
}
