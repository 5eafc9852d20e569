import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { syncAdmissionOperations, syncAdmissions } from "../../storage/schema.ts";

export type SyncAdmissionRow = typeof syncAdmissions.$inferSelect;
export type AdmissionOperationRow = typeof syncAdmissionOperations.$inferSelect;

export interface AdmissionScope {
  userId: string;
  privateTeamId: string;
  projectUuid: string;
}

export function admissionRepository(db: Database) {
  return {
    /**
     * Claims an Idempotency-Key for this user. Returns undefined when the key was new (the caller then
     * records the outcome), else the stored operation. A concurrent claim of the same key waits here
     * until the first transaction ends.
     */
    async claimOperation(userId: string, key: string, requestHash: string) {
      const inserted = await db
        .insert(syncAdmissionOperations)
        .values({ userId, idempotencyKey: key, requestHash, responseStatus: 0, responseBody: {} })
        .onConflictDoNothing()
        .returning({ key: syncAdmissionOperations.idempotencyKey });
      if (inserted.length) return undefined;
      return findOne(
        db,
        syncAdmissionOperations,
        and(eq(syncAdmissionOperations.userId, userId), eq(syncAdmissionOperations.idempotencyKey, key)),
      );
    },
    async completeOperation(userId: string, key: string, status: number, body: unknown) {
      await db
        .update(syncAdmissionOperations)
        .set({ responseStatus: status, responseBody: body })
        .where(
          and(eq(syncAdmissionOperations.userId, userId), eq(syncAdmissionOperations.idempotencyKey, key)),
        );
    },

    /** The admission row of a scope, locked for the rest of the transaction. */
    async lock(scope: AdmissionScope): Promise<SyncAdmissionRow | undefined> {
      const [row] = await db
        .select()
        .from(syncAdmissions)
        .where(
          and(
            eq(syncAdmissions.userId, scope.userId),
            eq(syncAdmissions.privateTeamId, scope.privateTeamId),
            eq(syncAdmissions.projectUuid, scope.projectUuid),
          ),
        )
        .for("update")
        .limit(1);
      return row;
    },
    /** Inserts the first admission; false when a concurrent request created it first. */
    async insert(row: typeof syncAdmissions.$inferInsert): Promise<boolean> {
      const rows = await db
        .insert(syncAdmissions)
        .values(row)
        .onConflictDoNothing()
        .returning({ id: syncAdmissions.id });
      return rows.length > 0;
    },
    async update(
      id: string,
      set: Partial<Pick<SyncAdmissionRow, "state" | "generation" | "bindingAudience" | "projectSlug">>,
    ) {
      const [row] = await db
        .update(syncAdmissions)
        .set({ ...set, updatedAt: sql`now()` })
        .where(eq(syncAdmissions.id, id))
        .returning();
      return row;
    },
  };
}

export type AdmissionRepository = ReturnType<typeof admissionRepository>;

/** Runs `fn` in one transaction with a repository bound to it. */
export function admissionRepositoryTransaction<T>(
  db: Database,
  fn: (repo: AdmissionRepository) => Promise<T>,
): Promise<T> {
  return db.transaction((tx) => fn(admissionRepository(tx as unknown as Database)));
}
