import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobSettings, loadConfig } from "../../src/host/config.ts";
import { DomainError } from "../../src/host/errors/domain-error.ts";
import { jobsRepository } from "../../src/host/jobs/repository.ts";
import {
  type JobContext,
  type JobFailure,
  jobsService,
  retryDelaySeconds,
} from "../../src/host/jobs/service.ts";
import { operationView } from "../../src/host/jobs/views.ts";
import { createLogger } from "../../src/host/logger.ts";
import type { DatabaseHandle } from "../../src/storage/database.ts";
import { openTestDatabase } from "../support/database.ts";

const TEAM = "team_test";
const logger = createLogger({ level: "silent" });
const fast = { pollMs: 20, leaseSeconds: 30, retryBaseSeconds: 0.01, retryMaxSeconds: 0.05 };

/** What a handler throws: the provider is down (the queue records it as `unavailable` says). */
const providerDown = (retryAfterSeconds?: number) =>
  new DomainError("upstream_unavailable", "GitLab is unavailable.", {
    retryable: true,
    source: "provider",
    retryAfterSeconds,
  });

const unavailable: JobFailure = {
  error_code: "upstream_unavailable",
  message: "GitLab is unavailable.",
  retryable: true,
  user_action_required: false,
  source: "provider",
};

let handle: DatabaseHandle;
const workers: ReturnType<typeof jobsService>[] = [];
/** The queue's rows as stored, read beside the workers under test. */
let queue: ReturnType<typeof jobsRepository>;
beforeAll(async () => {
  handle = await openTestDatabase();
  queue = jobsRepository(handle.db);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await handle.close();
});

function worker(opts: Parameters<typeof jobsService>[2] = {}) {
  const w = jobsService(handle.db, logger, { ...fast, ...opts });
  workers.push(w);
  return w;
}

/** Ends the job's current lease as if its worker had stopped heartbeating long ago. */
const expireLease = (id: string) =>
  handle.db.execute(sql`update jobs set locked_until = now() - interval '1 second' where id = ${id}`);

/** A promise and its resolver: a handler that waits for the test. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

describe("retries", () => {
  it("a retryable failure is retried with backoff and the job completes; the last failure is kept meanwhile", async () => {
    const w = worker({ maxAttempts: 5 });
    let calls = 0;
    w.register("t.flaky", async () => {
      if (++calls < 3) throw providerDown();
      return { ok: true };
    });
    w.start();
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.flaky" });
    const done = await w.waitFor(job.id, 20_000);
    expect(done).toMatchObject({ status: "completed", attempts: 3, result: { ok: true } });
    expect(done.lastError).toMatchObject({ error_code: "upstream_unavailable", attempts: 2 });
  });

  it("a poison job (always retryable failure) ends dead after max attempts, keeping the error", async () => {
    const w = worker({ maxAttempts: 3 });
    let calls = 0;
    w.register("t.poison", async () => {
      calls++;
      throw providerDown();
    });
    w.start();
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.poison" });
    const dead = await w.waitFor(job.id, 20_000);
    expect(calls).toBe(3);
    expect(dead).toMatchObject({
      status: "dead",
      attempts: 3,
      error: { error_code: "upstream_unavailable" },
    });
    // The wire keeps the contract's four statuses: dead is failed, with the error and dead: true.
    expect(operationView(dead)).toMatchObject({
      status: "failed",
      attempts: 3,
      error: { error_code: "upstream_unavailable", message: "GitLab is unavailable.", dead: true },
    });
  });

  it("a handler that crashes is retried as an internal error and ends dead", async () => {
    const w = worker({ maxAttempts: 2 });
    w.register("t.crash", async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    w.start();
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.crash" });
    const dead = await w.waitFor(job.id, 20_000);
    expect(dead).toMatchObject({ status: "dead", attempts: 2, error: { error_code: "internal_error" } });
    expect(JSON.stringify(dead.error)).not.toContain("cannot read properties");
  });

  it("a non-retryable failure is final after one attempt", async () => {
    const w = worker({ maxAttempts: 5 });
    w.register("t.refused", async () => {
      throw new DomainError("provider_forbidden", "GitLab refused.", { source: "provider" });
    });
    w.start();
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.refused" });
    expect(await w.waitFor(job.id, 20_000)).toMatchObject({ status: "failed", attempts: 1 });
  });

  it("backoff is full jitter under an exponential ceiling, capped, and never sooner than Retry-After", () => {
    const o = { retryBaseSeconds: 5, retryMaxSeconds: 600 };
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, unavailable, o, () => 1))).toEqual([5, 10, 20, 40]);
    expect(retryDelaySeconds(20, unavailable, o, () => 1)).toBe(600);
    expect(retryDelaySeconds(3, unavailable, o, () => 0)).toBe(0);
    expect(retryDelaySeconds(3, unavailable, o, () => 0.5)).toBe(10);
    expect(retryDelaySeconds(1, { ...unavailable, retry_after_seconds: 42 }, o, () => 0.5)).toBe(42);
  });

  it("a retry waits for its backoff: the job is pending with a later run_after", async () => {
    const w = worker({ maxAttempts: 5, retryBaseSeconds: 3600, retryMaxSeconds: 3600 });
    w.register("t.later", async () => {
      throw providerDown(1800);
    });
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.later" });
    await w.runDue();
    const waiting = (await queue.get(job.id))!;
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, lockedUntil: null });
    expect(waiting.runAfter.getTime() - waiting.updatedAt.getTime()).toBeGreaterThanOrEqual(1_799_000);
    await w.runDue(); // not due: nothing runs
    expect((await queue.get(job.id))!.attempts).toBe(1);
  });
});

describe("leases", () => {
  it("two workers, 30 jobs: each job runs exactly once", async () => {
    const ran = new Map<string, number>();
    const handler = async (job: { id: string }) => {
      ran.set(job.id, (ran.get(job.id) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 5));
      return {};
    };
    const [a, b] = [worker({ concurrency: 3 }), worker({ concurrency: 3 })];
    a.register("t.count", handler);
    b.register("t.count", handler);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await a.enqueue({ teamId: TEAM, kind: "t.count" })).job.id);
    a.start();
    b.start();
    for (const id of ids) expect((await a.waitFor(id, 30_000)).status).toBe("completed");
    expect([...ran.values()].every((n) => n === 1)).toBe(true);
    expect(ids.every((id) => ran.has(id))).toBe(true);
  });

  it("a stale worker cannot extend, record progress on or finish a job another worker took over", async () => {
    const stale = worker();
    const fresh = worker();
    const release = gate();
    const started = gate();
    let staleCtx: JobContext | undefined;
    stale.register("t.takeover", async (_job, ctx) => {
      staleCtx = ctx;
      started.open();
      await release.opened;
      return { by: "stale" };
    });
    fresh.register("t.takeover", async () => ({ by: "fresh" }));
    const { job } = await stale.enqueue({ teamId: TEAM, kind: "t.takeover" });
    const staleRun = stale.runDue();
    await started.opened;
    await expireLease(job.id);
    await fresh.runDue();
    expect(await queue.get(job.id)).toMatchObject({
      status: "completed",
      lease: 2,
      result: { by: "fresh" },
    });

    await expect(staleCtx!.progress({ pages: 1 })).rejects.toThrow(/lease/);
    await expect(staleCtx!.assertLease()).rejects.toThrow(/lease/);
    expect(await queue.heartbeat({ id: job.id, lease: 1 }, 30)).toBe(false);
    release.open();
    await staleRun;
    expect(await queue.get(job.id)).toMatchObject({ status: "completed", result: { by: "fresh" } });
  });

  it("heartbeats keep a short lease alive while the job runs longer than the lease", async () => {
    const w = worker({ leaseSeconds: 2, heartbeatMs: 100 });
    const other = worker({ leaseSeconds: 2 });
    const release = gate();
    const started = gate();
    let runs = 0;
    const slow = async () => {
      runs++;
      started.open();
      await release.opened;
      return {};
    };
    w.register("t.slow", slow);
    other.register("t.slow", slow);
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.slow" });
    const run = w.runDue();
    await started.opened;
    // Several lease lengths pass; the other worker polls all along and never gets the job.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await other.runDue();
    }
    release.open();
    await run;
    expect(runs).toBe(1);
    expect(await queue.get(job.id)).toMatchObject({ status: "completed", attempts: 1, lease: 1 });
  });

  it("a job whose worker died on every attempt ends dead (worker_lost), and a new request does not attach to it", async () => {
    const w = worker({ maxAttempts: 2 });
    w.register("t.killer", async () => ({}));
    const dedupeKey = "t.killer:inst_1";
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.killer", dedupeKey });
    for (let i = 0; i < 2; i++) {
      // A worker claims it and dies: nobody heartbeats, the lease runs out.
      expect((await queue.claim(30, ["t.killer"]))?.id).toBe(job.id);
      await expireLease(job.id);
    }
    const again = await w.enqueue({ teamId: TEAM, kind: "t.killer", dedupeKey });
    expect(again.created).toBe(true);
    expect(again.job.id).not.toBe(job.id);
    expect(await queue.get(job.id)).toMatchObject({
      status: "dead",
      attempts: 2,
      error: { error_code: "worker_lost", attempts: 2 },
    });
  });

  it("a lost worker's job with attempts left is taken over by the next claim", async () => {
    const w = worker({ maxAttempts: 3 });
    w.register("t.resume", async (job) => ({ attempt: job.attempts }));
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.resume", dedupeKey: "t.resume:1" });
    await queue.claim(30, ["t.resume"]);
    await expireLease(job.id);
    // A request meanwhile joins the job that is about to be taken over.
    expect((await w.enqueue({ teamId: TEAM, kind: "t.resume", dedupeKey: "t.resume:1" })).job.id).toBe(
      job.id,
    );
    await w.runDue();
    expect(await queue.get(job.id)).toMatchObject({
      status: "completed",
      attempts: 2,
      result: { attempt: 2 },
    });
  });

  it("a worker leaves alone kinds it has no handler for", async () => {
    const w = worker();
    w.register("t.known", async () => ({}));
    const { job } = await w.enqueue({ teamId: TEAM, kind: "t.from-a-newer-release" });
    await w.runDue();
    expect(await queue.get(job.id)).toMatchObject({ status: "pending", attempts: 0 });
  });
});

describe("concurrency keys", () => {
  const rows = (r: unknown) => ((r as { rows?: any[] }).rows ?? r) as any[];
  let n = 0;
  const keyedRow = (concurrencyKey: string) => ({
    id: `op_race_${++n}`,
    teamId: TEAM,
    kind: "t.race",
    payload: {},
    concurrencyKey,
    maxAttempts: 3,
  });

  it("two workers, 3 jobs each on 4 keys: jobs of one key never run at once, and all run once", async () => {
    // In one process on both drivers; across processes on PostgreSQL: webhook-apply-processes.test.ts.
    const running = new Map<string, number>();
    const overlaps: string[] = [];
    const ran: string[] = [];
    const handler = async (job: { id: string; payload: unknown }) => {
      const key = (job.payload as { key: string }).key;
      if (running.get(key)) overlaps.push(key);
      running.set(key, (running.get(key) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 10));
      running.set(key, running.get(key)! - 1);
      ran.push(job.id);
      return {};
    };
    const [a, b] = [worker({ concurrency: 4 }), worker({ concurrency: 4 })];
    a.register("t.keyed", handler);
    b.register("t.keyed", handler);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const key = `installation:k${i % 4}`;
      ids.push(
        (await a.enqueue({ teamId: TEAM, kind: "t.keyed", payload: { key }, concurrencyKey: key })).job.id,
      );
    }
    a.start();
    b.start();
    for (const id of ids) expect((await a.waitFor(id, 30_000)).status).toBe("completed");
    expect(overlaps).toEqual([]);
    expect(ran.sort()).toEqual([...ids].sort());
  });

  it("claims at the same instant on pending jobs of one key: exactly one wins (the unique index settles it)", async () => {
    // On PostgreSQL the two claims are two connections racing; on PGlite they are serialised anyway.
    for (let round = 0; round < 15; round++) {
      const key = `installation:race-${round}`;
      for (let i = 0; i < 2; i++) await queue.enqueue(keyedRow(key));
      const claimed = await Promise.all([queue.claim(30, ["t.race"]), queue.claim(30, ["t.race"])]);
      expect(claimed.filter(Boolean).length, `round ${round}`).toBe(1);
      const running = rows(
        await handle.db.execute(
          sql`select count(*)::int as n from jobs where concurrency_key = ${key} and status = 'running'`,
        ),
      );
      expect(running[0].n).toBe(1);
    }
  });

  it("a running job holds its key even after its lease lapsed: it is taken over before the next job of the key runs", async () => {
    const w = worker();
    const order: string[] = [];
    w.register("t.held", async (job) => {
      order.push((job.payload as { name: string }).name);
      return {};
    });
    const key = "installation:held";
    const first = (
      await w.enqueue({ teamId: TEAM, kind: "t.held", payload: { name: "first" }, concurrencyKey: key })
    ).job;
    const second = (
      await w.enqueue({ teamId: TEAM, kind: "t.held", payload: { name: "second" }, concurrencyKey: key })
    ).job;
    // `first` claimed by a worker that then died: running, lease expired.
    expect((await queue.claim(30, ["t.held"]))?.id).toBe(first.id);
    expect(await queue.claim(30, ["t.held"])).toBeUndefined(); // `second` waits for the key
    await expireLease(first.id);
    await w.runDue();
    expect(order).toEqual(["first", "second"]);
    expect(await queue.get(first.id)).toMatchObject({ status: "completed", attempts: 2 });
    expect(await queue.get(second.id)).toMatchObject({ status: "completed", attempts: 1 });
  });

  it("jobs without a key, or of another key, are not held up by a running keyed job", async () => {
    const w = worker();
    w.register("t.free", async () => ({}));
    const key = "installation:busy";
    const busy = (await w.enqueue({ teamId: TEAM, kind: "t.free", concurrencyKey: key })).job;
    expect((await queue.claim(30, ["t.free"]))?.id).toBe(busy.id);
    const other = (await w.enqueue({ teamId: TEAM, kind: "t.free", concurrencyKey: "installation:idle" }))
      .job;
    const none = (await w.enqueue({ teamId: TEAM, kind: "t.free" })).job;
    await w.runDue();
    expect((await queue.get(other.id))?.status).toBe("completed");
    expect((await queue.get(none.id))?.status).toBe("completed");
    expect((await queue.get(busy.id))?.status).toBe("running");
  });
});

describe("retention and queue summary", () => {
  const ago = (s: string) => sql`now() - ${s}::interval`;

  async function insertJob(id: string, status: string, finished: string | null) {
    await handle.db.execute(sql`insert into jobs (id, team_id, kind, status, finished_at, lease, locked_until)
      values (${id}, 'team_purge', 't.purge', ${status}, ${finished ? ago(finished) : null}, 1,
        ${status === "running" ? sql`now() + interval '1 minute'` : null})`);
  }
  const stage = (passId: string, created = "0 seconds") =>
    handle.db.execute(sql`insert into inventory_staging (pass_id, installation_id, resource_key, row, created_at)
      values (${passId}, 'inst_x', ${`key-${passId}`}, '{}'::jsonb, ${ago(created)})`);
  const connectState = (state: string, expired: string) =>
    handle.db.execute(sql`insert into connect_states (state, team_id, user_id, provider, expires_at)
      values (${state}, 'team_purge', 'usr_x', 'gitlab', ${ago(expired)})`);
  const ids = async (table: "jobs" | "connect_states" | "inventory_staging", col: string) => {
    const r = await handle.db.execute(sql.raw(`select ${col} as v from ${table} order by 1`));
    return ((r as any).rows ?? r).map((x: any) => x.v);
  };

  it("purges finished jobs past retention (never under a day), dead passes' staging rows and long-expired connect states", async () => {
    await insertJob("op_old_done", "completed", "10 days");
    await insertJob("op_old_dead", "dead", "8 days");
    await insertJob("op_recent_failed", "failed", "2 hours");
    await insertJob("op_day_old", "completed", "30 hours");
    await insertJob("op_live", "running", null);
    await insertJob("op_lost", "running", null);
    await handle.db.execute(
      sql`update jobs set locked_until = now() - interval '1 second' where id = 'op_lost'`,
    );
    await stage("op_live:1");
    await stage("op_live:0"); // an earlier attempt of the live job
    await stage("op_lost:1");
    await stage("op_old_done:1");
    await stage("pass_recent");
    await stage("pass_old", "2 days");
    await connectState("st_valid", "-10 minutes");
    await connectState("st_just_expired", "10 minutes");
    await connectState("st_long_expired", "2 hours");

    const w = worker();
    expect(await w.purge(7)).toEqual({ jobs: 2, staging_rows: 4, connect_states: 1 });
    const jobIds = await handle.db.execute(sql`select id from jobs where team_id = 'team_purge' order by id`);
    expect(((jobIds as any).rows ?? jobIds).map((r: any) => r.id)).toEqual([
      "op_day_old",
      "op_live",
      "op_lost",
      "op_recent_failed",
    ]);
    expect(await ids("inventory_staging", "pass_id")).toEqual(["op_live:1", "pass_recent"]);
    expect(await ids("connect_states", "state")).toEqual(["st_just_expired", "st_valid"]);

    // A retention of 0 days still keeps operations for a day (the CLI may resume polling one).
    expect((await w.purge(0)).jobs).toBe(1);
    const left = await handle.db.execute(sql`select id from jobs where team_id = 'team_purge' order by id`);
    expect(((left as any).rows ?? left).map((r: any) => r.id)).toEqual([
      "op_live",
      "op_lost",
      "op_recent_failed",
    ]);
  });

  it("summarizes depth, due jobs, expired leases, dead jobs and the oldest due job's age per kind", async () => {
    const team = "team_summary";
    const w = worker();
    const insert = (id: string, kind: string, status: string, extra: string) =>
      handle.db.execute(
        sql.raw(`insert into jobs (id, team_id, kind, status, run_after, locked_until, finished_at)
          values ('${id}', '${team}', '${kind}', '${status}', ${extra})`),
      );
    await insert("op_s1", "k.a", "pending", "now() - interval '90 seconds', null, null");
    await insert("op_s2", "k.a", "pending", "now() - interval '10 seconds', null, null");
    await insert("op_s3", "k.a", "pending", "now() + interval '1 hour', null, null");
    await insert("op_s4", "k.a", "running", "now(), now() - interval '1 second', null");
    await insert("op_s5", "k.b", "dead", "now(), null, now() - interval '1 hour'");
    await insert("op_s6", "k.b", "completed", "now(), null, now()");
    const kinds = await w.summary(team);
    expect(kinds).toEqual([
      {
        kind: "k.a",
        pending: 3,
        due: 2,
        running: 1,
        lease_expired: 1,
        dead_last_24h: 0,
        oldest_due_age_seconds: expect.any(Number),
      },
      {
        kind: "k.b",
        pending: 0,
        due: 0,
        running: 0,
        lease_expired: 0,
        dead_last_24h: 1,
        oldest_due_age_seconds: 0,
      },
    ]);
    expect(kinds[0].oldest_due_age_seconds).toBeGreaterThanOrEqual(90);
    expect((await w.summary()).some((k) => k.kind === "k.a")).toBe(true);
    expect(await w.summary("team_nobody")).toEqual([]);
  });
});

describe("JOB_* settings", () => {
  it("take positive numbers, leave unset ones to the queue's defaults, and refuse anything else naming the variable", () => {
    expect(
      jobSettings({ JOB_CONCURRENCY: "4", JOB_LEASE_SECONDS: "10", JOB_HEARTBEAT_SECONDS: "2" }),
    ).toEqual({
      concurrency: 4,
      leaseSeconds: 10,
      heartbeatMs: 2000,
    });
    expect(jobSettings({})).toEqual({});
    expect(loadConfig({}).jobRetentionDays).toBe(7);
    expect(() => jobSettings({ JOB_CONCURRENCY: "1.5" })).toThrow(
      /JOB_CONCURRENCY=1.5: expected a positive whole number/,
    );
    expect(() => jobSettings({ JOB_MAX_ATTEMPTS: "0" })).toThrow(/JOB_MAX_ATTEMPTS/);
    expect(() => loadConfig({ JOB_RETENTION_DAYS: "soon" })).toThrow(/JOB_RETENTION_DAYS=soon/);
  });
});
