import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";
import { ulid } from "ulid";
import type { Database } from "../../storage/database.ts";
import type { BrowserCookie } from "../http/cookies.ts";
import { type RateLimits, rateLimits, signInDelayMs } from "../http/rate-limits.ts";
import type { TeamsService } from "../teams/service.ts";
import { sessionsRepository } from "./repository.ts";

/**
 * Browser sign-in sessions (dashboard, and later the CLI's browser sign-in). The cookie carries a
 * 256-bit random value; only its SHA-256 is stored. Each session has its own CSRF token, which every
 * state-changing request must echo back (hidden form field or `X-CSRF-Token` header).
 */
export const SESSION_COOKIE = "sk_session";

const IDLE_MS = 12 * 60 * 60_000;
const ABSOLUTE_MS = 7 * 24 * 60 * 60_000;
const TOUCH_INTERVAL_MS = 60_000;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export interface Session {
  id: string;
  user: { id: string; email: string; name: string };
  currentTeamId: string | null;
  /** Echo this back on state-changing requests. */
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

/** `slowedMs`: how long this attempt waited because of wrong passwords for the account. */
export type SignInResult =
  | { ok: true; token: string; session: Session; slowedMs: number }
  | { ok: false; reason: "invalid_credentials"; slowedMs: number }
  | { ok: false; reason: "too_many_attempts"; retryAfterSeconds: number };

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function sessionsService(
  db: Database,
  opts: {
    /** Accounts and memberships: who may sign in, and which team a new session shows first. */
    teams: Pick<TeamsService, "findUserByEmail" | "teamsOf">;
    idleMs?: number;
    absoluteMs?: number;
    limits?: RateLimits;
  },
) {
  const repo = sessionsRepository(db);
  const users = opts.teams;
  const idleMs = opts.idleMs ?? IDLE_MS;
  const absoluteMs = opts.absoluteMs ?? ABSOLUTE_MS;
  const limits = opts.limits ?? rateLimits(db);
  let dummyHash: Promise<string> | null = null;

  async function checkPassword(email: string, password: string) {
    const user = await users.findUserByEmail(email);
    if (!user?.passwordHash) {
      // Same work for unknown emails, so response time does not reveal which accounts exist.
      dummyHash ??= argon2Hash(randomBytes(16).toString("hex"));
      await argon2Verify(await dummyHash, password).catch(() => false);
      return null;
    }
    return (await argon2Verify(user.passwordHash, password)) ? user : null;
  }

  /**
   * Wrong passwords are refused per client address and per (email, address), and only slow the
   * account down from anywhere else: a stranger cannot lock the owner out, and guessing one account
   * from many addresses gets slower with every failure.
   */
  async function guarded(email: string, password: string, address: string) {
    const pair = `${email}\n${address}`;
    const wait = Math.max(
      await limits.signInAddress.retryAfter(address),
      await limits.signInPair.retryAfter(pair),
    );
    if (wait) return { refused: wait, user: null, slowedMs: 0 };
    const slowedMs = signInDelayMs(await limits.signInAccount.count(email));
    if (slowedMs) await sleep(slowedMs);
    const user = await checkPassword(email, password);
    if (user) {
      await Promise.all([limits.signInPair.forget(pair), limits.signInAccount.forget(email)]);
    } else {
      await Promise.all([
        limits.signInAddress.note(address),
        limits.signInPair.note(pair),
        limits.signInAccount.note(email),
      ]);
    }
    return { refused: 0, user, slowedMs };
  }

  /** The team a new session shows first: a shared team when the user has one, else the private teamspace. */
  async function defaultTeam(userId: string) {
    const teams = await users.teamsOf(userId);
    return (teams.find((t) => !t.team.isPrivateTeamspace) ?? teams[0])?.team.id ?? null;
  }

  const service = {
    /** `meta.ip`: the client address the limits count per (callers without one share a counter). */
    async signIn(
      input: { email: string; password: string },
      meta: { userAgent?: string; ip?: string } = {},
      now = new Date(),
    ): Promise<SignInResult> {
      const email = input.email.trim().toLowerCase();
      const attempt = await guarded(email, input.password, meta.ip ?? "unknown");
      if (attempt.refused)
        return { ok: false, reason: "too_many_attempts", retryAfterSeconds: attempt.refused };
      const { user, slowedMs } = attempt;
      if (!user) return { ok: false, reason: "invalid_credentials", slowedMs };
      const token = randomBytes(32).toString("base64url");
      const row = {
        id: `ses_${ulid()}`,
        tokenHash: sha256(token),
        userId: user.id,
        currentTeamId: await defaultTeam(user.id),
        csrfSecret: randomBytes(32).toString("base64url"),
        expiresAt: new Date(now.getTime() + Math.min(idleMs, absoluteMs)),
        userAgent: meta.userAgent?.slice(0, 512) ?? null,
      };
      await repo.insert(row);
      // Housekeeping without a scheduler: now and then, sign-ins sweep expired and revoked sessions.
      if (Math.random() < 0.05) await repo.purgeExpired(now).catch(() => undefined);
      return {
        ok: true,
        token,
        slowedMs,
        session: {
          id: row.id,
          user: { id: user.id, email: user.email, name: user.name },
          currentTeamId: row.currentTeamId,
          csrfToken: row.csrfSecret,
          createdAt: now,
          expiresAt: row.expiresAt,
        },
      };
    },

    /** The live session a cookie value names, or null (unknown, signed out, idle too long, too old). */
    async authenticate(token: string, now = new Date()): Promise<Session | null> {
      if (!token || token.length > 128) return null;
      const digest = sha256(token);
      const found = await repo.findByHash(digest);
      if (!found || !sameSecret(found.session.tokenHash, digest)) return null;
      const s = found.session;
      const hardLimit = s.createdAt.getTime() + absoluteMs;
      if (s.expiresAt <= now || hardLimit <= now.getTime()) return null;
      const expiresAt = new Date(Math.min(now.getTime() + idleMs, hardLimit));
      await repo.touch(s.id, now, expiresAt, new Date(now.getTime() - TOUCH_INTERVAL_MS));
      return {
        id: s.id,
        user: found.user,
        currentTeamId: s.currentTeamId,
        csrfToken: s.csrfSecret,
        createdAt: s.createdAt,
        expiresAt,
      };
    },

    /** The session of an HTTP request (its `sk_session` cookie), for the dashboard and the CLI sign-in flow. */
    sessionFromRequest(
      req: { cookies: Record<string, string | undefined> },
      now = new Date(),
    ): Promise<Session | null> {
      const token = req.cookies[SESSION_COOKIE];
      return token ? service.authenticate(token, now) : Promise.resolve(null);
    },

    /** The cookie value's session ends now (the row is deleted). */
    async signOut(token: string) {
      const found = await repo.findByHash(sha256(token));
      if (found) await repo.delete(found.session.id);
    },

    /** Signs the user out everywhere (after a password change, say). */
    signOutEverywhere: (userId: string) => repo.deleteForUser(userId),

    /** Membership is checked by the caller; this only records the choice. */
    setCurrentTeam: (sessionId: string, teamId: string) => repo.setCurrentTeam(sessionId, teamId),

    verifyCsrf(session: Session, presented: unknown): boolean {
      return (
        typeof presented === "string" && presented.length > 0 && sameSecret(session.csrfToken, presented)
      );
    },

    /** The session cookie: on every path, and kept by the browser as long as a session can live. */
    cookie: {
      name: SESSION_COOKIE,
      path: "/",
      maxAgeSeconds: Math.floor(absoluteMs / 1000),
    } satisfies BrowserCookie,

    purgeExpired: (now = new Date()) => repo.purgeExpired(now),
  };
  return service;
}

export type SessionsService = ReturnType<typeof sessionsService>;
