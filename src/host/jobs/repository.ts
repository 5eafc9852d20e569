import { hostname } from "node:os";
import { and, eq, sql } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Database } from "../../storage/database.ts";
import { findOne, teamRowById } from "../../storage/find.ts";
import { jobs } from "../../storage/schema.ts";

export type JobRow = typeof jobs.$inferSelect;
export type JobStatus = JobRow["status"];
export const TERMINAL: readonly JobStatus[] = ["completed", "failed", "dead"];

const rowsOf = (r: unknown) =>
  ((r as { rows?: unknown[] }).rows ?? (r as unknown[])) as Record<string, any>[];

/** A claimed job and the lease its worker holds; every write of that worker names it. */
export interface Lease {
  id: string;
  lease: number;
}

const listOf = (values: string[]) =>
  sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );

/** Which process holds a lease, for operators reading the table. */
const WORKER = `${hostname()}:${process.pid}`;

const held = (l: Lease) => and(eq(jobs.id, l.id), eq(jobs.lease, l.lease), eq(jobs.status, "running"));

/** Whether `err` (as either driver wraps it) is a unique violation of `constraint`. */
function isUniqueViolation(err: unknown, constraint: string): boolean {
  for (let e = err as { code?: string; constraint?: string; cause?: unknown } | undefined; e; ) {
    if (e.code === "23505") return e.constraint === undefined || e.constraint === constraint;
    e = e.cause as typeof e;
  }
  return false;
}

export function jobsRepository(db: Database) {
  /**
   * The claim statement. A pending job whose concurrency key another job holds (running, even with
   * its lease expired: that one is taken over first, or buried) is not due.
   */
  async function claimOnce(leaseSeconds: number, kinds: string[]) {
    const rows = rowsOf(
      await db.execute(sql`
        update ${jobs} set status = 'running', attempts = ${jobs.attempts} + 1, lease = ${jobs.lease} + 1,
          locked_until = now() + make_interval(secs => ${leaseSeconds}), heartbeat_at = now(), updated_at = now(),
          locked_by = ${WORKER}
        where ${jobs.id} = (
          select id from ${jobs} j
          where ((j.status = 'pending' and j.run_after <= now())
             or (j.status = 'running' and j.locked_until < now() and j.attempts < j.max_attempts))
            and j.kind in (${listOf(kinds)})
            and (j.concurrency_key is null or not exists (
              select 1 from ${jobs} held
              where held.concurrency_key = j.concurrency_key and held.status = 'running' and held.id <> j.id))
          order by j.run_after, j.id
          for update skip locked
          limit 1
        )
        returning id`),
    );
    const id = rows[0]?.id as string | undefined;
    return id ? findOne(db, jobs, eq(jobs.id, id)) : undefined;
  }

  /** Writes `set` only while `lease` is the job's current one: fencing; false when the lease was lost. */
  const fenced = async (lease: Lease, set: PgUpdateSetSource<typeof jobs>) =>
    (await db.update(jobs).set(set).where(held(lease)).returning({ id: jobs.id })).length > 0;

  return {
    /** Inserts unless an active job holds the same dedupe key; then returns that one. */
    async enqueue(row: typeof jobs.$inferInsert): Promise<{ job: JobRow; created: boolean }> {
      const inserted = await db
        .insert(jobs)
        .values(row)
        .onConflictDoNothing({ target: jobs.dedupeKey, where: sql`${jobs.status} in ('pending', 'running')` })
        .returning();
      if (inserted[0]) return { job: inserted[0], created: true };
      const [existing] = await db
        .select()
        .from(jobs)
        .where(and(eq(jobs.dedupeKey, row.dedupeKey!), sql`${jobs.status} in ('pending', 'running')`))
        .limit(1);
      if (existing) return { job: existing, created: false };
      return this.enqueue(row); // the holder finished between the two statements
    },

    /**
     * Marks dead the running jobs of `kinds` whose lease expired with no attempt left: their worker
     * died on the last one. Returns them so their kind can record it (e.g. on the installation).
     */
    async buryAbandoned(kinds: string[]): Promise<JobRow[]> {
      if (kinds.length === 0) return [];
      const rows = rowsOf(
        await db.execute(sql`
        update ${jobs} set status = 'dead', locked_until = null, locked_by = null, finished_at = now(), updated_at = now(),
          error = jsonb_build_object(
            'error_code', 'worker_lost',
            'message', 'The operation was given up: its worker stopped before finishing, ' || attempts || ' time(s).',
            'retryable', false, 'user_action_required', false, 'source', 'saas',
            'retry_after_seconds', null, 'effect_certainty', 'unknown', 'attempts', attempts,
            'previous_error', last_error)
        where status = 'running' and locked_until < now() and attempts >= max_attempts
          and kind in (${listOf(kinds)})
        returning id`),
      );
      return Promise.all(rows.map((r) => this.get(r.id as string))).then((r) => r.filter((j) => !!j));
    },

    /**
     * Claims one due job of `kinds` (the ones this process can run: a process of an older release
     * leaves a newer kind alone), or one whose worker's lease expired, under a new lease number. Safe
     * across processes: `skip locked` hands each row to one claimer.
     */
    async claim(leaseSeconds: number, kinds: string[]): Promise<JobRow | undefined> {
      if (kinds.length === 0) return undefined;
      // Two claimers can pick two pending jobs of one concurrency key at the same moment; the unique
      // index lets one win, and the loser claims again (now seeing the winner running).
      for (let tries = 0; tries < 5; tries++) {
        try {
          return await claimOnce(leaseSeconds, kinds);
        } catch (err) {
          if (!isUniqueViolation(err, "jobs_concurrency_running_uq")) throw err;
        }
      }
      return undefined;
    },

    async get(id: string) {
      return findOne(db, jobs, eq(jobs.id, id));
    },

    getForTeam: (id: string, teamId: string) => teamRowById(db, jobs, teamId, id),

    /** The team's pending or running job holding a dedupe key (e.g. an installation's refresh), if any. */
    activeFor: (teamId: string, dedupeKey: string) =>
      findOne(
        db,
        jobs,
        and(
          eq(jobs.teamId, teamId),
          eq(jobs.dedupeKey, dedupeKey),
          sql`${jobs.status} in ('pending', 'running')`,
        ),
      ),

    /** Ends the job if `lease` is still the current one; false when another worker took it over. */
    async finish(
      lease: Lease,
      outcome: { status: "completed" | "failed" | "dead"; result?: unknown; error?: unknown },
    ): Promise<boolean> {
      return fenced(lease, {
        status: outcome.status,
        result: outcome.result ?? null,
        error: outcome.error ?? null,
        lastError: outcome.error ?? sql`${jobs.lastError}`,
        finishedAt: new Date(),
        updatedAt: new Date(),
        lockedUntil: null,
        lockedBy: null,
      });
    },

    /**
     * Puts the job back in the queue to run again after `delaySeconds`, keeping the failure. `refund`
     * gives back the attempt this run used (it made progress, and only paused at the provider's word).
     */
    async retryLater(
      lease: Lease,
      error: unknown,
      delaySeconds: number,
      opts: { refund?: boolean } = {},
    ): Promise<boolean> {
      return fenced(lease, {
        status: "pending",
        ...(opts.refund ? { attempts: sql`greatest(${jobs.attempts} - 1, 0)` } : {}),
        lastError: error,
        runAfter: sql`now() + make_interval(secs => ${delaySeconds})`,
        lockedUntil: null,
        lockedBy: null,
        updatedAt: new Date(),
      });
    },

    /**
     * Hands a running job back (its process is stopping): pending and due now, the attempt not counted,
     * the lease released. The old holder's later writes are fenced off (the job is no longer running).
     */
    async release(lease: Lease): Promise<boolean> {
      return fenced(lease, {
        status: "pending",
        attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
        runAfter: sql`now()`,
        lockedUntil: null,
        lockedBy: null,
        updatedAt: new Date(),
      });
    },

    /** Extends the lease; false when it was lost (expired and claimed by another worker, or ended). */
    async heartbeat(lease: Lease, leaseSeconds: number): Promise<boolean> {
      return fenced(lease, {
        lockedUntil: sql`now() + make_interval(secs => ${leaseSeconds})`,
        heartbeatAt: sql`now()`,
      });
    },

    /** Records progress under the lease (it extends it too: a job reporting progress is alive). */
    async progress(lease: Lease, progress: unknown, leaseSeconds: number): Promise<boolean> {
      return fenced(lease, {
        progress,
        updatedAt: new Date(),
        lockedUntil: sql`now() + make_interval(secs => ${leaseSeconds})`,
        heartbeatAt: sql`now()`,
      });
    },

    /** Whether `lease` is still current and unexpired (checked before a pass applies its changes). */
    async holds(lease: Lease): Promise<boolean> {
      const rows = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(held(lease), sql`${jobs.lockedUntil} > now()`))
        .limit(1);
      return rows.length > 0;
    },
  };
}

export type JobsRepository = ReturnType<typeof jobsRepository>;
