import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * What a pass finds missing is decided in SQL from the pass's staging rows (issue 13 item 6): every key
 * a page delivered counts as seen, changed or not, on any page; nothing else is seen.
 */
let t: SimulatedApp;
let installationId: string;
beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["gitlab"], generatedResources: 260 });
  installationId = (await t.connect("gitlab")).installationId;
});
afterAll(() => t?.close());

const upstream = async () =>
  (await t.sim("gitlab", "GET", `/_sim/resources?workspace_id=${t.sims.gitlab.demo.group_id}`)).resources;

const missingKeys = async () => {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await t.call({
      method: "GET",
      url: `/api/v1/inventory/?installation_id=${installationId}&state=missing&limit=200${cursor ? `&cursor=${cursor}` : ""}`,
      as: t.member,
    });
    expect(res.statusCode, res.body).toBe(200);
    items.push(...res.json().items);
    cursor = res.json().next_cursor;
  } while (cursor);
  return items.map((i) => i.native_id).sort();
};

const stagingRows = async () => {
  const r: any = await t.database.db.execute(sql`select count(*)::int as n from inventory_staging`);
  return Number((r.rows ?? r)[0].n);
};

describe("missing detection over a multi-page pass", () => {
  it("marks exactly the resources deleted upstream on the first, a middle and the last page", async () => {
    const all = await upstream();
    expect(all.length).toBeGreaterThan(200); // three pages of 100
    const victims = [all[0], all[Math.floor(all.length / 2)], all[all.length - 1]];
    for (const v of victims) await t.sim("gitlab", "DELETE", `/_sim/resources/${v.id}`);
    // One renamed on a later page too: a changed row is seen as much as an unchanged one.
    const renamed = all[all.length - 2];
    await t.sim("gitlab", "PATCH", `/_sim/resources/${renamed.id}`, { name: `${renamed.name}-renamed` });

    const job = await t.refresh(installationId);
    expect(job.status).toBe("completed");
    expect(job.result).toMatchObject({ missing: 3, updated: 1, seen: all.length - 3 });
    expect(job.result.pages).toBeGreaterThanOrEqual(3);
    expect(job.result.unchanged).toBe(all.length - 4);
    expect(await missingKeys()).toEqual(victims.map((v) => String(v.id)).sort());
    expect(await stagingRows()).toBe(0);

    // Nothing changed since: the next pass finds nothing more missing and writes nothing.
    const again = await t.refresh(installationId);
    expect(again.result).toMatchObject({ missing: 0, rows_written: 0, seen: all.length - 3 });
    expect(await missingKeys()).toEqual(victims.map((v) => String(v.id)).sort());
  });

  it("a resource that comes back is live again and no longer missing", async () => {
    const [back] = (await missingKeys()).slice(0, 1);
    await t.sim("gitlab", "POST", "/_sim/resources", { id: back, name: `returned-${back}` });
    const job = await t.refresh(installationId);
    expect(job.result).toMatchObject({ missing: 0, updated: 1 });
    expect(await missingKeys()).not.toContain(back);
  });
});
