import { and, asc, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { findOne } from "../../storage/find.ts";
import { keysetAfter, keysetSeek, type SortSpec } from "../../storage/keyset.ts";
import { installations, mappings, projects, resources } from "../../storage/schema.ts";
import type { MappingState } from "./states.ts";

export type MappingRow = typeof mappings.$inferSelect;

function filtered(f: MappingFilter) {
  return and(
    eq(mappings.teamId, f.teamId),
    f.provider ? eq(mappings.provider, f.provider) : undefined,
    f.projectId ? eq(mappings.projectId, f.projectId) : undefined,
    f.installationId ? eq(mappings.installationId, f.installationId) : undefined,
    f.status === "deleted"
      ? isNotNull(mappings.deletedAt)
      : f.status
        ? and(eq(mappings.status, f.status), isNull(mappings.deletedAt))
        : isNull(mappings.deletedAt),
  );
}

export interface MappingFilter {
  teamId: string;
  provider?: string;
  projectId?: string;
  installationId?: string;
  status?: MappingState;
}

/** A mapping joined with what its views need: project slug, resource liveness, installation state. */
const joined = {
  mapping: mappings,
  projectSlug: projects.slug,
  projectName: projects.name,
  projectUuid: projects.uuid,
  resourceMissingSince: resources.missingSince,
  resourceNativeId: resources.nativeId,
  resourceKeyDisplay: resources.key,
  resourceWebUrl: resources.webUrl,
  installationStatus: installations.status,
  installationDisconnectedAt: installations.disconnectedAt,
};

export type JoinedMapping = {
  mapping: MappingRow;
  projectSlug: string;
  projectName: string;
  projectUuid: string | null;
  resourceMissingSince: Date | null;
  resourceNativeId: string;
  resourceKeyDisplay: string | null;
  resourceWebUrl: string | null;
  installationStatus: string;
  installationDisconnectedAt: Date | null;
};

/** The orders a person can list mappings in, each with its cursor value; the tie-break is the binding_ref. */
export const MAPPING_SORTS = {
  resource: { spec: { by: mappings.displayLabel }, key: (j: JoinedMapping) => j.mapping.displayLabel },
  resource_desc: {
    spec: { by: mappings.displayLabel, desc: true },
    key: (j: JoinedMapping) => j.mapping.displayLabel,
  },
  project: { spec: { by: projects.slug }, key: (j: JoinedMapping) => j.projectSlug },
  newest: {
    spec: { by: mappings.boundAt, desc: true, time: true },
    key: (j: JoinedMapping) => j.mapping.boundAt.toISOString(),
  },
  oldest: {
    spec: { by: mappings.boundAt, time: true },
    key: (j: JoinedMapping) => j.mapping.boundAt.toISOString(),
  },
} satisfies Record<string, { spec: SortSpec; key: (j: JoinedMapping) => string }>;
export type MappingSort = keyof typeof MAPPING_SORTS;

export function mappingsRepository(db: Database) {
  const base = () =>
    db
      .select(joined)
      .from(mappings)
      .innerJoin(projects, eq(projects.id, mappings.projectId))
      .innerJoin(resources, eq(resources.id, mappings.resourceId))
      .innerJoin(installations, eq(installations.id, mappings.installationId));

  return {
    /** By ref, in any state (deleted too: stale refs must answer as deleted). Team-scoped. */
    async byRef(teamId: string, bindingRef: string): Promise<JoinedMapping | undefined> {
      const [row] = await base()
        .where(and(eq(mappings.teamId, teamId), eq(mappings.bindingRef, bindingRef)))
        .limit(1);
      return row;
    },
    async liveForProject(
      teamId: string,
      projectId: string,
      provider: string,
    ): Promise<JoinedMapping | undefined> {
      const [row] = await base()
        .where(
          and(
            eq(mappings.teamId, teamId),
            eq(mappings.projectId, projectId),
            eq(mappings.provider, provider),
            isNull(mappings.deletedAt),
          ),
        )
        .limit(1);
      return row;
    },
    async liveForResource(installationId: string, resourceKey: string, tx?: Database) {
      return findOne(
        tx ?? db,
        mappings,
        and(
          eq(mappings.installationId, installationId),
          eq(mappings.resourceKey, resourceKey),
          isNull(mappings.deletedAt),
        ),
      );
    },
    async liveForProjectRow(projectId: string, provider: string, tx?: Database) {
      return findOne(
        tx ?? db,
        mappings,
        and(eq(mappings.projectId, projectId), eq(mappings.provider, provider), isNull(mappings.deletedAt)),
      );
    },
    async byRefRow(teamId: string, bindingRef: string, tx?: Database) {
      return findOne(
        tx ?? db,
        mappings,
        and(eq(mappings.teamId, teamId), eq(mappings.bindingRef, bindingRef)),
      );
    },
    async insert(row: typeof mappings.$inferInsert, tx?: Database) {
      const [saved] = await (tx ?? db).insert(mappings).values(row).returning();
      return saved;
    },
    async update(bindingRef: string, patch: Partial<typeof mappings.$inferInsert>, tx?: Database) {
      const [saved] = await (tx ?? db)
        .update(mappings)
        .set({ ...patch, updatedAt: new Date() })
        .where(eq(mappings.bindingRef, bindingRef))
        .returning();
      return saved;
    },
    async page(f: MappingFilter, after: { label: string; ref: string } | null, limit: number) {
      const keyset = keysetAfter(
        mappings.displayLabel,
        mappings.bindingRef,
        after && [after.label, after.ref],
      );
      return base()
        .where(and(filtered(f), keyset.where))
        .orderBy(...keyset.orderBy)
        .limit(limit + 1);
    },
    /** One page of a person's list: `MAPPING_SORTS[sort]` order, either way from a cursor's key. */
    async list(
      f: MappingFilter,
      sort: MappingSort,
      from: { key: [string, string]; backwards: boolean } | null,
      limit: number,
    ) {
      const keyset = keysetSeek(MAPPING_SORTS[sort].spec, mappings.bindingRef, from);
      return base()
        .where(and(filtered(f), keyset.where))
        .orderBy(...keyset.orderBy)
        .limit(limit + 1);
    },
    /** How many mappings the filter keeps (the list's total). */
    async count(f: MappingFilter) {
      const [c] = await db.select({ n: sql<number>`count(*)::int` }).from(mappings).where(filtered(f));
      return Number(c?.n ?? 0);
    },
    /** Live mappings of a team for a provider (installation-wide CLI reads). */
    async liveForProvider(teamId: string, provider: string) {
      return base()
        .where(and(eq(mappings.teamId, teamId), eq(mappings.provider, provider), isNull(mappings.deletedAt)))
        .orderBy(asc(projects.slug));
    },
    /** Keeps labels following upstream renames; the binding_ref never changes. */
    async refreshLabels(installationId: string, tx?: Database) {
      await (tx ?? db).execute(sql`
        update mappings m set display_label = r.label, provider_context = r.context, routing_metadata = r.routing_metadata, updated_at = now()
        from resources r
        where m.resource_id = r.id and m.installation_id = ${installationId} and m.deleted_at is null
          and (m.display_label is distinct from r.label or m.provider_context is distinct from r.context or m.routing_metadata is distinct from r.routing_metadata)`);
    },
  };
}

export type MappingsRepository = ReturnType<typeof mappingsRepository>;
