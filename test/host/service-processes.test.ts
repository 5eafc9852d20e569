import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Services } from "../../src/app/compose.ts";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFor, simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { createLogger } from "../../src/host/logger.ts";
import { vaultFromConfig } from "../../src/host/secrets/vault.ts";
import { type ProviderSimulator, SIMULATORS } from "../../src/simulators/index.ts";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";
import { type AppProcess, SHORT_LEASES, seedAcmeAdmin, startAppProcess } from "../support/app-process.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { describeOnPostgres } from "../support/postgres.ts";
import { simControl } from "../support/tracker.ts";
import { eventually } from "../support/webhooks.ts";

/**
 * Four service processes (`src/app/main.ts`, each its own job worker and housekeeping tick) on one
 * PostgreSQL database, three GitLab installations, each on its own simulator. A pass is counted where
 * the provider sees it: the requests its simulator answered, against one pass's requests measured first.
 */
const PROCESSES = 4;
const rows = (r: unknown) => ((r as any).rows ?? r) as any[];

describeOnPostgres("four service processes on one PostgreSQL database", () => {
  let drop: (() => Promise<void>) | undefined;
  let database: DatabaseHandle;
  let services: Services;
  let headers: Record<string, string>;
  const sims: ProviderSimulator[] = [];
  const installations: string[] = [];
  /** Requests one pass of installation i makes to its simulator. */
  const onePass: number[] = [];
  const apps: AppProcess[] = [];

  const control = (i: number) => simControl(() => sims[i].url);
  const providerRequests = async (i: number) =>
    ((await control(i)("GET", "/_sim/requests")).requests as { path: string }[]).filter(
      (r) => !r.path.startsWith("/_sim/"),
    ).length;
  const forgetRequests = () => Promise.all(sims.map((_, i) => control(i)("DELETE", "/_sim/requests")));
  const api = async (app: AppProcess, method: string, path: string, body?: unknown, extra = {}) => {
    const res = await fetch(`${app.baseUrl}${path}`, {
      method,
      headers: {
        ...headers,
        ...extra,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const requestRefresh = (app: AppProcess, i: number) =>
    api(app, "POST", `/api/v1/installations/${installations[i]}/refresh/`);
  /** The refresh jobs of installation i created since `since`, oldest first. */
  const refreshJobs = async (i: number, since: Date) =>
    rows(
      await database.db.execute(sql`
        select id, status, attempts, result, locked_by from jobs
        where dedupe_key = ${`inventory.refresh:${installations[i]}`} and created_at >= ${since.toISOString()}
        order by created_at`),
    );
  /** The passes that ran (a scheduled job that found the installation fresh ran none). */
  const passesSince = async (i: number, since: Date) =>
    (await refreshJobs(i, since)).filter((j) => !(j.result as { skipped?: string } | null)?.skipped);
  const resources = async (app: AppProcess) => {
    const res = await api(app, "GET", "/api/v1/tracker/resources/?provider=gitlab");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.resources as any[];
  };
  const resolve = async (app: AppProcess, slug: string) => {
    const res = await api(app, "POST", "/api/v1/tracker/bind-resolve/", {
      provider: "gitlab",
      project_identity: {
        uuid: IDENTITY_UUID,
        slug,
        node_id: "a1b2c3d4e5f6",
        repo_slug: null,
        build_id: null,
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const IDENTITY_UUID = randomUUID();

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    drop = created.drop;
    for (let i = 0; i < 3; i++) sims.push(await SIMULATORS.gitlab({ generatedResources: 150 }));
    const keys = `k1:${randomBytes(32).toString("base64")}`;
    // This process only seeds and reads the database; the four service processes run every job.
    database = await openDatabase({ databaseUrl: created.url });
    ({ services } = await buildApp({
      database,
      logger: createLogger({ level: "silent" }),
      vault: vaultFromConfig({ keys, keyFile: "/nonexistent" }),
      settings: providerSettingsFor({ gitlab: sims[0] }),
      outbound: { allow: simulatorOrigins(sims) },
      worker: false,
    }));
    ({ headers } = await seedAcmeAdmin(services));
    const env = {
      ...SHORT_LEASES,
      CREDENTIALS_KEYS: keys,
      GITLAB_URL: sims[0].demo.url,
      OUTBOUND_ALLOW: simulatorOrigins(sims).join(","),
      // Scheduled refreshes on, hourly; every process looks for due installations every 0.3 s.
      REFRESH_INTERVAL_MINUTES: "60",
      HOUSEKEEPING_INTERVAL_SECONDS: "0.3",
    };
    apps.push(
      ...(await Promise.all(Array.from({ length: PROCESSES }, () => startAppProcess(created.url, env)))),
    );
    for (const [i, sim] of sims.entries()) {
      const connected = await api(apps[i], "POST", "/api/v1/installations/", tokenConnectFor(sim));
      expect(connected.status, JSON.stringify(connected.body)).toBe(201);
      installations.push(connected.body.installation.id);
      expect((await services.jobs.waitFor(connected.body.refresh.operation_id)).status).toBe("completed");
    }
    // One pass of each, alone: what the provider sees of a single pass.
    await forgetRequests();
    for (const i of sims.keys()) {
      const { body } = await requestRefresh(apps[0], i);
      expect((await services.jobs.waitFor(body.operation_id)).status).toBe("completed");
      onePass.push(await providerRequests(i));
    }
    for (const n of onePass) expect(n).toBeGreaterThan(1);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop().catch(() => {})));
    await database?.close();
    await Promise.all(sims.map((s) => s.close()));
    await drop?.();
  });

  it("refreshes requested through every process at once run one pass per installation", async () => {
    // Each pass waits 2 s at its first provider request, so every request meets the pass still running.
    for (const i of sims.keys()) await control(i)("POST", "/_sim/faults", { latency_ms: 2_000, count: 1 });
    await forgetRequests();
    const since = new Date();
    const answers = await Promise.all(
      [...apps, ...apps].flatMap((app) =>
        sims.map(async (_, i) => ({ i, ...(await requestRefresh(app, i)) })),
      ),
    );
    for (const i of sims.keys()) {
      const mine = answers.filter((a) => a.i === i);
      expect(mine.map((a) => a.status)).toEqual(Array(2 * PROCESSES).fill(202));
      const ids = new Set(mine.map((a) => a.body.operation_id));
      expect(ids.size, `installation ${i}: one operation for all requests`).toBe(1);
      expect((await services.jobs.waitFor([...ids][0], 60_000)).status).toBe("completed");
    }
    for (const i of sims.keys()) {
      const passes = await passesSince(i, since);
      expect(passes, JSON.stringify(passes)).toHaveLength(1);
      expect(await providerRequests(i), `installation ${i}: one pass's requests`).toBe(onePass[i]);
    }
  });

  it("installations found due by every process's tick at once are each refreshed once", async () => {
    await forgetRequests();
    const since = new Date();
    // An hour and more since the last sync: every process's next tick (0.3 s) finds all three due.
    await database.db.execute(
      sql`update installations set last_sync_at = now() - interval '2 hours' where team_id = (select id from teams where slug = 'acme')`,
    );
    const synced = () =>
      database.db.execute(
        sql`select count(*)::int as n from installations where last_sync_at >= ${since.toISOString()}`,
      );
    await eventually(synced, (r) => rows(r)[0].n === sims.length, "every installation synced", 60_000);
    // Let every process tick a few more times: no tick may queue another pass now.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const i of sims.keys()) {
      const passes = await passesSince(i, since);
      expect(passes, JSON.stringify(passes)).toHaveLength(1);
      expect(passes[0]).toMatchObject({ status: "completed", attempts: 1 });
      expect(await providerRequests(i), `installation ${i}: one pass's requests`).toBe(onePass[i]);
    }
  });

  it("a rename refreshed through one process is every process's answer on its next request", async () => {
    const before = await resources(apps[0]);
    const row = before.find(
      (r) => r.installation_id === installations[0] && r.display_label.endsWith("-00042"),
    );
    expect(row, "a generated project of the first installation").toBeTruthy();
    // Every process has answered (and cached) the old name.
    for (const app of apps) {
      expect((await resources(app)).map((r) => r.display_label)).toContain(row.display_label);
      const answer = await resolve(app, "billing-engine-x");
      expect(answer.display_label ?? "").not.toMatch(/billing-engine-x$/);
    }
    const [project] = (
      await control(0)("GET", `/_sim/resources?workspace_id=${sims[0].demo.group_id}`)
    ).resources.filter((r: any) => row.display_label.endsWith(r.path ?? r.name));
    await control(0)("PATCH", `/_sim/resources/${project.id}`, {
      name: "billing-engine-x",
      path: "billing-engine-x",
    });
    const { body } = await requestRefresh(apps[1], 0);
    expect((await services.jobs.waitFor(body.operation_id, 60_000)).status).toBe("completed");

    for (const app of apps) {
      const listed = (await resources(app)).find((r) => r.resource_key === row.resource_key);
      expect(listed?.display_label, app.baseUrl).toMatch(/billing-engine-x$/);
      // Unbound, and named exactly like the project: the exact match, with a token to confirm it.
      const answer = await resolve(app, "billing-engine-x");
      expect(answer, JSON.stringify(answer)).toMatchObject({
        match_type: "exact",
        binding_ref: null,
        display_label: listed.display_label,
      });
    }
  });

  it("a binding confirmed through one process is every process's exact answer on its next request", async () => {
    const row = (await resources(apps[0])).find(
      (r) => r.binding_ref === null && r.display_label.endsWith("-00077"),
    );
    const slug = row.display_label.split("/").pop();
    for (const app of apps) expect((await resolve(app, slug)).binding_ref).toBeNull();
    const confirmed = await api(
      apps[2],
      "POST",
      "/api/v1/tracker/bind-confirm/",
      {
        provider: "gitlab",
        candidate_token: row.candidate_token,
        project_identity: {
          uuid: IDENTITY_UUID,
          slug,
          node_id: "a1b2c3d4e5f6",
          repo_slug: null,
          build_id: null,
        },
      },
      { "idempotency-key": `logical-operation:write:${randomUUID()}` },
    );
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    const ref = confirmed.body.binding_ref;
    for (const app of apps) {
      const answer = await resolve(app, slug);
      expect(answer, app.baseUrl).toMatchObject({ match_type: "exact", binding_ref: ref });
      const listed = (await resources(app)).find((r) => r.resource_key === row.resource_key);
      expect(listed).toMatchObject({ binding_ref: ref, bound_project_slug: slug });
    }
  });

  it("kill -9 of the process running a pass: another process completes it, once", async () => {
    // The pass's first provider request hangs until its process is killed.
    await control(1)("POST", "/_sim/faults", { latency_ms: 600_000, count: 1 });
    await forgetRequests();
    const since = new Date();
    const { body } = await requestRefresh(apps[3], 1);
    const id = body.operation_id;
    const held = await eventually(
      async () =>
        rows(await database.db.execute(sql`select status, locked_by, lease from jobs where id = ${id}`))[0],
      (j) => j.status === "running",
      "a process holds the pass",
    );
    const holder = apps.find((a) => held.locked_by.endsWith(`:${a.pid}`))!;
    expect(holder).toBeTruthy();
    await holder.kill();
    apps.splice(apps.indexOf(holder), 1);

    const done = await services.jobs.waitFor(id, 60_000);
    expect(done).toMatchObject({ status: "completed", attempts: 2, lease: held.lease + 1 });
    expect(await passesSince(1, since)).toHaveLength(1);
    // The hung request was the killed pass's; the rest is the survivor's one whole pass.
    expect(await providerRequests(1)).toBe(onePass[1]);
    await control(1)("DELETE", "/_sim/faults");
    for (const app of apps)
      expect((await api(app, "GET", `/api/v1/tracker/operations/${id}/`)).body.status).toBe("completed");
  });
});

describeOnPostgres("WORKERS=2: one started process serving as two on one port", () => {
  // The service's worker processes: its children but the esbuild service tsx starts when it compiles
  // (a fresh clone has no compile cache, so there is one).
  const children = (pid: number) =>
    execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() && !l.includes("esbuild"))
      .map((l) => Number.parseInt(l.trim(), 10))
      .filter(Boolean);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it("forks two workers, replaces one killed with -9, and SIGTERM stops both", async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    const service = await startAppProcess(created.url, {
      WORKERS: "2",
      CREDENTIALS_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    });
    try {
      const workers = children(service.pid);
      expect(workers).toHaveLength(2);
      expect((await fetch(`${service.baseUrl}/readyz`)).status).toBe(200);

      process.kill(workers[0], "SIGKILL");
      const replaced = await eventually(
        async () => children(service.pid),
        (pids) => pids.length === 2 && !pids.includes(workers[0]),
        "a new worker in place of the killed one",
        60_000,
      );
      expect(replaced).toContain(workers[1]);
      // The port is still served (by the survivor, then by both).
      for (let i = 0; i < 10; i++) expect((await fetch(`${service.baseUrl}/healthz`)).status).toBe(200);

      await service.stop();
      for (const pid of replaced) expect(alive(pid), `worker ${pid} stopped`).toBe(false);
    } finally {
      await service.kill().catch(() => {});
      await created.drop();
    }
  });
});
