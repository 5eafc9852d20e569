import { and, eq } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { missionOriginLinks } from "../../storage/schema.ts";

export type OriginLinkRow = typeof missionOriginLinks.$inferSelect;

export function originsRepository(db: Database) {
  return {
    async forMission(projectId: string, missionId: string): Promise<OriginLinkRow | undefined> {
      return findOne(
        db,
        missionOriginLinks,
        and(eq(missionOriginLinks.projectId, projectId), eq(missionOriginLinks.missionId, missionId)),
      );
    },

    /** Inserts unless the mission already has an origin; returns the row that holds the mission. */
    async insertOrGet(
      row: typeof missionOriginLinks.$inferInsert,
    ): Promise<{ row: OriginLinkRow; created: boolean }> {
      const [inserted] = await db.insert(missionOriginLinks).values(row).onConflictDoNothing().returning();
      if (inserted) return { row: inserted, created: true };
      const existing = await this.forMission(row.projectId, row.missionId);
      if (!existing) throw new Error("mission origin vanished between insert and read");
      return { row: existing, created: false };
    },
  };
}
