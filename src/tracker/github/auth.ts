import { sign } from "node:crypto";
import type { Connection, Credential } from "../core/adapter.ts";
import { TrackerError } from "../core/errors.ts";
import { httpFor } from "../core/http.ts";
import { MINT_RULES } from "./rules.ts";

/**
 * GitHub App authentication: an RS256 JWT signed with the app's private key authenticates as the app;
 * it mints a one-hour installation token that authenticates as the installation. Tokens are cached per
 * (API base, app, installation) and renewed 5 minutes before they expire.
 */

export type AppCredential = Extract<Credential, { kind: "github_app" }>;

export const GITHUB_HEADERS = {
  accept: "application/vnd.github+json",
  "x-github-api-version": "2022-11-28",
} as const;

const RENEW_BEFORE_MS = 5 * 60_000;

interface CachedToken {
  token: string;
  expiresAt: number;
}

const tokens = new Map<string, CachedToken>();
/** One mint in flight per installation, so concurrent calls share it. */
const minting = new Map<string, Promise<CachedToken>>();

export function baseOf(conn: Connection): string {
  return conn.base_url.replace(/\/+$/, "");
}

export function appCredential(conn: Connection): AppCredential {
  if (conn.credential.kind !== "github_app") {
    throw new TrackerError("invalid_request", "github", `github needs a github_app credential`);
  }
  return conn.credential;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** The app JWT: issued 60 s in the past against clock drift, valid 9 minutes (GitHub allows at most 10). */
export function appJwt(cred: AppCredential, nowMs = Date.now()): string {
  const now = Math.floor(nowMs / 1000);
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ iat: now - 60, exp: now + 9 * 60, iss: cred.app_id }));
  const input = `${header}.${payload}`;
  let signature: Buffer;
  try {
    signature = sign("sha256", Buffer.from(input), cred.private_key_pem);
  } catch {
    // A key parse error could echo key material: keep only a fixed sentence and no cause.
    throw new TrackerError("auth_expired", "github", "github app private key could not sign a JWT");
  }
  return `${input}.${b64url(signature)}`;
}

const cacheKey = (conn: Connection, cred: AppCredential) =>
  `${baseOf(conn)}|${cred.app_id}|${cred.installation_id}`;

async function mint(conn: Connection, cred: AppCredential): Promise<CachedToken> {
  const res = await httpFor(conn).request<{ token?: unknown; expires_at?: unknown }>(MINT_RULES, {
    method: "POST",
    url: `${baseOf(conn)}/app/installations/${encodeURIComponent(cred.installation_id)}/access_tokens`,
    headers: { ...GITHUB_HEADERS, authorization: `Bearer ${appJwt(cred)}` },
    idempotent: true, // a second mint only yields another short-lived token
  });
  const { token, expires_at } = res.body ?? {};
  const expiresAt = typeof expires_at === "string" ? Date.parse(expires_at) : Number.NaN;
  if (typeof token !== "string" || token.length === 0 || Number.isNaN(expiresAt)) {
    throw new TrackerError(
      "malformed_response",
      "github",
      "github POST /app/installations/{id}/access_tokens: no token or expires_at",
      { status: res.status },
    );
  }
  return { token, expiresAt };
}

/** A valid installation token, and whether it came from the cache (a cached one may have been revoked). */
export async function installationToken(conn: Connection): Promise<{ token: string; cached: boolean }> {
  const cred = appCredential(conn);
  const key = cacheKey(conn, cred);
  const hit = tokens.get(key);
  if (hit && hit.expiresAt - RENEW_BEFORE_MS > Date.now()) return { token: hit.token, cached: true };

  let pending = minting.get(key);
  if (!pending) {
    pending = mint(conn, cred).finally(() => minting.delete(key));
    minting.set(key, pending);
  }
  const fresh = await pending;
  tokens.set(key, fresh);
  return { token: fresh.token, cached: false };
}

/** Forgets a cached token that GitHub rejected (revoked, or the installation was reinstalled). */
export function dropInstallationToken(conn: Connection, token: string): void {
  const key = cacheKey(conn, appCredential(conn));
  if (tokens.get(key)?.token === token) tokens.delete(key);
}
