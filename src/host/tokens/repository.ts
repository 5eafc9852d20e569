import { and, desc, eq, lt, sql } from "drizzle-orm";
import { credentialUser } from "../../storage/credential-user.ts";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { apiTokens, users } from "../../storage/schema.ts";

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export function tokensRepository(db: Database) {
  return {
    async insert(row: typeof apiTokens.$inferInsert) {
      await db.insert(apiTokens).values(row);
    },
    async findByHash(tokenHash: string) {
      const [row] = await db
        .select({ token: apiTokens, user: credentialUser })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .where(eq(apiTokens.tokenHash, tokenHash))
        .limit(1);
      return row;
    },
    /** Only writes when the stored time is older than `staleBefore`: one write a minute, not one a request. */
    async touch(id: string, now: Date, staleBefore: Date) {
      await db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(
          and(
            eq(apiTokens.id, id),
            sql`(${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} < ${staleBefore.toISOString()})`,
          ),
        );
    },
    async pageForUser(userId: string, before: string | null, limit: number) {
      return db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.userId, userId), before ? lt(apiTokens.id, before) : undefined))
        .orderBy(desc(apiTokens.id))
        .limit(limit + 1);
    },
    async findForUser(id: string, userId: string) {
      return findOne(db, apiTokens, and(eq(apiTokens.id, id), eq(apiTokens.userId, userId)));
    },
    async revoke(id: string, at: Date) {
      await db
        .update(apiTokens)
        .set({ revokedAt: at })
        .where(and(eq(apiTokens.id, id), sql`${apiTokens.revokedAt} is null`));
    },
  };
}
