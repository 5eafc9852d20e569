import type { Static } from "typebox";
import {
  ISSUE_STATUSES,
  type IssueDraft,
  type IssuePatch,
  type IssueStatus,
  type NormalizedIssue,
  TrackerError,
} from "../../tracker/index.ts";
import { providerError, resourceMissing } from "../http/provider-errors.ts";
import type { WorkPackageLinkRow } from "../links/service.ts";
import { CreateInProgress, type LinksService } from "../links/service.ts";
import { type ItemError, itemErrorOf, type PhaseStatus, type Summary } from "./pull.ts";
import type { PushOutcome, PushPhase as PushPhaseSchema } from "./schemas.ts";
import type { RuntimeTarget } from "./target.ts";

const ACTIONS = ["create", "update", "transition", "link"] as const;
type Action = (typeof ACTIONS)[number];

export type ItemOutcome = Static<typeof PushOutcome>;
export type Outcome = ItemOutcome["outcome"];
export type PushPhase = Static<typeof PushPhaseSchema>;

interface ValidItem {
  action: Action;
  wpId: string | null;
  ref: { id?: string; key?: string } | null;
  patch: IssuePatch;
}

/** A failure of one item only (bad item, unknown issue); the batch goes on. */
class ItemRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const text = (v: unknown, max: number) => typeof v === "string" && v.trim().length > 0 && v.length <= max;

/** Checks one push item (the CLI forwards the items file verbatim, so each is checked on its own). */
export function validateItem(raw: unknown, provider: string): ValidItem {
  const bad = (why: string) => new ItemRefused("invalid_item", `Invalid push item: ${why}.`);
  if (!isObject(raw)) throw bad("it must be an object");
  const action = raw.action;
  if (typeof action !== "string" || !(ACTIONS as readonly string[]).includes(action))
    throw bad(`\`action\` must be one of ${ACTIONS.join(", ")}`);
  let wpId: string | null = null;
  if (raw.wp_id !== undefined && raw.wp_id !== null) {
    if (!text(raw.wp_id, 128)) throw bad("`wp_id` must be a non-empty string of at most 128 characters");
    wpId = (raw.wp_id as string).trim();
  }
  let ref: ValidItem["ref"] = null;
  if (raw.ref !== undefined && raw.ref !== null) {
    if (!isObject(raw.ref)) throw bad("`ref` must be an object");
    const r = raw.ref;
    if (r.system !== undefined && r.system !== null && r.system !== provider)
      throw bad(`\`ref.system\` is ${String(r.system)}, but this binding is ${provider}`);
    const id = r.id === undefined || r.id === null ? undefined : String(r.id);
    const key = r.key === undefined || r.key === null ? undefined : String(r.key);
    if ((id !== undefined && !text(id, 256)) || (key !== undefined && !text(key, 256)))
      throw bad("`ref.id` and `ref.key` must be non-empty strings");
    if (id !== undefined || key !== undefined) ref = { id, key };
  }
  const patch: IssuePatch = {};
  if (raw.patch !== undefined && raw.patch !== null) {
    if (!isObject(raw.patch)) throw bad("`patch` must be an object");
    const p = raw.patch;
    if (p.title !== undefined) {
      if (!text(p.title, 512))
        throw bad("`patch.title` must be a non-empty string of at most 512 characters");
      patch.title = p.title as string;
    }
    if (p.body !== undefined) {
      if (p.body !== null && (typeof p.body !== "string" || p.body.length > 65_536))
        throw bad("`patch.body` must be a string (at most 65536 characters) or null");
      patch.body = p.body as string | null;
    }
    if (p.labels !== undefined) {
      if (!Array.isArray(p.labels) || p.labels.some((l) => !text(l, 255)) || p.labels.length > 100)
        throw bad("`patch.labels` must be a list of non-empty strings");
      patch.labels = p.labels as string[];
    }
    if (p.status !== undefined) {
      if (!ISSUE_STATUSES.includes(p.status as IssueStatus))
        throw bad(`\`patch.status\` must be one of ${ISSUE_STATUSES.join(", ")}`);
      patch.status = p.status as IssueStatus;
    }
  }
  if (raw.target_status !== undefined && raw.target_status !== null) {
    if (!ISSUE_STATUSES.includes(raw.target_status as IssueStatus))
      throw bad(`\`target_status\` must be one of ${ISSUE_STATUSES.join(", ")}`);
    patch.status = raw.target_status as IssueStatus;
  }
  const changes = Object.keys(patch).length > 0;
  switch (action as Action) {
    case "create":
      if (!patch.title) throw bad("`create` needs `patch.title`");
      break;
    case "update":
      if (!ref && !wpId) throw bad("`update` needs `ref` or a linked `wp_id`");
      if (!changes) throw bad("`update` needs `patch` or `target_status`");
      break;
    case "transition":
      if (!ref && !wpId) throw bad("`transition` needs `ref` or a linked `wp_id`");
      if (!patch.status) throw bad("`transition` needs `target_status`");
      break;
    case "link":
      if (!ref || !wpId) throw bad("`link` needs `wp_id` and `ref`");
      break;
  }
  return { action: action as Action, wpId, ref, patch };
}

/** Failures that say nothing about the other items: a bad item or an issue that is not there. */
const itemScoped = (err: TrackerError) => err.kind === "not_found" || err.kind === "invalid_request";

/**
 * The provider asked to slow down (a rate limit, or 503 with Retry-After): nothing of this request was
 * done, and it says when to come back.
 */
export const asksToSlowDown = (err: unknown): err is TrackerError =>
  err instanceof TrackerError &&
  (err.kind === "rate_limited" ||
    (err.kind === "upstream_unavailable" && err.status === 503 && err.retryAfterSeconds !== null));

/** Seconds to wait when a rate limit named no time (the contract's own default for the CLI is 5 s). */
const DEFAULT_SLOW_DOWN_SECONDS = 5;

/**
 * A batch stopped because the provider asked to slow down: `done` are the outcomes of the items before
 * the refused one (applied or failed on their own), so the rest can resume from there after the wait.
 */
export class SlowDown extends Error {
  /** What the caller adds to the saved progress (a run's pull phase). */
  extra: object = {};

  constructor(
    readonly done: ItemOutcome[],
    readonly retryAfterSeconds: number,
    readonly refusal: TrackerError,
  ) {
    super(`${refusal.provider} asked to slow down for ${retryAfterSeconds} s after ${done.length} item(s)`);
  }

  /** Items applied before the provider asked to wait. */
  get applied(): number {
    return this.done.filter((o) => o.outcome !== "failed" && o.outcome !== "skipped").length;
  }
}

/** Failures the provider refused before doing anything. */
const refusedUpfront = (err: TrackerError) =>
  err.kind === "auth_expired" ||
  err.kind === "auth_revoked" ||
  err.kind === "forbidden" ||
  err.kind === "rate_limited";

/**
 * Applies push items to the mapped resource, in order, and records work-package links. A failure of one
 * item is reported on that item; a provider failure that stops the batch (auth, rate limit, outage)
 * marks the failing item `failed` and the rest `skipped`, so the result says exactly what was applied.
 * When the batch stopped before anything was applied, the provider error itself is thrown.
 * `resume` (outcomes of an earlier, interrupted run of the same batch) skips items already applied.
 */
export async function applyPush(
  t: RuntimeTarget,
  links: LinksService,
  items: unknown[],
  opts: {
    resume?: ItemOutcome[];
    onItem?: (outcomes: ItemOutcome[], item: { unrepeatable: boolean }) => Promise<void>;
    /** Throw `SlowDown` when the provider asks to wait, instead of failing the item and skipping the rest. */
    deferSlowDown?: boolean;
  } = {},
): Promise<PushPhase> {
  const outcomes: ItemOutcome[] = [];
  const itemErrors: ItemError[] = [];
  /** What stopped the batch: a provider failure that is not about one item, or an unexpected error. */
  let stop: { err: unknown; code: string } | null = null;
  const m = t.mapping;

  async function targetOf(item: ValidItem): Promise<string> {
    if (item.ref?.key) return item.ref.key;
    if (item.ref?.id) {
      // Ids are checked with a read: some providers read a bare number as a per-resource issue number.
      const found = await t.adapter.getIssue(t.conn, t.params, item.ref.id);
      if (!found || found.ref.id !== item.ref.id)
        throw new ItemRefused("issue_not_found", `No issue ${item.ref.id} in ${m.mapping.displayLabel}.`);
      return found.ref.key ?? found.ref.id;
    }
    const link = item.wpId ? await links.get(m, item.wpId) : undefined;
    if (!link)
      throw new ItemRefused(
        "link_not_found",
        `Work package ${item.wpId} is not linked to an issue of ${m.mapping.displayLabel}; push \`create\` or \`link\` first.`,
      );
    return link.externalKey ?? link.externalId;
  }

  async function apply(
    item: ValidItem,
  ): Promise<{ outcome: Outcome; issue: NormalizedIssue; message: string | null }> {
    const { adapter, conn, params } = t;
    switch (item.action) {
      case "create": {
        // A work package's issue carries a hidden marker, so a create whose answer was lost can be found.
        const marker = item.wpId ? `wp=${m.mapping.bindingRef}/${encodeURIComponent(item.wpId)}` : undefined;
        const draft: IssueDraft = { ...item.patch, title: item.patch.title!, marker };
        /** The issue a create with an unknown effect made after all, brought to the item's status and labels. */
        const recover = async (): Promise<NormalizedIssue | null> => {
          if (!marker || !adapter.findByMarker) return null;
          const found = await adapter.findByMarker(conn, params, marker);
          if (!found) return null;
          const rest: IssuePatch = {};
          if (item.patch.status) rest.status = item.patch.status;
          if (item.patch.labels) rest.labels = item.patch.labels;
          return Object.keys(rest).length > 0
            ? adapter.updateIssue(conn, params, found.ref.key ?? found.ref.id, rest)
            : found;
        };
        const create = async () => {
          try {
            return await adapter.createIssue(conn, params, draft);
          } catch (err) {
            // The provider may have created it before the answer was lost: look before giving up.
            if (err instanceof TrackerError && err.effectUnknown) {
              const found = await recover().catch(() => null);
              if (found) return found;
            }
            // Nothing to find but the resource itself: it is gone upstream.
            if (err instanceof TrackerError && err.kind === "not_found")
              throw resourceMissing(t.provider, m.mapping.displayLabel);
            throw err;
          }
        };
        if (!item.wpId) return { outcome: "created", issue: await create(), message: null };
        const wpId = item.wpId;
        /** Already created (an earlier or concurrent push, a retried job): update it, don't duplicate it. */
        const updateLinked = async (linked: WorkPackageLinkRow) => {
          try {
            const issue = await adapter.updateIssue(
              conn,
              params,
              linked.externalKey ?? linked.externalId,
              item.patch,
            );
            await links.record(m, wpId, issue);
            return {
              outcome: "updated" as const,
              issue,
              message: `already linked to ${issue.ref.key ?? issue.ref.id}; updated`,
            };
          } catch (err) {
            // The linked issue was deleted upstream: create a new one and link it instead.
            if (!(err instanceof TrackerError && err.kind === "not_found")) throw err;
            return null;
          }
        };
        const linked = await links.get(m, wpId);
        const updated = linked ? await updateLinked(linked) : null;
        if (updated) return updated;
        const once = await links.createOnce(m, wpId, create, linked?.externalId, {
          recover,
          uncertain: (err) => err instanceof TrackerError && err.effectUnknown,
        });
        if ("created" in once) return { outcome: "created", issue: once.created, message: null };
        const again = await updateLinked(once.linked);
        if (again) return again;
        throw new ItemRefused(
          "issue_not_found",
          `The issue linked to work package ${wpId} was deleted upstream while this push ran; push again.`,
        );
      }
      case "update":
      case "transition": {
        const issue = await adapter.updateIssue(conn, params, await targetOf(item), item.patch);
        if (item.wpId) await links.record(m, item.wpId, issue);
        return { outcome: "updated", issue, message: null };
      }
      case "link": {
        const idOrKey = await targetOf(item);
        const issue = await adapter.getIssue(conn, params, idOrKey);
        if (!issue)
          throw new ItemRefused("issue_not_found", `No issue ${idOrKey} in ${m.mapping.displayLabel}.`);
        await links.record(m, item.wpId!, issue);
        return { outcome: "linked", issue, message: null };
      }
    }
  }

  for (let index = 0; index < items.length; index++) {
    const raw = items[index];
    const r = raw as Record<string, unknown> | null;
    const base = {
      index,
      wp_id: typeof r?.wp_id === "string" ? r.wp_id : null,
      action: typeof r?.action === "string" ? r.action : null,
      ref: (r && typeof r === "object" ? r.ref : null) ?? null,
    };
    const previous = opts.resume?.[index];
    if (previous && previous.outcome !== "skipped") {
      outcomes.push(previous);
      if (previous.outcome === "failed")
        itemErrors.push({
          index,
          wp_id: previous.wp_id,
          error_code: previous.error_code ?? "item_failed",
          message: previous.message ?? "failed",
          retryable: false,
          retry_after_seconds: null,
          source: "provider",
        });
      continue;
    }
    if (stop) {
      outcomes.push({
        ...base,
        outcome: "skipped",
        remote_ref: null,
        version: null,
        message: `not attempted: the batch stopped at an earlier item (${stop.code})`,
      });
      continue;
    }
    /** A create without a work package cannot be recognised again: repeating it would duplicate it. */
    let unrepeatable = false;
    try {
      const item = validateItem(raw, t.provider);
      unrepeatable = item.action === "create" && !item.wpId;
      const done = await apply(item);
      outcomes.push({
        ...base,
        outcome: done.outcome,
        remote_ref: done.issue.ref,
        version: done.issue.updated_at,
        message: done.message,
      });
    } catch (caught) {
      let err = caught;
      if (opts.deferSlowDown && asksToSlowDown(err))
        throw new SlowDown(outcomes, Math.ceil(err.retryAfterSeconds ?? DEFAULT_SLOW_DOWN_SECONDS), err);
      // An item that finds nothing (or is refused) may mean the resource itself is gone upstream.
      if (
        err instanceof TrackerError &&
        (err.kind === "not_found" || err.kind === "invalid_request") &&
        (await t.gone())
      )
        err = resourceMissing(t.provider, m.mapping.displayLabel);
      let e: ItemError;
      if (err instanceof CreateInProgress) {
        e = {
          index,
          wp_id: base.wp_id,
          error_code: "create_in_progress",
          message: err.message,
          retryable: true,
          retry_after_seconds: 5,
          source: "saas",
        };
      } else if (err instanceof ItemRefused) {
        e = {
          index,
          wp_id: base.wp_id,
          error_code: err.code,
          message: err.message,
          retryable: false,
          retry_after_seconds: null,
          source: "saas",
        };
      } else if (err instanceof TrackerError && err.kind === "not_found") {
        e = {
          ...itemErrorOf(err, { index, wp_id: base.wp_id }),
          error_code: "issue_not_found",
          message: `No such issue in ${m.mapping.displayLabel}.`,
        };
      } else {
        e = itemErrorOf(err, { index, wp_id: base.wp_id });
        // Anything but a bad item or an unknown issue (auth, rate limit, outage, resource gone) stops the batch.
        if (!(err instanceof TrackerError && itemScoped(err))) stop = { err, code: e.error_code };
      }
      itemErrors.push(e);
      outcomes.push({
        ...base,
        outcome: "failed",
        remote_ref: null,
        version: null,
        message: e.message,
        error_code: e.error_code,
      });
    }
    await opts.onItem?.(outcomes, { unrepeatable });
  }

  const applied = outcomes.filter((o) => o.outcome !== "failed" && o.outcome !== "skipped").length;
  if (stop && applied === 0) {
    if (!(stop.err instanceof TrackerError)) throw stop.err;
    throw providerError(stop.err, refusedUpfront(stop.err) ? "no_effect" : "unknown");
  }
  const failed = outcomes.filter((o) => o.outcome === "failed").length;
  const skipped = outcomes.filter((o) => o.outcome === "skipped").length;
  const status: PhaseStatus = failed + skipped === 0 ? "ok" : applied > 0 ? "partial" : "error";
  return {
    status,
    summary: { total: outcomes.length, succeeded: applied, failed, skipped } satisfies Summary,
    items: outcomes,
    item_errors: itemErrors.length > 0 ? itemErrors : null,
  };
}
