import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
import { credentialUser } from "../../storage/credential-user.ts";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import {
  oauthAccessTokens,
  oauthAuthorizationCodes,
  oauthDeviceCodes,
  oauthRefreshTokens,
  oauthSessions,
  users,
} from "../../storage/schema.ts";

export type OAuthSessionRow = typeof oauthSessions.$inferSelect;
export type RefreshTokenRow = typeof oauthRefreshTokens.$inferSelect;
export type AuthorizationCodeRow = typeof oauthAuthorizationCodes.$inferSelect;
export type DeviceCodeRow = typeof oauthDeviceCodes.$inferSelect;

/** Storage of CLI sign-in state. Every secret is looked up by its SHA-256; no plaintext is stored. */
export function oauthRepository(db: Database) {
  return {
    // ── sessions (refresh token families) ─────────────────────────────────────────
    async insertSession(row: typeof oauthSessions.$inferInsert) {
      await db.insert(oauthSessions).values(row);
    },
    async findSession(id: string) {
      return findOne(db, oauthSessions, eq(oauthSessions.id, id));
    },
    async activeSessionsOfUser(userId: string, limit: number) {
      return db
        .select()
        .from(oauthSessions)
        .where(and(eq(oauthSessions.userId, userId), isNull(oauthSessions.revokedAt)))
        .orderBy(desc(oauthSessions.createdAt), desc(oauthSessions.id))
        .limit(limit);
    },
    /** True when this call revoked it (false: unknown or already revoked). */
    async revokeSession(id: string, reason: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(oauthSessions)
        .set({ revokedAt: at, revokedReason: reason })
        .where(and(eq(oauthSessions.id, id), isNull(oauthSessions.revokedAt)))
        .returning({ id: oauthSessions.id });
      return rows.length > 0;
    },
    /** Next refresh generation of a live session (undefined when it was revoked meanwhile). */
    async bumpGeneration(id: string, at: Date): Promise<number | undefined> {
      const [row] = await db
        .update(oauthSessions)
        .set({ generation: sql`${oauthSessions.generation} + 1`, lastUsedAt: at })
        .where(and(eq(oauthSessions.id, id), isNull(oauthSessions.revokedAt)))
        .returning({ generation: oauthSessions.generation });
      return row?.generation;
    },
    /** Written at most once per `staleBefore` window. */
    async touchSession(id: string, at: Date, staleBefore: Date) {
      await db
        .update(oauthSessions)
        .set({ lastUsedAt: at })
        .where(and(eq(oauthSessions.id, id), lt(oauthSessions.lastUsedAt, staleBefore)));
    },

    // ── refresh tokens ────────────────────────────────────────────────────────────
    async insertRefreshToken(row: typeof oauthRefreshTokens.$inferInsert) {
      await db.insert(oauthRefreshTokens).values(row);
    },
    async findRefreshToken(tokenHash: string) {
      const [row] = await db
        .select({ token: oauthRefreshTokens, session: oauthSessions })
        .from(oauthRefreshTokens)
        .innerJoin(oauthSessions, eq(oauthSessions.id, oauthRefreshTokens.sessionId))
        .where(eq(oauthRefreshTokens.tokenHash, tokenHash))
        .limit(1);
      return row;
    },
    /** Marks the token rotated; only the first of concurrent callers gets the row back. */
    async claimRefreshToken(tokenHash: string, at: Date) {
      const [row] = await db
        .update(oauthRefreshTokens)
        .set({ rotatedAt: at })
        .where(and(eq(oauthRefreshTokens.tokenHash, tokenHash), isNull(oauthRefreshTokens.rotatedAt)))
        .returning();
      return row;
    },
    /** Rotated tokens older than `before` are forgotten (a replay of one is then just unknown). */
    async pruneRotated(sessionId: string, before: Date) {
      await db
        .delete(oauthRefreshTokens)
        .where(and(eq(oauthRefreshTokens.sessionId, sessionId), lt(oauthRefreshTokens.rotatedAt, before)));
    },

    // ── access tokens ─────────────────────────────────────────────────────────────
    async insertAccessToken(row: typeof oauthAccessTokens.$inferInsert) {
      await db.insert(oauthAccessTokens).values(row);
    },
    async findAccessToken(tokenHash: string) {
      const [row] = await db
        .select({ token: oauthAccessTokens, session: oauthSessions, user: credentialUser })
        .from(oauthAccessTokens)
        .innerJoin(oauthSessions, eq(oauthSessions.id, oauthAccessTokens.sessionId))
        .innerJoin(users, eq(users.id, oauthSessions.userId))
        .where(eq(oauthAccessTokens.tokenHash, tokenHash))
        .limit(1);
      return row;
    },
    async deleteExpiredAccessTokens(sessionId: string, now: Date) {
      await db
        .delete(oauthAccessTokens)
        .where(and(eq(oauthAccessTokens.sessionId, sessionId), lt(oauthAccessTokens.expiresAt, now)));
    },

    // ── authorization codes ───────────────────────────────────────────────────────
    async insertCode(row: typeof oauthAuthorizationCodes.$inferInsert) {
      await db.insert(oauthAuthorizationCodes).values(row);
    },
    async findCode(codeHash: string) {
      return findOne(db, oauthAuthorizationCodes, eq(oauthAuthorizationCodes.codeHash, codeHash));
    },
    /** One-time use: only the first caller gets the row back. */
    async claimCode(codeHash: string, at: Date) {
      const [row] = await db
        .update(oauthAuthorizationCodes)
        .set({ usedAt: at })
        .where(and(eq(oauthAuthorizationCodes.codeHash, codeHash), isNull(oauthAuthorizationCodes.usedAt)))
        .returning();
      return row;
    },
    async setCodeSession(codeHash: string, sessionId: string) {
      await db
        .update(oauthAuthorizationCodes)
        .set({ sessionId })
        .where(eq(oauthAuthorizationCodes.codeHash, codeHash));
    },
    async purgeCodes(before: Date) {
      await db.delete(oauthAuthorizationCodes).where(lt(oauthAuthorizationCodes.expiresAt, before));
    },

    // ── device codes ──────────────────────────────────────────────────────────────
    async insertDeviceCode(row: typeof oauthDeviceCodes.$inferInsert) {
      await db.insert(oauthDeviceCodes).values(row);
    },
    async findDeviceCode(deviceCodeHash: string) {
      return findOne(db, oauthDeviceCodes, eq(oauthDeviceCodes.deviceCodeHash, deviceCodeHash));
    },
    async findDeviceByUserCode(userCodeHash: string) {
      return findOne(db, oauthDeviceCodes, eq(oauthDeviceCodes.userCodeHash, userCodeHash));
    },
    async notePoll(deviceCodeHash: string, at: Date, intervalSeconds: number) {
      await db
        .update(oauthDeviceCodes)
        .set({ lastPolledAt: at, intervalSeconds })
        .where(eq(oauthDeviceCodes.deviceCodeHash, deviceCodeHash));
    },
    /** Approve or deny a pending, unexpired authorization; false when it is no longer pending. */
    async decideDevice(
      userCodeHash: string,
      decision: { status: "approved" | "denied"; userId: string; approvedUserAgent: string | null },
      now: Date,
    ): Promise<boolean> {
      const rows = await db
        .update(oauthDeviceCodes)
        .set(decision)
        .where(
          and(
            eq(oauthDeviceCodes.userCodeHash, userCodeHash),
            eq(oauthDeviceCodes.status, "pending"),
            sql`${oauthDeviceCodes.expiresAt} > ${now.toISOString()}`,
          ),
        )
        .returning({ hash: oauthDeviceCodes.deviceCodeHash });
      return rows.length > 0;
    },
    /** approved → consumed, once. */
    async consumeDevice(deviceCodeHash: string, sessionId: string) {
      const [row] = await db
        .update(oauthDeviceCodes)
        .set({ status: "consumed", sessionId })
        .where(
          and(eq(oauthDeviceCodes.deviceCodeHash, deviceCodeHash), eq(oauthDeviceCodes.status, "approved")),
        )
        .returning();
      return row;
    },
    /** Housekeeping: long-expired codes and access tokens, and sessions revoked before `revokedBefore`. */
    async purge(expiredBefore: Date, revokedBefore: Date) {
      await db.delete(oauthAccessTokens).where(lt(oauthAccessTokens.expiresAt, expiredBefore));
      await db.delete(oauthAuthorizationCodes).where(lt(oauthAuthorizationCodes.expiresAt, expiredBefore));
      await db.delete(oauthDeviceCodes).where(lt(oauthDeviceCodes.expiresAt, expiredBefore));
      await db.delete(oauthSessions).where(lt(oauthSessions.revokedAt, revokedBefore));
    },
    async purgeDeviceCodes(before: Date) {
      await db.delete(oauthDeviceCodes).where(lt(oauthDeviceCodes.expiresAt, before));
    },
  };
}

export type OAuthRepository = ReturnType<typeof oauthRepository>;

/** Runs `fn` in one transaction with a repository bound to it. */
export function oauthRepositoryTransaction<T>(
  db: Database,
  fn: (repo: OAuthRepository) => Promise<T>,
): Promise<T> {
  return db.transaction((tx) => fn(oauthRepository(tx as unknown as Database)));
}
