import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../src/app/compose.ts";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFromEnv } from "../../src/host/installations/settings.ts";
import { createLogger } from "../../src/host/logger.ts";
import { vaultFromConfig } from "../../src/host/secrets/vault.ts";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";
import { memberships } from "../../src/storage/schema.ts";
import { type AppProcess, startAppProcess } from "../support/app-process.ts";
import { createPostgresDatabase } from "../support/database.ts";

/**
 * Two service processes on one PostgreSQL database, each caching authentications: a token revoked or
 * a member removed or demoted through one process (or straight in the database) is refused by the
 * other on its very next request. (The embedded database is one process; auth-cache.test.ts covers it.)
 */
describe("cached authentication across two app processes", () => {
  let drop: (() => Promise<void>) | undefined;
  let database: DatabaseHandle;
  let services: Services;
  let teamId: string;
  const apps: AppProcess[] = [];
  const actors: Record<string, { userId: string; headers: Record<string, string> }> = {};

  const call = (app: AppProcess, method: string, path: string, headers: Record<string, string>) =>
    fetch(`${app.baseUrl}${path}`, { method, headers }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));
  /** Two requests on each process, so each holds the authentication in its cache. */
  async function warm(path: string, headers: Record<string, string>, status = 200) {
    for (const app of apps)
      for (let i = 0; i < 2; i++) expect((await call(app, "GET", path, headers)).status).toBe(status);
  }

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    ({ drop } = created);
    const keys = `k1:${randomBytes(32).toString("base64")}`;
    database = await openDatabase({ databaseUrl: created.url });
    ({ services } = await buildApp({
      database,
      logger: createLogger({ level: "silent" }),
      vault: vaultFromConfig({ keys, keyFile: "/nonexistent" }),
      settings: providerSettingsFromEnv({}),
      worker: false,
    }));
    const team = await services.teams.createTeam({ slug: "acme", name: "Acme" });
    teamId = team.id;
    for (const [name, role] of [
      ["admin", "admin"],
      ["member", "member"],
    ] as const) {
      const user = await services.teams.createUser({ email: `${name}@acme.test` });
      await services.teams.setMembership(team.id, user.id, role);
      const { token } = await services.tokens.create({ userId: user.id, name: "test" });
      actors[name] = {
        userId: user.id,
        headers: { authorization: `Bearer ${token}`, "x-team-slug": "acme" },
      };
    }
    apps.push(
      ...(await Promise.all([
        startAppProcess(created.url, { CREDENTIALS_KEYS: keys }),
        startAppProcess(created.url, { CREDENTIALS_KEYS: keys }),
      ])),
    );
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop().catch(() => {})));
    await database?.close();
    await drop?.();
  });

  it("a token revoked through one process is refused by the other on its next request", async () => {
    const [a, b] = apps;
    const user = await services.teams.createUser({ email: "carol@acme.test" });
    await services.teams.setMembership(teamId, user.id, "member");
    const { token, id } = await services.tokens.create({ userId: user.id, name: "revoked soon" });
    const headers = { authorization: `Bearer ${token}`, "x-team-slug": "acme" };
    await warm("/api/v1/tokens/", headers);
    expect((await call(a, "DELETE", `/api/v1/tokens/${id}/`, headers)).status).toBe(200);
    const next = await call(b, "GET", "/api/v1/tokens/", headers);
    expect(next.status).toBe(401);
    expect(next.body.message).toContain("revoked");
    expect((await call(a, "GET", "/api/v1/tokens/", headers)).status).toBe(401);
    // The team's other members are still let in by both.
    for (const app of apps)
      expect((await call(app, "GET", "/api/v1/tokens/", actors.admin.headers)).status).toBe(200);
  });

  it("a member removed in the database is refused by both processes on their next request", async () => {
    const { userId, headers } = actors.member;
    await warm("/api/v1/tokens/", headers);
    await database.db
      .delete(memberships)
      .where(and(eq(memberships.teamId, teamId), eq(memberships.userId, userId)));
    for (const app of apps) {
      const next = await call(app, "GET", "/api/v1/tokens/", headers);
      expect(next.status).toBe(403);
      expect(next.body.error_code).toBe("team_access_denied");
    }
    await services.teams.setMembership(teamId, userId, "member");
  });

  it("an admin demoted through one process's domain is no admin on the other's next request", async () => {
    const { userId, headers } = actors.admin;
    await warm("/api/v1/audit-events/", headers);
    await services.teams.setMembership(teamId, userId, "member");
    for (const app of apps) {
      const next = await call(app, "GET", "/api/v1/audit-events/", headers);
      expect(next.status).toBe(403);
      expect(next.body.error_code).toBe("admin_required");
    }
  });
});
