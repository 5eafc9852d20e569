import { and, asc, eq, gt, inArray, isNotNull, isNull, or, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { inventoryStaging, mappings, projects, resources, teams } from "../../storage/schema.ts";
import { installationsRepository } from "../installations/repository.ts";

export type ResourceRow = typeof resources.$inferSelect;
export interface SnapshotProject {
  id: string;
  uuid: string | null;
  slug: string;
}

export interface TeamVersions {
  inventory: number;
  binding: number;
}

export interface SnapshotMapping {
  projectId: string;
  projectSlug: string;
  bindingRef: string;
  status: "active" | "disabled";
  displayLabel: string;
  providerContext: Record<string, string>;
  installationId: string;
  resourceId: string;
  boundAt: Date;
}

export type StagedResource = Omit<typeof resources.$inferInsert, "firstSeenAt" | "updatedAt">;

export interface InventoryFilter {
  teamId: string;
  installationId?: string;
  installationIds?: string[];
  provider?: string;
  /** Case-insensitive substring over label, key, name and path. */
  q?: string;
  state?: "bound" | "unbound" | "missing" | "archived";
}

const rows = (r: unknown) => ((r as any).rows ?? r) as any[];

export function inventoryRepository(db: Database) {
  const liveMapping = and(
    eq(mappings.installationId, resources.installationId),
    eq(mappings.resourceKey, resources.resourceKey),
    isNull(mappings.deletedAt),
  );

  function where(f: InventoryFilter) {
    return and(
      eq(resources.teamId, f.teamId),
      f.installationId ? eq(resources.installationId, f.installationId) : undefined,
      f.installationIds
        ? inArray(resources.installationId, f.installationIds.length ? f.installationIds : ["-"])
        : undefined,
      f.provider ? eq(resources.provider, f.provider) : undefined,
      f.q
        ? sql`${resources.searchText} like ${`%${f.q.toLowerCase().replace(/[\\%_]/g, "\\$&")}%`}`
        : undefined,
      f.state === "missing" ? isNotNull(resources.missingSince) : undefined,
      f.state === "archived" ? eq(resources.archived, true) : undefined,
      f.state === "bound" ? isNotNull(mappings.bindingRef) : undefined,
      f.state === "unbound" ? and(isNull(mappings.bindingRef), isNull(resources.missingSince)) : undefined,
    );
  }

  return {
    /** Fingerprints of the given keys, to diff a discovery page without loading whole rows. */
    async fingerprints(installationId: string, keys: string[]) {
      if (keys.length === 0) return new Map<string, { fingerprint: string; missing: boolean }>();
      const found = await db
        .select({
          key: resources.resourceKey,
          fingerprint: resources.fingerprint,
          missingSince: resources.missingSince,
        })
        .from(resources)
        .where(and(eq(resources.installationId, installationId), inArray(resources.resourceKey, keys)));
      return new Map(
        found.map((r) => [r.key, { fingerprint: r.fingerprint, missing: r.missingSince !== null }]),
      );
    },

    async stage(passId: string, installationId: string, staged: StagedResource[]) {
      if (staged.length === 0) return;
      await db
        .insert(inventoryStaging)
        .values(staged.map((row) => ({ passId, installationId, resourceKey: row.resourceKey, row })))
        .onConflictDoUpdate({
          target: [inventoryStaging.passId, inventoryStaging.resourceKey],
          set: { row: sql`excluded.row` },
        });
    },

    async dropStage(passId: string) {
      await db.delete(inventoryStaging).where(eq(inventoryStaging.passId, passId));
    },

    /**
     * Applies a completed pass in one transaction: staged changes upserted (renames update labels,
     * restored rows lose missing_since), unseen rows marked missing, last_seen_at refreshed at most hourly.
     */
    async applyPass(passId: string, installationId: string, seen: Set<string>, at: Date) {
      return db.transaction(async (tx) => {
        const applied = rows(
          await tx.execute(sql`
          insert into resources (id, team_id, installation_id, provider, resource_key, resource_type, native_id, label, key, name,
            full_path, web_url, context, connector_params, routing_metadata, archived, issues_disabled, search_text,
            fingerprint, first_seen_at, last_seen_at, missing_since, updated_at)
          select s.row->>'id', s.row->>'teamId', s.row->>'installationId', s.row->>'provider', s.resource_key, s.row->>'resourceType',
            s.row->>'nativeId', s.row->>'label', s.row->>'key', s.row->>'name', s.row->>'fullPath', s.row->>'webUrl',
            s.row->'context', s.row->'connectorParams', s.row->'routingMetadata', (s.row->>'archived')::boolean,
            (s.row->>'issuesDisabled')::boolean,
            s.row->>'searchText', s.row->>'fingerprint', ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz, null, ${at.toISOString()}::timestamptz
          from inventory_staging s where s.pass_id = ${passId}
          on conflict (installation_id, resource_key) do update set
            resource_type = excluded.resource_type, native_id = excluded.native_id, label = excluded.label, key = excluded.key,
            name = excluded.name, full_path = excluded.full_path, web_url = excluded.web_url, context = excluded.context,
            connector_params = excluded.connector_params, routing_metadata = excluded.routing_metadata,
            archived = excluded.archived, issues_disabled = excluded.issues_disabled,
            search_text = excluded.search_text,
            fingerprint = excluded.fingerprint, last_seen_at = excluded.last_seen_at, missing_since = null, updated_at = excluded.updated_at
          returning (xmax = 0) as inserted`),
        );
        const live = await tx
          .select({ id: resources.id, key: resources.resourceKey })
          .from(resources)
          .where(and(eq(resources.installationId, installationId), isNull(resources.missingSince)));
        const gone = live.filter((r) => !seen.has(r.key)).map((r) => r.id);
        for (let i = 0; i < gone.length; i += 500) {
          await tx
            .update(resources)
            .set({ missingSince: at, updatedAt: at })
            .where(inArray(resources.id, gone.slice(i, i + 500)));
        }
        const touched = rows(
          await tx.execute(sql`update resources set last_seen_at = ${at.toISOString()}::timestamptz
            where installation_id = ${installationId} and missing_since is null and last_seen_at < ${at.toISOString()}::timestamptz - interval '1 hour'
            returning 1`),
        ).length;
        await tx.delete(inventoryStaging).where(eq(inventoryStaging.passId, passId));
        const [{ n }] = rows(
          await tx.execute(
            sql`select count(*)::int as n from resources where installation_id = ${installationId} and missing_since is null`,
          ),
        );
        const inserted = applied.filter((r) => r.inserted === true || r.inserted === "t").length;
        return {
          inserted,
          updated: applied.length - inserted,
          missing: gone.length,
          lastSeenTouched: touched,
          liveCount: Number(n),
        };
      });
    },

    /** Fresh planner statistics after a bulk insert, so the first reads use the label indexes. */
    async analyze() {
      await db.execute(sql`analyze resources`);
    },

    /** One page ordered by label then id, with the live mapping (if any) of each resource. */
    async page(f: InventoryFilter, after: { label: string; id: string } | null, limit: number) {
      return db
        .select({
          resource: resources,
          mapping: {
            bindingRef: mappings.bindingRef,
            projectId: mappings.projectId,
            boundAt: mappings.boundAt,
            status: mappings.status,
          },
        })
        .from(resources)
        .leftJoin(mappings, liveMapping)
        .where(
          and(
            where(f),
            after
              ? or(
                  gt(resources.label, after.label),
                  and(eq(resources.label, after.label), gt(resources.id, after.id)),
                )
              : undefined,
          ),
        )
        .orderBy(asc(resources.label), asc(resources.id))
        .limit(limit + 1);
    },

    /** The team's inventory and binding versions (see `teams.inventory_version`). */
    async teamVersions(teamId: string): Promise<TeamVersions> {
      const [row] = await db
        .select({ inventory: teams.inventoryVersion, binding: teams.bindingVersion })
        .from(teams)
        .where(eq(teams.id, teamId));
      return row ?? { inventory: 0, binding: 0 };
    },

    /** Connected installations of a team for a provider, as `InstallationsRepository.listForTeam`. */
    snapshotInstallations: (teamId: string, provider: string) =>
      installationsRepository(db).listForTeam(teamId, { provider }),

    /** Bindable resources of the given installations: live, not archived, issues enabled. */
    async snapshotRows(teamId: string, installationIds: string[]) {
      return db
        .select({
          id: resources.id,
          installationId: resources.installationId,
          provider: resources.provider,
          resourceKey: resources.resourceKey,
          label: resources.label,
          key: resources.key,
          name: resources.name,
          fullPath: resources.fullPath,
          context: resources.context,
        })
        .from(resources)
        .where(
          and(
            eq(resources.teamId, teamId),
            inArray(resources.installationId, installationIds),
            isNull(resources.missingSince),
            eq(resources.archived, false),
            eq(resources.issuesDisabled, false),
          ),
        );
    },

    async snapshotProjects(teamId: string): Promise<SnapshotProject[]> {
      return db
        .select({ id: projects.id, uuid: projects.uuid, slug: projects.slug })
        .from(projects)
        .where(eq(projects.teamId, teamId));
    },

    /** Live mappings of a team for a provider, with what bind-resolve answers for an existing binding. */
    async snapshotMappings(teamId: string, provider: string): Promise<SnapshotMapping[]> {
      const found = await db
        .select({
          projectId: mappings.projectId,
          projectSlug: projects.slug,
          bindingRef: mappings.bindingRef,
          status: mappings.status,
          displayLabel: mappings.displayLabel,
          providerContext: mappings.providerContext,
          installationId: mappings.installationId,
          resourceId: mappings.resourceId,
          boundAt: mappings.boundAt,
        })
        .from(mappings)
        .innerJoin(projects, eq(projects.id, mappings.projectId))
        .where(and(eq(mappings.teamId, teamId), eq(mappings.provider, provider), isNull(mappings.deletedAt)));
      return found.map((m) => ({ ...m, providerContext: m.providerContext as Record<string, string> }));
    },

    /** One resource written straight to inventory (admin repair path), keyed like a discovery pass. */
    async upsertOne(row: StagedResource) {
      const { id: _id, teamId: _t, installationId: _i, resourceKey: _k, provider: _p, ...changes } = row;
      const [saved] = await db
        .insert(resources)
        .values(row)
        .onConflictDoUpdate({
          target: [resources.installationId, resources.resourceKey],
          set: { ...changes, missingSince: null, lastSeenAt: new Date(), updatedAt: new Date() },
        })
        .returning();
      return saved;
    },

    async get(teamId: string, id: string) {
      const [row] = await db
        .select()
        .from(resources)
        .where(and(eq(resources.id, id), eq(resources.teamId, teamId)))
        .limit(1);
      return row;
    },

    async counts(teamId: string, installationId?: string) {
      const [c] = rows(
        await db.execute(sql`
        select count(*) filter (where r.missing_since is null)::int as live,
               count(*) filter (where r.missing_since is not null)::int as missing,
               count(*) filter (where m.binding_ref is not null)::int as bound,
               count(*) filter (where r.archived)::int as archived
        from resources r left join mappings m on m.installation_id = r.installation_id and m.resource_key = r.resource_key and m.deleted_at is null
        where r.team_id = ${teamId} ${installationId ? sql`and r.installation_id = ${installationId}` : sql``}`),
      );
      return {
        live: c.live,
        missing: c.missing,
        bound: c.bound,
        archived: c.archived,
        unbound: c.live - c.bound,
      };
    },
  };
}

export type InventoryRepository = ReturnType<typeof inventoryRepository>;
