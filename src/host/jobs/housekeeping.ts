import { sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";

const rowsOf = (r: unknown) =>
  ((r as { rows?: unknown[] }).rows ?? (r as unknown[])) as Record<string, any>[];

/** Operations stay pollable at least this long (the CLI resumes polling a stored operation id). */
export const MIN_JOB_RETENTION_DAYS = 1;

export interface Purged {
  jobs: number;
  staging_rows: number;
  connect_states: number;
}

async function deleted(db: Database, query: ReturnType<typeof sql>): Promise<number> {
  return rowsOf(await db.execute(query)).length;
}

/**
 * Retention: finished jobs older than `jobRetentionDays` (never under a day); staging rows of passes
 * no live lease holds (a job's pass id is `<job id>:<lease>`; other passes after a day); connect
 * states that expired over an hour ago.
 */
export async function purgeRetained(db: Database, opts: { jobRetentionDays: number }): Promise<Purged> {
  const days = Math.max(MIN_JOB_RETENTION_DAYS, opts.jobRetentionDays);
  const jobs = await deleted(
    db,
    sql`delete from jobs where status in ('completed', 'failed', 'dead')
      and finished_at < now() - make_interval(days => ${days}) returning id`,
  );
  const staging = await deleted(
    db,
    sql`delete from inventory_staging s
      where case when s.pass_id like 'op\\_%' escape '\\'
        then not exists (select 1 from jobs j where j.status = 'running' and j.locked_until > now()
                          and s.pass_id = j.id || ':' || j.lease)
        else s.created_at < now() - interval '1 day' end
      returning 1`,
  );
  const states = await deleted(
    db,
    sql`delete from connect_states where expires_at < now() - interval '1 hour' returning 1`,
  );
  return { jobs, staging_rows: staging, connect_states: states };
}

export interface QueueKindSummary {
  kind: string;
  pending: number;
  /** Pending jobs whose `run_after` has come (the rest wait for a retry's backoff). */
  due: number;
  running: number;
  /** Running jobs whose lease expired: their worker is gone and another will take them over. */
  lease_expired: number;
  dead_last_24h: number;
  /** Seconds the oldest due pending job has waited since it became due; 0 when none. */
  oldest_due_age_seconds: number;
}

/**
 * Queue depth and age per job kind, across every process: of one team, or of all of them (operators'
 * log line; a metrics endpoint can reuse it).
 */
export async function queueSummary(db: Database, teamId?: string): Promise<QueueKindSummary[]> {
  const team = teamId ? sql`and team_id = ${teamId}` : sql``;
  const rows = rowsOf(
    await db.execute(sql`
    select kind,
      count(*) filter (where status = 'pending')::int as pending,
      count(*) filter (where status = 'pending' and run_after <= now())::int as due,
      count(*) filter (where status = 'running')::int as running,
      count(*) filter (where status = 'running' and locked_until < now())::int as lease_expired,
      count(*) filter (where status = 'dead' and finished_at > now() - interval '1 day')::int as dead_last_24h,
      coalesce(extract(epoch from now() - min(run_after) filter (where status = 'pending' and run_after <= now())), 0)::float8
        as oldest_due_age_seconds
    from jobs
    where (status in ('pending', 'running') or (status = 'dead' and finished_at > now() - interval '1 day')) ${team}
    group by kind order by kind`),
  );
  return rows.map((r) => ({
    kind: r.kind,
    pending: Number(r.pending),
    due: Number(r.due),
    running: Number(r.running),
    lease_expired: Number(r.lease_expired),
    dead_last_24h: Number(r.dead_last_24h),
    oldest_due_age_seconds: Math.floor(Number(r.oldest_due_age_seconds)),
  }));
}
