import type { FileHandle } from "node:fs/promises";
import type { Database } from "../../storage/database.ts";
import type { CandidateTokens } from "../binding/candidate-token.ts";
import {
  type CompiledRules,
  type CurationRulesReader,
  compileRules,
  isHidden,
  kindsOf,
} from "../curation/rules.ts";
import type { InstallationRow } from "../installations/service.ts";
import {
  type CliResourcesPage,
  type ListedResource,
  listedItem,
  listingJson,
  listingPage,
  TOKEN_REUSE_MS,
} from "./listing.ts";
import type { ListingFile, ListingFiles } from "./listing-files.ts";
import { inventoryRepository, type TeamVersions } from "./repository.ts";
import { byLabel, type RowBinding } from "./snapshot.ts";

/**
 * `tracker discover` for a team this process keeps no snapshot of (snapshot.ts `warm` answered null):
 * the listing read from indexed SQL in label order (`resources_team_provider_label_idx`), bound state
 * from live mappings and curation applied row by row with the snapshot's own rules code, items built by
 * the warm path's `listedItem`. The whole list (what the CLI asks for) is written gzipped to disk once
 * per team, versions and token batch, and sent from there; a page (limit or cursor) is read per request.
 */

/**
 * What a `tracker/resources/` answer is: a page to serialise, or the whole list's file, open, of
 * `bytes` bytes, gzip or plain JSON.
 */
export type CliResourcesAnswer =
  | { kind: "page"; page: CliResourcesPage }
  | { kind: "file"; handle: FileHandle; bytes: number; gzip: boolean };

type LabelKey = { label: string; id: string };

/** Cold whole lists built at once (each holds its rows and items until written): bounds their memory. */
const MAX_BUILDS = 2;

interface ColdRead {
  versions: TeamVersions;
  installations: InstallationRow[];
  /** Offered rows (curation applied), by label then id. */
  rows: Awaited<ReturnType<ReturnType<typeof inventoryRepository>["listingRows"]>>;
  /** Rows curation hid (all of them only when every row was read). */
  hidden: number;
  bound: Map<string, RowBinding>;
  /** Whether curation applies: every row was read (the cursor is not applied yet). */
  curation: boolean;
}

/** A whole list built: what it was read at and, unless the disk refused it, its file. */
interface Built {
  versions: TeamVersions;
  connected: boolean;
  page?: CliResourcesPage;
  file?: ListingFile;
}

/** A small counting semaphore: at most `n` holders, the rest wait in order. */
function gate(n: number) {
  let free = n;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((go) => waiting.push(go));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

/** The live mapping of each bound resource, by resource id (as the snapshot's `boundBy`). */
async function liveBindings(repo: ReturnType<typeof inventoryRepository>, teamId: string, provider: string) {
  const bound = new Map<string, RowBinding>();
  for (const m of await repo.snapshotMappings(teamId, provider))
    bound.set(m.resourceId, { bindingRef: m.bindingRef, boundAt: m.boundAt, projectSlug: m.projectSlug });
  return bound;
}

/** The rows the rules leave offered: the snapshot's verdict (`isHidden`), row by row. */
const offered = <R extends ColdRead["rows"][number]>(rows: R[], rules: CompiledRules) =>
  rows.filter((r) => !isHidden(rules, { ...r, kinds: kindsOf(r.provider, r.routingMetadata) }));

export function coldListings(
  db: Database,
  deps: {
    candidates: Pick<CandidateTokens, "mint">;
    curationRules?: CurationRulesReader;
    files: ListingFiles;
    /** Throws the error a team without a connected installation for the provider gets. */
    noInstallation: (teamId: string, provider: string) => Promise<never>;
  },
) {
  const building = gate(MAX_BUILDS);
  /** Whole-list builds in flight by team and provider, shared by the requests that want no newer. */
  const inFlight = new Map<string, Promise<Built>>();

  /**
   * One consistent read (the versions read are the versions of the rows): installations, rules and
   * live mappings (small), then the rows after `page.after`, `page.limit + 1` of them; every row when
   * no page is asked or when curation rules apply (the hidden count covers every row).
   */
  function read(teamId: string, provider: string, page?: { after: LabelKey | null; limit?: number }) {
    return db.transaction(
      async (t) => {
        const tx = t as unknown as Database;
        const repo = inventoryRepository(tx);
        const versions = await repo.teamVersions(teamId);
        const installations = await repo.snapshotInstallations(teamId, provider);
        if (installations.length === 0)
          return { versions, installations, rows: [], hidden: 0, bound: new Map(), curation: false };
        const ids = installations.map((i) => i.id);
        const rules = compileRules(deps.curationRules ? await deps.curationRules(tx, teamId) : []);
        const curation = ids.some((id) => rules.byInstallation.has(id));
        const bound = await liveBindings(repo, teamId, provider);
        const limit = !curation && page?.limit !== undefined ? page.limit + 1 : undefined;
        const read = await repo.listingRows(teamId, provider, ids, {
          after: curation ? null : page?.after,
          limit,
          curation,
        });
        // The index orders labels byte by byte (COLLATE "C"); the snapshot by UTF-16 code units. They
        // differ only past U+FFFF, and a sort of sorted rows is one pass.
        read.sort(byLabel);
        const rows = curation ? offered(read, rules) : read;
        const hidden = read.length - rows.length;
        return { versions, installations, rows, hidden, bound, curation };
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    ) as Promise<ColdRead>;
  }

  /** The items of a read's rows, each with a token minted at `now`. */
  const mintAll = (teamId: string, provider: string, r: ColdRead, now: number): ListedResource[] =>
    r.rows.map((row) =>
      listedItem(
        row as typeof row & { context: Record<string, string> },
        deps.candidates.mint(
          { teamId, provider, installationId: row.installationId, resourceId: row.id },
          now,
        ),
        r.bound.get(row.id),
      ),
    );

  /** The whole list, read, minted and written to disk (when the disk takes it). */
  function buildWhole(teamId: string, provider: string): Promise<Built> {
    return building(async () => {
      const r = await read(teamId, provider);
      const built: Built = { versions: r.versions, connected: r.installations.length > 0 };
      if (!built.connected) return built;
      const now = Date.now();
      const page = listingPage(provider, r.installations, mintAll(teamId, provider, r, now), null, r.hidden);
      try {
        built.file = await deps.files.write(`${teamId}|${provider}`, r.versions, now, listingJson(page));
      } catch {
        // The disk refused (full, closed): this answer is sent from memory, the next one tries again.
        built.page = page;
      }
      return built;
    });
  }

  const covers = (have: TeamVersions, want: TeamVersions) =>
    have.inventory >= want.inventory && have.binding >= want.binding;

  /** The team's file as the client takes it (gzip, else its decompressed copy); null when it is gone. */
  async function send(key: string, file: ListingFile, gzip: boolean): Promise<CliResourcesAnswer | null> {
    if (!gzip) {
      const plain = await deps.files.plain(key, file);
      const handle = plain && (await deps.files.open(plain.path));
      if (plain && handle) return { kind: "file", handle, bytes: plain.bytes, gzip: false };
    }
    const handle = await deps.files.open(file.path);
    return handle && { kind: "file", handle, bytes: file.bytes, gzip: true };
  }

  /** The whole list: the team's file while it is current and its tokens young, else built now. */
  async function whole(teamId: string, provider: string, want: TeamVersions, gzip: boolean) {
    const key = `${teamId}|${provider}`;
    const kept = deps.files.find(key, want, Date.now() - TOKEN_REUSE_MS);
    const sent = kept && (await send(key, kept, gzip));
    if (sent) return sent;
    let pending = inFlight.get(key);
    let built = pending && (await pending);
    // A build that started before a change this request saw answers older versions: build again.
    if (!built || !covers(built.versions, want)) {
      pending = buildWhole(teamId, provider);
      inFlight.set(key, pending);
      const clear = () => {
        if (inFlight.get(key) === pending) inFlight.delete(key);
      };
      pending.then(clear, clear);
      built = await pending;
    }
    if (!built.connected) return deps.noInstallation(teamId, provider);
    const fresh = built.file && (await send(key, built.file, gzip));
    if (fresh) return fresh;
    // No file (the disk refused it) or gone already: built again, answered from memory.
    return { kind: "page" as const, page: built.page ?? (await paged(teamId, provider, null)) };
  }

  /** A page after a cursor (or the rest of the list after one), read per request through the index. */
  async function paged(teamId: string, provider: string, after: LabelKey | null, limit?: number) {
    const r = await read(teamId, provider, { after, limit });
    if (r.installations.length === 0) return deps.noInstallation(teamId, provider);
    // Rows read whole (curation) are cut at the cursor here, as the snapshot's `offeredAfter` does.
    let rows = r.rows;
    if (r.curation && after) {
      const from = rows.findIndex((row) => byLabel(row, after) > 0);
      rows = from < 0 ? [] : rows.slice(from);
    }
    const take = limit === undefined ? rows : rows.slice(0, limit);
    const last = take.length < rows.length ? take[take.length - 1] : null;
    const items = mintAll(teamId, provider, { ...r, rows: take }, Date.now());
    return listingPage(provider, r.installations, items, last, r.hidden);
  }

  return {
    /** The answer of `tracker/resources/` for a team without a snapshot, at `want` or newer. */
    async answer(
      teamId: string,
      provider: string,
      want: TeamVersions,
      after: LabelKey | null,
      limit: number | undefined,
      gzip: boolean,
    ): Promise<CliResourcesAnswer> {
      if (!after && limit === undefined) return whole(teamId, provider, want, gzip);
      return { kind: "page", page: await paged(teamId, provider, after, limit) };
    },
  };
}

export type ColdListings = ReturnType<typeof coldListings>;
