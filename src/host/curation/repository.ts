import { and, asc, eq } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { curationRules } from "../../storage/schema.ts";
import type { CurationRule } from "./rules.ts";

export type CurationRuleRow = typeof curationRules.$inferSelect;

export const toRule = (r: CurationRuleRow): CurationRule => ({
  installationId: r.installationId,
  effect: r.effect as CurationRule["effect"],
  match: r.match as CurationRule["match"],
  pattern: r.pattern,
  kind: r.kind,
  kindValue: r.kindValue,
  resourceId: r.resourceId,
});

export function curationRepository(db: Database) {
  return {
    /** Every rule of a team (what its snapshots apply). */
    async forTeam(teamId: string): Promise<CurationRule[]> {
      const found = await db
        .select()
        .from(curationRules)
        .where(eq(curationRules.teamId, teamId))
        .orderBy(asc(curationRules.installationId), asc(curationRules.position));
      return found.map(toRule);
    },

    forInstallation: (teamId: string, installationId: string) =>
      db
        .select()
        .from(curationRules)
        .where(and(eq(curationRules.teamId, teamId), eq(curationRules.installationId, installationId)))
        .orderBy(asc(curationRules.position)),

    /** Replaces an installation's rules in the caller's transaction. */
    async replace(
      tx: Database,
      teamId: string,
      installationId: string,
      rules: (CurationRule & { id: string })[],
      by: string,
    ) {
      await tx
        .delete(curationRules)
        .where(and(eq(curationRules.teamId, teamId), eq(curationRules.installationId, installationId)));
      if (rules.length === 0) return;
      await tx.insert(curationRules).values(
        rules.map((r, position) => ({
          id: r.id,
          teamId,
          installationId,
          position,
          effect: r.effect,
          match: r.match,
          pattern: r.pattern,
          kind: r.kind,
          kindValue: r.kindValue,
          resourceId: r.resourceId,
          createdBy: by,
        })),
      );
    },
  };
}

/** The snapshot's reader: a team's rules in the snapshot's own transaction. */
export const readCurationRules = (db: Database, teamId: string) => curationRepository(db).forTeam(teamId);
