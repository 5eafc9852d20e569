import { and, desc, eq, lt } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { auditEvents } from "../../storage/schema.ts";

export function auditRepository(db: Database) {
  return {
    async insert(row: typeof auditEvents.$inferInsert) {
      await db.insert(auditEvents).values(row);
    },
    /** The newest event of one action on one target (ids are time-ordered). */
    async latest(teamId: string, targetType: string, targetId: string, action: string) {
      const [row] = await db
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.teamId, teamId),
            eq(auditEvents.targetType, targetType),
            eq(auditEvents.targetId, targetId),
            eq(auditEvents.action, action),
          ),
        )
        .orderBy(desc(auditEvents.id))
        .limit(1);
      return row;
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
