import type { Database } from "../../storage/database.ts";
import { type TargetNames, targetNames } from "../binding/ranking.ts";
import {
  type CompiledRules,
  type CurationRulesReader,
  compileRules,
  isHidden,
  kindsOf,
} from "../curation/rules.ts";
import type { InstallationRow } from "../installations/service.ts";
import {
  inventoryRepository,
  type SnapshotMapping,
  type SnapshotProject,
  type TeamVersions,
} from "./repository.ts";

/**
 * The team's bindable inventory for one provider, kept in memory so `tracker/resources/` and
 * bind-resolve answer with no query beyond authentication.
 *
 * Staleness: triggers bump `teams.inventory_version` when a column the rows hold changes (or an
 * installation is disconnected or reconnected) and `teams.binding_version` on any change to
 * installations, projects or mappings, at commit (migration 0006); authentication reads both with the
 * team. A newer inventory version rebuilds the snapshot; a newer binding version only re-reads the
 * installations, projects and live mappings (small) and keeps the rows and their indexes — so neither
 * a bind nor an installation's health update after a refresh re-reads the inventory. Every process
 * sees a committed change on its next request; no timer to tune.
 */
export interface BindableRow {
  id: string;
  installationId: string;
  provider: string;
  resourceKey: string;
  label: string;
  key: string | null;
  name: string;
  fullPath: string | null;
  context: Record<string, string>;
  names: TargetNames;
  /** Provider kinds curation rules can name (`curation/rules.ts`). */
  kinds: Record<string, string>;
}

/** The live mapping a row is bound by. */
export interface RowBinding {
  bindingRef: string;
  boundAt: Date;
  projectSlug: string;
}

/** Normalised values of every row joined by newlines, with each row's start offset: one native scan. */
interface Haystack {
  text: string;
  starts: Int32Array;
}

/** What the resources decide: rebuilt when the inventory version moves. */
interface InventoryPart {
  inventoryVersion: number;
  /** Live, not archived, issue-enabled resources of connected installations, by label then id. */
  rows: BindableRow[];
  /** Index of the first row after a (label, id) page cursor. */
  indexAfter(after: { label: string; id: string }): number;
  /** Rows whose normalised name, key, path or last path segment equals the given value. */
  withName(value: string): number[];
  /** Rows whose normalised name (or path) contains `term`, in label order, up to `limit` accepted ones. */
  nameContains(term: string, accept: (i: number) => boolean, limit: number): number[];
  pathContains(term: string, accept: (i: number) => boolean, limit: number): number[];
  rowIndexById: Map<string, number>;
}

export interface BindableSnapshot extends InventoryPart {
  bindingVersion: number;
  /** Connected (not disconnected) installations for the provider, revoked ones included. */
  installations: InstallationRow[];
  /** The live mapping of each row (same index as `rows`), or null when the row is unbound. */
  boundBy: (RowBinding | null)[];
  projectsByUuid: Map<string, SnapshotProject>;
  projectsBySlug: Map<string, SnapshotProject>;
  /** Live mappings for the provider, by project id. */
  mappingsByProject: Map<string, SnapshotMapping>;
  /**
   * Curation (issue 20): 1 where the team's rules hide the row. A hidden row stays in `rows` (its
   * mapping, renames and missing detection are untouched) but is not offered by tracker/resources/,
   * bind-resolve or the dashboard picker. Re-applied on a binding-version change (a rule change moves
   * it), reusing the rows; unchanged rules reuse the flags too.
   */
  curationHidden: Uint8Array;
  /** Indexes of the rows not hidden, in row (label) order. */
  offered: number[];
}

/** Rows kept across all cached snapshots; the least recently used snapshot goes first. */
const DEFAULT_MAX_ROWS = 200_000;

type LabelKey = Pick<BindableRow, "label" | "id">;
const byLabel = (a: LabelKey, b: LabelKey) =>
  a.label < b.label ? -1 : a.label > b.label ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

function haystack(values: string[]): Haystack {
  const starts = new Int32Array(values.length);
  let at = 0;
  values.forEach((v, i) => {
    starts[i] = at;
    at += v.length + 1;
  });
  return { text: values.join("\n"), starts };
}

/** The row whose text holds `offset` (the last start at or before it). */
function rowAt(h: Haystack, offset: number): number {
  let lo = 0;
  let hi = h.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (h.starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function contains(h: Haystack, term: string, accept: (i: number) => boolean, limit: number): number[] {
  const found: number[] = [];
  // Normalised values never hold a newline, so a match cannot straddle two rows.
  if (!term || term.includes("\n")) return found;
  let from = 0;
  while (found.length < limit) {
    const at = h.text.indexOf(term, from);
    if (at < 0) break;
    const i = rowAt(h, at);
    if (accept(i)) found.push(i);
    from = i + 1 < h.starts.length ? h.starts[i + 1] : h.text.length;
  }
  return found;
}

function inventoryPart(inventoryVersion: number, rows: BindableRow[]): InventoryPart {
  rows.sort(byLabel);
  const names = new Map<string, number[]>();
  rows.forEach((r, i) => {
    for (const v of new Set([r.names.name, r.names.key, r.names.path, r.names.last])) {
      if (!v) continue;
      const list = names.get(v);
      if (list) list.push(i);
      else names.set(v, [i]);
    }
  });
  const nameText = haystack(rows.map((r) => r.names.name));
  const pathText = haystack(rows.map((r) => r.names.path));
  return {
    inventoryVersion,
    rows,
    rowIndexById: new Map(rows.map((r, i) => [r.id, i])),
    indexAfter(after) {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (byLabel(rows[mid], after) <= 0) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    },
    withName: (value) => names.get(value) ?? [],
    nameContains: (term, accept, limit) => contains(nameText, term, accept, limit),
    pathContains: (term, accept, limit) => contains(pathText, term, accept, limit),
  };
}

/** The curation flags of a part's rows under some rules, computed once per rules text. */
const hiddenMemo = new WeakMap<InventoryPart, { key: string; hidden: Uint8Array; offered: number[] }>();
function curationOf(part: InventoryPart, rules: CompiledRules) {
  const memo = hiddenMemo.get(part);
  if (memo && memo.key === rules.key) return memo;
  const hidden = new Uint8Array(part.rows.length);
  const offered: number[] = [];
  part.rows.forEach((r, i) => {
    if (isHidden(rules, r)) hidden[i] = 1;
    else offered.push(i);
  });
  const fresh = { key: rules.key, hidden, offered };
  hiddenMemo.set(part, fresh);
  return fresh;
}

function withBindings(
  part: InventoryPart,
  bindingVersion: number,
  installations: InstallationRow[],
  projects: SnapshotProject[],
  mappings: SnapshotMapping[],
  rules: CompiledRules = compileRules([]),
): BindableSnapshot {
  const boundBy: (RowBinding | null)[] = new Array(part.rows.length).fill(null);
  for (const m of mappings) {
    const i = part.rowIndexById.get(m.resourceId);
    if (i !== undefined)
      boundBy[i] = { bindingRef: m.bindingRef, boundAt: m.boundAt, projectSlug: m.projectSlug };
  }
  const curation = curationOf(part, rules);
  return {
    ...part,
    bindingVersion,
    installations,
    boundBy,
    curationHidden: curation.hidden,
    offered: curation.offered,
    projectsByUuid: new Map(projects.filter((p) => p.uuid).map((p) => [p.uuid as string, p])),
    projectsBySlug: new Map(projects.map((p) => [p.slug, p])),
    mappingsByProject: new Map(mappings.map((m) => [m.projectId, m])),
  };
}

interface Entry {
  versions: TeamVersions;
  rows: number;
  snapshot: Promise<BindableSnapshot>;
}

export function bindableSnapshots(
  db: Database,
  opts: {
    maxRows?: number;
    onBuild?: (part: "inventory" | "bindings") => void;
    curationRules?: CurationRulesReader;
  } = {},
) {
  const maxRows = opts.maxRows ?? DEFAULT_MAX_ROWS;
  const cache = new Map<string, Entry>();

  /** One read of the database: the versions read are the versions of the rows read. */
  async function build(teamId: string, provider: string, previous?: BindableSnapshot) {
    return db.transaction(
      async (tx) => {
        const repo = inventoryRepository(tx as unknown as Database);
        const versions = await repo.teamVersions(teamId);
        const installations = await repo.snapshotInstallations(teamId, provider);
        let part: InventoryPart | undefined = previous;
        if (!part || part.inventoryVersion !== versions.inventory) {
          const ids = installations.map((i) => i.id);
          const rows = ids.length ? await repo.snapshotRows(teamId, ids) : [];
          opts.onBuild?.("inventory");
          // Most rows share a few kind combinations: one object each, not one per row.
          const kinds = new Map<string, Record<string, string>>();
          const kindsFor = (provider: string, routing: unknown) => {
            const k = kindsOf(provider, routing);
            const text = JSON.stringify(k);
            const seen = kinds.get(text);
            if (seen) return seen;
            kinds.set(text, k);
            return k;
          };
          part = inventoryPart(
            versions.inventory,
            rows.map(({ routingMetadata, ...r }) => ({
              ...r,
              context: r.context as Record<string, string>,
              names: targetNames(r),
              kinds: kindsFor(r.provider, routingMetadata),
            })),
          );
        } else opts.onBuild?.("bindings");
        return withBindings(
          part,
          versions.binding,
          installations,
          await repo.snapshotProjects(teamId),
          await repo.snapshotMappings(teamId, provider),
          compileRules(opts.curationRules ? await opts.curationRules(tx as unknown as Database, teamId) : []),
        );
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  function evict(keep: string) {
    let total = 0;
    for (const e of cache.values()) total += e.rows;
    for (const [key, e] of cache) {
      if (total <= maxRows) break;
      if (key === keep) continue;
      cache.delete(key);
      total -= e.rows;
    }
  }

  const covers = (have: TeamVersions, want: TeamVersions) =>
    have.inventory >= want.inventory && have.binding >= want.binding;

  return {
    /**
     * The snapshot for a team and provider at `versions` or newer: what authentication read
     * (`auth.team.versions`); without them they are read here. Concurrent callers share one build.
     */
    async get(teamId: string, provider: string, versions?: TeamVersions): Promise<BindableSnapshot> {
      const key = `${teamId}|${provider}`;
      const want = versions ?? (await inventoryRepository(db).teamVersions(teamId));
      const hit = cache.get(key);
      cache.delete(key);
      if (hit && covers(hit.versions, want)) {
        cache.set(key, hit);
        return hit.snapshot;
      }
      const previous = hit && hit.versions.inventory >= want.inventory ? hit.snapshot : undefined;
      const entry: Entry = {
        versions: want,
        rows: 0,
        snapshot: (previous ?? Promise.resolve(undefined))
          .catch(() => undefined)
          .then((prev) => build(teamId, provider, prev)),
      };
      cache.set(key, entry);
      try {
        const snapshot = await entry.snapshot;
        entry.versions = { inventory: snapshot.inventoryVersion, binding: snapshot.bindingVersion };
        entry.rows = snapshot.rows.length;
        evict(key);
        return snapshot;
      } catch (err) {
        if (cache.get(key) === entry) cache.delete(key);
        throw err;
      }
    },
  };
}

export type BindableSnapshots = ReturnType<typeof bindableSnapshots>;
