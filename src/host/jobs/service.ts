import type { Logger } from "pino";
import type { Database } from "../../storage/database.ts";
import { newId } from "../ids.ts";
import { type JobRow, jobsRepository } from "./repository.ts";

export type JobHandler = (job: JobRow, ctx: { progress(p: unknown): Promise<void> }) => Promise<unknown>;

export interface JobFailure {
  error_code: string;
  message: string;
  retryable: boolean;
  user_action_required: boolean;
  source: "saas" | "provider";
  /** The rest of the contract envelope (§10): always present on failures written from now on. */
  retry_after_seconds?: number | null;
  effect_certainty?: "no_effect" | "unknown" | "applied";
  [extra: string]: unknown;
}

/** Handlers throw this to fail a job with a specific envelope instead of `internal_error`. */
export class JobError extends Error {
  constructor(readonly failure: JobFailure) {
    super(failure.message);
  }
}

/**
 * The PostgreSQL-backed job queue. Every app process runs a worker that claims jobs with
 * `for update skip locked`; on the embedded default that is the one in-process worker.
 */
export function jobsService(
  db: Database,
  logger: Logger,
  opts: { pollMs?: number; lockSeconds?: number } = {},
) {
  const repo = jobsRepository(db);
  const handlers = new Map<string, JobHandler>();
  const pollMs = opts.pollMs ?? 500;
  const lockSeconds = opts.lockSeconds ?? 300;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;

  async function runOne(): Promise<boolean> {
    const job = await repo.claim(lockSeconds);
    if (!job) return false;
    const handler = handlers.get(job.kind);
    const log = logger.child({ job_id: job.id, job_kind: job.kind });
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const result = await handler(job, { progress: (p) => repo.progress(job.id, p, lockSeconds) });
      await repo.finish(job.id, { status: "completed", result: result ?? {} });
    } catch (err) {
      const failure: JobFailure =
        err instanceof JobError
          ? err.failure
          : {
              error_code: "internal_error",
              message: "The operation failed unexpectedly.",
              retryable: true,
              user_action_required: false,
              source: "saas",
              retry_after_seconds: null,
              effect_certainty: "unknown",
            };
      if (!(err instanceof JobError)) log.error({ err }, "job failed");
      await repo.finish(job.id, { status: "failed", error: failure });
    }
    return true;
  }

  async function drain() {
    while (!stopped && (await runOne())) {}
  }

  function kick() {
    if (stopped || running) return;
    running = drain()
      .catch((err) => logger.error({ err }, "job worker error"))
      .finally(() => {
        running = null;
      });
  }

  return {
    register(kind: string, handler: JobHandler) {
      handlers.set(kind, handler);
    },

    async enqueue(input: {
      teamId: string;
      kind: string;
      payload?: unknown;
      dedupeKey?: string;
      createdBy?: string | null;
    }) {
      const out = await repo.enqueue({
        id: newId("op"),
        teamId: input.teamId,
        kind: input.kind,
        payload: input.payload ?? {},
        dedupeKey: input.dedupeKey ?? null,
        createdBy: input.createdBy ?? null,
      });
      kick();
      return out;
    },

    get: (id: string, teamId: string) => repo.getForTeam(id, teamId),

    /** Waits until the job is terminal (tests, the demo's first sync). */
    async waitFor(id: string, timeoutMs = 60_000): Promise<JobRow> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await repo.get(id);
        if (job && (job.status === "completed" || job.status === "failed")) return job;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${job?.status} after ${timeoutMs} ms`);
        kick();
        await new Promise((r) => setTimeout(r, 25));
      }
    },

    start() {
      stopped = false;
      timer = setInterval(kick, pollMs);
      timer.unref();
      kick();
    },

    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },

    /** Runs due jobs now, in this process (tests). */
    runDue: drain,
  };
}

export type JobsService = ReturnType<typeof jobsService>;
