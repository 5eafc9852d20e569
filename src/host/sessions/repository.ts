import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { credentialUser } from "../../storage/credential-user.ts";
import type { Database } from "../../storage/database.ts";
import { sessions, users } from "../../storage/schema.ts";

export type SessionRow = typeof sessions.$inferSelect;

export function sessionsRepository(db: Database) {
  return {
    async insert(row: typeof sessions.$inferInsert) {
      await db.insert(sessions).values(row);
    },
    /** A live (not revoked) session by the SHA-256 of its cookie value, with its user. */
    async findByHash(tokenHash: string) {
      const [row] = await db
        .select({ session: sessions, user: credentialUser })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(eq(sessions.tokenHash, tokenHash), isNull(sessions.revokedAt)))
        .limit(1);
      return row;
    },
    /** Sliding expiry, written at most once per `staleBefore` window. */
    async touch(id: string, now: Date, expiresAt: Date, staleBefore: Date) {
      await db
        .update(sessions)
        .set({ lastSeenAt: now, expiresAt })
        .where(and(eq(sessions.id, id), lt(sessions.lastSeenAt, staleBefore)));
    },
    async setCurrentTeam(id: string, teamId: string) {
      await db.update(sessions).set({ currentTeamId: teamId }).where(eq(sessions.id, id));
    },
    async delete(id: string) {
      await db.delete(sessions).where(eq(sessions.id, id));
    },
    async deleteForUser(userId: string) {
      await db.delete(sessions).where(eq(sessions.userId, userId));
    },
    async purgeExpired(now: Date) {
      await db
        .delete(sessions)
        .where(or(lt(sessions.expiresAt, now), sql`${sessions.revokedAt} is not null`));
    },
  };
}

export type SessionsRepository = ReturnType<typeof sessionsRepository>;
