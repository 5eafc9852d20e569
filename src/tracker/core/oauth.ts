import { createHash, randomBytes } from "node:crypto";
import { TrackerError } from "./errors.ts";
import type { HttpClient } from "./http.ts";

/**
 * OAuth 2.0 authorization-code flow with PKCE (S256) and refresh, as GitLab, Atlassian (3LO) and
 * Linear run it. The profiles hold the only provider differences: endpoints, body encoding, extra
 * authorize parameters and scopes.
 */
export interface OAuthProfile {
  provider: string;
  /** Full authorize URL, given the provider's web base. */
  authorizeUrl(webBase: string): string;
  tokenUrl(tokenBase: string): string;
  scopes: string[];
  scopeSeparator: string;
  extraAuthorizeParams?: Record<string, string>;
  /** Atlassian's token endpoint takes JSON; the others take a form. */
  jsonTokenBody?: boolean;
  pkce: boolean;
}

export const OAUTH_PROFILES: Record<"gitlab" | "jira" | "linear", OAuthProfile> = {
  gitlab: {
    provider: "gitlab",
    authorizeUrl: (b) => `${b.replace(/\/$/, "")}/oauth/authorize`,
    tokenUrl: (b) => `${b.replace(/\/$/, "")}/oauth/token`,
    scopes: ["api"],
    scopeSeparator: " ",
    pkce: true,
  },
  jira: {
    provider: "jira",
    authorizeUrl: (b) => `${b.replace(/\/$/, "")}/authorize`,
    tokenUrl: (b) => `${b.replace(/\/$/, "")}/oauth/token`,
    scopes: ["read:jira-work", "write:jira-work", "read:jira-user", "offline_access"],
    scopeSeparator: " ",
    extraAuthorizeParams: { audience: "api.atlassian.com", prompt: "consent" },
    jsonTokenBody: true,
    pkce: false,
  },
  linear: {
    provider: "linear",
    authorizeUrl: (b) => `${b.replace(/\/$/, "")}/oauth/authorize`,
    tokenUrl: (b) => `${b.replace(/\/$/, "")}/oauth/token`,
    scopes: ["read", "write"],
    scopeSeparator: ",",
    extraAuthorizeParams: { prompt: "consent" },
    pkce: true,
  },
};

export interface OAuthClientApp {
  clientId: string;
  clientSecret: string;
}

export interface OAuthTokens {
  access_token: string;
  refresh_token: string | null;
  /** ISO time; null when the provider did not say. */
  expires_at: string | null;
  scope: string | null;
}

export function newPkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

export function buildAuthorizeUrl(
  profile: OAuthProfile,
  webBase: string,
  app: OAuthClientApp,
  p: { state: string; redirectUri: string; codeChallenge?: string },
): string {
  const url = new URL(profile.authorizeUrl(webBase));
  const params: Record<string, string> = {
    client_id: app.clientId,
    redirect_uri: p.redirectUri,
    response_type: "code",
    state: p.state,
    ...(profile.scopes.length ? { scope: profile.scopes.join(profile.scopeSeparator) } : {}),
    ...profile.extraAuthorizeParams,
  };
  if (profile.pkce && p.codeChallenge) {
    params.code_challenge = p.codeChallenge;
    params.code_challenge_method = "S256";
  }
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

/** Token-endpoint errors that mean the grant is spent or refused: the user has to consent again. */
const SPENT_GRANT = new Set([
  "invalid_grant",
  "invalid_client",
  "bad_verification_code",
  "bad_refresh_token",
  "incorrect_client_credentials",
]);

async function tokenRequest(
  http: HttpClient,
  profile: OAuthProfile,
  tokenBase: string,
  body: Record<string, string>,
): Promise<OAuthTokens> {
  const res = await http.request<Record<string, unknown>>(
    {
      provider: profile.provider,
      // An OAuth error at the token endpoint (invalid_grant: code reused or refresh token revoked) means re-consent.
      // GitHub answers token errors with 200 and an `error` field, so the field decides, not the status.
      classify: (r, b) => {
        const err = (b as { error?: unknown } | null)?.error;
        if (r.status >= 200 && r.status < 300 && typeof err !== "string") return null;
        if (typeof err === "string" && SPENT_GRANT.has(err)) return "auth_revoked";
        if (r.status === 401) return "auth_revoked";
        return r.status === 429
          ? "rate_limited"
          : r.status >= 500
            ? "upstream_unavailable"
            : "invalid_request";
      },
    },
    profile.jsonTokenBody
      ? { method: "POST", url: profile.tokenUrl(tokenBase), json: body }
      : { method: "POST", url: profile.tokenUrl(tokenBase), form: body },
  );
  const b = res.body;
  if (!b || typeof b.access_token !== "string") {
    throw new TrackerError(
      "malformed_response",
      profile.provider,
      `${profile.provider} token endpoint answered without an access_token`,
    );
  }
  const expiresIn = typeof b.expires_in === "number" ? b.expires_in : Number(b.expires_in ?? Number.NaN);
  return {
    access_token: b.access_token,
    refresh_token: typeof b.refresh_token === "string" ? b.refresh_token : null,
    expires_at: Number.isFinite(expiresIn) ? new Date(Date.now() + expiresIn * 1000).toISOString() : null,
    scope: typeof b.scope === "string" ? b.scope : null,
  };
}

export function exchangeCode(
  http: HttpClient,
  profile: OAuthProfile,
  tokenBase: string,
  app: OAuthClientApp,
  p: { code: string; redirectUri: string; codeVerifier?: string | null },
) {
  const body: Record<string, string> = {
    grant_type: "authorization_code",
    client_id: app.clientId,
    client_secret: app.clientSecret,
    code: p.code,
    redirect_uri: p.redirectUri,
  };
  if (profile.pkce && p.codeVerifier) body.code_verifier = p.codeVerifier;
  return tokenRequest(http, profile, tokenBase, body);
}

export function refreshTokens(
  http: HttpClient,
  profile: OAuthProfile,
  tokenBase: string,
  app: OAuthClientApp,
  refreshToken: string,
) {
  return tokenRequest(http, profile, tokenBase, {
    grant_type: "refresh_token",
    client_id: app.clientId,
    client_secret: app.clientSecret,
    refresh_token: refreshToken,
  });
}
