import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiTokens, memberships, teams } from "../../src/storage/schema.ts";
import { type Actor, createTestApp, type TestApp } from "../support/app.ts";

/**
 * Authentication is cached in the process until the team's `auth_version` moves (migration 0013): each
 * case authenticates twice first (the second answer comes from the cache), then changes who may act,
 * and the very next request must see the change. On PGlite and PostgreSQL (`TEST_DB_DRIVER`); two
 * processes on PostgreSQL are in auth-cache-processes.test.ts.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const tokens = (headers: Record<string, string>) =>
  t.call({ method: "GET", url: "/api/v1/tokens/", headers });
const audit = (headers: Record<string, string>) =>
  t.call({ method: "GET", url: "/api/v1/audit-events/", headers });
async function warm(call: () => Promise<{ statusCode: number }>, status = 200) {
  for (let i = 0; i < 2; i++) expect((await call()).statusCode).toBe(status);
}

async function newToken(as: Actor) {
  const res = await t.call({ method: "POST", url: "/api/v1/tokens/", as, payload: { name: "cached" } });
  expect(res.statusCode).toBe(201);
  const { id, token } = res.json();
  return { id: id as string, headers: { authorization: `Bearer ${token}`, "x-team-slug": "acme" } };
}

describe("cached authentication", () => {
  it("a token revoked through the API is refused on the next request, with the revocation message", async () => {
    const mine = await newToken(t.admin);
    await warm(() => tokens(mine.headers));
    const revoked = await t.call({
      method: "DELETE",
      url: `/api/v1/tokens/${mine.id}/`,
      headers: mine.headers,
    });
    expect(revoked.statusCode).toBe(200);
    const next = await tokens(mine.headers);
    expect(next.statusCode).toBe(401);
    expect(next.json().message).toContain("revoked");
    // Other members' cached authentications of the team still stand.
    expect((await tokens(t.admin.headers)).statusCode).toBe(200);
  });

  it("a token whose expiry is moved into the past is refused on the next request", async () => {
    const mine = await newToken(t.member);
    await warm(() => tokens(mine.headers));
    await t.database.db
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiTokens.id, mine.id));
    const next = await tokens(mine.headers);
    expect(next.statusCode).toBe(401);
    expect(next.json().message).toContain("expired");
  });

  it("a removed member is refused (403) on the next request, and a re-added one is let in", async () => {
    await warm(() => tokens(t.member.headers));
    await t.database.db
      .delete(memberships)
      .where(and(eq(memberships.teamId, t.team.id), eq(memberships.userId, t.member.userId)));
    const next = await tokens(t.member.headers);
    expect(next.statusCode).toBe(403);
    expect(next.json().error_code).toBe("team_access_denied");
    await t.services.teams.setMembership(t.team.id, t.member.userId, "member");
    expect((await tokens(t.member.headers)).statusCode).toBe(200);
  });

  it("a role change applies on the next request, both ways", async () => {
    await warm(() => audit(t.member.headers), 403);
    await t.services.teams.setMembership(t.team.id, t.member.userId, "admin");
    expect((await audit(t.member.headers)).statusCode).toBe(200);
    await warm(() => audit(t.member.headers));
    await t.services.teams.setMembership(t.team.id, t.member.userId, "member");
    const demoted = await audit(t.member.headers);
    expect(demoted.statusCode).toBe(403);
    expect(demoted.json().error_code).toBe("admin_required");
  });

  it("a renamed team answers under its new slug only", async () => {
    await warm(() => tokens(t.admin.headers));
    await t.database.db.update(teams).set({ slug: "acme-renamed" }).where(eq(teams.id, t.team.id));
    try {
      expect((await tokens(t.admin.headers)).statusCode).toBe(403);
      const renamed = { ...t.admin.headers, "x-team-slug": "acme-renamed" };
      await warm(() => tokens(renamed));
    } finally {
      await t.database.db.update(teams).set({ slug: "acme" }).where(eq(teams.id, t.team.id));
    }
    expect((await tokens(t.admin.headers)).statusCode).toBe(200);
  });

  it("a cached token past its expiry is refused without any change in the database", async () => {
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      payload: { name: "short", expires_in_days: 1 },
    });
    const { token } = res.json();
    const at = new Date();
    const ctx = await t.services.auth.resolve(token, false, "acme", at);
    expect(ctx.team.id).toBe(t.team.id);
    expect((await t.services.auth.resolve(token, false, "acme", at)).role).toBe("admin");
    const later = new Date(at.getTime() + 2 * 86_400_000);
    await expect(t.services.auth.resolve(token, false, "acme", later)).rejects.toMatchObject({
      code: "unauthorized",
      message: expect.stringContaining("expired"),
    });
  });

  it("refuses in the same order as before: token (401), team header (400), membership (403)", async () => {
    const bad = await tokens({ authorization: "Bearer skt_nope", "x-team-slug": "acme" });
    expect(bad.statusCode).toBe(401);
    const noTeam = await tokens({ authorization: t.admin.headers.authorization });
    expect(noTeam.statusCode).toBe(400);
    const other = await tokens({ ...t.outsider.headers, "x-team-slug": "acme" });
    expect(other.statusCode).toBe(403);
    const unknownTeam = await tokens({ ...t.admin.headers, "x-team-slug": "nowhere" });
    expect(unknownTeam.statusCode).toBe(403);
    expect(unknownTeam.json().error_code).toBe(other.json().error_code);
  });
});
