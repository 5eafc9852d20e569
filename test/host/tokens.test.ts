import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("personal API tokens", () => {
  it("shows the secret once, stores only a hash, and the new token works", async () => {
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      payload: { name: "ci", expires_in_days: 30 },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    const created = res.json();
    expect(created.token).toMatch(/^skt_[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.token.slice(0, 10));

    const list = await t.call({ method: "GET", url: "/api/v1/tokens/", as: t.admin });
    expect(list.body).not.toContain(created.token);
    expect(list.json().items.map((i: { id: string }) => i.id)).toContain(created.id);

    const rows = await t.database.db.query.apiTokens.findMany();
    expect(JSON.stringify(rows)).not.toContain(created.token);

    const me = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      headers: { authorization: `Bearer ${created.token}`, "x-team-slug": "acme" },
    });
    expect(me.statusCode).toBe(200);
    const after = await t.call({ method: "GET", url: "/api/v1/tokens/", as: t.admin });
    const used = after.json().items.find((i: { id: string }) => i.id === created.id);
    expect(used.last_used_at).not.toBeNull();
  });

  it("a revoked token is refused with 401 and the revocation is audited", async () => {
    const created = (
      await t.call({ method: "POST", url: "/api/v1/tokens/", as: t.admin, payload: { name: "short-lived" } })
    ).json();
    const revoke = await t.call({ method: "DELETE", url: `/api/v1/tokens/${created.id}/`, as: t.admin });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json().revoked_at).not.toBeNull();

    const res = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      headers: { authorization: `Bearer ${created.token}`, "x-team-slug": "acme" },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/revoked/);

    const audit = (
      await t.call({ method: "GET", url: "/api/v1/audit-events/?action=api_token.revoked", as: t.admin })
    ).json();
    expect(audit.items[0]).toMatchObject({
      action: "api_token.revoked",
      target_id: created.id,
      actor_user_id: t.admin.userId,
    });
  });

  it("an expired token is refused with 401", async () => {
    const { token } = await t.services.tokens.create({
      userId: t.member.userId,
      name: "old",
      expiresAt: new Date(Date.now() - 1000),
    });
    const res = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      headers: { authorization: `Bearer ${token}`, "x-team-slug": "acme" },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/expired/);
  });

  it("cannot revoke someone else's token: it behaves as nonexistent", async () => {
    const mine = (
      await t.call({ method: "POST", url: "/api/v1/tokens/", as: t.member, payload: { name: "m" } })
    ).json();
    const res = await t.call({ method: "DELETE", url: `/api/v1/tokens/${mine.id}/`, as: t.outsider });
    expect(res.statusCode).toBe(404);
    expect(res.json().error_code).toBe("token_not_found");
    const still = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      headers: { authorization: `Bearer ${mine.token}`, "x-team-slug": "acme" },
    });
    expect(still.statusCode).toBe(200);
  });

  it("pages the token list with an opaque cursor", async () => {
    for (let i = 0; i < 5; i++)
      await t.call({ method: "POST", url: "/api/v1/tokens/", as: t.outsider, payload: { name: `p${i}` } });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (
        await t.call({
          method: "GET",
          url: `/api/v1/tokens/?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
          as: t.outsider,
        })
      ).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i: { id: string }) => i.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(6); // 5 plus the fixture's own token
  });

  it("never writes a token, password or authorization header into the logs", async () => {
    const created = (
      await t.call({ method: "POST", url: "/api/v1/tokens/", as: t.admin, payload: { name: "logcheck" } })
    ).json();
    await t.call({
      method: "GET",
      url: "/api/v1/team/",
      headers: { authorization: `Bearer ${created.token}`, "x-team-slug": "acme" },
    });
    await t.call({
      method: "GET",
      url: `/api/v1/team/?token=${created.token}`,
      headers: { authorization: `Bearer ${created.token}`, "x-team-slug": "acme" },
    });
    const all = t.logs.join("\n");
    for (const secret of [created.token, t.admin.token, t.member.token, "correct horse battery staple"])
      expect(all).not.toContain(secret);
  });
});

describe("/api/v1/me", () => {
  it("lists the caller's teams with the private teamspace every user gets", async () => {
    const res = await t.call({
      method: "GET",
      url: "/api/v1/me",
      headers: { authorization: t.member.headers.authorization },
    });
    expect(res.statusCode).toBe(200);
    const me = res.json();
    expect(me).toMatchObject({ user_id: "member@acme.test", email: "member@acme.test" });
    expect(me.teams.filter((x: any) => x.is_private_teamspace)).toHaveLength(1);
    expect(me.teams.filter((x: any) => !x.is_private_teamspace)).toEqual([
      { id: t.team.id, slug: "acme", name: "Acme", role: "member", is_private_teamspace: false },
    ]);
  });
});
