import { and, eq, or, sql } from "drizzle-orm";
import { credentialUser } from "../../storage/credential-user.ts";
import type { Database } from "../../storage/database.ts";
import {
  apiTokens,
  memberships,
  oauthAccessTokens,
  oauthSessions,
  teams,
  users,
} from "../../storage/schema.ts";

const hash = sql.placeholder("hash");
const ref = sql.placeholder("ref");
const teamIds = sql.placeholder("teams");

const teamColumns = {
  id: teams.id,
  slug: teams.slug,
  name: teams.name,
  inventory: teams.inventoryVersion,
  binding: teams.bindingVersion,
  auth: teams.authVersion,
};

/** The named team, the caller's membership in it, and what both statements return of them. */
const namedTeam = or(eq(teams.slug, ref), eq(teams.id, ref));
const membership = and(eq(memberships.teamId, teams.id), eq(memberships.userId, users.id));
const caller = { user: credentialUser, team: teamColumns, role: memberships.role };

export interface TeamVersionsRow {
  inventory: number;
  binding: number;
  auth: number;
}

/**
 * Authentication's statements, each prepared once: a bearer token with its user, the team the request
 * names (by slug or id), the caller's role in it and the team's versions, in one statement per token
 * kind; and, for a cached authentication, the team's versions alone.
 */
export function authRepository(db: Database) {
  const apiToken = db
    .select({
      tokenId: apiTokens.id,
      tokenHash: apiTokens.tokenHash,
      revokedAt: apiTokens.revokedAt,
      expiresAt: apiTokens.expiresAt,
      lastUsedAt: apiTokens.lastUsedAt,
      ...caller,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(teams, namedTeam)
    .leftJoin(memberships, membership)
    .where(eq(apiTokens.tokenHash, hash))
    .limit(1)
    .prepare("auth_api_token");

  const accessToken = db
    .select({
      tokenHash: oauthAccessTokens.tokenHash,
      expiresAt: oauthAccessTokens.expiresAt,
      sessionId: oauthSessions.id,
      revokedAt: oauthSessions.revokedAt,
      lastUsedAt: oauthSessions.lastUsedAt,
      ...caller,
    })
    .from(oauthAccessTokens)
    .innerJoin(oauthSessions, eq(oauthSessions.id, oauthAccessTokens.sessionId))
    .innerJoin(users, eq(users.id, oauthSessions.userId))
    .leftJoin(teams, namedTeam)
    .leftJoin(memberships, membership)
    .where(eq(oauthAccessTokens.tokenHash, hash))
    .limit(1)
    .prepare("auth_access_token");

  const versions = db
    .select({
      id: teams.id,
      inventory: teams.inventoryVersion,
      binding: teams.bindingVersion,
      auth: teams.authVersion,
    })
    .from(teams)
    .where(sql`${teams.id} = any(${teamIds}::text[])`)
    .prepare("auth_team_versions");

  return {
    /** `teamRef` null: the token alone (the team and role come back null). */
    async apiToken(tokenHash: string, teamRef: string | null) {
      const [row] = await apiToken.execute({ hash: tokenHash, ref: teamRef });
      return row;
    },
    async accessToken(tokenHash: string, teamRef: string | null) {
      const [row] = await accessToken.execute({ hash: tokenHash, ref: teamRef });
      return row;
    },
    /** The versions of several teams in one statement (a team that no longer exists is absent). */
    async teamVersions(ids: string[]): Promise<Map<string, TeamVersionsRow>> {
      const rows = await versions.execute({ teams: ids });
      return new Map(rows.map(({ id, ...v }) => [id, v]));
    },
  };
}

export type AuthRepository = ReturnType<typeof authRepository>;
