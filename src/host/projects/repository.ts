import { and, asc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { keysetSeek, type SortSpec } from "../../storage/keyset.ts";
import { projects } from "../../storage/schema.ts";

export type ProjectRow = typeof projects.$inferSelect;

/** The orders a person can list projects in, each with its cursor value; the tie-break is the id. */
export const PROJECT_SORTS = {
  slug: { spec: { by: projects.slug }, key: (p: ProjectRow) => p.slug },
  slug_desc: { spec: { by: projects.slug, desc: true }, key: (p: ProjectRow) => p.slug },
  newest: {
    spec: { by: projects.createdAt, desc: true, time: true },
    key: (p: ProjectRow) => p.createdAt.toISOString(),
  },
  oldest: { spec: { by: projects.createdAt, time: true }, key: (p: ProjectRow) => p.createdAt.toISOString() },
} satisfies Record<string, { spec: SortSpec; key: (p: ProjectRow) => string }>;
export type ProjectSort = keyof typeof PROJECT_SORTS;

export function projectsRepository(db: Database) {
  return {
    async byUuid(teamId: string, uuid: string) {
      return findOne(db, projects, and(eq(projects.teamId, teamId), eq(projects.uuid, uuid)));
    },
    async bySlug(teamId: string, slug: string) {
      return findOne(db, projects, and(eq(projects.teamId, teamId), eq(projects.slug, slug)));
    },
    async byId(teamId: string, id: string) {
      return findOne(db, projects, and(eq(projects.teamId, teamId), eq(projects.id, id)));
    },
    async insert(row: typeof projects.$inferInsert) {
      const [saved] = await db.insert(projects).values(row).onConflictDoNothing().returning();
      return saved;
    },
    /** Adopts a dashboard-created project (no uuid yet) for the first CLI identity that binds it. */
    async adopt(id: string, uuid: string) {
      const [row] = await db
        .update(projects)
        .set({ uuid, updatedAt: new Date() })
        .where(and(eq(projects.id, id), isNull(projects.uuid)))
        .returning();
      return row;
    },
    /** Remembers the CLI node and build ids seen for a project (appended once each). */
    async noteIdentity(id: string, nodeId: string | null, buildId: string | null, repoSlug: string | null) {
      await db
        .update(projects)
        .set({
          nodeIds: nodeId
            ? sql`case when ${projects.nodeIds} @> ${JSON.stringify([nodeId])}::jsonb then ${projects.nodeIds} else ${projects.nodeIds} || ${JSON.stringify([nodeId])}::jsonb end`
            : undefined,
          buildIds: buildId
            ? sql`case when ${projects.buildIds} @> ${JSON.stringify([buildId])}::jsonb then ${projects.buildIds} else ${projects.buildIds} || ${JSON.stringify([buildId])}::jsonb end`
            : undefined,
          repoSlug: repoSlug ?? undefined,
          updatedAt: new Date(),
        })
        .where(eq(projects.id, id));
    },
    async page(teamId: string, after: { slug: string } | null, limit: number) {
      return db
        .select()
        .from(projects)
        .where(and(eq(projects.teamId, teamId), after ? gt(projects.slug, after.slug) : undefined))
        .orderBy(asc(projects.slug))
        .limit(limit + 1);
    },
    /** One page of a person's list: `PROJECT_SORTS[sort]` order, either way from a cursor's key. */
    async list(
      teamId: string,
      sort: ProjectSort,
      from: { key: [string, string]; backwards: boolean } | null,
      limit: number,
    ) {
      const keyset = keysetSeek(PROJECT_SORTS[sort].spec, projects.id, from);
      return db
        .select()
        .from(projects)
        .where(and(eq(projects.teamId, teamId), keyset.where))
        .orderBy(...keyset.orderBy)
        .limit(limit + 1);
    },
    async count(teamId: string) {
      const [c] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(projects)
        .where(eq(projects.teamId, teamId));
      return Number(c?.n ?? 0);
    },
    async search(teamId: string, q: string, limit: number) {
      const like = `%${q.toLowerCase().replace(/[\\%_]/g, "\\$&")}%`;
      return db
        .select()
        .from(projects)
        .where(
          and(
            eq(projects.teamId, teamId),
            or(sql`lower(${projects.slug}) like ${like}`, sql`lower(${projects.name}) like ${like}`),
          ),
        )
        .orderBy(asc(projects.slug))
        .limit(limit);
    },
  };
}

export type ProjectsRepository = ReturnType<typeof projectsRepository>;
