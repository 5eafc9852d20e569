import type { Static } from "typebox";
import { httpFor, impatient, type ProviderId } from "../../tracker/index.ts";
import { providerError } from "../http/provider-errors.ts";
import { type JobContext, type JobRow, type JobsService, RetryLater } from "../jobs/service.ts";
import type { LinksService } from "../links/service.ts";
import { enrichment, identityPath } from "../status/service.ts";
import { type AuthContext, systemContext } from "../teams/access.ts";
import { type PhaseStatus, type PullFilters, type PullPhase, pullIssues } from "./pull.ts";
import { applyPush, type ItemOutcome, type PushPhase, SlowDown } from "./push.ts";
import type { Pending, PullResult, PushResult, RunResult } from "./schemas.ts";
import type { RuntimeTarget, RuntimeTargets } from "./target.ts";

/**
 * Pushes of at most this many items answer 200 with the result; larger batches answer 202 and run in
 * the job queue (poll `GET /tracker/operations/{id}/`). A run is synchronous when its push has at most
 * this many items and its pull at most `RUN_SYNC_MAX_PULL` issues.
 */
export const PUSH_SYNC_MAX_ITEMS = 10;
export const RUN_SYNC_MAX_PULL = 100;

export interface Routed {
  provider: ProviderId;
  binding_ref?: string;
  project_slug?: string;
}

interface JobPayload {
  team_id: string;
  user_id: string | null;
  provider: ProviderId;
  binding_ref: string;
  items: unknown[];
  pull?: { limit: number } | null;
}

/**
 * The CLI gives up 120 s after it sent a write, polling included (contract §1.5). A provider that asks
 * a synchronous push to wait at most this long gets the rest done by an operation (202); a longer wait
 * with nothing applied answers `rate_limited` instead.
 */
export const DEFER_MAX_WAIT_SECONDS = 60;
/** An operation saves its per-item progress at most this often (see `progressOf`). */
const PROGRESS_EVERY_MS = 500;

/** What a push or run operation saved: outcomes so far (and a run's pull phase, done once). */
interface SavedProgress {
  done: number;
  total: number;
  outcomes: ItemOutcome[];
  pull?: PullPhase | null;
}

/** A write's answer: the result now, or an operation to poll. */
type Answer<T> = { status: 200; body: T } | { status: 202; body: Static<typeof Pending> };

const PUSH_JOB = "tracker.push";
const RUN_JOB = "tracker.run";

function combined(a: PhaseStatus | null, b: PhaseStatus | null): PhaseStatus {
  const all = [a, b].filter((s): s is PhaseStatus => s !== null);
  if (all.every((s) => s === "ok")) return "ok";
  if (all.every((s) => s === "error")) return "error";
  return "partial";
}

export function runtimeService(deps: {
  targets: Pick<RuntimeTargets, "route">;
  links: LinksService;
  jobs: Pick<JobsService, "enqueue" | "register">;
}) {
  const frame = (t: RuntimeTarget) => ({
    provider: t.provider,
    ...enrichment(t.mapping),
    identity_path: identityPath(t.mapping, t.installation),
    doctrine: null,
  });

  /** The push phase of a request that must answer soon: a provider's "wait" ends it instead of a sleep. */
  const hurried = (t: RuntimeTarget): RuntimeTarget => ({
    ...t,
    conn: { ...t.conn, http: impatient(httpFor(t.conn)) },
  });

  async function pushResult(
    t: RuntimeTarget,
    items: unknown[],
    progress: JobProgress,
  ): Promise<Static<typeof PushResult>> {
    const push = await applyPush(t, deps.links, items, { ...progress, deferSlowDown: true });
    return { ...push, ...frame(t) };
  }

  async function runResult(
    t: RuntimeTarget,
    input: { pull_first: boolean; limit: number; items: unknown[] },
    progress: JobProgress & { pull?: PullPhase | null; hurry?: boolean },
  ): Promise<Static<typeof RunResult>> {
    const pull = progress.pull ?? (input.pull_first ? await pullIssues(t, { limit: input.limit }) : null);
    let push: PushPhase;
    try {
      push = await applyPush(progress.hurry ? hurried(t) : t, deps.links, input.items, {
        ...progress,
        onItem: progress.onItem && ((o, item) => progress.onItem!(o, item, { pull })),
        deferSlowDown: true,
      });
    } catch (err) {
      if (err instanceof SlowDown) err.extra = { pull };
      throw err;
    }
    return {
      status: combined(pull?.status ?? null, push.status),
      summary: {
        total: (pull?.summary.total ?? 0) + push.summary.total,
        succeeded: (pull?.summary.succeeded ?? 0) + push.summary.succeeded,
        failed: (pull?.summary.failed ?? 0) + push.summary.failed,
        skipped: (pull?.summary.skipped ?? 0) + push.summary.skipped,
      },
      pull,
      push,
      ...frame(t),
    };
  }

  type JobProgress = {
    resume?: ItemOutcome[];
    onItem?: (o: ItemOutcome[], item: { unrepeatable: boolean }, extra?: object) => Promise<void>;
  };

  /** Jobs re-route their mapping when they run: a mapping disabled or deleted meanwhile stops them. */
  async function jobTarget(p: JobPayload) {
    return deps.targets.route(systemContext(p.team_id, p.user_id), {
      provider: p.provider,
      binding_ref: p.binding_ref,
    });
  }

  /**
   * What an operation reports while it runs: `{done, total, outcomes}` (the per-item outcomes so far,
   * in the result's shape), saved at most every `PROGRESS_EVERY_MS`, after the last item, and at once
   * after an item that could not be recognised if repeated (a create without a work package).
   */
  function progressOf(job: JobRow, ctx: JobContext, total: number): JobProgress & { saved?: SavedProgress } {
    const saved = (job.progress as SavedProgress | null) ?? undefined;
    const prev = saved?.outcomes;
    let last = 0;
    return {
      saved,
      resume: Array.isArray(prev) ? prev : undefined,
      async onItem(outcomes, item, extra) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const now = Date.now();
        if (!item.unrepeatable && outcomes.length < total && now - last < PROGRESS_EVERY_MS) return;
        last = now;
        await ctx.progress({ done: outcomes.length, total, outcomes, ...extra });
      },
    };
  }

  /**
   * A job whose provider asked to wait saves what it did and goes back to the queue for after the
   * wait; it resumes from those outcomes, so nothing applied is applied again.
   */
  async function pausable<T>(job: JobRow, ctx: JobContext, total: number, work: () => Promise<T>) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof SlowDown)) throw err;
      const before = (job.progress as SavedProgress | null)?.outcomes?.length ?? 0;
      await ctx.progress({ done: err.done.length, total, outcomes: err.done, ...err.extra });
      throw new RetryLater(err.retryAfterSeconds, err.done.length > before, providerError(err.refusal));
    }
  }

  deps.jobs.register(PUSH_JOB, async (job, ctx) => {
    const p = job.payload as JobPayload;
    const t = await jobTarget(p);
    return pausable(job, ctx, p.items.length, () =>
      pushResult(t, p.items, progressOf(job, ctx, p.items.length)),
    );
  });
  deps.jobs.register(RUN_JOB, async (job, ctx) => {
    const p = job.payload as JobPayload;
    const t = await jobTarget(p);
    const progress = progressOf(job, ctx, p.items.length);
    return pausable(job, ctx, p.items.length, () =>
      runResult(
        t,
        { pull_first: Boolean(p.pull), limit: p.pull?.limit ?? 0, items: p.items },
        { ...progress, pull: progress.saved?.pull ?? null },
      ),
    );
  });

  /**
   * A synchronous write the provider asked to wait: the rest becomes an operation that starts after
   * the wait and resumes from the outcomes so far (202). When nothing was applied yet and the wait is
   * longer than the CLI's deadline leaves room for, the provider's refusal is the answer (`rate_limited`
   * with `retry_after_seconds`, nothing queued): the CLI reports when to come back.
   */
  function deferred(
    auth: AuthContext,
    t: RuntimeTarget,
    kind: string,
    payload: Omit<JobPayload, "team_id" | "user_id" | "provider" | "binding_ref">,
    s: SlowDown,
  ): Promise<Answer<never>> {
    if (s.applied === 0 && s.retryAfterSeconds > DEFER_MAX_WAIT_SECONDS) throw providerError(s.refusal);
    return enqueue(auth, t, kind, payload, {
      progress: { done: s.done.length, total: payload.items.length, outcomes: s.done, ...s.extra },
      runAfterSeconds: s.retryAfterSeconds,
    });
  }

  async function enqueue(
    auth: AuthContext,
    t: RuntimeTarget,
    kind: string,
    payload: Omit<JobPayload, "team_id" | "user_id" | "provider" | "binding_ref">,
    start: { progress?: SavedProgress; runAfterSeconds?: number } = {},
  ): Promise<Answer<never>> {
    const { job } = await deps.jobs.enqueue({
      teamId: auth.team.id,
      kind,
      createdBy: auth.user.id,
      ...start,
      payload: {
        team_id: auth.team.id,
        user_id: auth.user.id,
        provider: t.provider,
        binding_ref: t.mapping.mapping.bindingRef,
        ...payload,
      } satisfies JobPayload,
    });
    return { status: 202, body: { operation_id: job.id, status: "pending" } };
  }

  return {
    /** `POST /tracker/pull/` (contract §4): one page of normalised issues of the mapped resource. */
    async pull(
      auth: AuthContext,
      input: Routed & { limit: number; cursor?: string | null; filters?: PullFilters | null },
    ): Promise<Static<typeof PullResult>> {
      const t = await deps.targets.route(auth, input);
      const pull = await pullIssues(t, {
        limit: input.limit,
        cursor: input.cursor ?? undefined,
        filters: input.filters ?? undefined,
      });
      return { ...pull, ...frame(t) };
    },

    /** `POST /tracker/push/` (contract §5): 200 with the result, or 202 with an operation for large batches. */
    async push(
      auth: AuthContext,
      input: Routed & { items: unknown[] },
    ): Promise<Answer<Static<typeof PushResult>>> {
      const t = await deps.targets.route(auth, input);
      if (input.items.length > PUSH_SYNC_MAX_ITEMS) return enqueue(auth, t, PUSH_JOB, { items: input.items });
      try {
        return { status: 200, body: await pushResult(hurried(t), input.items, {}) };
      } catch (err) {
        if (err instanceof SlowDown) return deferred(auth, t, PUSH_JOB, { items: input.items }, err);
        throw err;
      }
    },

    /** `POST /tracker/run/` (contract §6): pull, then push (the CLI sends no items: an empty push). */
    async run(
      auth: AuthContext,
      input: Routed & { pull_first: boolean; limit: number; items?: unknown[] },
    ): Promise<Answer<Static<typeof RunResult>>> {
      const t = await deps.targets.route(auth, input);
      const items = input.items ?? [];
      if (items.length > PUSH_SYNC_MAX_ITEMS || (input.pull_first && input.limit > RUN_SYNC_MAX_PULL))
        return enqueue(auth, t, RUN_JOB, { items, pull: input.pull_first ? { limit: input.limit } : null });
      const run = { pull_first: input.pull_first, limit: input.limit, items };
      try {
        return { status: 200, body: await runResult(t, run, { hurry: true }) };
      } catch (err) {
        const pull = input.pull_first ? { limit: input.limit } : null;
        if (err instanceof SlowDown) return deferred(auth, t, RUN_JOB, { items, pull }, err);
        throw err;
      }
    },
  };
}

export type RuntimeService = ReturnType<typeof runtimeService>;
