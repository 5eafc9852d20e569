import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { idempotencyKeys } from "../../storage/schema.ts";

export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

export function idempotencyRepository(db: Database) {
  const scope = (teamId: string, principal: string, key: string) =>
    and(
      eq(idempotencyKeys.teamId, teamId),
      eq(idempotencyKeys.principal, principal),
      eq(idempotencyKeys.key, key),
    );

  return {
    /**
     * Claims the key for this request. Returns null when claimed, else the existing row. An expired
     * record, or an in-flight claim whose lock lapsed (its process died), is taken over.
     */
    async claim(row: {
      teamId: string;
      principal: string;
      key: string;
      route: string;
      requestHash: string;
      lockSeconds: number;
      ttlHours: number;
    }) {
      const inserted = await db
        .insert(idempotencyKeys)
        .values({
          teamId: row.teamId,
          principal: row.principal,
          key: row.key,
          route: row.route,
          requestHash: row.requestHash,
          state: "in_flight",
          lockedUntil: sql`now() + make_interval(secs => ${row.lockSeconds})`,
          expiresAt: sql`now() + make_interval(hours => ${row.ttlHours})`,
        })
        .onConflictDoUpdate({
          target: [idempotencyKeys.teamId, idempotencyKeys.principal, idempotencyKeys.key],
          set: {
            route: row.route,
            requestHash: row.requestHash,
            state: "in_flight",
            responseStatus: null,
            responseBody: null,
            lockedUntil: sql`now() + make_interval(secs => ${row.lockSeconds})`,
            expiresAt: sql`now() + make_interval(hours => ${row.ttlHours})`,
            createdAt: sql`now()`,
          },
          setWhere: sql`${idempotencyKeys.expiresAt} < now() or (${idempotencyKeys.state} = 'in_flight' and ${idempotencyKeys.lockedUntil} < now())`,
        })
        .returning({ key: idempotencyKeys.key });
      if (inserted.length > 0) return null;
      const [existing] = await db
        .select()
        .from(idempotencyKeys)
        .where(scope(row.teamId, row.principal, row.key))
        .limit(1);
      return existing ?? null;
    },

    async complete(teamId: string, principal: string, key: string, status: number, body: unknown) {
      await db
        .update(idempotencyKeys)
        .set({ state: "completed", responseStatus: status, responseBody: body })
        .where(scope(teamId, principal, key));
    },

    /** A request that failed with no effect frees its key, so the same key can be retried. */
    async release(teamId: string, principal: string, key: string) {
      await db
        .delete(idempotencyKeys)
        .where(and(scope(teamId, principal, key), eq(idempotencyKeys.state, "in_flight")));
    },

    async purgeExpired() {
      await db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, new Date()));
    },
  };
}
