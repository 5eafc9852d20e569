import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditCsv } from "../../src/host/audit/export.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

/** The readable audit log's service: numbered pages with totals, filters, and exports without gaps. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // One transaction: every event gets the same created_at, the case a keyset must still page through.
  await t.database.db.transaction(async (tx) => {
    for (let i = 0; i < 2_500; i++)
      await t.services.audit.record(
        {
          teamId: t.team.id,
          actorUserId: i % 2 ? t.admin.userId : null,
          action: i % 5 ? "mapping.created" : "installation.disconnected",
          targetType: i % 5 ? "mapping" : "installation",
          targetId: `t_${i}`,
          after: {
            display_label: `=HYPERLINK("x") ${i}`,
            provider: "linear",
            display_name: "Acme",
            refresh_token: "rt-secret",
          },
        },
        tx as never,
      );
  });
}, 120_000);
afterAll(() => t.close());

describe("audit log", () => {
  it("exports every event once, oldest first, across batches of equal timestamps", async () => {
    const all = await t.services.audit.export(t.team.id, {});
    expect(all).toHaveLength(2_500);
    expect(new Set(all.map((e) => e.id)).size).toBe(2_500);
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort());
  });

  it("counts and pages the filtered log", async () => {
    const byAction = await t.services.audit.numbered(
      t.team.id,
      { action: "installation.disconnected" },
      { page: 2, size: 100 },
    );
    expect(byAction.total).toBe(500);
    expect(byAction.items).toHaveLength(100);
    const bySystem = await t.services.audit.numbered(t.team.id, { actor: null }, { page: 1, size: 10 });
    expect(bySystem.total).toBe(1_250);
    expect(bySystem.items.every((e) => e.actor_email === null)).toBe(true);
    expect(bySystem.items.map((e) => e.summary)).toContain("The service disconnected Linear · Acme");
    const future = await t.services.audit.numbered(
      t.team.id,
      { from: new Date(Date.now() + 86_400_000) },
      { page: 1, size: 10 },
    );
    expect(future.total).toBe(0);
    // Another team sees none of it.
    expect((await t.services.audit.numbered(t.otherTeam.id, {}, { page: 1, size: 10 })).total).toBe(0);
  });

  it("redacts secret-looking fields and defuses spreadsheet formulas in the CSV", async () => {
    const events = await t.services.audit.export(t.team.id, { action: "mapping.created" });
    // Half the events have no actor and equal timestamps leave the order open: take the admin's.
    const csv = auditCsv(events.filter((e) => e.actor_email !== null).slice(0, 3));
    expect(csv).not.toContain("rt-secret");
    expect(csv).toContain("[redacted]");
    const summary = csv.split("\r\n")[1];
    expect(summary).toMatch(/"admin@acme\.test mapped =HYPERLINK\(""x""\) \d+ to a project"/);
    // A cell that starts with "=" (the before/after JSON never does; a summary could) is prefixed.
    expect(auditCsv([{ ...events[0], summary: "=1+1" }])).toContain(",'=1+1,");
  });
});
