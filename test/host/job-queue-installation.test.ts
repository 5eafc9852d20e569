import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestRefresh } from "../../src/host/inventory/refresh-job.ts";
import { readCookie } from "../support/cookies.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/** A refresh that used up its attempts, as the installation's admin sees it in the API and the dashboard. */
describe("a dead refresh on its installation", () => {
  let t: SimulatedApp;
  let installationId: string;

  async function dashboardSession() {
    const page = await t.server.inject({ method: "GET", url: "/dashboard/sign-in" });
    const pre = readCookie(String(page.headers["set-cookie"]).split(";")[0], "sk_signin")!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const res = await t.server.inject({
      method: "POST",
      url: "/dashboard/sign-in",
      headers: { cookie: `sk_signin=${pre}`, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        _csrf: csrf,
        email: t.admin.email,
        password: "correct horse battery staple",
        next: "/dashboard/",
      }).toString(),
    });
    const session = ([] as string[])
      .concat(res.headers["set-cookie"] ?? [])
      .find((c) => c.startsWith("sk_session="))!;
    return session.split(";")[0];
  }
  const installation = async () =>
    (await t.call({ method: "GET", url: `/api/v1/installations/${installationId}/`, as: t.member })).json();

  beforeAll(async () => {
    t = await createSimulatedApp({
      providers: ["gitlab"],
      jobs: { maxAttempts: 2, retryBaseSeconds: 0.01, retryMaxSeconds: 0.02 },
    });
    ({ installationId } = await t.connect("gitlab"));
  });
  afterAll(() => t?.close());

  it("a provider that keeps failing: dead after the attempts, error kept, shown in the API and the dashboard", async () => {
    await t.sim("gitlab", "POST", "/_sim/faults", { status: 503, count: 100_000 });
    const dead = await t.refresh(installationId);
    await t.sim("gitlab", "DELETE", "/_sim/faults");
    expect(dead).toMatchObject({
      status: "dead",
      attempts: 2,
      error: { error_code: "upstream_unavailable" },
    });

    const op = await t.call({ method: "GET", url: `/api/v1/tracker/operations/${dead.id}/`, as: t.member });
    expect(op.json()).toMatchObject({
      status: "failed",
      attempts: 2,
      error: { dead: true, retryable: true },
    });
    const health = (await installation()).health;
    expect(health).toMatchObject({ last_error_code: "upstream_unavailable", consecutive_failures: 2 });
    expect(health.last_error_message).toMatch(/^Sync gave up after 2 attempts: /);

    const cookie = await dashboardSession();
    const page = await t.server.inject({
      method: "GET",
      url: `/dashboard/installations/${installationId}?op=${dead.id}`,
      headers: { cookie },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("Sync failed after 2 attempts");
    expect(page.body).toContain("Sync gave up after 2 attempts");
    const poll = await t.server.inject({
      method: "GET",
      url: `/dashboard/operations/${dead.id}`,
      headers: { cookie },
    });
    expect(poll.json()).toMatchObject({ status: "dead", done: true });
  });

  it("a refresh whose worker died on its last attempt is dead (worker_lost) on the installation; the next request is a new job", async () => {
    const dedupe = `inventory.refresh:${installationId}`;
    // What a worker killed on the last attempt leaves behind: running, attempts used up, lease run out.
    await t.database.db.execute(sql`insert into jobs (id, team_id, kind, payload, status, dedupe_key, attempts,
        max_attempts, lease, locked_until)
      values ('op_lost_refresh', ${t.team.id}, 'inventory.refresh', ${JSON.stringify({ installation_id: installationId })}::jsonb,
        'running', ${dedupe}, 2, 2, 2, now() - interval '1 second')`);
    const next = await t.call({
      method: "POST",
      url: `/api/v1/installations/${installationId}/refresh/`,
      as: t.admin,
    });
    expect(next.json().operation_id).not.toBe("op_lost_refresh");
    const lost = await t.services.jobs.waitFor("op_lost_refresh");
    expect(lost).toMatchObject({ status: "dead", error: { error_code: "worker_lost", attempts: 2 } });
    expect((await t.services.jobs.waitFor(next.json().operation_id)).status).toBe("completed");
    // The installation recorded the loss before the new pass succeeded and cleared it.
    const health = (await installation()).health;
    expect(health.last_error_code).toBe("worker_lost");
    expect(health.last_error_message).toMatch(
      /^Sync gave up after 2 attempt\(s\): The operation was given up/,
    );
  });
});

/**
 * Another process's tick found the installation due, but queued its pass only after this pass ended
 * (the dedupe key was free again): that scheduled pass finds the installation fresh and asks nothing of
 * the provider. service-processes.test.ts meets this race with four real processes.
 */
describe("a scheduled pass queued after the installation was synced", () => {
  let t: SimulatedApp;
  afterAll(() => t?.close());

  it("is skipped without a provider request; a due one runs", async () => {
    t = await createSimulatedApp({ providers: ["gitlab"] });
    const { installationId } = await t.connect("gitlab");
    const requests = async () =>
      ((await t.sim("gitlab", "GET", "/_sim/requests")).requests as { path: string }[]).filter(
        (r) => !r.path.startsWith("/_sim/"),
      ).length;
    await t.sim("gitlab", "DELETE", "/_sim/requests");
    // Found due an hour ago (before the first sync just now), queued only now.
    const stale = await requestRefresh(
      t.services.jobs,
      t.team.id,
      installationId,
      null,
      new Date(Date.now() - 3_600_000),
    );
    expect(await t.services.jobs.waitFor(stale.job.id)).toMatchObject({
      status: "completed",
      result: { installation_id: installationId, skipped: "synced since it was found due" },
    });
    expect(await requests()).toBe(0);

    // Not synced within the interval: the scheduled check queues a pass that runs.
    await t.database.db.execute(
      sql`update installations set last_sync_at = now() - interval '2 hours' where id = ${installationId}`,
    );
    expect(await t.services.inventory.enqueueDue(60)).toBe(1);
    const [queued] = (
      (await t.database.db.execute(
        sql`select id from jobs where dedupe_key = ${`inventory.refresh:${installationId}`} order by created_at desc limit 1`,
      )) as any
    ).rows;
    const due = await t.services.jobs.waitFor(queued.id);
    expect(due).toMatchObject({
      status: "completed",
      result: { installation_id: installationId, complete: true },
    });
    expect(await requests()).toBeGreaterThan(0);
  });
});
