import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { mappings, projects, workPackageCreateClaims, workPackageLinks } from "../../storage/schema.ts";

export type WorkPackageLinkRow = typeof workPackageLinks.$inferSelect;

export function linksRepository(db: Database) {
  return {
    async get(bindingRef: string, wpId: string): Promise<WorkPackageLinkRow | undefined> {
      return findOne(
        db,
        workPackageLinks,
        and(eq(workPackageLinks.bindingRef, bindingRef), eq(workPackageLinks.wpId, wpId)),
      );
    },

    /** Creates the link, or moves an existing one to the issue now named (one issue per work package). */
    async upsert(row: typeof workPackageLinks.$inferInsert): Promise<WorkPackageLinkRow> {
      const [saved] = await db
        .insert(workPackageLinks)
        .values(row)
        .onConflictDoUpdate({
          target: [workPackageLinks.bindingRef, workPackageLinks.wpId],
          set: {
            workspace: row.workspace,
            externalId: row.externalId,
            externalKey: row.externalKey,
            externalUrl: row.externalUrl,
            updatedAt: sql`now()`,
          },
        })
        .returning();
      return saved;
    },

    /** Takes the create claim of a work package for `leaseMs`; false while another push holds it. */
    /**
     * Takes the create claim: "fresh" when nobody held it, "taken_over" when an earlier claim had expired
     * without being released (its push crashed, or its create ended with an unknown effect), false when
     * another push holds it.
     */
    async claimCreate(
      bindingRef: string,
      wpId: string,
      leaseMs: number,
    ): Promise<"fresh" | "taken_over" | false> {
      const until = sql`now() + ${leaseMs} * interval '1 millisecond'`;
      const taken = await db
        .insert(workPackageCreateClaims)
        .values({ bindingRef, wpId, claimedUntil: until })
        .onConflictDoUpdate({
          target: [workPackageCreateClaims.bindingRef, workPackageCreateClaims.wpId],
          set: { claimedUntil: until },
          setWhere: sql`${workPackageCreateClaims.claimedUntil} < now()`,
        })
        // xmax = 0 on a row this statement inserted; an upsert that updated an existing row sets it.
        .returning({ fresh: sql<boolean>`(xmax = 0)` });
      if (taken.length === 0) return false;
      return taken[0].fresh ? "fresh" : "taken_over";
    },

    /** Ends a claim now but keeps its row, so the next claimer knows a create may have happened. */
    async expireCreate(bindingRef: string, wpId: string) {
      await db
        .update(workPackageCreateClaims)
        .set({ claimedUntil: sql`now() - interval '1 millisecond'` })
        .where(
          and(eq(workPackageCreateClaims.bindingRef, bindingRef), eq(workPackageCreateClaims.wpId, wpId)),
        );
    },

    async releaseCreate(bindingRef: string, wpId: string) {
      await db
        .delete(workPackageCreateClaims)
        .where(
          and(eq(workPackageCreateClaims.bindingRef, bindingRef), eq(workPackageCreateClaims.wpId, wpId)),
        );
    },

    async forMapping(teamId: string, bindingRef: string): Promise<WorkPackageLinkRow[]> {
      return db
        .select()
        .from(workPackageLinks)
        .where(and(eq(workPackageLinks.teamId, teamId), eq(workPackageLinks.bindingRef, bindingRef)))
        .orderBy(asc(workPackageLinks.wpId), asc(workPackageLinks.id));
    },

    /** Links of the given (live) mappings, with the project each belongs to. */
    async forMappings(teamId: string, bindingRefs: string[]) {
      if (bindingRefs.length === 0) return [];
      return db
        .select({ link: workPackageLinks, projectSlug: projects.slug, displayLabel: mappings.displayLabel })
        .from(workPackageLinks)
        .innerJoin(projects, eq(projects.id, workPackageLinks.projectId))
        .innerJoin(mappings, eq(mappings.bindingRef, workPackageLinks.bindingRef))
        .where(and(eq(workPackageLinks.teamId, teamId), inArray(workPackageLinks.bindingRef, bindingRefs)))
        .orderBy(asc(projects.slug), asc(workPackageLinks.wpId), asc(workPackageLinks.id));
    },
  };
}

export type LinksRepository = ReturnType<typeof linksRepository>;
