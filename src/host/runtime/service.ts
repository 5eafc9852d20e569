import type { Static } from "typebox";
import type { ProviderId } from "../../tracker/index.ts";
import type { JobsService } from "../jobs/service.ts";
import type { LinksService } from "../links/service.ts";
import { enrichment, identityPath } from "../status/service.ts";
import { type AuthContext, systemContext } from "../teams/access.ts";
import { type PhaseStatus, type PullFilters, pullIssues } from "./pull.ts";
import { applyPush, type ItemOutcome } from "./push.ts";
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

  async function pushResult(
    t: RuntimeTarget,
    items: unknown[],
    progress?: JobProgress,
  ): Promise<Static<typeof PushResult>> {
    const push = await applyPush(t, deps.links, items, progress);
    return { ...push, ...frame(t) };
  }

  async function runResult(
    t: RuntimeTarget,
    input: { pull_first: boolean; limit: number; items: unknown[] },
    progress?: JobProgress,
  ): Promise<Static<typeof RunResult>> {
    const pull = input.pull_first ? await pullIssues(t, { limit: input.limit }) : null;
    const push = await applyPush(t, deps.links, input.items, progress);
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

  type JobProgress = { resume?: ItemOutcome[]; onItem?: (o: ItemOutcome[]) => Promise<void> };

  /** Jobs re-route their mapping when they run: a mapping disabled or deleted meanwhile stops them. */
  async function jobTarget(p: JobPayload) {
    return deps.targets.route(systemContext(p.team_id, p.user_id), {
      provider: p.provider,
      binding_ref: p.binding_ref,
    });
  }

  function progressOf(job: { progress: unknown }, save: (p: unknown) => Promise<void>): JobProgress {
    const prev = (job.progress as { outcomes?: ItemOutcome[] } | null)?.outcomes;
    return {
      resume: Array.isArray(prev) ? prev : undefined,
      onItem: (outcomes) => save({ done: outcomes.length, outcomes }),
    };
  }

  deps.jobs.register(PUSH_JOB, async (job, ctx) => {
    const p = job.payload as JobPayload;
    return pushResult(await jobTarget(p), p.items, progressOf(job, ctx.progress));
  });
  deps.jobs.register(RUN_JOB, async (job, ctx) => {
    const p = job.payload as JobPayload;
    return runResult(
      await jobTarget(p),
      { pull_first: Boolean(p.pull), limit: p.pull?.limit ?? 0, items: p.items },
      progressOf(job, ctx.progress),
    );
  });

  async function enqueue(
    auth: AuthContext,
    t: RuntimeTarget,
    kind: string,
    payload: Omit<JobPayload, "team_id" | "user_id" | "provider" | "binding_ref">,
  ): Promise<Answer<never>> {
    const { job } = await deps.jobs.enqueue({
      teamId: auth.team.id,
      kind,
      createdBy: auth.user.id,
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
      return { status: 200, body: await pushResult(t, input.items) };
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
      return {
        status: 200,
        body: await runResult(t, { pull_first: input.pull_first, limit: input.limit, items }),
      };
    },
  };
}

export type RuntimeService = ReturnType<typeof runtimeService>;
