import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Services } from "../../src/app/compose.ts";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFor, simulatorOrigins, tokenConnectFor } from "../../src/demo/simulated.ts";
import { jobsRepository } from "../../src/host/jobs/repository.ts";
import { createLogger } from "../../src/host/logger.ts";
import { vaultFromConfig } from "../../src/host/secrets/vault.ts";
import { type ProviderSimulator, SIMULATORS } from "../../src/simulators/index.ts";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";
import { seedAcmeAdmin } from "../support/app-process.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { type Run, runScript } from "../support/embedded-process.ts";
import { describeOnPostgres } from "../support/postgres.ts";

/**
 * SIGTERM to a real `npm start` process on PostgreSQL while it runs a job: the process answers the
 * request in flight, gives the job its grace, then hands it back to the queue (pending, lease
 * released, the attempt not counted) and exits 0; the next process runs it at once, although the lease
 * the stopped process held was a long one.
 */

const ENV = {
  JOB_LEASE_SECONDS: "300", // a job left to its lease would wait five minutes
  JOB_HEARTBEAT_SECONDS: "1",
  JOB_POLL_MS: "100",
  JOB_SHUTDOWN_GRACE_SECONDS: "1",
};

async function until<T>(probe: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not reached in 60 s`);
}

async function startService(env: Record<string, string>) {
  const run = runScript("src/app/main.ts", [], env);
  const line = await until(
    async () =>
      run
        .stdout()
        .split("\n")
        .find((l) => l.includes('"service listening"')) ??
      (run.child.exitCode !== null ? Promise.reject(new Error(run.stderr())) : undefined),
    "service listening",
  );
  return { run, baseUrl: JSON.parse(line).base_url as string };
}

describeOnPostgres("graceful shutdown", () => {
  let drop: (() => Promise<void>) | undefined;
  let database: DatabaseHandle;
  let services: Services;
  let gitlab: ProviderSimulator;
  let env: Record<string, string>;
  let headers: Record<string, string>;
  const runs: Run[] = [];
  const job = async (id: string) => (await jobsRepository(database.db).get(id))!;
  const sim = (method: string, path: string, body?: unknown) =>
    fetch(`${gitlab.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    drop = created.drop;
    gitlab = await SIMULATORS.gitlab({});
    const keys = `k1:${randomBytes(32).toString("base64")}`;
    env = {
      ...ENV,
      DATABASE_URL: created.url,
      CREDENTIALS_KEYS: keys,
      GITLAB_URL: gitlab.demo.url,
      OUTBOUND_ALLOW: simulatorOrigins([gitlab]).join(","),
    };
    database = await openDatabase({ databaseUrl: created.url });
    ({ services } = await buildApp({
      database,
      logger: createLogger({ level: "silent" }),
      vault: vaultFromConfig({ keys, keyFile: "/nonexistent" }),
      settings: providerSettingsFor({ gitlab }),
      outbound: { allow: simulatorOrigins([gitlab]) },
      worker: false,
    }));
    headers = { ...(await seedAcmeAdmin(services)).headers, "content-type": "application/json" };
  });
  afterAll(async () => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    await Promise.all(runs.map((r) => r.exited));
    await database?.close();
    await gitlab?.close();
    await drop?.();
  });

  it("SIGTERM answers the request in flight, hands the running job back, and the next process runs it at once", async () => {
    const first = await startService(env);
    runs.push(first.run);
    const connect = () =>
      fetch(`${first.baseUrl}/api/v1/installations/`, {
        method: "POST",
        headers,
        body: JSON.stringify(tokenConnectFor(gitlab)),
      });
    const connected = await connect().then((r) => r.json());
    expect((await services.jobs.waitFor(connected.refresh.operation_id, 60_000)).status).toBe("completed");
    // The next refresh's first provider call hangs: the job stays running, its heartbeats keep the lease.
    await sim("POST", "/_sim/faults", { latency_ms: 600_000, count: 1 });
    const requested = await fetch(
      `${first.baseUrl}/api/v1/installations/${connected.installation.id}/refresh/`,
      {
        method: "POST",
        headers: { authorization: headers.authorization, "x-team-slug": "acme" },
      },
    ).then((r) => r.json());
    const id = requested.operation_id as string;
    const held = await until(async () => {
      const j = await job(id);
      return j.status === "running" && j;
    }, "job running");
    expect(held.lockedBy).toMatch(new RegExp(`:${first.run.child.pid}$`));

    // A request still being answered when the signal comes (its provider call takes 1.5 s) is answered.
    const received = () => first.run.stdout().split('"incoming request"').length;
    const before = received();
    await sim("POST", "/_sim/faults", { latency_ms: 1_500, count: 1 });
    const inFlight = connect();
    await until(async () => received() > before, "request received");
    first.run.child.kill("SIGTERM");
    const answered = await inFlight;
    expect(answered.status).toBeLessThan(500);
    const exit = await first.run.exited;
    expect(exit.code).toBe(0);
    expect(first.run.stdout()).toContain('"job handed back to the queue at shutdown"');

    const released = await job(id);
    expect(released).toMatchObject({ status: "pending", attempts: 0, lockedBy: null, lockedUntil: null });
    expect(released.lease).toBe(held.lease);

    // The next process claims it at once (its lease would have held it for five minutes) and completes it.
    await sim("DELETE", "/_sim/faults");
    const second = await startService(env);
    runs.push(second.run);
    const done = await services.jobs.waitFor(id, 60_000);
    expect(done).toMatchObject({ status: "completed", attempts: 1, lease: held.lease + 1 });
    expect(second.run.child.kill("SIGTERM")).toBe(true);
    expect((await second.run.exited).code).toBe(0);
  });
});
