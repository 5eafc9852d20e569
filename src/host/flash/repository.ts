import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { dashboardFlashes } from "../../storage/schema.ts";

export function flashRepository(db: Database) {
  return {
    async insert(row: typeof dashboardFlashes.$inferInsert) {
      await db.insert(dashboardFlashes).values(row);
    },
    /** Reads and deletes in one statement: a flash is shown at most once, even to two racing reloads. */
    async take(id: string, sessionId: string, kind: string, now: Date) {
      const [row] = await db
        .delete(dashboardFlashes)
        .where(
          and(
            eq(dashboardFlashes.id, id),
            eq(dashboardFlashes.sessionId, sessionId),
            eq(dashboardFlashes.kind, kind),
            sql`${dashboardFlashes.expiresAt} > ${now.toISOString()}`,
          ),
        )
        .returning();
      return row;
    },
    async purgeExpired(now: Date) {
      await db.delete(dashboardFlashes).where(lt(dashboardFlashes.expiresAt, now));
    },
  };
}
