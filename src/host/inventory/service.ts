import { createHash } from "node:crypto";
import type { Database } from "../../storage/database.ts";
import {
  adapterFor,
  type BindableResource,
  type ProviderId,
  runDiscovery,
  TrackerError,
} from "../../tracker/index.ts";
import type { AuditService } from "../audit/service.ts";
import type { CandidateTokens } from "../binding/candidate-token.ts";
import type { CurationRulesReader } from "../curation/rules.ts";
import { DomainError } from "../errors/domain-error.ts";
import {
  decodeKeyCursor,
  decodeListCursor,
  type ListRequest,
  toListPage,
  toPage,
} from "../http/pagination.ts";
import { providerError } from "../http/provider-errors.ts";
import { newId } from "../ids.ts";
import type { InstallationRow, InstallationsService } from "../installations/service.ts";
import type { JobContext, JobFailure, JobRow, JobsService } from "../jobs/service.ts";
import type { MappingsService } from "../mappings/service.ts";
import type { Metrics } from "../metrics/registry.ts";
import { type CliResourcesAnswer, coldListings } from "./cold-listing.ts";
import {
  type CliResourcesPage,
  type ListedResource,
  listedItem,
  listingPage,
  sameBinding,
  TOKEN_REUSE_MS,
} from "./listing.ts";
import { listingFiles } from "./listing-files.ts";
import { REFRESH_JOB, type RefreshPayload, refreshKey, requestRefresh } from "./refresh-job.ts";
import {
  INVENTORY_SORTS,
  type InventoryFilter,
  type InventorySort,
  inventoryRepository,
  type ResourceRow,
  type StagedResource,
  type TeamVersions,
} from "./repository.ts";
import { type BindableSnapshot, bindableSnapshots, partialSnapshot } from "./snapshot.ts";

/** The rows this feature hands to others (its repository stays private). */
export type {
  BindLookupHit,
  BindLookups,
  InventoryFilter,
  InventorySort,
  ResourceRow,
} from "./repository.ts";

/** A pass inserting at least this many rows refreshes the planner's statistics. */
const BULK_INSERT_ROWS = 1_000;

export interface RefreshResult {
  installation_id: string;
  complete: boolean;
  pages: number;
  seen: number;
  added: number;
  updated: number;
  missing: number;
  unchanged: number;
  /** Inventory rows inserted or changed by this pass (unchanged resources cost no write). */
  rows_written: number;
  truncated?: { reason: string; message: string };
}

function fingerprint(r: BindableResource): string {
  const material = [
    r.identity.resource_type,
    r.identity.native_id,
    r.display,
    r.flags,
    r.connector_params,
    r.routing_metadata,
  ];
  return createHash("sha256").update(JSON.stringify(material)).digest("base64url");
}

function toRow(r: BindableResource, teamId: string, installationId: string): StagedResource {
  const d = r.display;
  return {
    id: newId("res"),
    teamId,
    installationId,
    provider: r.identity.provider,
    resourceKey: r.identity.resource_key,
    resourceType: r.identity.resource_type,
    nativeId: r.identity.native_id,
    label: d.label,
    key: d.key,
    name: d.name,
    fullPath: d.full_path,
    webUrl: d.web_url,
    context: d.context,
    connectorParams: r.connector_params,
    routingMetadata: r.routing_metadata,
    archived: r.flags.archived,
    issuesDisabled: r.flags.issues_disabled,
    searchText: [d.label, d.key, d.name, d.full_path].filter(Boolean).join(" ").toLowerCase(),
    fingerprint: fingerprint(r),
  };
}

export function resourceView(
  r: ResourceRow,
  mapping?: { bindingRef: string | null; boundAt: Date | null } | null,
) {
  return {
    id: r.id,
    installation_id: r.installationId,
    provider: r.provider,
    resource_key: r.resourceKey,
    resource_type: r.resourceType,
    native_id: r.nativeId,
    display_label: r.label,
    key: r.key,
    name: r.name,
    full_path: r.fullPath,
    web_url: r.webUrl,
    provider_context: r.context as Record<string, string>,
    archived: r.archived,
    issues_disabled: r.issuesDisabled,
    first_seen_at: r.firstSeenAt.toISOString(),
    last_seen_at: r.lastSeenAt.toISOString(),
    missing_since: r.missingSince?.toISOString() ?? null,
    binding_ref: mapping?.bindingRef ?? null,
    bound_at: mapping?.boundAt?.toISOString() ?? null,
  };
}

export const noInstallation = (provider: string, disconnected = false) =>
  new DomainError(
    "no_installation",
    disconnected
      ? `This team's ${provider} installation is disconnected. An admin can reconnect it in the Spec Kitty dashboard; its mappings come back.`
      : `This team has no ${provider} installation. An admin can connect ${provider} in the Spec Kitty dashboard.`,
  );

export { installationState } from "./listing.ts";

export function inventoryService(
  db: Database,
  deps: {
    installations: Pick<
      InstallationsService,
      | "byId"
      | "connectionFor"
      | "dueForRefresh"
      | "listForTeam"
      | "recordPassFailed"
      | "recordPassSucceeded"
      | "workspaceOf"
    >;
    jobs: Pick<JobsService, "activeFor" | "enqueue" | "register">;
    audit: Pick<AuditService, "record">;
    candidates: Pick<CandidateTokens, "mint">;
    mappings: Pick<MappingsService, "refreshLabels">;
    metrics?: Pick<Metrics, "inventory">;
    /** The team's curation rules (issue 20); absent: everything bindable is offered. */
    curationRules?: CurationRulesReader;
    /** Memory for this process's snapshots (see snapshot.ts). */
    snapshotCacheBytes?: number;
    /** Disk for the encoded listings of teams without a snapshot, and where (see listing-files.ts). */
    listingCache?: { bytes?: number; dir?: string };
  },
) {
  const repo = inventoryRepository(db);
  const snapshots = bindableSnapshots(db, {
    onBuild: deps.metrics?.inventory.snapshotBuilt,
    onLookup: deps.metrics?.inventory.snapshotLookup,
    onCacheChange: deps.metrics?.inventory.snapshotCache,
    curationRules: deps.curationRules,
    maxBytes: deps.snapshotCacheBytes,
  });
  const files = listingFiles({ dir: deps.listingCache?.dir, maxBytes: deps.listingCache?.bytes });
  const cold = coldListings(db, {
    candidates: deps.candidates,
    curationRules: deps.curationRules,
    files,
    noInstallation: (teamId, provider) => noInstallationOf(teamId, provider),
  });

  /**
   * Candidate tokens for a snapshot's offered rows, by slot, reused for up to TOKEN_REUSE_MS: minting
   * 10,000 of them is most of the cost of a listing, and a reused token still has at least 10 of its 15
   * minutes left. Keyed by the index's rows (`rows`), which a patch extends (its new rows get new
   * tokens) and a rebuild replaces.
   */
  const minted = new WeakMap<BindableSnapshot["rows"], { at: number; tokens: string[] }>();
  function tokensFor(snap: BindableSnapshot, teamId: string, provider: ProviderId, now: number) {
    let memo = minted.get(snap.rows);
    if (!memo || now - memo.at >= TOKEN_REUSE_MS) {
      memo = { at: now, tokens: [] };
      minted.set(snap.rows, memo);
    }
    for (const i of snap.offered)
      memo.tokens[i] ??= deps.candidates.mint(
        { teamId, provider, installationId: snap.rows[i].installationId, resourceId: snap.rows[i].id },
        now,
      );
    return memo;
  }

  /**
   * The `tracker discover` items of a snapshot's offered rows, built once per snapshot and token batch;
   * a row whose token and binding did not change keeps its item from the snapshot before.
   */
  const listings = new WeakMap<
    BindableSnapshot,
    { tokens: string[]; items: ListedResource[]; pages: Map<string, CliResourcesPage> }
  >();
  const itemsBySlot = new WeakMap<string[], ListedResource[]>();
  function listing(snap: BindableSnapshot, teamId: string, provider: ProviderId) {
    const { tokens } = tokensFor(snap, teamId, provider, Date.now());
    const memo = listings.get(snap);
    if (memo && memo.tokens === tokens) return memo;
    const known = itemsBySlot.get(tokens) ?? [];
    itemsBySlot.set(tokens, known);
    const items = snap.offered.map((i) => {
      const bound = snap.boundBy.get(i);
      const seen = known[i];
      if (seen && sameBinding(seen, bound)) return seen;
      known[i] = listedItem(snap.rows[i], tokens[i], bound);
      return known[i];
    });
    const fresh = { tokens, items, pages: new Map() };
    listings.set(snap, fresh);
    return fresh;
  }
  /** A page of a snapshot's listing (see `cliResources`). */
  async function warmPage(
    snap: BindableSnapshot,
    teamId: string,
    provider: ProviderId,
    cursor: string | undefined,
    limit: number | undefined,
  ): Promise<CliResourcesPage> {
    if (snap.installations.length === 0) return noInstallationOf(teamId, provider);
    const after = decodeKeyCursor(cursor, ["label", "id"]);
    // Positions in `offered` (the rows curation leaves offered, in label order).
    const offered = snap.offered;
    const from = after ? snap.offeredAfter(after) : 0;
    // No limit is the CLI's `tracker discover`: every resource, never a truncated list.
    const to = Math.min(from + (limit ?? offered.length), offered.length);
    const memo = listing(snap, teamId, provider);
    const known = memo.pages.get(`${from}:${to}`);
    if (known) return known;
    const hidden = snap.order.length - offered.length;
    const last = to < offered.length ? snap.rows[offered[to - 1]] : null;
    const page = listingPage(provider, snap.installations, memo.items.slice(from, to), last, hidden);
    // A CLI reads from the start (one page, or a few at a small limit): keep the last few pages.
    if (memo.pages.size >= 8) memo.pages.delete(memo.pages.keys().next().value as string);
    memo.pages.set(`${from}:${to}`, page);
    return page;
  }

  async function noInstallationOf(teamId: string, provider: string): Promise<never> {
    const disconnected = await deps.installations.listForTeam(teamId, provider, "disconnected");
    throw noInstallation(provider, disconnected.length > 0);
  }

  const running = new Set<string>();

  /** A snapshot of one bindable row (or none) with the team's bindings: what `isOffered` asks of a cold team. */
  async function coldRow(teamId: string, provider: ProviderId, versions: TeamVersions, resourceId: string) {
    const bindings = await snapshots.bindings(teamId, provider, versions.binding);
    const ids = bindings.installations.map((i) => i.id);
    const rows =
      bindings.rules.byInstallation.size && ids.length
        ? await repo.snapshotRowsById(teamId, ids, [resourceId])
        : [];
    return partialSnapshot(versions.inventory, rows, bindings);
  }

  type Outcome = Awaited<ReturnType<typeof runDiscovery>>;
  const isAuthRefusal = (o: Outcome) =>
    !o.complete && (o.truncated?.reason === "auth_revoked" || o.truncated?.reason === "auth_expired");

  /**
   * One attempt at a full pass, staged under its own pass id (the job attempt's `<job id>:<lease>`, so
   * the retention purge drops the rows of a pass whose worker died); provider failures come back as
   * the outcome.
   */
  async function attemptPass(inst: InstallationRow, job?: Pick<JobContext, "progress" | "attemptId">) {
    const progress = job?.progress;
    const passId = job?.attemptId ?? newId("pass");
    // Counts only: which keys were seen lives in the staging rows, so a pass holds one page at a time.
    const stats = { pages: 0, unchanged: 0, received: 0 };
    let outcome: Outcome;
    try {
      const conn = await deps.installations.connectionFor(inst);
      outcome = await runDiscovery(
        adapterFor(inst.provider as ProviderId),
        conn,
        deps.installations.workspaceOf(inst),
        async (page) => {
          const known = await repo.fingerprints(
            inst.id,
            page.map((r) => r.identity.resource_key),
          );
          const changed: StagedResource[] = [];
          const unchanged: string[] = [];
          for (const r of page) {
            const row = toRow(r, inst.teamId, inst.id);
            const before = known.get(row.resourceKey);
            if (before && before.fingerprint === row.fingerprint && !before.missing)
              unchanged.push(row.resourceKey);
            else changed.push(row);
          }
          await repo.stage(passId, inst.id, changed);
          await repo.stageSeen(passId, inst.id, unchanged);
          stats.unchanged += unchanged.length;
          stats.received += page.length;
          stats.pages++;
          await progress?.({ pages_fetched: stats.pages, resources_seen: stats.received });
        },
      );
    } catch (err) {
      await repo.dropStage(passId);
      if (!(err instanceof TrackerError)) throw err;
      outcome = {
        complete: false,
        pages: 0,
        count: 0,
        truncated: { reason: err.kind, message: err.message },
      };
    }
    if (!outcome.complete) await repo.dropStage(passId);
    return { passId, stats, outcome };
  }

  /**
   * One discovery pass. A failed or truncated pass records health and leaves inventory untouched.
   * A refused credential is tried once more straight away: only a second refusal is the provider's
   * definitive answer (`revoked` for auth_revoked), so one stray 401 never takes an installation down.
   */
  async function refresh(
    installationId: string,
    job?: Pick<JobContext, "progress" | "attemptId" | "assertLease"> & {
      attempt?: { number: number; of: number };
    },
  ): Promise<RefreshResult> {
    const inst = await deps.installations.byId(installationId);
    if (!inst || inst.disconnectedAt)
      throw new DomainError(
        "installation_disconnected",
        "The installation is disconnected. Reconnect the same workspace to sync it again.",
      );
    const startedAt = new Date();
    let attempt = await attemptPass(inst, job);
    if (isAuthRefusal(attempt.outcome)) attempt = await attemptPass(inst, job);
    const { passId, stats, outcome } = attempt;

    if (!outcome.complete) {
      const reason = outcome.truncated?.reason ?? "upstream_unavailable";
      const envelope = providerError(
        new TrackerError(
          reason === "page_limit" ? "upstream_unavailable" : reason,
          inst.provider,
          outcome.truncated?.message ?? "",
        ),
      );
      const cause =
        reason === "page_limit"
          ? `Discovery stopped early (${outcome.truncated?.message}); nothing was changed.`
          : envelope.message;
      // The last attempt of a retryable failure ends the job dead: the installation says it gave up.
      const gaveUp = envelope.retryable && job?.attempt && job.attempt.number >= job.attempt.of;
      const message = gaveUp ? `Sync gave up after ${job!.attempt!.number} attempts: ${cause}` : cause;
      await deps.installations.recordPassFailed(
        installationId,
        new Date(),
        envelope.code,
        message,
        // Refused twice in a row (see above): the provider means it.
        reason === "auth_revoked" ? "revoked" : "error",
      );
      await deps.audit.record({
        teamId: inst.teamId,
        action: "installation.refresh_failed",
        targetType: "installation",
        targetId: installationId,
        after: { error_code: envelope.code, pages: outcome.pages },
      });
      throw new DomainError(envelope.code, message, {
        retryable: envelope.retryable,
        userActionRequired: envelope.userActionRequired,
        source: "provider",
      });
    }

    // A worker that lost its lease (another took the job over) must not apply a stale pass.
    await job?.assertLease();
    const applied = await repo.applyPass(passId, installationId, startedAt);
    if (applied.inserted >= BULK_INSERT_ROWS) await repo.analyze();
    await deps.mappings.refreshLabels(installationId);
    await deps.installations.recordPassSucceeded(installationId, new Date(), applied.liveCount);
    const result: RefreshResult = {
      installation_id: installationId,
      complete: true,
      pages: outcome.pages,
      seen: applied.seen,
      added: applied.inserted,
      updated: applied.updated,
      missing: applied.missing,
      unchanged: stats.unchanged,
      rows_written: applied.inserted + applied.updated + applied.missing,
    };
    if (result.rows_written > 0) {
      await deps.audit.record({
        teamId: inst.teamId,
        action: "installation.refreshed",
        targetType: "installation",
        targetId: installationId,
        after: result,
      });
    }
    return result;
  }

  deps.jobs.register(
    REFRESH_JOB,
    async (job, ctx) => {
      const { installation_id, due_before } = job.payload as RefreshPayload;
      // A scheduled pass found due by one process while another process's pass was finishing is queued
      // after that pass ended (the dedupe key was free again): the installation is fresh, skip it.
      if (due_before) {
        const synced = (await deps.installations.byId(installation_id))?.lastSyncAt;
        if (synced && synced >= new Date(due_before))
          return { installation_id, skipped: "synced since it was found due" };
      }
      // Belt and braces on top of the queue's dedupe: one pass per installation in this process.
      if (running.has(installation_id))
        throw new DomainError("refresh_in_progress", "A refresh of this installation is already running.", {
          retryable: true,
        });
      running.add(installation_id);
      try {
        return await refresh(installation_id, {
          ...ctx,
          attempt: { number: job.attempts, of: job.maxAttempts },
        });
      } finally {
        running.delete(installation_id);
      }
    },
    { onDead: recordDeadRefresh },
  );

  /**
   * A refresh that gave up shows on its installation, with the error it kept. Provider failures were
   * recorded by the pass itself (saying it gave up); a crash or a lost worker is recorded here.
   */
  async function recordDeadRefresh(job: JobRow) {
    const { installation_id } = job.payload as { installation_id: string };
    const error = job.error as JobFailure;
    if (error.source === "provider") return;
    await deps.installations.recordPassFailed(
      installation_id,
      new Date(),
      error.error_code,
      `Sync gave up after ${job.attempts} attempt(s): ${error.message}`,
      "error",
    );
  }

  return {
    refresh,
    /** One resource of the team, or undefined. */
    resource: (teamId: string, id: string) => repo.get(teamId, id),
    /** The team's bindable inventory for a provider (see snapshot.ts). */
    snapshot: snapshots.get,
    /** The team's snapshot if this process keeps (or now admits) one; null: answer from indexed SQL. */
    warmSnapshot: snapshots.warm,
    /** A team's installations, projects, live mappings and curation rules, for one without a snapshot. */
    coldBindings: snapshots.bindings,
    /** The rows some bind-resolve lookups find, for a team without a snapshot (`partialSnapshot`). */
    bindLookups: repo.bindLookups,

    /** Queues a pass; a second request while one is pending or running gets the same operation. */
    requestRefresh: (teamId: string, installationId: string, userId: string | null) =>
      requestRefresh(deps.jobs, teamId, installationId, userId),

    /** The pass queued or running for an installation, if any (what its page shows while it runs). */
    activeRefresh: (teamId: string, installationId: string) =>
      deps.jobs.activeFor(teamId, refreshKey(installationId)),

    /** Scheduled refresh: queues a pass for every installation not synced within the interval. */
    async enqueueDue(intervalMinutes: number) {
      const cutoff = new Date(Date.now() - intervalMinutes * 60_000);
      const due = await deps.installations.dueForRefresh(cutoff);
      for (const i of due) await requestRefresh(deps.jobs, i.teamId, i.id, null, cutoff);
      return due.length;
    },

    async page(f: InventoryFilter, cursor: string | undefined, limit: number) {
      const rows = await repo.page(f, decodeKeyCursor(cursor, ["label", "id"]), limit);
      return toPage(
        rows,
        limit,
        (r) => resourceView(r.resource, r.mapping),
        (r) => ({ label: r.resource.label, id: r.resource.id }),
      );
    },

    /** A person's list (the dashboard): a named sort, a page size, a total, pages both ways. */
    async list(f: InventoryFilter, req: ListRequest<InventorySort>) {
      const seek = decodeListCursor(req);
      const { rows, total } = await repo.list(f, req.sort, seek, req.size);
      return toListPage(
        rows,
        req,
        seek,
        total,
        (r) => resourceView(r.resource, r.mapping),
        (r) => [INVENTORY_SORTS[req.sort].key(r.resource), r.resource.id],
      );
    },

    counts: (teamId: string, installationId?: string) => repo.counts(teamId, installationId),

    upsertOne: (inst: InstallationRow, r: BindableResource) => repo.upsertOne(toRow(r, inst.teamId, inst.id)),

    /**
     * One resource as an event re-read it from the provider (src/host/webhooks): the row a pass would
     * stage for it, written only when its fingerprint differs (a rename updates labels and keeps the
     * mapping, a missing row is live again). The resources trigger moves the inventory version.
     */
    async applyResource(
      inst: InstallationRow,
      r: BindableResource,
    ): Promise<"added" | "updated" | "unchanged"> {
      const row = toRow(r, inst.teamId, inst.id);
      const before = (await repo.fingerprints(inst.id, [row.resourceKey])).get(row.resourceKey);
      if (before && before.fingerprint === row.fingerprint && !before.missing) return "unchanged";
      await repo.upsertOne(row);
      await deps.mappings.refreshLabels(inst.id);
      return before ? "updated" : "added";
    },

    /** The provider confirmed (a re-read answered not found) that the resource is gone: it is missing now. */
    markGone: (installationId: string, nativeId: string) =>
      repo.markMissingByNativeId(installationId, nativeId, new Date()),

    /**
     * The CLI's `tracker discover` list: every bindable resource of the team's installations for a
     * provider. From the team's bindable snapshot when this process keeps one (no query beyond
     * authentication while it is current; the same page of the same listing is the same object, so the
     * route serialises it once); else from indexed SQL, the whole list sent from its file on disk
     * (cold-listing.ts), gzip when the client takes it (`opts.gzip`).
     */
    async cliResources(
      team: { id: string; versions?: TeamVersions },
      provider: ProviderId,
      cursor: string | undefined,
      limit: number | undefined,
      opts: { gzip: boolean } = { gzip: true },
    ): Promise<CliResourcesAnswer> {
      const want = team.versions ?? (await repo.teamVersions(team.id));
      const snap = await snapshots.warm(team.id, provider, want);
      const after = snap ? null : decodeKeyCursor(cursor, ["label", "id"]);
      if (!snap) return cold.answer(team.id, provider, want, after, limit, opts.gzip);
      return { kind: "page", page: await warmPage(snap, team.id, provider, cursor, limit) };
    },

    /** Removes the listing files of this process. */
    close: () => files.close(),

    /**
     * Of some resources (an inventory page's rows), the ids the team's curation rules hide: the verdict
     * each provider's snapshot holds, so a page and the CLI agree.
     */
    async hiddenAmong(
      team: { id: string; versions?: TeamVersions },
      rows: { id: string; provider: string }[],
    ): Promise<Set<string>> {
      const hidden = new Set<string>();
      for (const provider of new Set(rows.map((r) => r.provider))) {
        const snap = await snapshots.get(team.id, provider, team.versions);
        for (const r of rows) {
          const i = r.provider === provider ? snap.slotOf(r.id) : undefined;
          if (i !== undefined && snap.curationHidden[i] === 1) hidden.add(r.id);
        }
      }
      return hidden;
    },

    /**
     * Up to `limit` resources matching `f` that curation leaves offered (the dashboard picker): pages
     * of the inventory with the hidden ones left out, until enough are found or none are left.
     */
    async offeredPage(team: { id: string; versions?: TeamVersions }, f: InventoryFilter, limit: number) {
      const items: ReturnType<typeof resourceView>[] = [];
      let after: { label: string; id: string } | null = null;
      for (let pages = 0; items.length < limit && pages < 20; pages++) {
        const rows = await repo.page(f, after, limit);
        const hidden = await this.hiddenAmong(
          team,
          rows.slice(0, limit).map((r) => r.resource),
        );
        for (const r of rows.slice(0, limit))
          if (!hidden.has(r.resource.id) && items.length < limit)
            items.push(resourceView(r.resource, r.mapping));
        if (rows.length <= limit) break;
        const last = rows[limit - 1].resource;
        after = { label: last.label, id: last.id };
      }
      return { items, next_cursor: null };
    },

    /**
     * Whether the team's curation rules leave a resource offered (the one verdict of
     * `curation/rules.ts`, as the snapshot applied it). Resources outside the bindable snapshot
     * (missing, archived, issues disabled) are not bindable anyway and answer true here.
     */
    async isOffered(team: { id: string; versions?: TeamVersions }, provider: ProviderId, resourceId: string) {
      const warm = team.versions ? await snapshots.warm(team.id, provider, team.versions) : null;
      // A team kept by no process: its bindings and the one row, curated as a snapshot would.
      const snap =
        warm ??
        (team.versions
          ? await coldRow(team.id, provider, team.versions, resourceId)
          : await snapshots.get(team.id, provider));
      const i = snap.slotOf(resourceId);
      return i === undefined || snap.curationHidden[i] === 0;
    },
  };
}

export type InventoryService = ReturnType<typeof inventoryService>;
