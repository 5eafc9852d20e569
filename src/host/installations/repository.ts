import { and, asc, eq, gt, isNull, ne, or, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { connectStates, installations } from "../../storage/schema.ts";

export type InstallationRow = typeof installations.$inferSelect;

export function installationsRepository(db: Database) {
  return {
    async insert(row: typeof installations.$inferInsert) {
      const [saved] = await db.insert(installations).values(row).returning();
      return saved;
    },
    /** Team-scoped: another team's installation id finds nothing. */
    async get(teamId: string, id: string) {
      const [row] = await db
        .select()
        .from(installations)
        .where(
          and(
            eq(installations.id, id),
            eq(installations.teamId, teamId),
            isNull(installations.disconnectedAt),
          ),
        )
        .limit(1);
      return row;
    },
    async byId(id: string) {
      const [row] = await db.select().from(installations).where(eq(installations.id, id)).limit(1);
      return row;
    },
    async findActiveWorkspace(teamId: string, provider: string, host: string, workspaceId: string) {
      const [row] = await db
        .select()
        .from(installations)
        .where(
          and(
            eq(installations.teamId, teamId),
            eq(installations.provider, provider),
            eq(installations.host, host),
            eq(installations.workspaceId, workspaceId),
            isNull(installations.disconnectedAt),
          ),
        )
        .limit(1);
      return row;
    },
    /** Whether another team has this workspace connected (ids only: nothing of that team is read). */
    async activeInOtherTeam(teamId: string, provider: string, host: string, workspaceId: string) {
      const [row] = await db
        .select({ id: installations.id })
        .from(installations)
        .where(
          and(
            ne(installations.teamId, teamId),
            eq(installations.provider, provider),
            eq(installations.host, host),
            eq(installations.workspaceId, workspaceId),
            isNull(installations.disconnectedAt),
          ),
        )
        .limit(1);
      return Boolean(row);
    },
    async listForTeam(teamId: string, provider?: string) {
      return db
        .select()
        .from(installations)
        .where(
          and(
            eq(installations.teamId, teamId),
            isNull(installations.disconnectedAt),
            provider ? eq(installations.provider, provider) : undefined,
          ),
        )
        .orderBy(asc(installations.provider), asc(installations.displayName), asc(installations.id));
    },
    async page(teamId: string, after: { name: string; id: string } | null, limit: number, provider?: string) {
      return db
        .select()
        .from(installations)
        .where(
          and(
            eq(installations.teamId, teamId),
            isNull(installations.disconnectedAt),
            provider ? eq(installations.provider, provider) : undefined,
            after
              ? or(
                  gt(installations.displayName, after.name),
                  and(eq(installations.displayName, after.name), gt(installations.id, after.id)),
                )
              : undefined,
          ),
        )
        .orderBy(asc(installations.displayName), asc(installations.id))
        .limit(limit + 1);
    },
    async update(id: string, patch: Partial<typeof installations.$inferInsert>) {
      const [row] = await db
        .update(installations)
        .set({ ...patch, updatedAt: new Date() })
        .where(eq(installations.id, id))
        .returning();
      return row;
    },
    async recordSuccess(id: string, at: Date, resourceCount: number | null) {
      await db
        .update(installations)
        .set({
          lastSuccessAt: at,
          lastSyncAt: at,
          consecutiveFailures: 0,
          status: sql`case when ${installations.status} = 'error' then 'active' else ${installations.status} end`,
          ...(resourceCount === null ? {} : { resourceCount }),
          updatedAt: at,
        })
        .where(eq(installations.id, id));
    },
    async recordFailure(
      id: string,
      at: Date,
      code: string,
      message: string,
      status?: "error" | "revoked" | "suspended",
    ) {
      await db
        .update(installations)
        .set({
          lastFailureAt: at,
          lastErrorCode: code,
          lastErrorMessage: message,
          consecutiveFailures: sql`${installations.consecutiveFailures} + 1`,
          ...(status ? { status } : {}),
          updatedAt: at,
        })
        .where(eq(installations.id, id));
    },
    async insertState(row: typeof connectStates.$inferInsert) {
      await db.insert(connectStates).values(row);
    },
    /** Marks a state used and returns it, atomically: a replayed callback finds nothing. */
    async consumeState(state: string, provider: string, now: Date) {
      const [row] = await db
        .update(connectStates)
        .set({ usedAt: now })
        .where(
          and(
            eq(connectStates.state, state),
            eq(connectStates.provider, provider),
            isNull(connectStates.usedAt),
            gt(connectStates.expiresAt, now),
          ),
        )
        .returning();
      return row;
    },
    async dueForRefresh(olderThan: Date) {
      return db
        .select({ id: installations.id, teamId: installations.teamId })
        .from(installations)
        .where(
          and(
            isNull(installations.disconnectedAt),
            sql`${installations.status} in ('active', 'error')`,
            or(
              isNull(installations.lastSyncAt),
              sql`${installations.lastSyncAt} < ${olderThan.toISOString()}`,
            ),
          ),
        );
    },
  };
}

export type InstallationsRepository = ReturnType<typeof installationsRepository>;
