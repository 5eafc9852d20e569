import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BindableSnapshot,
  bindableSnapshots,
  type SnapshotBuild,
} from "../../src/host/inventory/snapshot.ts";
import { installations, inventoryChanges, resources } from "../../src/storage/schema.ts";
import { copyResource } from "../support/inventory.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * A process keeps each team's bindable snapshot and, when the inventory version moves, re-reads only the
 * rows `inventory_changes` lists for the versions it missed (migration 0017). These tests change
 * resources through real refreshes and through plain SQL (as any writer would) and compare the patched
 * snapshot, lookup by lookup, with one built from scratch at the same moment: on PGlite and PostgreSQL.
 */
let t: SimulatedApp;
let installationId: string;

beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["github"] });
  ({ installationId } = await t.connect("github"));
});
afterAll(async () => {
  await t?.close();
});

/** A snapshot cache as one process holds it, recording what each build did. */
function processCache(compactAfter?: number) {
  const builds: SnapshotBuild[] = [];
  const cache = bindableSnapshots(t.database.db, { onBuild: (b) => builds.push(b), compactAfter });
  return { builds, get: () => cache.get(t.team.id, "github") };
}

/** Everything a reader can observe of a snapshot, by resource id instead of slot. */
function observed(snap: BindableSnapshot, terms: string[]) {
  const ids = (slots: number[]) => slots.map((s) => snap.rows[s].id);
  const all = () => true;
  return {
    order: snap.order.map((s) => `${snap.rows[s].label}|${snap.rows[s].id}`),
    offered: ids(snap.offered),
    bound: snap.order.filter((s) => snap.boundBy.has(s)).map((s) => snap.rows[s].id),
    lookups: terms.map((term) => ({
      term,
      equal: ids(snap.withName(term)).sort(),
      names: ids(snap.nameContains(term, all, 5)),
      paths: ids(snap.pathContains(term, all, 5)),
    })),
  };
}

async function expectSameAsFreshBuild(snap: BindableSnapshot) {
  const fresh = await processCache().get();
  expect(snap.inventoryVersion).toBe(fresh.inventoryVersion);
  const labels = fresh.order.map((s) => fresh.rows[s].names.name);
  const terms = ["service", "repo", "copy", labels[0], labels[labels.length - 1], "zz-none"];
  expect(observed(snap, terms)).toEqual(observed(fresh, terms));
}

const liveRows = () =>
  t.database.db
    .select({ id: resources.id, name: resources.name })
    .from(resources)
    .where(and(eq(resources.installationId, installationId), sql`${resources.missingSince} is null`));

const insertCopy = (from: string, n = 1) => copyResource(t.database.db, from, n);

describe("incremental bindable snapshot", () => {
  it("a rename refreshed from the provider patches the snapshot: one row re-read, binding_ref kept", async () => {
    const cache = processCache();
    const before = await cache.get();
    expect(cache.builds).toEqual(["inventory"]);
    const repo = (await t.sim("github", "GET", "/_sim/resources")).resources.find(
      (r: any) => !r.archived && r.name.startsWith("service-"),
    );
    const listed = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=github",
      as: t.admin,
    });
    const item = listed.json().resources.find((r: any) => r.display_label.endsWith(`/${repo.name}`));
    const bound = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-confirm/",
      as: t.admin,
      headers: { "idempotency-key": randomUUID() },
      payload: {
        provider: "github",
        candidate_token: item.candidate_token,
        project_identity: { uuid: randomUUID(), slug: "renamed-later", node_id: "a1b2c3d4e5f6" },
      },
    });
    expect(bound.statusCode, bound.body).toBe(200);
    await cache.get();
    expect(cache.builds).toEqual(["inventory", "bindings"]);

    await t.sim("github", "PATCH", `/_sim/resources/${repo.id}`, { name: "renamed-in-place" });
    expect((await t.refresh(installationId)).status).toBe("completed");

    const after = await cache.get();
    expect(cache.builds.slice(2)).toEqual(["patch"]);
    expect(after.inventoryVersion).toBeGreaterThan(before.inventoryVersion);
    const [slot] = after.withName("renamed-in-place");
    expect(after.rows[slot].resourceKey).toBe(item.resource_key);
    expect(after.withName(repo.name)).toEqual([]);
    expect(after.boundBy.get(slot)?.bindingRef).toBe(bound.json().binding_ref);
    await expectSameAsFreshBuild(after);
  });

  it.each([
    ["patched in place", undefined],
    ["compacted every few changes", 3],
  ])(
    "any mix of inserts, renames, archives, deletions and missing marks matches a fresh build (%s)",
    async (_, compactAfter) => {
      const cache = processCache(compactAfter);
      await cache.get();
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      for (let round = 0; round < 24; round++) {
        const rows = await liveRows();
        const pick = () => rows[random(rows.length)];
        const db = t.database.db;
        switch (round % 6) {
          case 0:
            await db
              .update(resources)
              .set({ name: `renamed-${round}`, label: `acme/renamed-${round}` })
              .where(eq(resources.id, pick().id));
            break;
          case 1:
            await db.update(resources).set({ archived: true }).where(eq(resources.id, pick().id));
            break;
          case 2:
            await insertCopy(pick().id, 1 + random(3));
            break;
          case 3:
            await db.delete(resources).where(eq(resources.id, pick().id));
            break;
          case 4:
            await db.update(resources).set({ missingSince: new Date() }).where(eq(resources.id, pick().id));
            break;
          default:
            // Several statements in one transaction: one version each, read back together.
            await db.transaction(async (tx) => {
              await tx
                .update(resources)
                .set({ archived: false })
                .where(eq(resources.installationId, installationId));
              await tx
                .update(resources)
                .set({ name: `moved-${round}` })
                .where(eq(resources.id, pick().id));
            });
        }
        await expectSameAsFreshBuild(await cache.get());
      }
      expect(cache.builds.filter((b) => b === "patch").length).toBeGreaterThanOrEqual(20);
      expect(cache.builds.filter((b) => b === "inventory")).toEqual(["inventory"]);
    },
  );

  it("a change the log cannot list, or a gap it no longer holds, rebuilds instead", async () => {
    const cache = processCache();
    await cache.get();
    // A row the snapshot holds (live, not archived, issues enabled): the query's order is not fixed.
    const [row] = await t.database.db
      .select({ id: resources.id })
      .from(resources)
      .where(
        and(
          eq(resources.installationId, installationId),
          sql`${resources.missingSince} is null and not ${resources.archived} and not ${resources.issuesDisabled}`,
        ),
      )
      .limit(1);

    // A disconnect and reconnect change which installations' rows count: recorded without ids.
    await t.database.db
      .update(installations)
      .set({ disconnectedAt: new Date() })
      .where(eq(installations.id, installationId));
    await t.database.db
      .update(installations)
      .set({ disconnectedAt: null })
      .where(eq(installations.id, installationId));
    await cache.get();
    expect(cache.builds).toEqual(["inventory", "inventory"]);

    // More versions than the log keeps: the oldest are gone, so the snapshot cannot be patched.
    for (let i = 0; i < 260; i++)
      await t.database.db
        .update(resources)
        .set({ name: `churn-${i}` })
        .where(eq(resources.id, row.id));
    const kept = await t.database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(inventoryChanges)
      .where(eq(inventoryChanges.teamId, t.team.id));
    expect(kept[0].n).toBe(256);
    const snap = await cache.get();
    expect(cache.builds).toEqual(["inventory", "inventory", "inventory"]);
    expect(snap.rows[snap.slotOf(row.id) as number].name).toBe("churn-259");
    await expectSameAsFreshBuild(snap);

    // A rolled-back change leaves neither a version nor a change row behind.
    const version = snap.inventoryVersion;
    await expect(
      t.database.db.transaction(async (tx) => {
        await tx.update(resources).set({ name: "never" }).where(eq(resources.id, row.id));
        await tx.execute(sql`select 1/0`);
      }),
    ).rejects.toThrow();
    expect((await cache.get()).inventoryVersion).toBe(version);
    expect(cache.builds).toHaveLength(3);
  });

  it("thousands of new rows in one statement are recorded as a rebuild, not listed", async () => {
    const cache = processCache();
    await cache.get();
    const [row] = await liveRows();
    await insertCopy(row.id, 5_001);
    const [last] = await t.database.db
      .select({ ids: inventoryChanges.resourceIds })
      .from(inventoryChanges)
      .where(eq(inventoryChanges.teamId, t.team.id))
      .orderBy(sql`${inventoryChanges.version} desc`)
      .limit(1);
    expect(last.ids).toBeNull();
    const snap = await cache.get();
    expect(cache.builds).toEqual(["inventory", "inventory"]);
    await expectSameAsFreshBuild(snap);
  });
});
