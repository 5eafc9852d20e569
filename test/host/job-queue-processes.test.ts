import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Services } from "../../src/app/compose.ts";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFor, simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { jobsRepository } from "../../src/host/jobs/repository.ts";
import { jobsService } from "../../src/host/jobs/service.ts";
import { createLogger } from "../../src/host/logger.ts";
import { vaultFromConfig } from "../../src/host/secrets/vault.ts";
import type { ProviderSimulator } from "../../src/simulators/index.ts";
import { SIMULATORS } from "../../src/simulators/index.ts";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";
import { type AppProcess, SHORT_LEASES, seedAcmeAdmin, startAppProcess } from "../support/app-process.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { startJobWorker } from "../support/job-worker.ts";
import { describeOnPostgres } from "../support/postgres.ts";

const QUEUE_ENV = SHORT_LEASES;
const logger = createLogger({ level: "silent" });
const rows = (r: unknown) => ((r as any).rows ?? r) as any[];

describeOnPostgres("two app processes sharing one PostgreSQL job queue", () => {
  let drop: (() => Promise<void>) | undefined;
  let url: string;
  let database: DatabaseHandle;
  let services: Services;
  let gitlab: ProviderSimulator;
  let installationId: string;
  let headers: Record<string, string>;
  const apps: AppProcess[] = [];
  let env: Record<string, string>;

  const sim = (method: string, path: string, body?: unknown) =>
    fetch(`${gitlab.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
      .then((r) => r.text())
      .then((t) => (t ? JSON.parse(t) : null));
  const api = (app: AppProcess, method: string, path: string) =>
    fetch(`${app.baseUrl}${path}`, { method, headers }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));
  const requestRefresh = (app: AppProcess) =>
    api(app, "POST", `/api/v1/installations/${installationId}/refresh/`);
  const job = async (id: string) => (await jobsRepository(database.db).get(id))!;
  async function until<T>(probe: () => Promise<T | undefined | false>): Promise<T> {
    for (let i = 0; i < 600; i++) {
      const v = await probe();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("condition not reached in 60 s");
  }
  const start = async () => {
    const app = await startAppProcess(url, env);
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    ({ url, drop } = created);
    gitlab = await SIMULATORS.gitlab({});
    const keys = `k1:${randomBytes(32).toString("base64")}`;
    env = {
      ...QUEUE_ENV,
      CREDENTIALS_KEYS: keys,
      GITLAB_URL: gitlab.demo.url,
      OUTBOUND_ALLOW: simulatorOrigins([gitlab]).join(","),
    };
    // This process only reads and writes the database: its worker is off, the app processes run jobs.
    database = await openDatabase({ databaseUrl: url });
    ({ services } = await buildApp({
      database,
      logger,
      vault: vaultFromConfig({ keys, keyFile: "/nonexistent" }),
      settings: providerSettingsFor({ gitlab }),
      outbound: { allow: simulatorOrigins([gitlab]) },
      worker: false,
    }));
    ({ headers } = await seedAcmeAdmin(services));
    await start();
    const connected = await fetch(`${apps[0].baseUrl}/api/v1/installations/`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify(tokenConnectFor(gitlab)),
    }).then((r) => r.json());
    installationId = connected.installation.id;
    expect((await services.jobs.waitFor(connected.refresh.operation_id)).status).toBe("completed");
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop().catch(() => {})));
    await database?.close();
    await gitlab?.close();
    await drop?.();
  });

  it("kill -9 mid-refresh: the other process takes the job over after the short lease and completes it", async () => {
    await start(); // both processes poll the queue
    await sim("DELETE", "/_sim/requests");
    await sim("POST", "/_sim/faults", { latency_ms: 600_000, count: 1 }); // the first request hangs
    const requested = await requestRefresh(apps[0]);
    expect(requested.status).toBe(202);
    const id = requested.body.operation_id;
    // One process is inside the pass: its request hangs at the provider, heartbeats keep its lease.
    // (The simulator logs a request once it is answered, so the job row says when a worker holds it.)
    await until(async () => (await job(id)).status === "running");
    const held = await job(id);
    expect(held, JSON.stringify(held)).toMatchObject({ status: "running", attempts: 1 });
    const holder = apps.find((a) => held.lockedBy?.endsWith(`:${a.pid}`))!;
    const other = apps.find((a) => a !== holder)!;
    await holder.kill();
    apps.splice(apps.indexOf(holder), 1);
    // A request meanwhile joins the job that is about to be taken over (it is not dead).
    const joined = await requestRefresh(other);
    expect(joined.body.operation_id).toBe(id);

    const done = await services.jobs.waitFor(id, 60_000);
    expect(done).toMatchObject({ status: "completed", attempts: 2, lease: held.lease + 1, lockedBy: null });
    const polled = await api(other, "GET", `/api/v1/tracker/operations/${id}/`);
    expect(polled.body).toMatchObject({ operation_id: id, status: "completed", attempts: 2 });
    await sim("DELETE", "/_sim/faults");
  });

  it("refresh requests to both processes at once share one operation", async () => {
    if (apps.length < 2) await start();
    const [a, b] = apps;
    await sim("POST", "/_sim/faults", { latency_ms: 1_000, count: 1 });
    const answers = await Promise.all([a, b, a, b, a, b].map(requestRefresh));
    expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 202]);
    const ids = new Set(answers.map((r) => r.body.operation_id));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect((await services.jobs.waitFor(id, 60_000)).status).toBe("completed");
    const active = await database.db.execute(
      sql`select count(*)::int as n from jobs where dedupe_key = ${`inventory.refresh:${installationId}`}
          and created_at >= (select created_at from jobs where id = ${id})`,
    );
    expect(rows(active)[0].n).toBe(1);
  });

  it("a poison refresh (the provider always 503s) ends dead after max attempts, shown on the installation", async () => {
    const [a, b] = apps;
    await sim("POST", "/_sim/faults", { status: 503, count: 100_000 });
    const requested = await requestRefresh(a);
    const dead = await services.jobs.waitFor(requested.body.operation_id, 60_000);
    await sim("DELETE", "/_sim/faults");
    expect(dead).toMatchObject({
      status: "dead",
      attempts: 3,
      error: { error_code: "upstream_unavailable" },
    });

    const polled = await api(b, "GET", `/api/v1/tracker/operations/${dead.id}/`);
    expect(polled.body).toMatchObject({
      status: "failed",
      attempts: 3,
      error: { error_code: "upstream_unavailable", dead: true, retryable: true },
    });
    const inst = await api(b, "GET", `/api/v1/installations/${installationId}/`);
    expect(inst.body.health.last_error_code).toBe("upstream_unavailable");
    expect(inst.body.health.last_error_message).toMatch(/^Sync gave up after 3 attempts: /);

    // The next request is a new operation, not the dead one, and the provider is back.
    const next = await requestRefresh(b);
    expect(next.body.operation_id).not.toBe(dead.id);
    expect((await services.jobs.waitFor(next.body.operation_id, 60_000)).status).toBe("completed");
  });

  it("shows this team's queue per kind to its admins only; another team sees none of it", async () => {
    const as = async (email: string, teamSlug: string, role: "admin" | "member") => {
      const team =
        (await services.teams.findTeam(teamSlug)) ??
        (await services.teams.createTeam({ slug: teamSlug, name: teamSlug }));
      const user = await services.teams.createUser({ email, password: "correct horse battery" });
      await services.teams.setMembership(team.id, user.id, role);
      const { token } = await services.tokens.create({ userId: user.id, name: "test" });
      return fetch(`${apps[0].baseUrl}/api/v1/team/jobs-summary/`, {
        headers: { authorization: `Bearer ${token}`, "x-team-slug": teamSlug },
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    };
    const summary = await api(apps[0], "GET", "/api/v1/team/jobs-summary/");
    expect(summary.status).toBe(200);
    // Nothing queued or running: only the poison refresh above, dead within the last day.
    expect(summary.body.kinds).toEqual([
      {
        kind: "inventory.refresh",
        pending: 0,
        due: 0,
        running: 0,
        lease_expired: 0,
        dead_last_24h: 1,
        oldest_due_age_seconds: 0,
      },
    ]);
    const member = await as("member@acme.test", "acme", "member");
    expect(member.status).toBe(403);
    const outsider = await as("admin@globex.test", "globex", "admin");
    expect(outsider).toMatchObject({ status: 200, body: { kinds: [] } });
  });
});

describeOnPostgres("two job worker processes on one PostgreSQL queue", () => {
  it("60 jobs claimed by both processes, three at a time each: every job runs exactly once", async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    const database = await openDatabase({ databaseUrl: created.url });
    await database.db.execute(sql`create table test_job_runs (job_id text not null, pid int not null)`);
    const env = { ...QUEUE_ENV, JOB_CONCURRENCY: "3" };
    const workers = await Promise.all([startJobWorker(created.url, env), startJobWorker(created.url, env)]);
    try {
      const queue = jobsService(database.db, logger);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++)
        ids.push(
          (await queue.enqueue({ teamId: "team_x", kind: "test.record", payload: { ms: 20 } })).job.id,
        );
      for (const id of ids) expect((await queue.waitFor(id, 60_000)).status).toBe("completed");
      const runs = rows(await database.db.execute(sql`select job_id, pid from test_job_runs`));
      expect(runs.length).toBe(60);
      expect(new Set(runs.map((r) => r.job_id))).toEqual(new Set(ids));
      const finished = rows(
        await database.db.execute(sql`select count(*)::int as n from jobs where attempts = 1 and lease = 1`),
      );
      expect(finished[0].n).toBe(60);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await database.close();
      await created.drop();
    }
  });
});
