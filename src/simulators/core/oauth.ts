import { createHash } from "node:crypto";
import type { SimHandler, SimReply, SimRequest } from "./server.ts";
import type { SimCredential, SimStore } from "./store.ts";

/**
 * The OAuth 2 machinery the providers' simulators share: authorization codes with optional PKCE, the
 * token endpoint's `authorization_code` and rotating `refresh_token` grants, and a replayed code revoking
 * what it minted. Each provider keeps its own wire: token formats and lifetimes, body and error shapes.
 */

/** How long an authorization code can be exchanged. */
export const CODE_TTL_MS = 10 * 60_000;

/** An authorization code waiting to be exchanged for tokens. */
export interface PendingCode {
  client_id: string;
  redirect_uri: string;
  scope: string;
  /** PKCE; null when the authorization request carried no challenge. */
  challenge: string | null;
  challenge_method: string | null;
  expires_at: number;
  used: boolean;
  /** Tokens minted from this code, revoked if the code is replayed. */
  issued: string[];
}

/** A registered OAuth app, as a token request authenticates it. */
export interface OAuthClient {
  client_id: string;
  client_secret: string;
}

/** Tokens a grant minted (to revoke on a code replay) and the answer carrying them. */
export interface Minted {
  tokens: string[];
  reply: SimReply;
}

export interface OAuthErrorSpec {
  status: number;
  error: string;
  description: string;
}

export interface TokenEndpointOptions<App extends OAuthClient, Code extends PendingCode> {
  store: SimStore;
  codes: Map<string, Code>;
  /** The provider's access-token lifetime, used unless `store.accessTokenTtlSeconds` overrides it. */
  accessTtlSeconds: number;
  /** The registered app of a client id. */
  app(clientId: string): App | undefined;
  /** Clients may also authenticate with HTTP Basic (RFC 6749 §2.3.1), not only with body parameters. */
  basicAuth: boolean;
  fromCode(app: App, code: Code, ttlSeconds: number): Minted;
  fromRefresh(app: App, refresh: SimCredential, ttlSeconds: number): Minted;
  errors: {
    invalidClient: OAuthErrorSpec;
    /** When given, a missing `code` or `refresh_token` is refused with this before any lookup. */
    missingParameter?: (name: "code" | "refresh_token") => OAuthErrorSpec;
    /** Unknown, another client's or expired. */
    invalidCode: OAuthErrorSpec;
    replayedCode: OAuthErrorSpec;
    redirectMismatch: OAuthErrorSpec;
    pkceFailed: OAuthErrorSpec;
    invalidRefresh: OAuthErrorSpec;
    unsupportedGrant: OAuthErrorSpec;
  };
  /** Headers on every error answer. */
  errorHeaders?: Record<string, string>;
}

/** `POST /oauth/token`: authorization_code (PKCE checked when the code has a challenge) and refresh_token. */
export function tokenEndpoint<App extends OAuthClient, Code extends PendingCode>(
  o: TokenEndpointOptions<App, Code>,
): SimHandler {
  const { store, errors } = o;
  const fail = (spec: OAuthErrorSpec): SimReply => ({
    status: spec.status,
    ...(o.errorHeaders ? { headers: { ...o.errorHeaders } } : {}),
    json: { error: spec.error, error_description: spec.description },
  });
  const ttl = () => store.accessTokenTtlSeconds ?? o.accessTtlSeconds;
  /** The client the request authenticates as; null when client authentication fails. */
  const client = (req: SimRequest, body: Record<string, string>): App | null => {
    const basic = o.basicAuth ? basicClientCredentials(req) : null;
    const app = o.app(basic?.id ?? body.client_id ?? "");
    return app && app.client_secret === (basic?.secret ?? body.client_secret) ? app : null;
  };

  return (req) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const app = client(req, body);
    if (!app) return fail(errors.invalidClient);
    if (body.grant_type === "authorization_code") {
      if (!body.code && errors.missingParameter) return fail(errors.missingParameter("code"));
      const pending = o.codes.get(body.code ?? "");
      if (!pending || pending.client_id !== app.client_id || pending.expires_at <= Date.now()) {
        return fail(errors.invalidCode);
      }
      if (pending.used) {
        // A replayed code may be stolen: what it minted is revoked too (RFC 6749 §4.1.2).
        for (const t of pending.issued) {
          const c = store.credentials.get(t);
          if (c) c.revoked = true;
        }
        return fail(errors.replayedCode);
      }
      if (pending.redirect_uri !== body.redirect_uri) return fail(errors.redirectMismatch);
      if (pending.challenge && !pkceMatches(pending, body.code_verifier)) return fail(errors.pkceFailed);
      pending.used = true;
      const minted = o.fromCode(app, pending, ttl());
      pending.issued = minted.tokens;
      return minted.reply;
    }
    if (body.grant_type === "refresh_token") {
      if (!body.refresh_token && errors.missingParameter)
        return fail(errors.missingParameter("refresh_token"));
      const old = store.credentials.get(body.refresh_token ?? "");
      if (old?.kind !== "oauth_refresh" || old.revoked || old.meta?.client_id !== app.client_id) {
        return fail(errors.invalidRefresh);
      }
      old.revoked = true; // rotation: a refresh token is good for one renewal
      return o.fromRefresh(app, old, ttl()).reply;
    }
    return fail(errors.unsupportedGrant);
  };
}

/**
 * The PKCE part of an authorization request: no challenge, or a challenge with its method (`plain` when
 * unnamed). Null when the method is neither `S256` nor `plain`.
 */
export function requestedPkce(
  q: URLSearchParams,
): { challenge: string | null; method: string | null } | null {
  const challenge = q.get("code_challenge");
  const method = challenge ? (q.get("code_challenge_method") ?? "plain") : null;
  if (method && method !== "S256" && method !== "plain") return null;
  return { challenge, method };
}

function pkceMatches(pending: PendingCode, verifier: string | undefined): boolean {
  if (!verifier) return false;
  const computed =
    pending.challenge_method === "S256"
      ? createHash("sha256").update(verifier).digest("base64url")
      : verifier;
  return computed === pending.challenge;
}

/** Registered redirect URIs; a trailing `*` matches any suffix (the host's public URL is not known in advance). */
export const redirectMatches = (patterns: string[], uri: string) =>
  patterns.some((p) => (p.endsWith("*") ? uri.startsWith(p.slice(0, -1)) : p === uri));

/** Client credentials sent as HTTP Basic (each part form-encoded, RFC 6749 §2.3.1); null without. */
export function basicClientCredentials(req: SimRequest): { id: string; secret: string } | null {
  const m = String(req.headers.authorization ?? "").match(/^Basic\s+(.+)$/i);
  if (!m) return null;
  const [id, ...rest] = Buffer.from(m[1], "base64").toString("utf8").split(":");
  return { id: decodeURIComponent(id), secret: decodeURIComponent(rest.join(":")) };
}

/** An OAuth error answer in the RFC 6749 shape. */
export const oauthError = (status: number, error: string, description: string): SimReply => ({
  status,
  json: { error, error_description: description },
});

/**
 * How an authorization request that passed the client and redirect URI checks answers: a 302 back to the
 * redirect URI with the request's `state` and the given parameters (a code, or an error).
 */
export function redirectBack(redirectUri: string, state: string | null) {
  return (params: Record<string, string>): SimReply => {
    const url = new URL(redirectUri);
    if (state !== null) url.searchParams.set("state", state);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return { status: 302, headers: { location: url.toString() } };
  };
}

/** A new authorization code for a client, good for `CODE_TTL_MS`, with the PKCE challenge the request gave. */
export function pendingCode(
  clientId: string,
  redirectUri: string,
  scope: string,
  pkce: { challenge: string | null; method: string | null } = { challenge: null, method: null },
): PendingCode {
  return {
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    challenge: pkce.challenge,
    challenge_method: pkce.method,
    expires_at: Date.now() + CODE_TTL_MS,
    used: false,
    issued: [],
  };
}

/** Stores a grant's access token (expiring after `ttlSeconds`) and its refresh token, if any, for `workspaces`. */
export function storeTokens(
  store: SimStore,
  grant: { access: string; refresh?: string; workspaces: string[]; ttlSeconds: number; meta: SimMeta },
): void {
  const { workspaces, meta } = grant;
  store.addCredential({
    token: grant.access,
    workspaces,
    kind: "oauth_access",
    expires_at: Date.now() + grant.ttlSeconds * 1000,
    meta,
  });
  if (grant.refresh)
    store.addCredential({
      token: grant.refresh,
      workspaces,
      kind: "oauth_refresh",
      expires_at: null,
      meta: { ...meta },
    });
}

type SimMeta = NonNullable<SimCredential["meta"]>;
