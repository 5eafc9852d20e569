import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import { jobs } from "../../storage/schema.ts";

export type JobRow = typeof jobs.$inferSelect;

export function jobsRepository(db: Database) {
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

    /** Claims one due job (or one whose worker died holding it). Safe across processes. */
    async claim(lockSeconds: number): Promise<JobRow | undefined> {
      const rows = await db.execute(sql`
        update ${jobs} set status = 'running', attempts = ${jobs.attempts} + 1,
          locked_until = now() + make_interval(secs => ${lockSeconds}), updated_at = now()
        where ${jobs.id} = (
          select id from ${jobs}
          where (status = 'pending' and run_after <= now()) or (status = 'running' and locked_until < now())
          order by run_after, id
          for update skip locked
          limit 1
        )
        returning id`);
      const id = ((rows as any).rows ?? rows)[0]?.id as string | undefined;
      return id ? this.get(id) : undefined;
    },

    async get(id: string) {
      const [row] = await db.select().from(jobs).where(eq(jobs.id, id)).limit(1);
      return row;
    },

    async getForTeam(id: string, teamId: string) {
      const [row] = await db
        .select()
        .from(jobs)
        .where(and(eq(jobs.id, id), eq(jobs.teamId, teamId)))
        .limit(1);
      return row;
    },

    async finish(id: string, outcome: { status: "completed" | "failed"; result?: unknown; error?: unknown }) {
      await db
        .update(jobs)
        .set({
          status: outcome.status,
          result: outcome.result ?? null,
          error: outcome.error ?? null,
          finishedAt: new Date(),
          updatedAt: new Date(),
          lockedUntil: null,
        })
        .where(eq(jobs.id, id));
    },

    /** Records progress; a job that reports progress is alive, so its lock is extended too. */
    async progress(id: string, progress: unknown, lockSeconds?: number) {
      await db
        .update(jobs)
        .set({
          progress,
          updatedAt: new Date(),
          ...(lockSeconds ? { lockedUntil: sql`now() + make_interval(secs => ${lockSeconds})` } : {}),
        })
        .where(eq(jobs.id, id));
    },
  };
}
