import { and, asc, desc, eq, gt, isNull, ne, or, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne, teamRowById } from "../../storage/find.ts";
import { keysetAfter } from "../../storage/keyset.ts";
import { connectStates, installations } from "../../storage/schema.ts";

export type InstallationRow = typeof installations.$inferSelect;

/** What a failed discovery pass may set the status to (nothing, when the failure says nothing of access). */
export type FailedPassStatus = Extract<InstallationRow["status"], "error" | "revoked" | "suspended">;

/** Connected (`active`, `error`, `revoked`, `suspended`) or `disconnected`; lists filter on it. */
export type InstallationListFilter = { provider?: string; state?: "connected" | "disconnected" | "all" };

const stateCondition = (state: InstallationListFilter["state"] = "connected") =>
  state === "all"
    ? undefined
    : state === "connected"
      ? isNull(installations.disconnectedAt)
      : sql`${installations.disconnectedAt} is not null`;

/** The team's installations that a list's filter keeps. */
const teamInstallations = (teamId: string, filter: InstallationListFilter) =>
  and(
    eq(installations.teamId, teamId),
    stateCondition(filter.state),
    filter.provider ? eq(installations.provider, filter.provider) : undefined,
  );

/** A workspace is the same one when provider, host and the provider's workspace id agree. */
const sameWorkspace = (provider: string, host: string, workspaceId: string) =>
  and(
    eq(installations.provider, provider),
    eq(installations.host, host),
    eq(installations.workspaceId, workspaceId),
  );

export function installationsRepository(db: Database) {
  return {
    async insert(row: typeof installations.$inferInsert) {
      const [saved] = await db.insert(installations).values(row).returning();
      return saved;
    },
    /** A connected installation of the team: another team's id, or a disconnected one, finds nothing. */
    async get(teamId: string, id: string) {
      return findOne(
        db,
        installations,
        and(eq(installations.id, id), eq(installations.teamId, teamId), isNull(installations.disconnectedAt)),
      );
    },
    /** Team-scoped, disconnected ones included: their page and API answer stay. */
    getAny: (teamId: string, id: string) => teamRowById(db, installations, teamId, id),
    async byId(id: string) {
      return findOne(db, installations, eq(installations.id, id));
    },
    /**
     * The team's installation of a workspace: the connected one, else the most recently disconnected
     * (a reconnect brings that one back, with its id and mappings).
     */
    async findWorkspace(teamId: string, provider: string, host: string, workspaceId: string) {
      const [row] = await db
        .select()
        .from(installations)
        .where(and(eq(installations.teamId, teamId), sameWorkspace(provider, host, workspaceId)))
        .orderBy(sql`${installations.disconnectedAt} desc nulls first`, desc(installations.updatedAt))
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
            sameWorkspace(provider, host, workspaceId),
            isNull(installations.disconnectedAt),
          ),
        )
        .limit(1);
      return Boolean(row);
    },
    async listForTeam(teamId: string, filter: InstallationListFilter = {}) {
      return db
        .select()
        .from(installations)
        .where(teamInstallations(teamId, filter))
        .orderBy(asc(installations.provider), asc(installations.displayName), asc(installations.id));
    },
    async page(
      teamId: string,
      after: { name: string; id: string } | null,
      limit: number,
      filter: InstallationListFilter = {},
    ) {
      const keyset = keysetAfter(
        installations.displayName,
        installations.id,
        after && [after.name, after.id],
      );
      return db
        .select()
        .from(installations)
        .where(and(teamInstallations(teamId, filter), keyset.where))
        .orderBy(...keyset.orderBy)
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
    /**
     * A complete pass is the provider accepting the credential again: `error`, `revoked` and
     * `suspended` become `active` (a suspended GitHub App installation is refused its token, so a pass
     * that completed proves it was unsuspended, even if that event was lost). `disconnected` stays.
     */
    async recordSuccess(id: string, at: Date, resourceCount: number | null) {
      await db
        .update(installations)
        .set({
          lastSuccessAt: at,
          lastSyncAt: at,
          consecutiveFailures: 0,
          status: sql`case when ${installations.status} in ('error', 'revoked', 'suspended') then 'active' else ${installations.status} end`,
          ...(resourceCount === null ? {} : { resourceCount }),
          updatedAt: at,
        })
        .where(and(eq(installations.id, id), isNull(installations.disconnectedAt)));
    },
    async recordFailure(id: string, at: Date, code: string, message: string, status?: FailedPassStatus) {
      await db
        .update(installations)
        .set({
          lastFailureAt: at,
          lastErrorCode: code,
          lastErrorMessage: message,
          consecutiveFailures: sql`${installations.consecutiveFailures} + 1`,
          // A suspended installation refused a pass for that reason: it stays suspended (not `error`),
          // so runtime calls keep being refused up front; only `revoked` (uninstalled) replaces it.
          ...(status
            ? {
                status: sql`case when ${installations.status} = 'suspended' and ${status} = 'error' then 'suspended' else ${status} end`,
              }
            : {}),
          updatedAt: at,
        })
        // A pass that ends after a disconnect records nothing: the installation keeps `disconnected`.
        .where(and(eq(installations.id, id), isNull(installations.disconnectedAt)));
    },
    /** What the provider said of the installation itself (an event, confirmed by a re-read). */
    async recordProviderState(
      id: string,
      at: Date,
      state: { status: "active" | "suspended" | "revoked"; code: string | null; message: string | null },
    ) {
      await db
        .update(installations)
        .set({
          status: state.status,
          lastErrorCode: state.code,
          lastErrorMessage: state.message,
          ...(state.status === "active" ? { consecutiveFailures: 0 } : { lastFailureAt: at }),
          updatedAt: at,
        })
        .where(and(eq(installations.id, id), isNull(installations.disconnectedAt)));
    },
    /** Connected installations of a provider workspace (a GitHub App installation id), in any team. */
    connectedForWorkspace: (provider: string, workspaceId: string) =>
      db
        .select()
        .from(installations)
        .where(
          and(
            eq(installations.provider, provider),
            eq(installations.workspaceId, workspaceId),
            isNull(installations.disconnectedAt),
          ),
        ),
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
            // Revoked and suspended ones too: a later accepted pass is how a provider's change of mind
            // shows (an unsuspend whose event was lost).
            sql`${installations.status} in ('active', 'error', 'revoked', 'suspended')`,
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
