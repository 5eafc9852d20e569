import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFor } from "../../src/demo/simulated.ts";
import { createLogger } from "../../src/host/logger.ts";
import { randomVault } from "../../src/host/secrets/vault.ts";
import { projects, teams } from "../../src/storage/schema.ts";
import { createHttpClient } from "../../src/tracker/index.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * tracker/resources/ and bind-resolve answer from an in-process snapshot of the team's bindable
 * inventory. These tests run two app instances over one database, as two processes would, and check
 * that a change made through one is what the other answers next (on PGlite and on PostgreSQL).
 */
let t: SimulatedApp;
let other: FastifyInstance;
let installationId: string;
/** Processes of one deployment share the configured keys. */
const vault = randomVault();

beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["github"], vault });
  ({ installationId } = await t.connect("github"));
  ({ server: other } = await buildApp({
    database: t.database,
    logger: createLogger({ level: "silent" }),
    vault,
    settings: providerSettingsFor(t.sims),
    http: createHttpClient(),
    worker: false,
  }));
});
afterAll(async () => {
  await other?.close();
  await t?.close();
});

const identity = (slug: string) => ({
  uuid: randomUUID(),
  slug,
  node_id: "a1b2c3d4e5f6",
  repo_slug: null,
  build_id: null,
});

const resolveOn = async (server: FastifyInstance, id: ReturnType<typeof identity>) => {
  const res = await server.inject({
    method: "POST",
    url: "/api/v1/tracker/bind-resolve/",
    headers: t.admin.headers,
    payload: { provider: "github", project_identity: id },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const resourcesOn = async (server: FastifyInstance) => {
  const res = await server.inject({
    method: "GET",
    url: "/api/v1/tracker/resources/?provider=github",
    headers: t.admin.headers,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().resources as any[];
};

const versionsOf = async (teamId: string) =>
  (
    await t.database.db
      .select({ inventory: teams.inventoryVersion, binding: teams.bindingVersion })
      .from(teams)
      .where(eq(teams.id, teamId))
  )[0];

describe("bindable snapshot across app instances", () => {
  it("a binding made through one instance is the exact answer of the other on its next request", async () => {
    const row = (await resourcesOn(other)).find(
      (r) => r.binding_ref === null && /^[a-z0-9-]+\/[a-z0-9-]+$/.test(r.display_label),
    );
    const id = identity(row.display_label.split("/").pop());
    // Both instances have cached the unbound state.
    expect((await resolveOn(other, id)).binding_ref).toBeNull();
    expect((await resolveOn(t.server, id)).binding_ref).toBeNull();

    const confirmed = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-confirm/",
      as: t.admin,
      headers: { "idempotency-key": randomUUID() },
      payload: { provider: "github", candidate_token: row.candidate_token, project_identity: id },
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    const ref = confirmed.json().binding_ref;

    const seen = await resolveOn(other, id);
    expect(seen.match_type).toBe("exact");
    expect(seen.binding_ref).toBe(ref);
    const listed = (await resourcesOn(other)).find((r) => r.resource_key === row.resource_key);
    expect(listed.binding_ref).toBe(ref);
    expect(listed.bound_project_slug).toBe(id.slug);
  });

  it("binds committed through one instance while the other reads concurrently all show once both settle", async () => {
    const free = (await resourcesOn(other))
      .filter((r) => r.binding_ref === null && r.display_label.includes("service-"))
      .slice(0, 12);
    expect(free).toHaveLength(12);
    const ids = free.map((r) => identity(`concurrent-${r.display_label.split("/").pop()}`));
    let reading = true;
    const reads = (async () => {
      let n = 0;
      while (reading) {
        await Promise.all([resourcesOn(other), resolveOn(other, ids[n % ids.length])]);
        n++;
      }
      return n;
    })();
    const confirmed = await Promise.all(
      free.map((r, i) =>
        t.call({
          method: "POST",
          url: "/api/v1/tracker/bind-confirm/",
          as: t.admin,
          headers: { "idempotency-key": randomUUID() },
          payload: { provider: "github", candidate_token: r.candidate_token, project_identity: ids[i] },
        }),
      ),
    );
    reading = false;
    expect(await reads).toBeGreaterThan(0);
    for (const c of confirmed) expect(c.statusCode, c.body).toBe(200);

    const listed = new Map((await resourcesOn(other)).map((r) => [r.resource_key, r]));
    for (const [i, r] of free.entries()) {
      const ref = confirmed[i].json().binding_ref;
      expect(listed.get(r.resource_key)?.binding_ref).toBe(ref);
      expect(listed.get(r.resource_key)?.bound_project_slug).toBe(ids[i].slug);
      const resolved = await resolveOn(other, ids[i]);
      expect(resolved.match_type).toBe("exact");
      expect(resolved.binding_ref).toBe(ref);
    }
  });

  it("an upstream rename refreshed by one instance shows in the other's tracker/resources", async () => {
    const before = await resourcesOn(other);
    const target = before.find((r) => r.binding_ref === null && r.resource_key.includes("repo"));
    const repo = (await t.sim("github", "GET", "/_sim/resources")).resources.find(
      (r: any) => target.display_label.endsWith(`/${r.name}`) && !r.archived,
    );
    await t.sim("github", "PATCH", `/_sim/resources/${repo.id}`, { name: "snapshot-renamed" });
    expect((await t.refresh(installationId)).status).toBe("completed");

    const after = (await resourcesOn(other)).find((r) => r.resource_key === target.resource_key);
    expect(after.display_label).toMatch(/\/snapshot-renamed$/);
    const renamed = await resolveOn(other, identity("snapshot-renamed"));
    expect(renamed.match_type).toBe("exact");
    expect(renamed.display_label).toBe(after.display_label);
  });

  it("the team's binding version moves once per committed change, never on rollback or for another team", async () => {
    const [mine, theirs] = [await versionsOf(t.team.id), await versionsOf(t.otherTeam.id)];
    await t.database.db.transaction(async (tx) => {
      for (const slug of ["v-one", "v-two", "v-three"])
        await tx.insert(projects).values({ id: `prj_${randomUUID()}`, teamId: t.team.id, slug, name: slug });
    });
    expect(await versionsOf(t.team.id)).toEqual({ inventory: mine.inventory, binding: mine.binding + 1 });

    await expect(
      t.database.db.transaction(async (tx) => {
        await tx
          .insert(projects)
          .values({ id: `prj_${randomUUID()}`, teamId: t.team.id, slug: "v-no", name: "x" });
        await tx.execute(sql`select 1/0`);
      }),
    ).rejects.toThrow();
    expect((await versionsOf(t.team.id)).binding).toBe(mine.binding + 1);
    expect(await versionsOf(t.otherTeam.id)).toEqual(theirs);

    // A refresh that finds nothing new updates only the installation's health: the rows stay current.
    const beforeRefresh = await versionsOf(t.team.id);
    expect((await t.refresh(installationId)).status).toBe("completed");
    const afterRefresh = await versionsOf(t.team.id);
    expect(afterRefresh.inventory).toBe(beforeRefresh.inventory);
    expect(afterRefresh.binding).toBeGreaterThan(beforeRefresh.binding);

    // A refresh that changes a resource moves the inventory version.
    const repo = (await t.sim("github", "GET", "/_sim/resources")).resources.find(
      (r: any) => !r.archived && r.name.startsWith("service-"),
    );
    await t.sim("github", "PATCH", `/_sim/resources/${repo.id}`, { name: `${repo.name}-moved` });
    expect((await t.refresh(installationId)).status).toBe("completed");
    expect((await versionsOf(t.team.id)).inventory).toBeGreaterThan(mine.inventory);
  });

  it("tracker/resources pages through every resource once, in label order, and refuses a forged cursor", async () => {
    const all = await resourcesOn(other);
    const paged: any[] = [];
    let cursor: string | null = null;
    do {
      const res: { statusCode: number; body: string; json(): any } = await other.inject({
        method: "GET",
        url: `/api/v1/tracker/resources/?provider=github&limit=7${cursor ? `&cursor=${cursor}` : ""}`,
        headers: t.admin.headers,
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.resources.length).toBeLessThanOrEqual(7);
      expect(body.has_more).toBe(body.next_cursor !== null);
      paged.push(...body.resources);
      cursor = body.next_cursor;
    } while (cursor);
    expect(paged.map((r) => r.resource_key)).toEqual(all.map((r) => r.resource_key));
    const labels = all.map((r) => r.display_label);
    expect(labels).toEqual([...labels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

    const forged = Buffer.from(JSON.stringify({ label: 5 })).toString("base64url");
    const res = await other.inject({
      method: "GET",
      url: `/api/v1/tracker/resources/?provider=github&cursor=${forged}`,
      headers: t.admin.headers,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error_code).toBe("validation_error");
  });
});
