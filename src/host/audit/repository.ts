import { and, desc, eq, lt } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { auditEvents } from "../../storage/schema.ts";

export function auditRepository(db: Database) {
  return {
    async insert(row: typeof auditEvents.$inferInsert) {
      await db.insert(auditEvents).values(row);
    },
    async page(teamId: string, beforeId: string | null, limit: number, action?: string) {
      return db
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.teamId, teamId),
            beforeId ? lt(auditEvents.id, beforeId) : undefined,
            action ? eq(auditEvents.action, action) : undefined,
          ),
        )
        .orderBy(desc(auditEvents.id))
        .limit(limit + 1);
    },
  };
}
