import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, sql } from "drizzle-orm";
import { type Database, executePrepared } from "../../storage/database.ts";
import { teamRowById } from "../../storage/find.ts";
import { keysetAfter, keysetSeek, type SortSpec } from "../../storage/keyset.ts";
import {
  installations,
  inventoryChanges,
  inventoryStaging,
  mappings,
  projects,
  resources,
  teams,
} from "../../storage/schema.ts";
import type { TeamVersions } from "../teams/access.ts";

import type { ResourceRow } from "./rows.ts";

export type { ResourceRow };
export interface SnapshotProject {
  id: string;
  uuid: string | null;
  slug: string;
}

export type { TeamVersions };

/** A bindable resource as the snapshot reads it (`bindableRows`). */
export interface SnapshotRowRead {
  id: string;
  installationId: string;
  provider: string;
  resourceKey: string;
  label: string;
  key: string | null;
  name: string;
  fullPath: string | null;
  context: unknown;
  /** Read for the curation kinds only (not kept in the snapshot). */
  routingMetadata: unknown;
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
  /** Also match words close to `q` (typos), not only substrings: see `matches`. */
  fuzzy?: boolean;
  state?: "bound" | "unbound" | "missing" | "archived";
}

/**
 * The orders a person can list the inventory in, each with the value its cursor carries. The tie-break
 * is the resource id.
 */
export const INVENTORY_SORTS = {
  name: { spec: { by: resources.label }, key: (r: ResourceRow) => r.label },
  name_desc: { spec: { by: resources.label, desc: true }, key: (r: ResourceRow) => r.label },
  newest: {
    spec: { by: resources.firstSeenAt, desc: true, time: true },
    key: (r: ResourceRow) => r.firstSeenAt.toISOString(),
  },
  oldest: {
    spec: { by: resources.firstSeenAt, time: true },
    key: (r: ResourceRow) => r.firstSeenAt.toISOString(),
  },
} satisfies Record<string, { spec: SortSpec; key: (r: ResourceRow) => string }>;
export type InventorySort = keyof typeof INVENTORY_SORTS;

/** Queries this short match only as a substring: a trigram match of one or two trigrams is noise. */
const FUZZY_MIN_LENGTH = 4;

/**
 * How close a word must be for a fuzzy match: pg_trgm's word similarity (shared trigrams over the term's
 * trigrams). Its default, 0.6, misses one wrong letter in a seven-letter word ("servcie" scores 0.5);
 * 0.4 finds a wrong, missing or extra letter and most swapped pairs, and still not unrelated words.
 */
export const FUZZY_THRESHOLD = 0.4;

/**
 * A search term matches a resource whose search text contains it or, with `fuzzy` and from four
 * characters on, holds a word close to it (pg_trgm's `<%`, at `FUZZY_THRESHOLD`), so "frontedn" still
 * finds "frontend". Both operators are answered by the trigram index `resources_search_trgm_idx`.
 */
function matches(q: string, fuzzy: boolean) {
  const term = q.toLowerCase();
  const substring = sql`${resources.searchText} like ${`%${term.replace(/[\\%_]/g, "\\$&")}%`}`;
  return fuzzy && term.length >= FUZZY_MIN_LENGTH
    ? sql`(${substring} or ${term} <% ${resources.searchText})`
    : substring;
}

const fuzzyTerm = (f: InventoryFilter) => f.fuzzy === true && (f.q?.length ?? 0) >= FUZZY_MIN_LENGTH;

const rows = (r: unknown) => ((r as any).rows ?? r) as any[];

/** What a bind-resolve of a team without a snapshot reads (see `bindLookups`). */
export interface BindLookups {
  /** Rows whose normalised name, key, path or last path segment is one of these. */
  equal: string[];
  /** For each term, the first rows (up to the limit) in label order whose normalised name contains it. */
  names: string[];
  /** The same for the normalised path. */
  paths: string[];
  /** The first rows in label order. */
  all: boolean;
}

/** One lookup's answer: the ids it found, in label order for a scan. */
export interface BindLookupHit {
  lookup: "equal" | "names" | "paths" | "all";
  term: string;
  ids: string[];
}

const likeEscaped = (term: string) => `%${term.replace(/[\\%_]/g, "\\$&")}%`;

export function inventoryRepository(db: Database) {
  const liveMapping = and(
    eq(mappings.installationId, resources.installationId),
    eq(mappings.resourceKey, resources.resourceKey),
    isNull(mappings.deletedAt),
  );

  /** What a snapshot (or a cold listing) reads of a bindable row. */
  const snapshotColumns = {
    id: resources.id,
    installationId: resources.installationId,
    provider: resources.provider,
    resourceKey: resources.resourceKey,
    label: resources.label,
    key: resources.key,
    name: resources.name,
    fullPath: resources.fullPath,
    context: resources.context,
    // Read for the curation kinds only (not kept in the snapshot).
    routingMetadata: resources.routingMetadata,
  };
  /** Live, not archived, issues enabled: what can be bound. */
  const bindable = and(
    isNull(resources.missingSince),
    eq(resources.archived, false),
    eq(resources.issuesDisabled, false),
  );

  /** Bindable rows (live, not archived, issues enabled) of the installations, optionally only `ids`. */
  function bindableRows(
    teamId: string,
    installationIds: string[],
    ids?: string[],
  ): Promise<SnapshotRowRead[]> {
    return db
      .select(snapshotColumns)
      .from(resources)
      .where(
        and(
          eq(resources.teamId, teamId),
          inArray(resources.installationId, installationIds),
          ids ? inArray(resources.id, ids) : undefined,
          bindable,
        ),
      );
  }

  function where(f: InventoryFilter) {
    return and(
      eq(resources.teamId, f.teamId),
      f.installationId ? eq(resources.installationId, f.installationId) : undefined,
      f.installationIds
        ? inArray(resources.installationId, f.installationIds.length ? f.installationIds : ["-"])
        : undefined,
      f.provider ? eq(resources.provider, f.provider) : undefined,
      f.q ? matches(f.q, f.fuzzy === true) : undefined,
      f.state === "missing" ? isNotNull(resources.missingSince) : undefined,
      f.state === "archived" ? eq(resources.archived, true) : undefined,
      f.state === "bound" ? isNotNull(mappings.bindingRef) : undefined,
      f.state === "unbound" ? and(isNull(mappings.bindingRef), isNull(resources.missingSince)) : undefined,
    );
  }

  /** Resources with the live mapping (if any) of each. */
  const withMapping = (q: Database) =>
    q
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
      .leftJoin(mappings, liveMapping);

  /** Runs reads of `f` with the fuzzy threshold set for their own transaction when `f` searches fuzzily. */
  const reading = <T>(f: InventoryFilter, read: (q: Database) => Promise<T>): Promise<T> =>
    fuzzyTerm(f)
      ? db.transaction(async (tx) => {
          await tx.execute(
            sql`select set_config('pg_trgm.word_similarity_threshold', ${String(FUZZY_THRESHOLD)}, true)`,
          );
          return read(tx as unknown as Database);
        })
      : read(db);

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

    /** Rows of a pass that differ from the inventory (or are new); a later page's copy of a key wins. */
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

    /**
     * Keys a pass saw unchanged, staged as a JSON `null` row: the pass's staging rows are then the keys it
     * saw, so what went missing is an anti-join in `applyPass` rather than a set of every key in memory.
     */
    async stageSeen(passId: string, installationId: string, keys: string[]) {
      if (keys.length === 0) return;
      await db
        .insert(inventoryStaging)
        .values(keys.map((resourceKey) => ({ passId, installationId, resourceKey, row: sql`'null'::jsonb` })))
        .onConflictDoNothing({ target: [inventoryStaging.passId, inventoryStaging.resourceKey] });
    },

    async dropStage(passId: string) {
      await db.delete(inventoryStaging).where(eq(inventoryStaging.passId, passId));
    },

    /**
     * Applies a completed pass in one transaction: staged changes upserted (renames update labels,
     * restored rows lose missing_since), rows with no staging row of the pass marked missing,
     * last_seen_at refreshed at most hourly. No statement answers rows (counts at most), so the pass
     * holds the same memory at 100 resources and at 100,000.
     */
    async applyPass(passId: string, installationId: string, at: Date) {
      const ts = at.toISOString();
      return db.transaction(async (tx) => {
        const count = async (q: ReturnType<typeof sql>) =>
          rows(await tx.execute(q))[0] as Record<string, number>;
        const applied = await count(sql`
          with up as (
          insert into resources (id, team_id, installation_id, provider, resource_key, resource_type, native_id, label, key, name,
            full_path, web_url, context, connector_params, routing_metadata, archived, issues_disabled, search_text,
            fingerprint, first_seen_at, last_seen_at, missing_since, updated_at)
          select s.row->>'id', s.row->>'teamId', s.row->>'installationId', s.row->>'provider', s.resource_key, s.row->>'resourceType',
            s.row->>'nativeId', s.row->>'label', s.row->>'key', s.row->>'name', s.row->>'fullPath', s.row->>'webUrl',
            s.row->'context', s.row->'connectorParams', s.row->'routingMetadata', (s.row->>'archived')::boolean,
            (s.row->>'issuesDisabled')::boolean,
            s.row->>'searchText', s.row->>'fingerprint', ${ts}::timestamptz, ${ts}::timestamptz, null, ${ts}::timestamptz
          from inventory_staging s where s.pass_id = ${passId} and jsonb_typeof(s.row) = 'object'
          on conflict (installation_id, resource_key) do update set
            resource_type = excluded.resource_type, native_id = excluded.native_id, label = excluded.label, key = excluded.key,
            name = excluded.name, full_path = excluded.full_path, web_url = excluded.web_url, context = excluded.context,
            connector_params = excluded.connector_params, routing_metadata = excluded.routing_metadata,
            archived = excluded.archived, issues_disabled = excluded.issues_disabled,
            search_text = excluded.search_text,
            fingerprint = excluded.fingerprint, last_seen_at = excluded.last_seen_at, missing_since = null, updated_at = excluded.updated_at
          returning (xmax = 0) as inserted)
          select count(*)::int as written, (count(*) filter (where inserted))::int as inserted from up`);
        const gone = await count(sql`
          with gone as (
            update resources r set missing_since = ${ts}::timestamptz, updated_at = ${ts}::timestamptz
            where r.installation_id = ${installationId} and r.missing_since is null
              and not exists (select 1 from inventory_staging s where s.pass_id = ${passId} and s.resource_key = r.resource_key)
            returning 1)
          select count(*)::int as n from gone`);
        await tx.execute(sql`
          update resources set last_seen_at = ${ts}::timestamptz
          where installation_id = ${installationId} and missing_since is null and last_seen_at < ${ts}::timestamptz - interval '1 hour'`);
        const seen = await count(
          sql`select count(*)::int as n from inventory_staging where pass_id = ${passId}`,
        );
        await tx.delete(inventoryStaging).where(eq(inventoryStaging.passId, passId));
        const live = await count(
          sql`select count(*)::int as n from resources where installation_id = ${installationId} and missing_since is null`,
        );
        return {
          seen: Number(seen.n),
          inserted: Number(applied.inserted),
          updated: Number(applied.written) - Number(applied.inserted),
          missing: Number(gone.n),
          liveCount: Number(live.n),
        };
      });
    },

    /** Fresh planner statistics after a bulk insert, so the first reads use the label indexes. */
    async analyze() {
      await db.execute(sql`analyze resources`);
    },

    /** One page ordered by label then id, with the live mapping (if any) of each resource. */
    async page(f: InventoryFilter, after: { label: string; id: string } | null, limit: number) {
      const keyset = keysetAfter(resources.label, resources.id, after && [after.label, after.id]);
      return reading(f, (q) =>
        withMapping(q)
          .where(and(where(f), keyset.where))
          .orderBy(...keyset.orderBy)
          .limit(limit + 1),
      );
    },

    /**
     * One page of a person's list in `INVENTORY_SORTS[sort]` order, either way from a cursor's key, and
     * the filter's total, read together (in one transaction when the search is fuzzy).
     */
    async list(
      f: InventoryFilter,
      sort: InventorySort,
      from: { key: [string, string]; backwards: boolean } | null,
      limit: number,
    ) {
      const keyset = keysetSeek(INVENTORY_SORTS[sort].spec, resources.id, from);
      return reading(f, async (tx) => {
        const found = await withMapping(tx)
          .where(and(where(f), keyset.where))
          .orderBy(...keyset.orderBy)
          .limit(limit + 1);
        const [c] = await tx
          .select({ n: sql<number>`count(*)::int` })
          .from(resources)
          .leftJoin(mappings, liveMapping)
          .where(where(f));
        return { rows: found, total: Number(c?.n ?? 0) };
      });
    },

    /** The team's inventory and binding versions (see `teams.inventory_version`). */
    async teamVersions(teamId: string): Promise<TeamVersions> {
      const [row] = await db
        .select({ inventory: teams.inventoryVersion, binding: teams.bindingVersion })
        .from(teams)
        .where(eq(teams.id, teamId));
      return row ?? { inventory: 0, binding: 0 };
    },

    /**
     * Connected installations of a team for a provider, in `installations.listForTeam` order. Read here,
     * not through the installations feature, so a snapshot reads them in its own transaction.
     */
    snapshotInstallations: (teamId: string, provider: string) =>
      db
        .select()
        .from(installations)
        .where(
          and(
            eq(installations.teamId, teamId),
            isNull(installations.disconnectedAt),
            eq(installations.provider, provider),
          ),
        )
        .orderBy(asc(installations.provider), asc(installations.displayName), asc(installations.id)),

    /**
     * The bindable, unbound rows of `installationIds` that some lookups find, in one statement over the
     * partial `resources_bind_*` indexes (migration 0020): each lookup is a branch of a union, so the
     * rows come back once per lookup that found them (`hits` says which).
     */
    async bindLookups(
      teamId: string,
      provider: string,
      offerable: { installationIds: string[]; boundIds: string[] },
      q: BindLookups,
      /** Rows each kind of lookup reads at most. */
      limits: Record<BindLookupHit["lookup"], number>,
    ): Promise<{ rows: SnapshotRowRead[]; hits: BindLookupHit[] }> {
      const base = sql`team_id = ${teamId} and provider = ${provider} and missing_since is null
        and not archived and not issues_disabled
        and installation_id = any(${sql.param(offerable.installationIds)}::text[])
        and id <> all(${sql.param(offerable.boundIds)}::text[])`;
      const branches: { hit: Omit<BindLookupHit, "ids">; query: ReturnType<typeof sql> }[] = [];
      const branch = (hit: Omit<BindLookupHit, "ids">, where: ReturnType<typeof sql>, limit: number) => {
        const n = branches.length;
        branches.push({
          hit,
          query: sql`(select ${sql.raw(String(n))} as branch, id, label from resources
            where ${base} and ${where} order by label, id limit ${sql.raw(String(limit))})`,
        });
      };
      if (q.equal.length) {
        const values = sql`any(${sql.param(q.equal)}::text[])`;
        branch(
          { lookup: "equal", term: "" },
          sql`(bind_name = ${values} or bind_path = ${values} or bind_last = ${values}
            or (bind_key <> '' and bind_key = ${values}))`,
          limits.equal,
        );
      }
      for (const term of q.names)
        branch({ lookup: "names", term }, sql`bind_name like ${likeEscaped(term)}`, limits.names);
      for (const term of q.paths)
        branch({ lookup: "paths", term }, sql`bind_path like ${likeEscaped(term)}`, limits.paths);
      if (q.all) branch({ lookup: "all", term: "" }, sql`true`, limits.all);
      if (branches.length === 0) return { rows: [], hits: [] };

      // Planned once per connection: the plan costs several times the lookup.
      const found = rows(
        await executePrepared(
          db,
          sql`
          select b.branch, r.id, r.installation_id, r.provider, r.resource_key, r.label, r.key, r.name,
            r.full_path, r.context, r.routing_metadata
          from (${sql.join(
            branches.map((b) => b.query),
            sql` union all `,
          )}) b join resources r on r.id = b.id
          order by b.branch, b.label, b.id`,
        ),
      );
      const hits: BindLookupHit[] = branches.map((b) => ({ ...b.hit, ids: [] }));
      const byId = new Map<string, SnapshotRowRead>();
      for (const r of found) {
        hits[Number(r.branch)].ids.push(r.id);
        if (!byId.has(r.id))
          byId.set(r.id, {
            id: r.id,
            installationId: r.installation_id,
            provider: r.provider,
            resourceKey: r.resource_key,
            label: r.label,
            key: r.key,
            name: r.name,
            fullPath: r.full_path,
            context: r.context,
            routingMetadata: r.routing_metadata,
          });
      }
      return { rows: [...byId.values()], hits };
    },

    /** Bindable resources of the given installations: live, not archived, issues enabled. */
    snapshotRows: (teamId: string, installationIds: string[]) => bindableRows(teamId, installationIds),

    /** The bindable ones among `ids` (a changed row that is no longer bindable is simply absent). */
    snapshotRowsById: (teamId: string, installationIds: string[], ids: string[]) =>
      bindableRows(teamId, installationIds, ids),

    /**
     * Bindable rows of the installations in label, id order after `after` (a page cursor's key), through
     * `resources_team_provider_label_idx`: the listing of a team without a snapshot (cold-listing.ts).
     * The routing metadata (curation's kinds) is read only when rules need it.
     */
    listingRows(
      teamId: string,
      provider: string,
      installationIds: string[],
      opts: { after?: { label: string; id: string } | null; limit?: number; curation: boolean },
    ) {
      const keyset = keysetAfter(
        resources.label,
        resources.id,
        opts.after ? [opts.after.label, opts.after.id] : null,
      );
      const q = db
        .select({
          ...snapshotColumns,
          routingMetadata: opts.curation ? resources.routingMetadata : sql<unknown>`null`,
        })
        .from(resources)
        .where(
          and(
            eq(resources.teamId, teamId),
            eq(resources.provider, provider),
            inArray(resources.installationId, installationIds),
            bindable,
            keyset.where,
          ),
        )
        .orderBy(...keyset.orderBy);
      return opts.limit === undefined ? q : q.limit(opts.limit);
    },

    /** What moved the team's inventory version after `after`, up to `upTo` (migration 0017). */
    inventoryChangesSince: (teamId: string, after: number, upTo: number) =>
      db
        .select({ version: inventoryChanges.version, resourceIds: inventoryChanges.resourceIds })
        .from(inventoryChanges)
        .where(
          and(
            eq(inventoryChanges.teamId, teamId),
            gt(inventoryChanges.version, after),
            lte(inventoryChanges.version, upTo),
          ),
        ),

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

    /** Marks an installation's live resource missing by its native id; the number of rows it changed. */
    async markMissingByNativeId(installationId: string, nativeId: string, at: Date) {
      const changed = await db
        .update(resources)
        .set({ missingSince: at, updatedAt: at })
        .where(
          and(
            eq(resources.installationId, installationId),
            eq(resources.nativeId, nativeId),
            isNull(resources.missingSince),
          ),
        )
        .returning({ id: resources.id });
      return changed.length;
    },

    get: (teamId: string, id: string) => teamRowById(db, resources, teamId, id),

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
