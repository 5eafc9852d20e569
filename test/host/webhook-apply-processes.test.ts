import { randomBytes, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFor, simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { jobsRepository } from "../../src/host/jobs/repository.ts";
import { createLogger } from "../../src/host/logger.ts";
import { vaultFromConfig } from "../../src/host/secrets/vault.ts";
import type { ProviderSimulator } from "../../src/simulators/index.ts";
import { SIMULATORS } from "../../src/simulators/index.ts";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";
import { type AppProcess, seedAcmeAdmin, startAppProcess } from "../support/app-process.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { describeOnPostgres } from "../support/postgres.ts";

/**
 * Issue 17: webhook events of one installation are applied one at a time across service processes
 * (the jobs' concurrency key `installation:<id>`, shared with its refresh passes), so the inventory ends
 * in the provider's latest state even when two processes pick up two events of one repository at once,
 * and when the process applying one is killed mid-apply.
 *
 * PostgreSQL only: the embedded PGlite database is opened by one process at a time (its data-directory
 * lock), so there is no second process to race with; in that one process the same key keeps its two
 * workers apart (test/host/job-queue.test.ts, on both drivers).
 */
const QUEUE_ENV = {
  JOB_LEASE_SECONDS: "5",
  JOB_HEARTBEAT_SECONDS: "1",
  JOB_POLL_MS: "100",
  JOB_MAX_ATTEMPTS: "5",
  JOB_RETRY_BASE_SECONDS: "0.1",
  JOB_RETRY_MAX_SECONDS: "0.5",
  // One job at a time per process: while one process applies an event, the next event can only be
  // claimed by the other process, which is the race this file is about.
  JOB_CONCURRENCY: "1",
};
const rows = (r: unknown) => ((r as any).rows ?? r) as any[];

describeOnPostgres("webhook events of one installation, applied by two service processes", () => {
  let drop: (() => Promise<void>) | undefined;
  let url: string;
  let database: DatabaseHandle;
  let gitlab: ProviderSimulator;
  let installationId: string;
  let headers: Record<string, string>;
  const apps: AppProcess[] = [];
  /** Project ids of the installation's workspace, none a prefix of another (faults match by path prefix). */
  let projects: { id: number; path: string }[];

  const sim = (method: string, path: string, body?: unknown) =>
    fetch(`${gitlab.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
      .then((r) => r.text())
      .then((t) => (t ? JSON.parse(t) : null));
  const api = (app: AppProcess, method: string, path: string, body?: unknown) =>
    fetch(`${app.baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  async function until<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
    for (let i = 0; i < 600; i++) {
      const v = await probe();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never happened in 60 s: ${what}`);
  }
  /** The apply jobs of the deliveries naming project `id`, oldest first. */
  const applyJobs = async (id: number) =>
    rows(
      await database.db.execute(
        sql`select j.id from jobs j join webhook_deliveries d on d.id = j.payload->>'delivery'
            where j.kind = 'webhooks.apply'
              and d.targets @> ${JSON.stringify([{ native_id: String(id) }])}::jsonb
            order by j.created_at, j.id`,
      ),
    ).map((r) => r.id as string);
  const job = async (id: string) => (await jobsRepository(database.db).get(id))!;
  const inventoryRow = async (nativeId: number) =>
    rows(
      await database.db.execute(
        sql`select label, archived, missing_since from resources
            where installation_id = ${installationId} and native_id = ${String(nativeId)}`,
      ),
    )[0] as { label: string; archived: boolean; missing_since: Date | null };
  const upstream = async (id: number) =>
    ((await sim("GET", "/_sim/resources")).resources as any[]).find((r) => r.id === id);
  const providerReads = async (id: number) =>
    ((await sim("GET", "/_sim/requests")).requests as { method: string; path: string }[]).filter(
      (r) => r.method === "GET" && r.path === `/api/v4/projects/${id}`,
    );
  /** Renames the project within its namespace (GitLab's `project_rename`) and returns the new name. */
  async function rename(p: { id: number; path: string }) {
    const name = `renamed-${randomUUID().slice(0, 6)}`;
    await sim("PATCH", `/_sim/resources/${p.id}`, {
      name,
      path: `${p.path.split("/").slice(0, -1).join("/")}/${name}`,
    });
    return name;
  }
  const flush = () => sim("POST", "/_sim/webhooks/flush");

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    ({ url, drop } = created);
    gitlab = await SIMULATORS.gitlab({});
    const env = {
      ...QUEUE_ENV,
      CREDENTIALS_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      GITLAB_URL: gitlab.demo.url,
      OUTBOUND_ALLOW: simulatorOrigins([gitlab]).join(","),
    };
    database = await openDatabase({ databaseUrl: url });
    apps.push(...(await Promise.all([startAppProcess(url, env), startAppProcess(url, env)])));
    // Team, admin and token through this process's own handle on the shared database (no worker here).
    const { services } = await buildApp({
      database,
      logger: createLogger({ level: "silent" }),
      vault: vaultFromConfig({ keys: env.CREDENTIALS_KEYS, keyFile: "/nonexistent" }),
      settings: providerSettingsFor({ gitlab }),
      outbound: { allow: simulatorOrigins([gitlab]) },
      worker: false,
    });
    ({ headers } = await seedAcmeAdmin(services));

    const connected = await api(apps[0], "POST", "/api/v1/installations/", tokenConnectFor(gitlab));
    expect(connected.body.installation, JSON.stringify(connected.body)).toBeDefined();
    installationId = connected.body.installation.id;
    expect((await services.jobs.waitFor(connected.body.refresh.operation_id, 60_000)).status).toBe(
      "completed",
    );
    // The hook as an admin pastes it: the secret from the API, the URL of the first process.
    const secret = await api(apps[0], "POST", `/api/v1/installations/${installationId}/webhook/secret/`);
    expect(secret.status, JSON.stringify(secret.body)).toBe(200);
    await sim("POST", "/_sim/webhooks", {
      url: `${apps[0].baseUrl}/api/v1/webhooks/gitlab/${installationId}/`,
      secret: secret.body.secret,
    });
    const known = new Set(
      rows(
        await database.db.execute(
          sql`select native_id from resources where installation_id = ${installationId} and not archived`,
        ),
      ).map((r) => String(r.native_id)),
    );
    const all = ((await sim("GET", "/_sim/resources")).resources as any[]).filter((r) =>
      known.has(String(r.id)),
    );
    const ids = all.map((r) => String(r.id));
    projects = all
      .filter((r) => !ids.some((o) => o !== String(r.id) && o.startsWith(String(r.id))))
      .sort((a, b) => b.id - a.id);
    // The pass test needs the lowest id (first page); the others take the highest.
    projects.splice(2, 0, projects.pop()!);
    for (const p of projects.slice(0, 3)) expect(await inventoryRow(p.id)).toMatchObject({ archived: false });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop().catch(() => {})));
    await database?.close();
    await gitlab?.close();
    await drop?.();
  });

  it("a rename and an archive of one project picked up by both processes at once: the archive is not lost", async () => {
    const p = projects[0];
    await sim("DELETE", "/_sim/requests");
    // The rename's re-read is answered with the state of that moment, but only after 3 s: the process
    // applying it holds an older read while the archive happens and its event reaches the other process.
    await sim("POST", "/_sim/faults", {
      method: "GET",
      path_prefix: `/api/v4/projects/${p.id}`,
      respond_after_ms: 3_000,
      count: 1,
    });
    const name = await rename(p);
    await flush();
    await until(async () => (await providerReads(p.id)).length > 0, "the rename's re-read reached GitLab");
    await sim("PATCH", `/_sim/resources/${p.id}`, { archived: true });
    await flush();
    const [first, second] = await until(async () => {
      const ids = await applyJobs(p.id);
      return ids.length === 2 && ids;
    }, "both events queued");
    // Never both running: the second waits for the installation's key (a unique index backs it).
    const both = await Promise.all([job(first), job(second)]);
    expect(both.filter((j) => j.status === "running").length).toBeLessThanOrEqual(1);

    for (const id of [first, second]) {
      const done = await until(async () => {
        const j = await job(id);
        return ["completed", "failed", "dead"].includes(j.status) && j;
      }, `job ${id} ended`);
      expect(done, JSON.stringify(done)).toMatchObject({ status: "completed", result: { applied: true } });
    }
    const latest = await upstream(p.id);
    expect(latest).toMatchObject({ archived: true, name });
    expect(await inventoryRow(p.id)).toMatchObject({ archived: true, label: expect.stringContaining(name) });
    await sim("DELETE", "/_sim/faults");
  });

  it("an event during another process's pass waits for it, so the pass's older read does not win", async () => {
    const p = projects[2]; // the lowest id: on the pass's first page
    const [{ workspace_id: ws }] = rows(
      await database.db.execute(sql`select workspace_id from installations where id = ${installationId}`),
    );
    await sim("DELETE", "/_sim/requests");
    // The pass's first page is read at once but answered 3 s later: the pass holds an older read.
    const pageOne = `/api/v4/groups/${encodeURIComponent(ws)}/projects`;
    await sim("POST", "/_sim/faults", {
      method: "GET",
      path_prefix: pageOne,
      respond_after_ms: 3_000,
      count: 1,
    });
    const pass = await api(apps[1], "POST", `/api/v1/installations/${installationId}/refresh/`);
    expect(pass.status, JSON.stringify(pass.body)).toBe(202);
    await until(
      async () => ((await sim("GET", "/_sim/requests")).requests as any[]).some((r) => r.path === pageOne),
      "the pass read its first page",
    );
    const name = await rename(p);
    await flush();
    const [event] = await until(async () => {
      const ids = await applyJobs(p.id);
      return ids.length === 1 && ids;
    }, "rename queued");
    for (const id of [pass.body.operation_id, event]) {
      const done = await until(async () => {
        const j = await job(id);
        return ["completed", "failed", "dead"].includes(j.status) && j;
      }, `job ${id} ended`);
      expect(done, JSON.stringify(done)).toMatchObject({ status: "completed" });
    }
    // The event's newer read is what stays; it ran once, after the pass (never refused and retried).
    expect(await inventoryRow(p.id)).toMatchObject({
      label: expect.stringContaining(name),
      missing_since: null,
    });
    const [passJob, eventJob] = [await job(pass.body.operation_id), await job(event)];
    expect(eventJob.attempts).toBe(1);
    expect(eventJob.finishedAt!.getTime()).toBeGreaterThan(passJob.finishedAt!.getTime());
    await sim("DELETE", "/_sim/faults");
  });

  it("kill -9 of the process mid-apply: the other takes the event over after the lease, then the next event", async () => {
    const p = projects[1];
    // The rename's re-read hangs at GitLab: the process applying it is inside the apply when killed.
    await sim("POST", "/_sim/faults", {
      method: "GET",
      path_prefix: `/api/v4/projects/${p.id}`,
      latency_ms: 600_000,
      count: 1,
    });
    const name = await rename(p);
    await flush();
    const [renamed] = await until(async () => {
      const ids = await applyJobs(p.id);
      return ids.length === 1 && ids;
    }, "rename queued");
    const held = await until(async () => {
      const j = await job(renamed);
      return j.status === "running" && j;
    }, "rename claimed");
    // The archive's event arrives while the rename is held: it waits for the installation's key.
    await sim("PATCH", `/_sim/resources/${p.id}`, { archived: true });
    await flush();
    const archived = await until(async () => {
      const ids = await applyJobs(p.id);
      return ids.length === 2 && ids[1];
    }, "archive queued");
    expect((await job(archived)).status).toBe("pending");

    const holder = apps.find((a) => held.lockedBy?.endsWith(`:${a.pid}`))!;
    expect(holder, held.lockedBy ?? "no holder").toBeDefined();
    await holder.kill();
    apps.splice(apps.indexOf(holder), 1);

    for (const id of [renamed, archived]) {
      const done = await until(async () => {
        const j = await job(id);
        return ["completed", "failed", "dead"].includes(j.status) && j;
      }, `job ${id} ended`);
      expect(done, JSON.stringify(done)).toMatchObject({ status: "completed", result: { applied: true } });
    }
    // The rename was attempted twice (the killed process, then the survivor under a new lease), and the
    // archive waited for it: the key passed to the survivor with the job, not to the next event.
    const [again, after] = [await job(renamed), await job(archived)];
    expect(again).toMatchObject({ attempts: 2, lease: held.lease + 1 });
    expect(after.finishedAt!.getTime()).toBeGreaterThan(again.finishedAt!.getTime());
    expect(await inventoryRow(p.id)).toMatchObject({ archived: true, label: expect.stringContaining(name) });
    await sim("DELETE", "/_sim/faults");
  });
});
