import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import { ulid } from "ulid";
import type { Database } from "../../storage/database.ts";
import { DomainError, UnauthorizedError } from "../errors/domain-error.ts";
import { type RateLimits, rateLimits } from "../http/rate-limits.ts";
import { invalidClient, invalidGrant, invalidRequest } from "./errors.ts";
import {
  type OAuthRepository,
  type OAuthSessionRow,
  oauthRepository,
  oauthRepositoryTransaction,
} from "./repository.ts";

/**
 * OAuth 2.0 authorization server for the Spec Kitty CLI (public native client `cli_native`):
 * authorization code + PKCE S256 with loopback redirect URIs (RFC 6749, 7636, 8252), the device
 * authorization grant (RFC 8628), refresh token rotation with reuse detection, and revocation (RFC 7009).
 * Wire details follow the CLI auth contract (§3, §4, §7, §8, §13).
 *
 * Secrets are 256-bit values from node:crypto; only their SHA-256 is stored. A sign-in is a *session*
 * (the refresh token family): it lasts until sign-out or revocation, every refresh rotates its refresh
 * token, and each rotation extends the refresh token's idle lifetime.
 */

export const CLI_CLIENT_ID = "cli_native";
export const GRANTED_SCOPE = "offline_access";
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

const ACCESS_PREFIX = "ska_";
const REFRESH_PREFIX = "skr_";
const CODE_PREFIX = "skc_";
const DEVICE_PREFIX = "skd_";
const SESSION_PREFIX = "cls_";

/** RFC 8628 §6.1: no vowels (no words), no look-alike digits; 20^8 ≈ 2.6e10 codes. */
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH = 8;
const CLI_MAX_POLL_INTERVAL = 10; // the CLI never polls slower than this (contract §4.2)
const TOUCH_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

export interface OAuthOptions {
  /** Access token lifetime (default 3600 s). */
  accessTokenTtlSeconds?: number;
  /** Idle lifetime of a refresh token; every rotation starts it again (default 365 days). */
  refreshTokenIdleDays?: number;
  /** Authorization code lifetime (default 120 s). */
  codeTtlSeconds?: number;
  /** Device code lifetime (default 900 s). */
  deviceCodeTtlSeconds?: number;
  /** Device polling interval (default 5 s). */
  deviceIntervalSeconds?: number;
  /**
   * A refresh token presented again within this window after it was rotated answers 409
   * `refresh_replay_benign_retry` (two CLI processes raced); later replays revoke the family (default 10 s).
   */
  refreshReuseGraceMs?: number;
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string | undefined;
  scope: string;
}

/** Outcome of checking an authorization request (RFC 6749 §4.1.2.1). */
export type AuthorizeCheck =
  | { kind: "ok"; params: AuthorizeParams }
  /** client or redirect URI not acceptable: show an error, never redirect. */
  | { kind: "fatal"; message: string }
  /** everything else: send the browser back to the client with `error`. */
  | { kind: "redirect"; location: string };

export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  refresh_token_expires_at: string;
  scope: string;
  session_id: string;
  generation: number;
}

export interface RequestMeta {
  ip?: string;
  userAgent?: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const secret = (prefix: string) => prefix + randomBytes(32).toString("base64url");
/** ISO-8601 UTC without fractional seconds, as the contract's examples spell it. */
const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, "Z");
const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** RFC 8252 §7.3 loopback redirect: http, a loopback host, an explicit port, path `/callback`, nothing else. */
export function isLoopbackRedirect(uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  return (
    u.protocol === "http:" &&
    (u.hostname === "127.0.0.1" || u.hostname === "localhost") &&
    u.port !== "" &&
    u.pathname === "/callback" &&
    !u.search &&
    !u.hash &&
    !u.username &&
    !u.password &&
    u.href === uri
  );
}

/** `ABCD-EFGH` for display; input is compared after upper-casing and dropping everything but letters. */
export function normalizeUserCode(input: string): string {
  return input.toUpperCase().replace(/[^A-Z]/g, "");
}
export const displayUserCode = (code: string) => code.replace(/(.{4})(?=.)/g, "$1-");

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function withQuery(base: string, params: Record<string, string | undefined>) {
  const u = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

/** The routine end of an access token (the CLI refreshes): not a failure the guessing limit counts. */
export const accessTokenExpired = () =>
  new DomainError("access_token_expired", "The access token expired. Refresh it with `POST /oauth/token`.");

/** Why an access token (with its session) does not authenticate at `now`, or null when it does. */
export function accessTokenRefusal(
  found: { sessionRevokedAt: Date | null; expiresAt: Date } | undefined,
  now: Date,
): DomainError | null {
  if (!found) return new UnauthorizedError("Invalid access token. Run `spec-kitty auth login`.");
  if (found.sessionRevokedAt)
    return new UnauthorizedError("This CLI session was signed out or revoked. Run `spec-kitty auth login`.");
  if (found.expiresAt <= now) return accessTokenExpired();
  return null;
}

export function oauthService(
  db: Database,
  deps: { publicUrl: () => string; logger?: Logger; options?: OAuthOptions; limits?: RateLimits },
) {
  const repo = oauthRepository(db);
  const o = deps.options ?? {};
  const accessTtl = o.accessTokenTtlSeconds ?? 3600;
  const refreshIdleMs = (o.refreshTokenIdleDays ?? 365) * DAY_MS;
  const codeTtlMs = (o.codeTtlSeconds ?? 120) * 1000;
  const deviceTtl = o.deviceCodeTtlSeconds ?? 900;
  const deviceInterval = o.deviceIntervalSeconds ?? 5;
  const graceMs = o.refreshReuseGraceMs ?? 10_000;
  const lookupFailures = (deps.limits ?? rateLimits(db)).deviceCodeLookups;

  /** Mints an access + refresh token pair for a session inside a transaction. */
  async function mint(
    tx: OAuthRepository,
    session: { id: string; scope: string },
    generation: number,
    now: Date,
  ) {
    const accessToken = secret(ACCESS_PREFIX);
    const refreshToken = secret(REFRESH_PREFIX);
    const refreshExpiresAt = new Date(now.getTime() + refreshIdleMs);
    await tx.insertAccessToken({
      tokenHash: sha256(accessToken),
      sessionId: session.id,
      expiresAt: new Date(now.getTime() + accessTtl * 1000),
    });
    await tx.insertRefreshToken({
      tokenHash: sha256(refreshToken),
      sessionId: session.id,
      generation,
      expiresAt: refreshExpiresAt,
    });
    await tx.deleteExpiredAccessTokens(session.id, now);
    const body: TokenResponse = {
      access_token: accessToken,
      token_type: "Bearer",
      refresh_token: refreshToken,
      expires_in: accessTtl,
      refresh_token_expires_in: Math.floor(refreshIdleMs / 1000),
      refresh_token_expires_at: isoSeconds(refreshExpiresAt),
      scope: session.scope,
      session_id: session.id,
      generation,
    };
    return body;
  }

  async function startSession(
    tx: OAuthRepository,
    input: {
      userId: string;
      authMethod: OAuthSessionRow["authMethod"];
      scope: string;
      approvedUserAgent: string | null;
      ip?: string;
    },
    now: Date,
  ) {
    const session = {
      id: `${SESSION_PREFIX}${ulid()}`,
      userId: input.userId,
      clientId: CLI_CLIENT_ID,
      authMethod: input.authMethod,
      scope: input.scope,
      generation: 1,
      approvedUserAgent: input.approvedUserAgent?.slice(0, 512) ?? null,
      createdIp: input.ip ?? null,
      createdAt: now,
      lastUsedAt: now,
    };
    await tx.insertSession(session);
    return { session, tokens: await mint(tx, session, 1, now) };
  }

  function requireClient(clientId: unknown) {
    if (clientId !== CLI_CLIENT_ID) throw invalidClient();
  }

  async function exchangeCode(body: Record<string, string | undefined>, meta: RequestMeta, now: Date) {
    const { code, redirect_uri: redirectUri, code_verifier: verifier } = body;
    if (!code) throw invalidRequest("`code` is required.");
    if (!redirectUri) throw invalidRequest("`redirect_uri` is required.");
    if (!verifier) throw invalidRequest("`code_verifier` is required (PKCE).");
    const codeHash = sha256(code);
    // Claim first: a code is spent by its first exchange attempt, successful or not.
    const claimed = await repo.claimCode(codeHash, now);
    if (!claimed) {
      const seen = await repo.findCode(codeHash);
      if (seen?.sessionId) {
        // RFC 6749 §4.1.2: a code used twice revokes what it was exchanged for.
        await repo.revokeSession(seen.sessionId, "authorization_code_reuse", now);
        deps.logger?.warn({ session_id: seen.sessionId }, "authorization code reused; session revoked");
      }
      throw invalidGrant("The authorization code is invalid or was already used. Sign in again.");
    }
    if (claimed.expiresAt <= now) throw invalidGrant("The authorization code expired. Sign in again.");
    if (claimed.clientId !== body.client_id) throw invalidGrant("The code was issued to another client.");
    if (!sameText(claimed.redirectUri, redirectUri))
      throw invalidGrant("`redirect_uri` does not match the authorization request.");
    if (!VERIFIER.test(verifier)) throw invalidGrant("The PKCE code_verifier is malformed.");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    if (!sameText(challenge, claimed.codeChallenge))
      throw invalidGrant("The PKCE code_verifier does not match the code_challenge.");
    return oauthRepositoryTransaction(db, async (tx) => {
      const { session, tokens } = await startSession(
        tx,
        {
          userId: claimed.userId,
          authMethod: "authorization_code",
          scope: claimed.scope,
          approvedUserAgent: claimed.approvedUserAgent,
          ip: meta.ip,
        },
        now,
      );
      await tx.setCodeSession(codeHash, session.id);
      return tokens;
    });
  }

  async function refresh(body: Record<string, string | undefined>, now: Date): Promise<TokenResponse> {
    const presented = body.refresh_token;
    if (!presented) throw invalidRequest("`refresh_token` is required.");
    const hash = sha256(presented);
    const found = await repo.findRefreshToken(hash);
    if (!found) throw invalidGrant("Unknown refresh token. Run `spec-kitty auth login`.");
    if (found.session.clientId !== body.client_id)
      throw invalidGrant("The refresh token belongs to another client.");
    if (found.session.revokedAt) throw sessionInvalid();
    if (found.token.rotatedAt) return replayed(found.token.sessionId, hash, now);
    if (found.token.expiresAt <= now)
      throw invalidGrant("The refresh token expired. Run `spec-kitty auth login`.");

    const result = await oauthRepositoryTransaction(db, async (tx) => {
      const claimed = await tx.claimRefreshToken(hash, now);
      if (!claimed) return null; // a concurrent refresh rotated it first
      const generation = await tx.bumpGeneration(claimed.sessionId, now);
      if (generation === undefined) throw sessionInvalid();
      await tx.pruneRotated(claimed.sessionId, new Date(now.getTime() - 30 * DAY_MS));
      return mint(tx, found.session, generation, now);
    });
    return result ?? replayed(found.token.sessionId, hash, now);
  }

  /** A rotated refresh token came back: a benign race if it is the previous one and fresh, else theft. */
  async function replayed(sessionId: string, hash: string, now: Date): Promise<never> {
    const found = await repo.findRefreshToken(hash);
    if (!found || found.session.revokedAt) throw sessionInvalid();
    const rotatedAt = found.token.rotatedAt ?? now;
    const benign =
      now.getTime() - rotatedAt.getTime() <= graceMs &&
      found.token.generation === found.session.generation - 1;
    if (benign) {
      throw new DomainError(
        "refresh_replay_benign_retry",
        "This refresh token was just rotated by another request.",
        {
          details: { retry_after: 1 },
        },
      );
    }
    await repo.revokeSession(sessionId, "refresh_token_reuse", now);
    deps.logger?.warn({ session_id: sessionId }, "refresh token reuse detected; session revoked");
    throw invalidGrant("Refresh token reuse detected; the session was revoked. Run `spec-kitty auth login`.");
  }

  const sessionInvalid = () =>
    new DomainError(
      "session_invalid",
      "This CLI session was signed out or revoked. Run `spec-kitty auth login`.",
    );

  async function pollDevice(body: Record<string, string | undefined>, meta: RequestMeta, now: Date) {
    const deviceCode = body.device_code;
    if (!deviceCode) throw invalidRequest("`device_code` is required.");
    const hash = sha256(deviceCode);
    const found = await repo.findDeviceCode(hash);
    if (!found || found.clientId !== body.client_id) throw invalidGrant("Unknown device code.");
    if (found.status === "consumed") throw invalidGrant("This device code was already used.");
    if (found.expiresAt <= now)
      throw new DomainError("expired_token", "The device code expired. Start again.");
    if (found.status === "denied") throw new DomainError("access_denied", "The sign-in request was denied.");
    if (found.status === "pending") {
      const tooSoon =
        found.lastPolledAt && now.getTime() - found.lastPolledAt.getTime() < found.intervalSeconds * 900;
      const interval = tooSoon
        ? Math.min(found.intervalSeconds + 5, Math.max(CLI_MAX_POLL_INTERVAL, deviceInterval))
        : found.intervalSeconds;
      await repo.notePoll(hash, now, interval);
      if (tooSoon)
        throw new DomainError("slow_down", `Polling too fast; wait ${interval} seconds between requests.`, {
          details: { interval },
        });
      throw new DomainError("authorization_pending", "Waiting for the user to approve the sign-in.");
    }
    const issued = await oauthRepositoryTransaction(db, async (tx) => {
      const sessionId = `${SESSION_PREFIX}${ulid()}`;
      const consumed = await tx.consumeDevice(hash, sessionId);
      if (!consumed?.userId) return null;
      const session = {
        id: sessionId,
        userId: consumed.userId,
        clientId: CLI_CLIENT_ID,
        authMethod: "device_code" as const,
        scope: consumed.scope,
        generation: 1,
        approvedUserAgent: consumed.approvedUserAgent,
        createdIp: meta.ip ?? null,
        createdAt: now,
        lastUsedAt: now,
      };
      await tx.insertSession(session);
      return mint(tx, session, 1, now);
    });
    if (!issued) throw invalidGrant("This device code was already used.");
    return issued;
  }

  const verificationUri = () => `${deps.publicUrl().replace(/\/+$/, "")}/dashboard/cli/device`;

  const service = {
    clientId: CLI_CLIENT_ID,

    isAccessToken: (bearer: string) => bearer.startsWith(ACCESS_PREFIX),
    /** Whether an authenticated `tokenId` names a CLI session (rather than a personal API token). */
    isSessionId: (tokenId: string) => tokenId.startsWith(SESSION_PREFIX),

    /** Checks `GET /oauth/authorize` parameters in RFC 6749 §4.1.2.1 order. */
    checkAuthorize(q: Record<string, unknown>): AuthorizeCheck {
      const str = (k: string) => (typeof q[k] === "string" ? (q[k] as string) : undefined);
      for (const k of Object.keys(q))
        if (Array.isArray(q[k]))
          return { kind: "fatal", message: `The parameter '${k}' was sent more than once.` };
      if (str("client_id") !== CLI_CLIENT_ID)
        return {
          kind: "fatal",
          message: "Unknown client. Only the Spec Kitty CLI (`cli_native`) can sign in here.",
        };
      const redirectUri = str("redirect_uri") ?? "";
      if (!isLoopbackRedirect(redirectUri))
        return {
          kind: "fatal",
          message:
            "The redirect URI is not allowed. The CLI must listen on http://127.0.0.1:<port>/callback or http://localhost:<port>/callback.",
        };
      const state = str("state");
      const back = (error: string, description: string): AuthorizeCheck => ({
        kind: "redirect",
        location: withQuery(redirectUri, { error, error_description: description, state }),
      });
      if (state !== undefined && state.length > 1024) return back("invalid_request", "state is too long");
      if (str("response_type") !== "code")
        return back("unsupported_response_type", "Only response_type=code is supported.");
      if (str("code_challenge_method") !== "S256")
        return back("invalid_request", "PKCE with code_challenge_method=S256 is required.");
      const challenge = str("code_challenge") ?? "";
      if (!S256_CHALLENGE.test(challenge))
        return back("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier.");
      return {
        kind: "ok",
        params: {
          clientId: CLI_CLIENT_ID,
          redirectUri,
          codeChallenge: challenge,
          state,
          scope: GRANTED_SCOPE,
        },
      };
    },

    /** The signed-in user approved: a one-time code, and where to send the browser. */
    async approve(params: AuthorizeParams, userId: string, userAgent: string | undefined, now = new Date()) {
      const code = secret(CODE_PREFIX);
      await repo.insertCode({
        codeHash: sha256(code),
        userId,
        clientId: params.clientId,
        redirectUri: params.redirectUri,
        codeChallenge: params.codeChallenge,
        scope: params.scope,
        approvedUserAgent: userAgent?.slice(0, 512) ?? null,
        expiresAt: new Date(now.getTime() + codeTtlMs),
      });
      await repo.purgeCodes(new Date(now.getTime() - DAY_MS));
      return withQuery(params.redirectUri, { code, state: params.state });
    },

    deny(params: AuthorizeParams) {
      return withQuery(params.redirectUri, {
        error: "access_denied",
        error_description: "The user denied the sign-in request.",
        state: params.state,
      });
    },

    /** `POST /oauth/token`, every grant. */
    async token(body: Record<string, string | undefined>, meta: RequestMeta = {}, now = new Date()) {
      requireClient(body.client_id);
      switch (body.grant_type) {
        case "authorization_code":
          return exchangeCode(body, meta, now);
        case "refresh_token":
          return refresh(body, now);
        case DEVICE_GRANT:
          return pollDevice(body, meta, now);
        case undefined:
        case "":
          throw invalidRequest("`grant_type` is required.");
        default:
          throw new DomainError(
            "unsupported_grant_type",
            `Grant type '${body.grant_type}' is not supported.`,
          );
      }
    },

    /** `POST /oauth/device` (RFC 8628 §3.1–3.2). */
    async deviceAuthorization(body: Record<string, string | undefined>, now = new Date()) {
      requireClient(body.client_id);
      const deviceCode = secret(DEVICE_PREFIX);
      for (let attempt = 0; ; attempt++) {
        let userCode = "";
        for (let i = 0; i < USER_CODE_LENGTH; i++)
          userCode += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
        try {
          await repo.insertDeviceCode({
            deviceCodeHash: sha256(deviceCode),
            userCodeHash: sha256(userCode),
            clientId: CLI_CLIENT_ID,
            scope: GRANTED_SCOPE,
            status: "pending",
            intervalSeconds: deviceInterval,
            expiresAt: new Date(now.getTime() + deviceTtl * 1000),
          });
        } catch (err) {
          if (attempt < 3) continue; // a user code collision: draw again
          throw err;
        }
        await repo.purgeDeviceCodes(new Date(now.getTime() - DAY_MS));
        const display = displayUserCode(userCode);
        return {
          device_code: deviceCode,
          user_code: display,
          verification_uri: verificationUri(),
          verification_uri_complete: `${verificationUri()}?user_code=${encodeURIComponent(display)}`,
          expires_in: deviceTtl,
          interval: deviceInterval,
        };
      }
    },

    /** A pending device sign-in by its user code, for the signed-in user about to approve it. */
    async findPendingDevice(
      userId: string,
      userCodeInput: string,
      now = new Date(),
    ): Promise<{ ok: true; userCode: string } | { ok: false; reason: "not_found" | "too_many_attempts" }> {
      if (await lookupFailures.retryAfter(userId)) return { ok: false, reason: "too_many_attempts" };
      const code = normalizeUserCode(userCodeInput);
      const found =
        code.length === USER_CODE_LENGTH ? await repo.findDeviceByUserCode(sha256(code)) : undefined;
      if (found?.status !== "pending" || found.expiresAt <= now) {
        await lookupFailures.note(userId);
        return { ok: false, reason: "not_found" };
      }
      return { ok: true, userCode: displayUserCode(code) };
    },

    /** Approve or deny; false when the code is no longer pending (expired, used, decided). */
    decideDevice(
      userId: string,
      userCodeInput: string,
      approve: boolean,
      userAgent?: string,
      now = new Date(),
    ) {
      return repo.decideDevice(
        sha256(normalizeUserCode(userCodeInput)),
        {
          status: approve ? "approved" : "denied",
          userId,
          approvedUserAgent: userAgent?.slice(0, 512) ?? null,
        },
        now,
      );
    },

    /** RFC 7009: the whole session ends, whichever of its tokens is presented; unknown tokens are fine too. */
    async revoke(token: string | undefined, now = new Date()) {
      if (!token) throw invalidRequest("`token` is required.");
      const hash = sha256(token);
      let sessionId: string | undefined;
      if (token.startsWith(REFRESH_PREFIX)) sessionId = (await repo.findRefreshToken(hash))?.session.id;
      else if (token.startsWith(ACCESS_PREFIX)) sessionId = (await repo.findAccessToken(hash))?.session.id;
      if (sessionId && (await repo.revokeSession(sessionId, "signed_out", now)))
        deps.logger?.info({ session_id: sessionId }, "CLI session signed out");
      return { revoked: true as const };
    },

    /** Bearer access token → the same identity an API token yields (`tokenId` is the session id). */
    async authenticateAccessToken(bearer: string, now = new Date()) {
      const found = await repo.findAccessToken(sha256(bearer));
      const refusal = accessTokenRefusal(
        found && { sessionRevokedAt: found.session.revokedAt, expiresAt: found.token.expiresAt },
        now,
      );
      if (refusal || !found) throw refusal;
      await service.touchSession(found.session.id, now);
      return { tokenId: found.session.id, user: found.user, session: found.session };
    },

    /** Records the session's use: a write at most once a minute (the statement checks). */
    touchSession: (sessionId: string, now = new Date()) =>
      repo.touchSession(sessionId, now, new Date(now.getTime() - TOUCH_INTERVAL_MS)),

    async sessionStatus(sessionId: string) {
      const s = await repo.findSession(sessionId);
      if (!s || s.revokedAt) throw new UnauthorizedError("This CLI session is no longer active.");
      return {
        status: "active" as const,
        session_id: s.id,
        current_generation: s.generation,
        auth_method: s.authMethod,
        created_at: s.createdAt.toISOString(),
        last_used_at: s.lastUsedAt.toISOString(),
      };
    },

    /** Housekeeping (the app runs it every minute): expired secrets, sessions revoked 30+ days ago. */
    purgeExpired(now = new Date()) {
      return repo.purge(new Date(now.getTime() - DAY_MS), new Date(now.getTime() - 30 * DAY_MS));
    },

    /** The user's live CLI sessions, newest first. */
    async listSessions(userId: string) {
      const rows = await repo.activeSessionsOfUser(userId, 200);
      return rows.map((s) => ({
        id: s.id,
        authMethod: s.authMethod,
        approvedUserAgent: s.approvedUserAgent,
        createdIp: s.createdIp,
        createdAt: s.createdAt,
        lastUsedAt: s.lastUsedAt,
        generation: s.generation,
      }));
    },

    /** Revokes one of the user's own sessions; another user's id answers like an unknown one. */
    async revokeSession(userId: string, sessionId: string, now = new Date()) {
      const s = await repo.findSession(sessionId);
      if (!s || s.userId !== userId || s.revokedAt)
        throw new DomainError("cli_session_not_found", "No active CLI session with that id.");
      await repo.revokeSession(s.id, "revoked_by_user", now);
      deps.logger?.info({ session_id: s.id, user_id: userId }, "CLI session revoked from the dashboard");
    },
  };
  return service;
}

export type OAuthService = ReturnType<typeof oauthService>;
