import { createHash } from "node:crypto";
import type { Database } from "../../storage/database.ts";
import { listenToTeamVersions, type TeamVersionNotice } from "../../storage/team-version-notices.ts";
import { type DomainError, UnauthorizedError } from "../errors/domain-error.ts";
import { accessTokenRefusal, type OAuthService } from "../oauth/service.ts";
import type { AuthContext } from "../teams/access.ts";
import { missingTeamHeader, teamAccessDenied } from "../teams/errors.ts";
import { apiTokenRefusal, type TokensService, touchDue } from "../tokens/service.ts";
import { authRepository, type TeamVersionsRow } from "./repository.ts";

/** Authentications kept per process; the least recently used goes first. */
const DEFAULT_MAX_ENTRIES = 10_000;

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A successful authentication, kept while the team's `auth_version` stands still. */
interface Entry {
  context: Omit<AuthContext, "team"> & { team: Omit<AuthContext["team"], "versions"> };
  authVersion: number;
  /** The token's (or access token's) end; checked on every hit. */
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  /** The CLI session behind an access token, whose use is recorded instead of a token's. */
  sessionId: string | null;
}

type Found = {
  user: AuthContext["user"];
  team: { id: string; slug: string; name: string; inventory: number; binding: number; auth: number } | null;
  role: AuthContext["role"] | null;
};

/**
 * Reads keyed values for concurrent callers in one statement: a caller joins the next read that has not
 * started yet, and at most one read is in flight, so under load one statement answers every request
 * that arrived while the previous one ran. Every caller's answer comes from a read that began after it
 * asked: a change committed before a request arrived is what that request sees.
 */
function coalesced<V>(readMany: (keys: string[]) => Promise<Map<string, V>>) {
  let next: { keys: Set<string>; result: Promise<Map<string, V>> } | null = null;
  let inFlight: Promise<unknown> = Promise.resolve();
  return (key: string): Promise<V | undefined> => {
    if (!next) {
      const keys = new Set<string>();
      const batch = {
        keys,
        result: inFlight.then(() => {
          if (next === batch) next = null;
          const result = readMany([...keys]);
          inFlight = result.catch(() => undefined);
          return result;
        }),
      };
      next = batch;
    }
    next.keys.add(key);
    return next.result.then((m) => m.get(key));
  };
}

/**
 * Bearer token and team reference → the caller (user, team with its versions, role): one statement on a
 * miss, and on a hit none beyond the team's versions — which the bindable snapshot needs anyway — or, on
 * the embedded database, none at all (its commits announce the versions, see team-version-notices.ts).
 *
 * A hit stands while the team's `auth_version` is the one read with it: triggers bump it at commit on a
 * token or CLI session revoked, a membership added, changed or removed, or a team or member renamed
 * (migration 0013), so every process refuses a revoked token or a removed member on its next request.
 * Expiry is checked on every hit. Failures are never cached: each is looked up (and counted) again.
 */
export function authService(
  db: Database,
  deps: { tokens: Pick<TokensService, "touch">; oauth: Pick<OAuthService, "touchSession"> },
  opts: { maxEntries?: number } = {},
) {
  const repo = authRepository(db);
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const cache = new Map<string, Entry>();
  /** Versions announced by the embedded database (empty on PostgreSQL). */
  const announced = new Map<string, TeamVersionsRow>();

  const note = (n: TeamVersionNotice) => {
    if (n.deleted) {
      announced.delete(n.teamId);
      return;
    }
    const had = announced.get(n.teamId);
    announced.set(n.teamId, {
      inventory: Math.max(had?.inventory ?? 0, n.inventory),
      binding: Math.max(had?.binding ?? 0, n.binding),
      auth: Math.max(had?.auth ?? 0, n.auth),
    });
  };
  const listening = listenToTeamVersions(db, note).catch(() => false);

  const read = coalesced((ids) => repo.teamVersions(ids));
  async function currentVersions(teamId: string) {
    return (await listening) ? announced.get(teamId) : read(teamId);
  }

  function remember(key: string, entry: Entry) {
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  }

  async function touch(entry: Entry, now: Date) {
    if (!touchDue(entry.lastUsedAt, now)) return;
    entry.lastUsedAt = now;
    if (entry.sessionId) await deps.oauth.touchSession(entry.sessionId, now);
    else await deps.tokens.touch(entry.context.tokenId, now);
  }

  const withVersions = (entry: Entry, v: TeamVersionsRow): AuthContext => ({
    ...entry.context,
    team: { ...entry.context.team, versions: { inventory: v.inventory, binding: v.binding } },
  });

  /** The one statement: the token's refusal, or what it found with the team and role. */
  async function lookUp(
    digest: string,
    access: boolean,
    teamRef: string | null,
    now: Date,
  ): Promise<{ found: Found; entry: Omit<Entry, "context" | "authVersion"> & { tokenId: string } }> {
    let refusal: DomainError | null;
    if (access) {
      const row = await repo.accessToken(digest, teamRef);
      refusal = accessTokenRefusal(row && { sessionRevokedAt: row.revokedAt, expiresAt: row.expiresAt }, now);
      if (refusal || !row) throw refusal;
      return {
        found: row,
        entry: {
          tokenId: row.sessionId,
          expiresAt: row.expiresAt,
          lastUsedAt: row.lastUsedAt,
          sessionId: row.sessionId,
        },
      };
    }
    const row = await repo.apiToken(digest, teamRef);
    // The lookup is by hash, so timing cannot reveal a prefix of a valid token.
    if (!row) throw new UnauthorizedError();
    refusal = apiTokenRefusal(row, now);
    if (refusal) throw refusal;
    return {
      found: row,
      entry: { tokenId: row.tokenId, expiresAt: row.expiresAt, lastUsedAt: row.lastUsedAt, sessionId: null },
    };
  }

  return {
    /**
     * Bearer token first (401), then the team reference (400 when absent), then membership (403). A
     * team that does not exist and a team the caller is not in answer the same.
     */
    async resolve(
      secret: string,
      access: boolean,
      teamRef: string | null,
      now = new Date(),
    ): Promise<AuthContext> {
      const digest = sha256(secret);
      const key = `${digest} ${teamRef ?? ""}`;
      const hit = teamRef ? cache.get(key) : undefined;
      if (hit && (!hit.expiresAt || hit.expiresAt > now)) {
        const v = await currentVersions(hit.context.team.id);
        if (v && v.auth === hit.authVersion) {
          remember(key, hit);
          await touch(hit, now);
          return withVersions(hit, v);
        }
      }
      if (hit) cache.delete(key);

      const { found, entry } = await lookUp(digest, access, teamRef, now);
      if (!teamRef) throw missingTeamHeader();
      if (!found.team || !found.role) throw teamAccessDenied();
      const versions = {
        inventory: found.team.inventory,
        binding: found.team.binding,
        auth: found.team.auth,
      };
      if (await listening) note({ teamId: found.team.id, ...versions });
      const fresh: Entry = {
        context: {
          user: found.user,
          team: { id: found.team.id, slug: found.team.slug, name: found.team.name },
          role: found.role,
          tokenId: entry.tokenId,
        },
        authVersion: found.team.auth,
        expiresAt: entry.expiresAt,
        lastUsedAt: entry.lastUsedAt,
        sessionId: entry.sessionId,
      };
      remember(key, fresh);
      await touch(fresh, now);
      return withVersions(fresh, versions);
    },
  };
}

export type AuthService = ReturnType<typeof authService>;
