import type { Database } from "../../storage/database.ts";
import { type TargetNames, targetNames } from "../binding/ranking.ts";
import type { InstallationRow } from "../installations/repository.ts";
import { inventoryRepository, type SnapshotMapping, type SnapshotProject } from "./repository.ts";

/**
 * The team's bindable inventory for one provider, read once per inventory version and kept in memory,
 * so `tracker/resources/` and bind-resolve answer with no query beyond authentication.
 *
 * Staleness: triggers bump `teams.inventory_version` at the commit of every change to the team's
 * installations, resources, projects or mappings (migration 0006), and authentication reads that
 * version with the team. A request carrying a newer version than the cached one rebuilds, so every
 * process sees a committed change on its next request; there is no time-based expiry to tune.
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
  bindingRef: string | null;
  boundAt: Date | null;
  projectSlug: string | null;
  names: TargetNames;
}

/** Normalised values of every row joined by newlines, with each row's start offset: one native scan. */
interface Haystack {
  text: string;
  starts: Int32Array;
}

export interface BindableSnapshot {
  version: number;
  /** Connected (not disconnected) installations for the provider, revoked ones included. */
  installations: InstallationRow[];
  /** Live, not archived, issue-enabled resources, ordered by label then id. */
  rows: BindableRow[];
  projectsByUuid: Map<string, SnapshotProject>;
  projectsBySlug: Map<string, SnapshotProject>;
  /** Live mappings for the provider, by project id. */
  mappingsByProject: Map<string, SnapshotMapping>;
  /** Index of the first row after a (label, id) page cursor. */
  indexAfter(after: { label: string; id: string }): number;
  /** Rows whose normalised name, key, path or last path segment equals the given value. */
  withName(value: string): number[];
  /** Rows whose normalised name (or path) contains `term`, in label order; `accept` decides what counts toward `limit`. */
  nameContains(term: string, accept: (i: number) => boolean, limit: number): number[];
  pathContains(term: string, accept: (i: number) => boolean, limit: number): number[];
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
  if (!term || term.includes("\n")) return found;
  let from = 0;
  while (found.length < limit) {
    const at = h.text.indexOf(term, from);
    if (at < 0) break;
    const i = rowAt(h, at);
    // A match may not straddle two rows: the separator is never part of a term.
    if (accept(i)) found.push(i);
    from = i + 1 < h.starts.length ? h.starts[i + 1] : h.text.length;
  }
  return found;
}

function assemble(
  version: number,
  installations: InstallationRow[],
  rows: BindableRow[],
  projects: SnapshotProject[],
  mappings: SnapshotMapping[],
): BindableSnapshot {
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
    version,
    installations,
    rows,
    projectsByUuid: new Map(projects.filter((p) => p.uuid).map((p) => [p.uuid as string, p])),
    projectsBySlug: new Map(projects.map((p) => [p.slug, p])),
    mappingsByProject: new Map(mappings.map((m) => [m.projectId, m])),
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

interface Entry {
  version: number;
  rows: number;
  snapshot: Promise<BindableSnapshot>;
}

export function bindableSnapshots(db: Database, opts: { maxRows?: number } = {}) {
  const maxRows = opts.maxRows ?? DEFAULT_MAX_ROWS;
  const cache = new Map<string, Entry>();

  async function build(teamId: string, provider: string): Promise<BindableSnapshot> {
    // One snapshot of the database: the version read is the version of the rows read.
    return db.transaction(
      async (tx) => {
        const repo = inventoryRepository(tx as unknown as Database);
        const version = await repo.inventoryVersion(teamId);
        const installations = await repo.snapshotInstallations(teamId, provider);
        const ids = installations.map((i) => i.id);
        const rows = ids.length ? await repo.snapshotRows(teamId, ids) : [];
        return assemble(
          version,
          installations,
          rows.map((r) => ({ ...r, context: r.context as Record<string, string>, names: targetNames(r) })),
          await repo.snapshotProjects(teamId),
          await repo.snapshotMappings(teamId, provider),
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

  return {
    /**
     * The snapshot for a team and provider at `version` or newer. `version` is what authentication read
     * (`auth.team.inventoryVersion`); without one it is read here. Concurrent callers share one build.
     */
    async get(teamId: string, provider: string, version?: number): Promise<BindableSnapshot> {
      const key = `${teamId}|${provider}`;
      const want = version ?? (await inventoryRepository(db).inventoryVersion(teamId));
      const hit = cache.get(key);
      if (hit && hit.version >= want) {
        cache.delete(key);
        cache.set(key, hit);
        return hit.snapshot;
      }
      const entry: Entry = { version: want, rows: 0, snapshot: build(teamId, provider) };
      cache.delete(key);
      cache.set(key, entry);
      try {
        const snapshot = await entry.snapshot;
        entry.version = snapshot.version;
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
