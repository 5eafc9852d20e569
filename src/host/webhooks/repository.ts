import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { webhookDeliveries, webhookEndpoints } from "../../storage/schema.ts";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export function webhooksRepository(db: Database) {
  /** Creates the endpoint row on first use, then applies the change. */
  async function touch(installationId: string, set: Partial<typeof webhookEndpoints.$inferInsert>) {
    await db
      .insert(webhookEndpoints)
      .values({ installationId, ...set })
      .onConflictDoUpdate({ target: webhookEndpoints.installationId, set });
  }

  return {
    endpoint: (installationId: string) =>
      findOne(db, webhookEndpoints, eq(webhookEndpoints.installationId, installationId)),

    setSecret: (installationId: string, secretCiphertext: string, at: Date) =>
      touch(installationId, { secretCiphertext, secretRotatedAt: at }),

    recordFailure: (installationId: string, reason: string, at: Date) =>
      touch(installationId, { lastFailureAt: at, lastFailureReason: reason }),

    recordApplied: (installationId: string, at: Date) => touch(installationId, { lastAppliedAt: at }),

    /** The provider hook's registration: automatic (scope and id of the hook) or manual (and why). */
    recordHook: (
      installationId: string,
      hook: {
        mode: "automatic" | "manual" | null;
        scope: string | null;
        id: string | null;
        reason: string | null;
      },
      at: Date,
    ) =>
      touch(installationId, {
        hookMode: hook.mode,
        hookScope: hook.scope,
        hookId: hook.id,
        hookReason: hook.reason,
        hookCheckedAt: at,
      }),

    /**
     * The delivery, unless its id was seen before (then null: a duplicate or a redelivery). Counts it on
     * the endpoint in the same statement order as it was received.
     */
    async accept(row: typeof webhookDeliveries.$inferInsert): Promise<DeliveryRow | null> {
      const [saved] = await db
        .insert(webhookDeliveries)
        .values(row)
        .onConflictDoNothing({ target: [webhookDeliveries.provider, webhookDeliveries.deliveryId] })
        .returning();
      if (!saved) return null;
      if (row.installationId)
        await db
          .insert(webhookEndpoints)
          .values({ installationId: row.installationId, lastDeliveryAt: saved.receivedAt, deliveries: 1 })
          .onConflictDoUpdate({
            target: webhookEndpoints.installationId,
            set: {
              lastDeliveryAt: saved.receivedAt,
              deliveries: sql`${webhookEndpoints.deliveries} + 1`,
            },
          });
      return saved;
    },

    delivery: (id: string) => findOne(db, webhookDeliveries, eq(webhookDeliveries.id, id)),

    async finish(id: string, state: "applied" | "failed" | "ignored", error: string | null, at: Date) {
      await db
        .update(webhookDeliveries)
        .set({ state, error, appliedAt: at })
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.state, "pending")));
    },

    /** Housekeeping: delivery ids are remembered for `days` (providers redeliver within hours). */
    async purge(before: Date) {
      await db.delete(webhookDeliveries).where(lt(webhookDeliveries.receivedAt, before));
    },
  };
}

export type WebhooksRepository = ReturnType<typeof webhooksRepository>;
