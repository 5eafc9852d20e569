import { and, asc, desc, eq, gte, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { auditEvents, users } from "../../storage/schema.ts";

/** What the audit log can be narrowed to. `actor: null` is the service itself. */
export interface AuditFilter {
  action?: string;
  actor?: string | null;
  /** Inclusive lower and exclusive upper bound on `created_at`. */
  from?: Date;
  to?: Date;
}

function where(teamId: string, f: AuditFilter): SQL | undefined {
  return and(
    eq(auditEvents.teamId, teamId),
    f.action ? eq(auditEvents.action, f.action) : undefined,
    f.actor === null
      ? isNull(auditEvents.actorUserId)
      : f.actor
        ? eq(auditEvents.actorUserId, f.actor)
        : undefined,
    f.from ? gte(auditEvents.createdAt, f.from) : undefined,
    f.to ? lt(auditEvents.createdAt, f.to) : undefined,
  );
}

const withActor = {
  event: auditEvents,
  actorEmail: users.email,
};

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
    /** One numbered page of the filtered log with the actors' emails (ids are time-ordered). */
    async numbered(
      teamId: string,
      f: AuditFilter,
      o: { offset: number; limit: number; oldestFirst: boolean },
    ) {
      return db
        .select(withActor)
        .from(auditEvents)
        .leftJoin(users, eq(users.id, auditEvents.actorUserId))
        .where(where(teamId, f))
        .orderBy(
          ...(o.oldestFirst
            ? [asc(auditEvents.createdAt), asc(auditEvents.id)]
            : [desc(auditEvents.createdAt), desc(auditEvents.id)]),
        )
        .offset(o.offset)
        .limit(o.limit);
    },
    async count(teamId: string, f: AuditFilter) {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(auditEvents)
        .where(where(teamId, f));
      return row?.n ?? 0;
    },
    /**
     * Export batches, oldest first, after the last event of the previous batch. Its `created_at` is read
     * back in SQL: a JS Date would drop the microseconds and repeat events.
     */
    async batch(teamId: string, f: AuditFilter, afterId: string | null, limit: number) {
      return db
        .select(withActor)
        .from(auditEvents)
        .leftJoin(users, eq(users.id, auditEvents.actorUserId))
        .where(
          and(
            where(teamId, f),
            afterId
              ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) > (select a.created_at, a.id from audit_events a where a.id = ${afterId})`
              : undefined,
          ),
        )
        .orderBy(asc(auditEvents.createdAt), asc(auditEvents.id))
        .limit(limit);
    },
    /** Accounts removed from the team (they may have acted before), with their current email. */
    async removedMembers(teamId: string) {
      return db
        .selectDistinct({ id: users.id, email: users.email })
        .from(auditEvents)
        .innerJoin(users, eq(users.id, auditEvents.targetId))
        .where(and(eq(auditEvents.teamId, teamId), eq(auditEvents.action, "member.removed")))
        .limit(500);
    },
  };
}
