import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { teamsService } from "../../src/host/teams/service.ts";
import { openDatabase } from "../../src/storage/database.ts";
import { createPostgresDatabase, openTestDatabase } from "../support/database.ts";
import { describeOnPostgres, itOnPostgres } from "../support/postgres.ts";

describe.each(["pglite", "postgres"] as const)("storage on %s", (driver) => {
  const onDriver = driver === "postgres" ? itOnPostgres : it;
  onDriver("applies the migrations and reports ready", async () => {
    const db = await openTestDatabase({ driver });
    try {
      expect(db.driver).toBe(driver);
      expect(await db.ready()).toBe(true);
      const tables = await db.db.execute(
        sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
      );
      const names = ((tables as any).rows ?? tables).map((r: { table_name: string }) => r.table_name);
      expect(names).toEqual(
        expect.arrayContaining(["teams", "users", "memberships", "api_tokens", "audit_events"]),
      );
    } finally {
      await db.close();
    }
  });

  onDriver("refuses a second user with the same email in another case, leaving one row", async () => {
    const db = await openTestDatabase({ driver });
    try {
      const services = { teams: teamsService(db.db) };
      await services.teams.createUser({ email: "Ada@Example.test" });
      await expect(services.teams.createUser({ email: "ada@example.test" })).rejects.toMatchObject({
        code: "email_taken",
      });
      const users = await db.db.query.users.findMany();
      expect(users).toHaveLength(1);
      // the private teamspace comes with the account, once
      expect((await db.db.query.teams.findMany()).filter((t) => t.isPrivateTeamspace)).toHaveLength(1);
    } finally {
      await db.close();
    }
  });
});

describe("embedded default keeps data on disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "skt-pglite-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a team written before a restart is there after it", async () => {
    const first = await openDatabase({ dataDir: dir });
    await teamsService(first.db).createTeam({ slug: "persisted", name: "Persisted" });
    await first.close();
    const second = await openDatabase({ dataDir: dir });
    try {
      expect(await teamsService(second.db).findTeam("persisted")).toMatchObject({
        name: "Persisted",
      });
    } finally {
      await second.close();
    }
  });
});

describeOnPostgres("PostgreSQL server", () => {
  it("several processes starting at once migrate once and all come up", async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    const handles = await Promise.all(
      [1, 2, 3, 4].map(() => openDatabase({ databaseUrl: created.url, poolSize: 2 })),
    );
    try {
      for (const h of handles) expect(await h.ready()).toBe(true);
      const applied = await handles[0].db.execute(
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      const journal = (
        await import("../../src/storage/migrations/meta/_journal.json", { with: { type: "json" } })
      ).default;
      expect(((applied as any).rows ?? applied)[0].n).toBe(journal.entries.length);
    } finally {
      for (const h of handles) await h.close();
      await created.drop();
    }
  });
});
