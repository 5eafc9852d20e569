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
  type SnapshotRowRead,
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

/** Normalised values of rows joined by newlines, with each row's start offset: one native scan. */
interface Haystack {
  text: string;
  starts: Int32Array;
}

type LabelKey = Pick<BindableRow, "label" | "id">;
export const byLabel = (a: LabelKey, b: LabelKey) =>
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

/** First position in `slots` (label-ordered) whose row sorts after `key`. */
function positionAfter(rows: BindableRow[], slots: number[], key: LabelKey): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byLabel(rows[slots[mid]], key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const nameValues = (r: BindableRow) => new Set([r.names.name, r.names.key, r.names.path, r.names.last]);

/**
 * The rows the resources decide, with their lookups, patched in place by a change of a few rows.
 *
 * Rows live in slots. A changed or added row takes a new slot at the end; the slot of a changed or
 * removed row becomes dead (never returned again) until a compaction. So the slot of a row never moves:
 * the per-slot arrays of a snapshot (`boundBy`, curation flags) stay valid for every row they cover, and
 * a patch costs the changed rows (plus one copy of the order), not the inventory.
 */
class InventoryIndex {
  readonly rows: BindableRow[] = [];
  /** Live slots in label order (a new array per patch: a snapshot holds the order it was built with). */
  order: number[];
  readonly slotById = new Map<string, number>();
  /** Bumped per patch; what per-index memos compare. */
  revision = 0;
  private readonly names = new Map<string, number[]>();
  /** Text of the slots that existed at the last build, in label order; later slots are `tail`. */
  private readonly nameText: Haystack;
  private readonly pathText: Haystack;
  private readonly tail: number[] = [];
  private readonly dead = new Set<number>();
  /** Most rows share a few kind combinations: one object each, not one per row. */
  readonly kinds: Map<string, Record<string, string>>;

  constructor(
    public inventoryVersion: number,
    rows: BindableRow[],
    kinds = new Map<string, Record<string, string>>(),
  ) {
    this.kinds = kinds;
    rows.sort(byLabel);
    this.order = rows.map((r, i) => {
      this.rows.push(r);
      this.slotById.set(r.id, i);
      this.addNames(i);
      return i;
    });
    this.nameText = haystack(rows.map((r) => r.names.name));
    this.pathText = haystack(rows.map((r) => r.names.path));
  }

  get liveCount() {
    return this.order.length;
  }

  /** Dead slots and late rows cost every lookup a little: past an eighth of the rows, start afresh. */
  needsCompaction(after = Math.max(2_000, this.order.length >> 3)) {
    return this.tail.length + this.dead.size > after;
  }

  /** Replace the rows of `changedIds` by `fresh` (the bindable ones among them, re-read). */
  patch(inventoryVersion: number, changedIds: Iterable<string>, fresh: BindableRow[]) {
    const order = this.order.slice();
    for (const id of changedIds) {
      const slot = this.slotById.get(id);
      if (slot === undefined) continue;
      this.slotById.delete(id);
      this.dead.add(slot);
      this.dropNames(slot);
      const at = positionAfter(this.rows, order, this.rows[slot]) - 1;
      order.splice(order[at] === slot ? at : order.indexOf(slot), 1);
    }
    for (const row of fresh) {
      const slot = this.rows.push(row) - 1;
      this.slotById.set(row.id, slot);
      this.addNames(slot);
      this.tail.push(slot);
      order.splice(positionAfter(this.rows, order, row), 0, slot);
    }
    this.order = order;
    this.inventoryVersion = inventoryVersion;
    this.revision++;
  }

  /** A fresh index of the live rows: no dead slots, one text scan again. */
  compacted() {
    return new InventoryIndex(
      this.inventoryVersion,
      this.order.map((s) => this.rows[s]),
      this.kinds,
    );
  }

  withName(value: string): number[] {
    return this.names.get(value) ?? [];
  }

  nameContains(term: string, accept: (i: number) => boolean, limit: number) {
    return this.contains(this.nameText, "name", term, accept, limit);
  }

  pathContains(term: string, accept: (i: number) => boolean, limit: number) {
    return this.contains(this.pathText, "path", term, accept, limit);
  }

  private addNames(slot: number) {
    for (const v of nameValues(this.rows[slot])) {
      if (!v) continue;
      const list = this.names.get(v);
      if (list) list.push(slot);
      else this.names.set(v, [slot]);
    }
  }

  private dropNames(slot: number) {
    for (const v of nameValues(this.rows[slot])) {
      const list = this.names.get(v)?.filter((s) => s !== slot);
      if (list?.length) this.names.set(v, list);
      else this.names.delete(v);
    }
  }

  /** Live slots whose value contains `term`, in label order, up to `limit` accepted ones. */
  private contains(
    h: Haystack,
    field: "name" | "path",
    term: string,
    accept: (i: number) => boolean,
    limit: number,
  ): number[] {
    const found: number[] = [];
    // Normalised values never hold a newline, so a match cannot straddle two rows.
    if (!term || term.includes("\n")) return found;
    let from = 0;
    while (found.length < limit) {
      const at = h.text.indexOf(term, from);
      if (at < 0) break;
      const i = rowAt(h, at);
      if (!this.dead.has(i) && accept(i)) found.push(i);
      from = i + 1 < h.starts.length ? h.starts[i + 1] : h.text.length;
    }
    const late = this.tail.filter(
      (s) => !this.dead.has(s) && this.rows[s].names[field].includes(term) && accept(s),
    );
    if (late.length === 0) return found;
    // Both lists are in label order: the first `limit` of their merge are the first `limit` overall.
    late.sort((a, b) => byLabel(this.rows[a], this.rows[b]));
    const merged: number[] = [];
    let a = 0;
    let b = 0;
    while (merged.length < limit && (a < found.length || b < late.length)) {
      const takeFound =
        b >= late.length || (a < found.length && byLabel(this.rows[found[a]], this.rows[late[b]]) < 0);
      merged.push(takeFound ? found[a++] : late[b++]);
    }
    return merged;
  }
}

export interface BindableSnapshot {
  inventoryVersion: number;
  /** Rows by slot; only the slots of `order` (and the lookups' answers) are live. */
  rows: BindableRow[];
  /** Live, not archived, issue-enabled resources of connected installations: their slots, by label then id. */
  order: number[];
  /** Live slots whose normalised name, key, path or last path segment equals the given value. */
  withName(value: string): number[];
  /** Live slots whose normalised name (or path) contains `term`, in label order, up to `limit` accepted ones. */
  nameContains(term: string, accept: (i: number) => boolean, limit: number): number[];
  pathContains(term: string, accept: (i: number) => boolean, limit: number): number[];
  /** The slot of a live row. */
  slotOf(resourceId: string): number | undefined;
  /** Position in `offered` of the first offered row after a (label, id) page cursor. */
  offeredAfter(after: LabelKey): number;
  bindingVersion: number;
  /** Connected (not disconnected) installations for the provider, revoked ones included. */
  installations: InstallationRow[];
  /** The live mapping of each bound row, by slot (most rows are unbound: a map, not an array). */
  boundBy: Map<number, RowBinding>;
  projectsByUuid: Map<string, SnapshotProject>;
  projectsBySlug: Map<string, SnapshotProject>;
  /** Live mappings for the provider, by project id. */
  mappingsByProject: Map<string, SnapshotMapping>;
  /**
   * Curation (issue 20): 1 where the team's rules hide the row (by slot). A hidden row stays in `order`
   * (its mapping, renames and missing detection are untouched) but is not offered by
   * tracker/resources/, bind-resolve or the dashboard picker. Re-applied on a binding-version change (a
   * rule change moves it), reusing the rows; unchanged rules reuse the flags too, and a patch computes
   * them for its new rows only.
   */
  curationHidden: Uint8Array;
  /** Slots of the rows not hidden, in label order. */
  offered: number[];
}

/** The curation flags of an index's rows under some rules, computed once per rules text and patch. */
const hiddenMemo = new WeakMap<
  InventoryIndex,
  { key: string; revision: number; hidden: Uint8Array; offered: number[] }
>();
function curationOf(index: InventoryIndex, rules: CompiledRules) {
  const memo = hiddenMemo.get(index);
  if (memo && memo.key === rules.key && memo.revision === index.revision) return memo;
  // Slots never change their row: flags of the slots the memo covers still hold under the same rules.
  const known = memo && memo.key === rules.key ? memo.hidden : new Uint8Array(0);
  const hidden = new Uint8Array(index.rows.length);
  hidden.set(known);
  for (let s = known.length; s < index.rows.length; s++) if (isHidden(rules, index.rows[s])) hidden[s] = 1;
  // No rules (most teams): every live row is offered, in the order as it is.
  const offered = rules.byInstallation.size === 0 ? index.order : index.order.filter((s) => hidden[s] === 0);
  const fresh = { key: rules.key, revision: index.revision, hidden, offered };
  hiddenMemo.set(index, fresh);
  return fresh;
}

/** What the binding version decides: re-read when it moves, kept while only the inventory changes. */
export interface Bindings {
  version: number;
  installations: InstallationRow[];
  projects: SnapshotProject[];
  mappings: SnapshotMapping[];
  rules: CompiledRules;
}

function withBindings(index: InventoryIndex, b: Bindings): BindableSnapshot {
  const { rows, order } = index;
  const { installations, projects, mappings, rules } = b;
  const boundBy = new Map<number, RowBinding>();
  for (const m of mappings) {
    const i = index.slotById.get(m.resourceId);
    if (i !== undefined)
      boundBy.set(i, { bindingRef: m.bindingRef, boundAt: m.boundAt, projectSlug: m.projectSlug });
  }
  const curation = curationOf(index, rules);
  return {
    inventoryVersion: index.inventoryVersion,
    rows,
    order,
    withName: (value) => index.withName(value),
    nameContains: (term, accept, limit) => index.nameContains(term, accept, limit),
    pathContains: (term, accept, limit) => index.pathContains(term, accept, limit),
    slotOf: (id) => index.slotById.get(id),
    offeredAfter: (after) => positionAfter(rows, curation.offered, after),
    bindingVersion: b.version,
    installations,
    boundBy,
    curationHidden: curation.hidden,
    offered: curation.offered,
    projectsByUuid: new Map(projects.filter((p) => p.uuid).map((p) => [p.uuid as string, p])),
    projectsBySlug: new Map(projects.map((p) => [p.slug, p])),
    mappingsByProject: new Map(mappings.map((m) => [m.projectId, m])),
  };
}

/** What a snapshot build did: re-read every row, patched a few, or re-read only the bindings. */
export type SnapshotBuild = "inventory" | "patch" | "bindings";

/**
 * What a cached row costs this process's resident memory: the snapshot's row, names and lookups (~800 B
 * of heap), its `tracker/resources/` item (~250 B) and encoded page (~530 B), and the heap's slack —
 * measured as RSS growth by `npm run bench -- many-teams` (docs/performance.md).
 */
export const BYTES_PER_ROW = 2_100;
/** The cache's default budget (SNAPSHOT_CACHE_MB): ~80,000 rows beside the idle service in 512 MB. */
const DEFAULT_MAX_BYTES = 160 * 1024 * 1024;
/** Requests counted before every team's count is halved: admission weighs recent demand. */
const AGE_EVERY = 10_000;
/** Teams whose demand is remembered (beyond it, the rarest are forgotten first). */
const MAX_COUNTED = 50_000;

/** At most this many changed rows are re-read and patched in; more rebuild the index. */
const MAX_PATCHED_ROWS = 5_000;

const sameIds = (installations: InstallationRow[], ids: string[]) =>
  installations.length === ids.length && installations.every((inst, i) => inst.id === ids[i]);

/**
 * The resources changed between the index's version and `upTo`, from `inventory_changes`: null when the
 * log cannot say (a version missing or pruned, a change too broad to list, too many rows to patch).
 */
async function changedSince(
  repo: ReturnType<typeof inventoryRepository>,
  teamId: string,
  from: number,
  upTo: number,
): Promise<string[] | null> {
  const gap = upTo - from;
  if (gap <= 0 || gap > CHANGE_LOG_VERSIONS) return null;
  const changes = await repo.inventoryChangesSince(teamId, from, upTo);
  if (changes.length !== gap) return null;
  const ids = new Set<string>();
  for (const c of changes) {
    if (!c.resourceIds) return null;
    for (const id of c.resourceIds) ids.add(id);
    if (ids.size > MAX_PATCHED_ROWS) return null;
  }
  return [...ids];
}

/** Versions the triggers keep per team (migration 0017). */
const CHANGE_LOG_VERSIONS = 256;

/** A row as the snapshot keeps it, sharing one kinds object per distinct combination. */
/**
 * A row as the snapshot keeps it: one object literal of fixed shape (a spread of the driver's row costs
 * ~4× the memory on V8), sharing one kinds object per distinct combination and one installation id string
 * per installation.
 */
function bindableRow(kinds: Map<string, Record<string, string>>) {
  const kindsFor = (provider: string, routing: unknown) => {
    const k = kindsOf(provider, routing);
    const text = JSON.stringify(k);
    const seen = kinds.get(text);
    if (seen) return seen;
    kinds.set(text, k);
    return k;
  };
  const installationIds = new Map<string, string>();
  const shared = (id: string) => {
    const seen = installationIds.get(id);
    if (seen !== undefined) return seen;
    installationIds.set(id, id);
    return id;
  };
  return (r: SnapshotRowRead): BindableRow => {
    const names = targetNames(r);
    // Most repositories are named as their path's last segment: one string for both.
    if (names.last === names.name) names.last = names.name;
    return {
      id: r.id,
      installationId: shared(r.installationId),
      provider: r.provider,
      resourceKey: r.resourceKey,
      label: r.label,
      key: r.key,
      name: r.name,
      fullPath: r.fullPath,
      context: r.context as Record<string, string>,
      names,
      kinds: kindsFor(r.provider, r.routingMetadata),
    };
  };
}

interface Entry {
  versions: TeamVersions;
  bytes: number;
  snapshot: Promise<BindableSnapshot>;
}

/**
 * How often each team and provider was asked for lately (halved every AGE_EVERY requests), and what its
 * snapshot last cost: what admission compares.
 */
function demand() {
  const counts = new Map<string, number>();
  const sizes = new Map<string, number>();
  let sinceAging = 0;
  const age = () => {
    for (const [key, n] of counts) {
      if (n > 1) counts.set(key, n >> 1);
      else {
        counts.delete(key);
        sizes.delete(key);
      }
    }
    sinceAging = 0;
  };
  return {
    touch(key: string) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (++sinceAging >= AGE_EVERY || counts.size > MAX_COUNTED) age();
    },
    count: (key: string) => counts.get(key) ?? 0,
    size: (key: string) => sizes.get(key),
    sized: (key: string, bytes: number) => sizes.set(key, bytes),
  };
}

const bytesOf = (snapshot: BindableSnapshot) => snapshot.rows.length * BYTES_PER_ROW; // dead slots too

/**
 * A snapshot over some of the team's bindable rows only (those a team without a snapshot read for a
 * bind-resolve): the same index, lookups and curation as a full one, so the same ranking code answers.
 * Its lookups and `order` cover only `rows`; the caller knows what they hold.
 */
export function partialSnapshot(
  inventoryVersion: number,
  rows: SnapshotRowRead[],
  bindings: Bindings,
): BindableSnapshot {
  const kinds = new Map<string, Record<string, string>>();
  return withBindings(new InventoryIndex(inventoryVersion, rows.map(bindableRow(kinds)), kinds), bindings);
}

/** Bindings kept for teams without a snapshot: at most this many of their rows (items) in all. */
const MAX_COLD_BINDING_ITEMS = 100_000;
const itemsOf = (b: Bindings) => 1 + b.installations.length + b.projects.length + b.mappings.length;

export function bindableSnapshots(
  db: Database,
  opts: {
    /** Memory the cached snapshots may take (estimated, BYTES_PER_ROW a row); 0: none cached. */
    maxBytes?: number;
    onBuild?: (part: SnapshotBuild) => void;
    /** Whether `warm` found (or admitted) the team's snapshot: `kept`, or `cold`. */
    onLookup?: (answer: "kept" | "cold") => void;
    /** The cache's estimated bytes and entries, after each change. */
    onCacheChange?: (bytes: number, entries: number) => void;
    curationRules?: CurationRulesReader;
    /** Dead and late rows after which a patched index is compacted (default: an eighth, at least 2,000). */
    compactAfter?: number;
  } = {},
) {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  /** Least recently used first. */
  const cache = new Map<string, Entry>();
  const asked = demand();
  /** Builds of snapshots not (yet) cached, shared by concurrent callers. */
  const uncached = new Map<string, Promise<BindableSnapshot>>();
  /** What each snapshot was made of, for the next build of its team and provider to reuse. */
  const built = new WeakMap<BindableSnapshot, { index: InventoryIndex; bindings: Bindings }>();

  async function readBindings(
    tx: Database,
    teamId: string,
    provider: string,
    version: number,
  ): Promise<Bindings> {
    const repo = inventoryRepository(tx);
    return {
      version,
      installations: await repo.snapshotInstallations(teamId, provider),
      projects: await repo.snapshotProjects(teamId),
      mappings: await repo.snapshotMappings(teamId, provider),
      rules: compileRules(opts.curationRules ? await opts.curationRules(tx, teamId) : []),
    };
  }

  /**
   * One read of the database: the versions read are the versions of the rows read. With the previous
   * snapshot's index, an inventory change listed in `inventory_changes` re-reads only its rows.
   */
  async function build(teamId: string, provider: string, previous?: BindableSnapshot) {
    return db.transaction(
      async (tx) => {
        const repo = inventoryRepository(tx as unknown as Database);
        const versions = await repo.teamVersions(teamId);
        const prior = previous && built.get(previous);
        // Installations, projects, mappings and rules all move the binding version: unmoved, they stand.
        const bindings =
          prior && prior.bindings.version === versions.binding
            ? prior.bindings
            : await readBindings(tx as unknown as Database, teamId, provider, versions.binding);
        const installationIds = bindings.installations.map((i) => i.id);
        // Every read happens before the index changes: a failed read leaves it as it was.
        let next: () => InventoryIndex;
        const index = prior?.index;
        if (index && index.inventoryVersion === versions.inventory) {
          next = () => {
            opts.onBuild?.("bindings");
            return index;
          };
        } else {
          const change =
            index && prior && sameIds(prior.bindings.installations, installationIds)
              ? await changedSince(repo, teamId, index.inventoryVersion, versions.inventory)
              : null;
          if (index && change) {
            const fresh = change.length ? await repo.snapshotRowsById(teamId, installationIds, change) : [];
            next = () => {
              index.patch(versions.inventory, change, fresh.map(bindableRow(index.kinds)));
              opts.onBuild?.("patch");
              return index;
            };
          } else {
            const rows = installationIds.length ? await repo.snapshotRows(teamId, installationIds) : [];
            next = () => {
              const kinds = new Map<string, Record<string, string>>();
              opts.onBuild?.("inventory");
              return new InventoryIndex(versions.inventory, rows.map(bindableRow(kinds)), kinds);
            };
          }
        }
        let current = next();
        if (current.needsCompaction(opts.compactAfter)) current = current.compacted();
        const snapshot = withBindings(current, bindings);
        built.set(snapshot, { index: current, bindings });
        return snapshot;
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  /** Bindings of teams answered without a snapshot, least recently used first (`bindings`). */
  const coldBindings = new Map<string, { items: number; bindings: Bindings }>();
  let coldItems = 0;
  function keepColdBindings(key: string, bindings: Bindings) {
    const had = coldBindings.get(key);
    if (had && had.bindings.version > bindings.version) return;
    if (had) coldItems -= had.items;
    coldBindings.delete(key);
    const items = itemsOf(bindings);
    coldBindings.set(key, { items, bindings });
    coldItems += items;
    for (const [other, e] of coldBindings) {
      if (coldItems <= MAX_COLD_BINDING_ITEMS) break;
      if (other === key) continue;
      coldBindings.delete(other);
      coldItems -= e.items;
    }
  }

  /** The team's bindings at `version` or newer, with the versions, in one read-only transaction. */
  const readColdBindings = (teamId: string, provider: string) =>
    db.transaction(
      async (tx) => {
        const versions = await inventoryRepository(tx as unknown as Database).teamVersions(teamId);
        return readBindings(tx as unknown as Database, teamId, provider, versions.binding);
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );

  const used = () => {
    let total = 0;
    for (const e of cache.values()) total += e.bytes;
    return total;
  };

  function evict(keep: string) {
    let total = used();
    for (const [key, e] of cache) {
      if (total <= maxBytes) break;
      if (key === keep) continue;
      cache.delete(key);
      total -= e.bytes;
    }
  }

  /**
   * Whether a team that is not cached earns a place: there is room, or it is asked for more than twice
   * as often lately as every snapshot it would evict (least recently used first). Teams asked for about
   * equally often (a uniform spread over more teams than fit) never evict each other in a loop; a team
   * that comes back often displaces ones that stopped coming.
   */
  function admits(key: string) {
    const count = asked.count(key);
    // A team never built is taken to cost what a kept one costs on average (nothing, into an empty cache).
    const need = asked.size(key) ?? (cache.size ? used() / cache.size : 0);
    if (maxBytes === 0 || need > maxBytes) return false;
    let free = maxBytes - used();
    for (const [other, e] of cache) {
      if (free >= need) break;
      if (asked.count(other) * 2 >= count) return false;
      free += e.bytes;
    }
    return free >= need;
  }

  const covers = (have: TeamVersions, want: TeamVersions) =>
    have.inventory >= want.inventory && have.binding >= want.binding;

  async function cached(key: string, teamId: string, provider: string, want: TeamVersions) {
    const hit = cache.get(key);
    cache.delete(key);
    if (hit && covers(hit.versions, want)) {
      cache.set(key, hit);
      return hit.snapshot;
    }
    // Even an older snapshot helps: its index is patched from the change log when that covers the gap.
    const previous = hit?.snapshot;
    const entry: Entry = {
      versions: want,
      bytes: hit?.bytes ?? 0,
      snapshot: (previous ?? Promise.resolve(undefined))
        .catch(() => undefined)
        .then((prev) => build(teamId, provider, prev)),
    };
    cache.set(key, entry);
    try {
      const snapshot = await entry.snapshot;
      entry.versions = { inventory: snapshot.inventoryVersion, binding: snapshot.bindingVersion };
      entry.bytes = bytesOf(snapshot);
      asked.sized(key, entry.bytes);
      // A team larger than the whole budget is answered this once and never kept.
      if (entry.bytes > maxBytes) cache.delete(key);
      else evict(key);
      opts.onCacheChange?.(used(), cache.size);
      return snapshot;
    } catch (err) {
      if (cache.get(key) === entry) cache.delete(key);
      throw err;
    }
  }

  /** A build that is not kept (the team was not admitted): callers at the same moment share it. */
  function once(key: string, teamId: string, provider: string) {
    let pending = uncached.get(key);
    if (!pending) {
      pending = build(teamId, provider).then((snapshot) => {
        asked.sized(key, bytesOf(snapshot));
        return snapshot;
      });
      const clear = () => uncached.delete(key);
      pending.then(clear, clear);
      uncached.set(key, pending);
    }
    return pending;
  }

  return {
    /**
     * The snapshot for a team and provider at `versions` or newer: what authentication read
     * (`auth.team.versions`); without them they are read here. Concurrent callers share one build; it is
     * cached only when the team is admitted (`admits`).
     */
    async get(teamId: string, provider: string, versions?: TeamVersions): Promise<BindableSnapshot> {
      const key = `${teamId}|${provider}`;
      const want = versions ?? (await inventoryRepository(db).teamVersions(teamId));
      asked.touch(key);
      if (cache.has(key) || admits(key)) return cached(key, teamId, provider, want);
      return once(key, teamId, provider);
    },

    /**
     * The snapshot when this process keeps one for the team (patched up to `versions` if need be) or
     * admits it now; otherwise null, and the caller answers from indexed SQL instead of building one.
     * While another team's admitted build runs, a new one is not started: builds hold the event loop.
     */
    async warm(teamId: string, provider: string, versions: TeamVersions): Promise<BindableSnapshot | null> {
      const key = `${teamId}|${provider}`;
      asked.touch(key);
      const kept = cache.has(key) || (admits(key) && ![...cache.values()].some((e) => e.bytes === 0));
      opts.onLookup?.(kept ? "kept" : "cold");
      return kept ? cached(key, teamId, provider, versions) : null;
    },

    /**
     * The installations, projects, live mappings and curation rules of a team and provider at binding
     * version `version` or newer, for a team answered without a snapshot: kept per team (much smaller
     * than its rows, bounded by MAX_COLD_BINDING_ITEMS) and re-read when authentication saw a newer
     * binding version, so a bind, revoke or rule change is seen on the next request.
     */
    async bindings(teamId: string, provider: string, version: number): Promise<Bindings> {
      const key = `${teamId}|${provider}`;
      const hit = coldBindings.get(key);
      if (hit && hit.bindings.version >= version) {
        coldBindings.delete(key);
        coldBindings.set(key, hit);
        return hit.bindings;
      }
      const bindings = await readColdBindings(teamId, provider);
      keepColdBindings(key, bindings);
      return bindings;
    },
  };
}

export type BindableSnapshots = ReturnType<typeof bindableSnapshots>;
