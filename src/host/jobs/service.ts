import type { Logger } from "pino";
import type { Database } from "../../storage/database.ts";
import { DomainError } from "../errors/domain-error.ts";
import { toEnvelope } from "../errors/envelope.ts";
import { newId } from "../ids.ts";
import { purgeRetained, queueSummary } from "./housekeeping.ts";
import { type JobRow, jobsRepository, TERMINAL } from "./repository.ts";

/** The rows this feature hands to others (its repository stays private). */
export type { JobRow } from "./repository.ts";

export interface JobContext {
  /** Records progress; throws LeaseLostError when another worker took the job over. */
  progress(p: unknown): Promise<void>;
  /** Throws LeaseLostError unless this worker still holds the job (call before applying results). */
  assertLease(): Promise<void>;
  /** `<job id>:<lease>`: names what this attempt writes, so a purge can tell live work from dead. */
  attemptId: string;
  /** Aborted when a heartbeat finds the lease lost. */
  signal: AbortSignal;
}

export type JobHandler = (job: JobRow, ctx: JobContext) => Promise<unknown>;

export interface JobKindOptions {
  /** Called once when a job of this kind ends `dead` (in whichever process saw it die). */
  onDead?(job: JobRow): Promise<void>;
}

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

/** This worker no longer holds the job: another took it over after the lease expired. */
export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lease of job ${jobId} lost to another worker`);
  }
}

/**
 * Thrown by a handler whose provider asked it to wait: the job goes back to `pending` and runs again
 * after `seconds` (resuming from the progress it saved). An attempt that made progress is not counted
 * against `maxAttempts` (a long batch under a rate limit waits many times); one that made none is an
 * ordinary retryable failure.
 */
export class RetryLater extends Error {
  constructor(
    readonly seconds: number,
    readonly progressed: boolean,
    /** The refusal behind the wait (a domain error), recorded as the job's last error. */
    readonly refusal: unknown,
  ) {
    super(`retry in ${seconds} s`);
  }
}

export interface JobQueueOptions {
  pollMs?: number;
  /** Seconds a claim (and each heartbeat) holds a job; a dead worker's job is claimable after it. */
  leaseSeconds?: number;
  /** Heartbeat interval; default a third of the lease. */
  heartbeatMs?: number;
  /** Jobs this process runs at once. */
  concurrency?: number;
  /** Attempts before a job that keeps failing retryably (or killing its worker) is `dead`. */
  maxAttempts?: number;
  /** Backoff after the n-th failed attempt: uniform in [0, min(max, base·2^(n-1))] ("full jitter"). */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /**
   * At stop, how long running jobs may take to finish before they are handed back to the queue (their
   * lease released, so another process runs them at once instead of after the lease expires).
   */
  shutdownGraceMs?: number;
}

/** What the queue tells an observer (metrics) besides its rows. */
export interface JobEvents {
  retried?(kind: string): void;
  died?(kind: string): void;
  released?(kind: string): void;
}

export const JOB_DEFAULTS = {
  pollMs: 500,
  leaseSeconds: 30,
  concurrency: 2,
  maxAttempts: 5,
  retryBaseSeconds: 5,
  retryMaxSeconds: 600,
  shutdownGraceMs: 10_000,
} as const;

const unexpected: JobFailure = {
  error_code: "internal_error",
  message: "The operation failed unexpectedly.",
  retryable: true,
  user_action_required: false,
  source: "saas",
  retry_after_seconds: null,
  effect_certainty: "unknown",
};

/**
 * The job surface of the error family: a handler's domain error is what its operation records, as the
 * contract's envelope (§7: `failed` with an `error` envelope); anything else is `internal_error`.
 */
export const failureOf = (err: unknown): JobFailure =>
  err instanceof DomainError ? toEnvelope(err) : unexpected;

/** Full-jitter exponential backoff, never sooner than the provider's Retry-After. */
export function retryDelaySeconds(
  attempts: number,
  failure: JobFailure,
  o: { retryBaseSeconds: number; retryMaxSeconds: number },
  random = Math.random,
): number {
  const ceiling = Math.min(o.retryMaxSeconds, o.retryBaseSeconds * 2 ** Math.max(0, attempts - 1));
  return Math.max(failure.retry_after_seconds ?? 0, random() * ceiling);
}

/**
 * The job queue on the application's own table. Every app process runs a worker that claims up to
 * `concurrency` jobs with `for update skip locked`, keeps each lease alive by heartbeats, and retries
 * retryable failures with backoff; on the embedded default that is the one in-process worker. Jobs
 * that share a concurrency key run one at a time, in whichever process claims them.
 */
export function jobsService(
  db: Database,
  logger: Logger,
  opts: JobQueueOptions = {},
  events: JobEvents = {},
) {
  const o = { ...JOB_DEFAULTS, ...opts };
  const heartbeatMs = opts.heartbeatMs ?? Math.max(50, (o.leaseSeconds * 1000) / 3);
  const repo = jobsRepository(db);
  const kinds = new Map<string, { handler: JobHandler; options: JobKindOptions }>();
  const active = new Set<Promise<void>>();
  /** The running attempts of this process, to hand back at shutdown. */
  const running = new Map<string, { job: JobRow; abort: AbortController }>();
  let timer: NodeJS.Timeout | null = null;
  let filling: Promise<void> | null = null;
  let again = false;
  let stopped = true;

  async function died(job: JobRow) {
    logger.warn({ job_id: job.id, job_kind: job.kind, error: job.error }, "job dead");
    events.died?.(job.kind);
    await kinds.get(job.kind)?.options.onDead?.(job);
  }

  async function buryAbandoned() {
    for (const job of await repo.buryAbandoned([...kinds.keys()])) await died(job);
  }

  /** Heartbeats until the returned function is called; aborts the handler's signal when the lease is lost. */
  function keepAlive(lease: { id: string; lease: number }, abort: AbortController) {
    const beat = setInterval(() => {
      repo
        .heartbeat(lease, o.leaseSeconds)
        .then((ok) => {
          if (!ok) abort.abort(new LeaseLostError(lease.id));
        })
        .catch((err) => logger.warn({ err, job_id: lease.id }, "job heartbeat failed"));
    }, heartbeatMs);
    beat.unref();
    return () => clearInterval(beat);
  }

  async function execute(job: JobRow) {
    const lease = { id: job.id, lease: job.lease };
    const log = logger.child({ job_id: job.id, job_kind: job.kind, attempt: job.attempts });
    const abort = new AbortController();
    const stopBeating = keepAlive(lease, abort);
    running.set(job.id, { job, abort });
    const lost = () => new LeaseLostError(job.id);
    const ctx: JobContext = {
      attemptId: `${job.id}:${job.lease}`,
      signal: abort.signal,
      async progress(p) {
        if (!(await repo.progress(lease, p, o.leaseSeconds))) throw lost();
      },
      async assertLease() {
        if (abort.signal.aborted || !(await repo.holds(lease))) throw lost();
      },
    };
    try {
      const result = await kinds.get(job.kind)!.handler(job, ctx);
      if (!(await repo.finish(lease, { status: "completed", result: result ?? {} })))
        log.warn("job finished after its lease was lost; the result was discarded");
    } catch (err) {
      if (err instanceof LeaseLostError) log.warn("job lease lost; another worker owns it now");
      else await failed(job, lease, err, log);
    } finally {
      stopBeating();
      running.delete(job.id);
    }
  }

  /** Retryable failures wait for their backoff while attempts remain, then the job is `dead`. */
  async function failed(job: JobRow, lease: { id: string; lease: number }, err: unknown, log: Logger) {
    if (err instanceof RetryLater && err.progressed) {
      const failure = failureOf(err.refusal);
      if (await repo.retryLater(lease, { ...failure, attempts: job.attempts }, err.seconds, { refund: true }))
        log.info({ error_code: failure.error_code, retry_in_seconds: err.seconds }, "job paused by provider");
      return;
    }
    if (err instanceof RetryLater) return failed(job, lease, err.refusal, log);
    const failure = failureOf(err);
    if (!(err instanceof DomainError)) log.error({ err }, "job failed");
    const retry = failure.retryable;
    if (retry && job.attempts < job.maxAttempts) {
      const delay = retryDelaySeconds(job.attempts, failure, o);
      if (await repo.retryLater(lease, { ...failure, attempts: job.attempts }, delay)) {
        log.info({ error_code: failure.error_code, retry_in_seconds: delay }, "job will retry");
        events.retried?.(job.kind);
      }
      return;
    }
    const error = retry ? { ...failure, attempts: job.attempts } : failure;
    if (!(await repo.finish(lease, { status: retry ? "dead" : "failed", error }))) return;
    if (retry) await died((await repo.get(job.id))!);
  }

  async function fill() {
    await buryAbandoned();
    while (!stopped && active.size < o.concurrency) {
      const job = await repo.claim(o.leaseSeconds, [...kinds.keys()]);
      if (!job) return;
      const run: Promise<void> = execute(job)
        .catch((err) => logger.error({ err, job_id: job.id }, "job worker error"))
        .finally(() => {
          active.delete(run);
          kick();
        });
      active.add(run);
    }
  }

  function kick() {
    if (stopped) return;
    if (filling) {
      again = true;
      return;
    }
    filling = fill()
      .catch((err) => logger.error({ err }, "job worker error"))
      .finally(() => {
        filling = null;
        if (again) {
          again = false;
          kick();
        }
      });
  }

  return {
    register(kind: string, handler: JobHandler, options: JobKindOptions = {}) {
      kinds.set(kind, { handler, options });
    },

    async enqueue(input: {
      teamId: string;
      kind: string;
      payload?: unknown;
      dedupeKey?: string;
      /** Jobs sharing it run one at a time across every process (see `jobs.concurrency_key`). */
      concurrencyKey?: string;
      createdBy?: string | null;
      /** Progress to start from (work a synchronous request already did). */
      progress?: unknown;
      /** Seconds before the job may first run (a provider's Retry-After). */
      runAfterSeconds?: number;
    }) {
      // A job whose worker died on its last attempt must not absorb this request: end it first.
      if (input.dedupeKey) await buryAbandoned();
      const out = await repo.enqueue({
        id: newId("op"),
        teamId: input.teamId,
        kind: input.kind,
        payload: input.payload ?? {},
        dedupeKey: input.dedupeKey ?? null,
        concurrencyKey: input.concurrencyKey ?? null,
        createdBy: input.createdBy ?? null,
        maxAttempts: o.maxAttempts,
        ...(input.progress === undefined ? {} : { progress: input.progress }),
        ...(input.runAfterSeconds ? { runAfter: new Date(Date.now() + input.runAfterSeconds * 1000) } : {}),
      });
      kick();
      return out;
    },

    get: (id: string, teamId: string) => repo.getForTeam(id, teamId),

    /** The team's pending or running job holding `dedupeKey`, if any. */
    activeFor: (teamId: string, dedupeKey: string) => repo.activeFor(teamId, dedupeKey),

    /** Waits until the job is terminal (tests, the demo's first sync). */
    async waitFor(id: string, timeoutMs = 60_000): Promise<JobRow> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await repo.get(id);
        if (job && TERMINAL.includes(job.status)) return job;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${job?.status} after ${timeoutMs} ms`);
        kick();
        await new Promise((r) => setTimeout(r, 25));
      }
    },

    start() {
      stopped = false;
      timer = setInterval(kick, o.pollMs);
      timer.unref();
      kick();
    },

    /**
     * Stops claiming and waits for the jobs this process runs, up to the shutdown grace; the ones still
     * running then are handed back to the queue as not attempted (due now, lease released), so another
     * process claims them at once, and their handlers are aborted.
     */
    async stop(graceMs: number = o.shutdownGraceMs) {
      stopped = true;
      if (timer) clearInterval(timer);
      await filling;
      const all = Promise.all(active);
      let timeout: NodeJS.Timeout | undefined;
      const graceOver = new Promise<"grace over">((r) => {
        timeout = setTimeout(() => r("grace over"), graceMs);
      });
      const outcome = await Promise.race([all, graceOver]);
      clearTimeout(timeout);
      if (outcome !== "grace over") return;
      for (const { job, abort } of [...running.values()]) {
        // Released before the abort, so the handler's unwinding cannot record a failed attempt first.
        const released = await repo.release({ id: job.id, lease: job.lease });
        abort.abort(new LeaseLostError(job.id));
        if (released) {
          logger.info({ job_id: job.id, job_kind: job.kind }, "job handed back to the queue at shutdown");
          events.released?.(job.kind);
        }
      }
      // The aborted handlers' writes are fenced off now; give them a moment to unwind before the database closes.
      await Promise.race([all, new Promise((r) => setTimeout(r, 1_000).unref())]);
    },

    /** Claims and runs due jobs one at a time in this process until none is due (tests). */
    async runDue() {
      await buryAbandoned();
      for (;;) {
        const job = await repo.claim(o.leaseSeconds, [...kinds.keys()]);
        if (!job) return;
        await execute(job);
      }
    },

    /** Depth and oldest due job's age per kind, of one team or all (see housekeeping.ts). */
    summary: (teamId?: string) => queueSummary(db, teamId),
    /** Retention purge of finished jobs, dead passes' staging rows and expired connect states. */
    purge: (jobRetentionDays: number) => purgeRetained(db, { jobRetentionDays }),

    options: o,
  };
}

export type JobsService = ReturnType<typeof jobsService>;
