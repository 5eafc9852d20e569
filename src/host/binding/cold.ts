import type { ProviderId } from "../../tracker/index.ts";
import type { BindLookupHit, BindLookups, InventoryService } from "../inventory/service.ts";
import { type BindableSnapshot, type Bindings, partialSnapshot } from "../inventory/snapshot.ts";
import type { TeamVersions } from "../teams/access.ts";
import { type Identity, MAX_CANDIDATES, partsOf } from "./ranking.ts";

/**
 * bind-resolve for a team this process keeps no snapshot of (the cache did not admit it): the rows the
 * snapshot's lookups would find are read by indexed SQL (migration 0020), a snapshot over just those
 * rows is built (`partialSnapshot`), and the very same ranking code answers on it. Parity is by
 * construction: every lookup the ranking makes is checked against what was read, and
 *  - a lookup not read yet stops the answer, its stage is read (one statement), and the answer restarts;
 *  - a lookup whose read was cut by its LIMIT while the rows it accepts may lie beyond the cut, answers
 *    from a full snapshot build instead (uncached), so the answer never differs.
 * Stages follow `findCandidates`: equal names (most answers end here), then the slug's parts and the
 * names and paths containing it, then its words and the team's first rows (`fewEnoughToOffer`).
 */

/** Rows equal to a name beyond this: the team is odd, build the snapshot. */
const EQUAL_LIMIT = 1_000;
/** Rows read per "contains" lookup when curation hides some rows (they are filtered in JS). */
const CURATED_LIMIT = 100;

/** What the ranking asked for that was not read: its stage, or null for a full build. */
class NotRead extends Error {
  constructor(readonly stage: number | null) {
    super("bind-resolve lookup not read");
  }
}

/**
 * One NotRead per stage, made once: most cold answers throw one, and capturing a fresh stack trace
 * each time showed in the cold path's CPU profile while nobody reads it (the throw is control flow).
 */
const NOT_READ = new Map<number | null, NotRead>();
function notRead(stage: number | null): NotRead {
  const made = NOT_READ.get(stage);
  if (made) return made;
  const err = new NotRead(stage);
  NOT_READ.set(stage, err);
  return err;
}

/** The lookups of each stage, as `findCandidates` makes them. */
function stagesOf(id: Identity): BindLookups[] {
  const long = id.slug.length >= 3;
  return [
    { equal: [id.slug, id.repo, id.repoName].filter(Boolean), names: [], paths: [], all: false },
    long
      ? { equal: partsOf(id.slug), names: [id.slug], paths: [id.slug], all: false }
      : { equal: [], names: [], paths: [], all: false },
    { equal: id.words, names: id.words, paths: [], all: true },
  ];
}

/** What has been read so far: rows, and per lookup its ids and whether its LIMIT cut it. */
class Reads {
  readonly rows = new Map<string, RowRead>();
  readonly equal = new Set<string>();
  /** `names|term` / `paths|term` → the last id read when cut by the limit, else null. */
  readonly scans = new Map<string, string | null>();
  all: "complete" | "cut" | null = null;
  readonly fetched = new Set<number>();

  /** Records a read; false when its equal names were cut by the limit (only a full build answers). */
  add(asked: BindLookups, got: { rows: RowRead[]; hits: BindLookupHit[] }, limits: Limits) {
    for (const r of got.rows) this.rows.set(r.id, r);
    for (const v of asked.equal) this.equal.add(v);
    let complete = true;
    for (const h of got.hits) {
      const cut = h.ids.length >= limits[h.lookup];
      if (h.lookup === "equal" && cut) complete = false;
      if (h.lookup === "names" || h.lookup === "paths")
        this.scans.set(`${h.lookup}|${h.term}`, cut ? h.ids[h.ids.length - 1] : null);
      if (h.lookup === "all") this.all = cut ? "cut" : "complete";
    }
    return complete;
  }
}

type RowRead = Parameters<typeof partialSnapshot>[1][number];

/** Rows each kind of lookup reads at most. */
type Limits = Record<BindLookupHit["lookup"], number>;

const stageOf = (stages: BindLookups[], has: (s: BindLookups) => boolean) => {
  const i = stages.findIndex(has);
  return i < 0 ? null : i;
};

/**
 * The partial snapshot, its lookups guarded: each answers only what `reads` covers, else throws
 * NotRead (the stage to read, or null when only a full build can answer).
 */
function guarded(snap: BindableSnapshot, reads: Reads, stages: BindLookups[]): BindableSnapshot {
  const scan =
    (lookup: "names" | "paths", run: BindableSnapshot["nameContains"]) =>
    (term: string, accept: (i: number) => boolean, limit: number) => {
      const key = `${lookup}|${term}`;
      if (!reads.scans.has(key)) throw notRead(stageOf(stages, (s) => s[lookup].includes(term)));
      const found = run(term, accept, limit);
      const cutAt = reads.scans.get(key);
      if (cutAt == null) return found;
      // Cut by the limit: exact only if the `limit` accepted rows all lie within what was read.
      const last = found[limit - 1];
      const cut = snap.slotOf(cutAt);
      if (last === undefined || cut === undefined || snap.order.indexOf(last) > snap.order.indexOf(cut))
        throw notRead(null);
      return found;
    };
  return {
    ...snap,
    withName(value) {
      if (!reads.equal.has(value)) throw notRead(stageOf(stages, (s) => s.equal.includes(value)));
      return snap.withName(value);
    },
    nameContains: scan("names", snap.nameContains),
    pathContains: scan("paths", snap.pathContains),
    get order() {
      if (reads.all === null) throw notRead(stageOf(stages, (s) => s.all));
      // Cut: fine only when more than MAX_CANDIDATES offered rows were read (`fewEnoughToOffer` offers none).
      if (
        reads.all === "cut" &&
        snap.order.filter((i) => snap.curationHidden[i] === 0).length <= MAX_CANDIDATES
      )
        throw notRead(null);
      return snap.order;
    },
  };
}

export async function coldResolve<T>(
  inventory: Pick<InventoryService, "bindLookups" | "coldBindings" | "snapshot">,
  team: { id: string; versions: TeamVersions },
  provider: ProviderId,
  id: Identity,
  /** The answer from a snapshot; `hidesAny`: whether curation may hide some of the team's rows. */
  answer: (snap: BindableSnapshot, hidesAny?: boolean) => T,
): Promise<T> {
  const bindings: Bindings = await inventory.coldBindings(team.id, provider, team.versions.binding);
  // Rules of the provider's installations only: another provider's rules hide none of these rows.
  const hidesAny = bindings.installations.some((i) => bindings.rules.byInstallation.has(i.id));
  // Unbound rows of usable installations are filtered in SQL; only curation is left to JS.
  const scanLimit = hidesAny ? CURATED_LIMIT : MAX_CANDIDATES;
  const limits: Limits = {
    equal: EQUAL_LIMIT,
    names: scanLimit,
    paths: scanLimit,
    all: hidesAny ? CURATED_LIMIT : MAX_CANDIDATES + 1,
  };
  const offerable = {
    installationIds: bindings.installations.filter((i) => i.status !== "revoked").map((i) => i.id),
    boundIds: bindings.mappings.map((m) => m.resourceId),
  };
  const stages = stagesOf(id);
  const reads = new Reads();
  for (;;) {
    const snap = partialSnapshot(team.versions.inventory, [...reads.rows.values()], bindings);
    let stage: number | null;
    try {
      return answer(guarded(snap, reads, stages), hidesAny);
    } catch (err) {
      if (!(err instanceof NotRead)) throw err;
      stage = err.stage;
    }
    // Every stage up to the one asked for; with curation the hidden search needs stage 1 anyway.
    const want = stages.filter(
      (_, i) => stage !== null && !reads.fetched.has(i) && (i <= stage || (hidesAny && i === 1)),
    );
    if (want.length === 0 || !(await read(want))) return answer(await full());
  }

  /** Reads the lookups of `want` not read yet; false when one was cut so only a full build answers. */
  async function read(want: BindLookups[]) {
    const unique = (values: string[], known: (v: string) => boolean) =>
      [...new Set(values)].filter((v) => !known(v));
    const merged: BindLookups = {
      equal: unique(
        want.flatMap((s) => s.equal),
        (v) => reads.equal.has(v),
      ),
      names: unique(
        want.flatMap((s) => s.names),
        (v) => reads.scans.has(`names|${v}`),
      ),
      paths: unique(
        want.flatMap((s) => s.paths),
        (v) => reads.scans.has(`paths|${v}`),
      ),
      all: reads.all === null && want.some((s) => s.all),
    };
    const got = await inventory.bindLookups(team.id, provider, offerable, merged, limits);
    for (const s of want) reads.fetched.add(stages.indexOf(s));
    return reads.add(merged, got, limits);
  }

  /** Not answerable from what a bounded read holds: the team's snapshot, built (and not kept). */
  function full() {
    return inventory.snapshot(team.id, provider, team.versions);
  }
}
