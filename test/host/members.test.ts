import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";

/** Members, roles and invitations through the API, with real objects of another team for the refusals. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const PASSWORD = "a long enough password";

async function invite(email: string, role: "admin" | "member" = "member", as = t.admin) {
  const res = await t.call({
    method: "POST",
    url: "/api/v1/team/invitations/",
    as,
    payload: { email, role },
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json();
  return { ...body, token: new URL(body.invite_url).pathname.split("/").at(-1) as string };
}

async function tokenOf(email: string) {
  const user = await t.services.teams.findUserByEmail(email);
  const { token } = await t.services.tokens.create({ userId: user!.id, name: "t" });
  return { userId: user!.id, headers: { authorization: `Bearer ${token}`, "x-team-slug": "acme" } };
}

const audited = async (action: string) =>
  (await t.call({ method: "GET", url: `/api/v1/audit-events/?action=${action}`, as: t.admin })).json().items;

describe("members and roles", () => {
  it("lists members with their roles", async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/team/members/", as: t.member });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      ["admin@acme.test", "admin"],
      ["member@acme.test", "member"],
    ]);
  });

  it("refuses to demote or remove the last admin, in the envelope, and changes nothing", async () => {
    const demote = await t.call({
      method: "PATCH",
      url: `/api/v1/team/members/${t.admin.userId}/`,
      as: t.admin,
      payload: { role: "member" },
    });
    expect(demote.statusCode).toBe(409);
    expect(demote.json()).toMatchObject({ error_code: "last_admin", effect_certainty: "no_effect" });
    expect(demote.json().message).toMatch(/last admin cannot be demoted/);
    const remove = await t.call({
      method: "DELETE",
      url: `/api/v1/team/members/${t.admin.userId}/`,
      as: t.admin,
    });
    expect(remove.statusCode).toBe(409);
    expect(remove.json().message).toMatch(/last admin cannot be removed/);
    expect(await t.services.teams.roleOf(t.team.id, t.admin.userId)).toBe("admin");
  });

  it("members cannot change roles; admins can, audited, and a demotion holds from the next request", async () => {
    const asMember = await t.call({
      method: "PATCH",
      url: `/api/v1/team/members/${t.member.userId}/`,
      as: t.member,
      payload: { role: "admin" },
    });
    expect(asMember.statusCode).toBe(403);
    expect(asMember.json().error_code).toBe("admin_required");

    const promote = await t.call({
      method: "PATCH",
      url: `/api/v1/team/members/${t.member.userId}/`,
      as: t.admin,
      payload: { role: "admin" },
    });
    expect(promote.json()).toMatchObject({ role: "admin", changed: true });
    // The member's own token now passes an admin-only route…
    expect((await t.call({ method: "GET", url: "/api/v1/audit-events/", as: t.member })).statusCode).toBe(
      200,
    );
    // …until the (now two) admins demote them again.
    const demote = await t.call({
      method: "PATCH",
      url: `/api/v1/team/members/${t.member.userId}/`,
      as: t.admin,
      payload: { role: "member" },
    });
    expect(demote.statusCode).toBe(200);
    expect((await t.call({ method: "GET", url: "/api/v1/audit-events/", as: t.member })).statusCode).toBe(
      403,
    );
    const events = await audited("member.role_changed");
    expect(events[0]).toMatchObject({
      actor_user_id: t.admin.userId,
      target_type: "member",
      target_id: t.member.userId,
      before: { role: "admin" },
      after: { role: "member" },
    });
  });

  it("two admins demoting each other at once leave one admin", async () => {
    const b = await t.services.teams.createUser({ email: "second-admin@acme.test", password: PASSWORD });
    await t.services.teams.setMembership(t.team.id, b.id, "admin");
    const bAuth = await tokenOf("second-admin@acme.test");
    const [x, y] = await Promise.all([
      t.call({
        method: "PATCH",
        url: `/api/v1/team/members/${b.id}/`,
        as: t.admin,
        payload: { role: "member" },
      }),
      t.call({
        method: "PATCH",
        url: `/api/v1/team/members/${t.admin.userId}/`,
        headers: bAuth.headers,
        payload: { role: "member" },
      }),
    ]);
    const statuses = [x.statusCode, y.statusCode].sort();
    // Either one demotion wins and the other is refused (last admin, or no longer an admin), never both.
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const roles = await Promise.all([
      t.services.teams.roleOf(t.team.id, t.admin.userId),
      t.services.teams.roleOf(t.team.id, b.id),
    ]);
    expect(roles.filter((r) => r === "admin")).toHaveLength(1);
    // Back to one admin: admin@acme.test, for the tests below.
    if (roles[0] !== "admin") await t.services.teams.setMembership(t.team.id, t.admin.userId, "admin");
    await t.services.teams.setMembership(t.team.id, b.id, "member");
  });

  it("a removed member's token is refused on its next request; removal is audited", async () => {
    const u = await t.services.teams.createUser({ email: "leaving@acme.test", password: PASSWORD });
    await t.services.teams.setMembership(t.team.id, u.id, "member");
    const auth = await tokenOf("leaving@acme.test");
    expect((await t.call({ method: "GET", url: "/api/v1/team/", headers: auth.headers })).statusCode).toBe(
      200,
    );
    const res = await t.call({ method: "DELETE", url: `/api/v1/team/members/${u.id}/`, as: t.admin });
    expect(res.json()).toMatchObject({ user_id: u.id, removed: true });
    const after = await t.call({ method: "GET", url: "/api/v1/team/", headers: auth.headers });
    expect(after.statusCode).toBe(403);
    expect(after.json().error_code).toBe("team_access_denied");
    expect((await audited("member.removed"))[0]).toMatchObject({
      target_id: u.id,
      before: { email: "leaving@acme.test", role: "member" },
      after: null,
    });
  });

  it("an admin of another team cannot change or remove this team's members (their own team has none such)", async () => {
    const remove = await t.call({
      method: "DELETE",
      url: `/api/v1/team/members/${t.member.userId}/`,
      as: t.outsider,
    });
    expect(remove.statusCode).toBe(404);
    expect(remove.json().error_code).toBe("member_not_found");
    const role = await t.call({
      method: "PATCH",
      url: `/api/v1/team/members/${t.member.userId}/`,
      as: t.outsider,
      payload: { role: "admin" },
    });
    expect(role.statusCode).toBe(404);
    // Naming this team in the header is refused at the door: the outsider is not a member of acme.
    const viaHeader = await t.call({
      method: "DELETE",
      url: `/api/v1/team/members/${t.member.userId}/`,
      headers: { ...t.outsider.headers, "x-team-slug": "acme" },
    });
    expect(viaHeader.statusCode).toBe(403);
    expect(await t.services.teams.roleOf(t.team.id, t.member.userId)).toBe("member");
  });
});

describe("invitations", () => {
  it("invites by email: the link is returned once, mailed, stored only as a hash, and audited", async () => {
    const inv = await invite("new.colleague@acme.test");
    expect(inv.invitation).toMatchObject({
      email: "new.colleague@acme.test",
      role: "member",
      status: "pending",
    });
    const mail = t.mail.at(-1)!;
    expect(mail.to).toBe("new.colleague@acme.test");
    expect(mail.text).toContain(inv.invite_url);
    const rows = await t.database.db.query.invitations.findMany();
    expect(JSON.stringify(rows)).not.toContain(inv.token);
    const list = await t.call({ method: "GET", url: "/api/v1/team/invitations/", as: t.admin });
    expect(list.body).not.toContain(inv.token);
    expect(list.json().items[0]).toMatchObject({ id: inv.invitation.id, invited_by: "admin@acme.test" });
    const event = (await audited("invitation.created"))[0];
    expect(event).toMatchObject({
      target_id: inv.invitation.id,
      after: { email: "new.colleague@acme.test" },
    });
    expect(JSON.stringify(event)).not.toContain(inv.token);
  });

  it("accepting creates the account with its password and the membership; the link then stops working", async () => {
    const inv = await invite("joiner@acme.test", "member");
    const accepted = await t.services.invitations.accept(inv.token, {
      newAccount: { name: "Jo", password: PASSWORD },
    });
    expect(accepted.team.slug).toBe("acme");
    const user = await t.services.teams.verifyPassword("joiner@acme.test", PASSWORD);
    expect(user).toBeTruthy();
    expect(await t.services.teams.roleOf(t.team.id, user!.id)).toBe("member");
    await expect(
      t.services.invitations.accept(inv.token, { newAccount: { password: PASSWORD } }),
    ).rejects.toMatchObject({
      code: "invitation_unusable",
      message: expect.stringMatching(/already accepted/),
    });
    expect((await audited("invitation.accepted"))[0]).toMatchObject({ actor_user_id: user!.id });
  });

  it("refuses short passwords without using up the invitation", async () => {
    const inv = await invite("short@acme.test");
    await expect(
      t.services.invitations.accept(inv.token, { newAccount: { password: "short" } }),
    ).rejects.toMatchObject({ code: "validation_error" });
    await t.services.invitations.accept(inv.token, { newAccount: { password: PASSWORD } });
  });

  it("revoked, replaced and expired invitations cannot be accepted", async () => {
    const first = await invite("twice@acme.test");
    const second = await invite("twice@acme.test");
    await expect(t.services.invitations.lookup(first.token)).rejects.toMatchObject({
      code: "invitation_unusable",
    });
    const revoke = await t.call({
      method: "DELETE",
      url: `/api/v1/team/invitations/${second.invitation.id}/`,
      as: t.admin,
    });
    expect(revoke.json().status).toBe("revoked");
    await expect(t.services.invitations.lookup(second.token)).rejects.toMatchObject({
      code: "invitation_unusable",
      message: expect.stringMatching(/revoked/),
    });
    const late = await invite("late@acme.test");
    const later = new Date(Date.now() + 8 * 86_400_000);
    await expect(
      t.services.invitations.accept(late.token, { newAccount: { password: PASSWORD } }, undefined, later),
    ).rejects.toMatchObject({ message: expect.stringMatching(/expired/) });
    await expect(t.services.invitations.lookup("not-a-real-token")).rejects.toMatchObject({
      code: "invitation_not_found",
    });
  });

  it("refuses to invite an existing member, and members cannot invite", async () => {
    const dup = await t.call({
      method: "POST",
      url: "/api/v1/team/invitations/",
      as: t.admin,
      payload: { email: "MEMBER@acme.test" },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error_code).toBe("already_member");
    const byMember = await t.call({
      method: "POST",
      url: "/api/v1/team/invitations/",
      as: t.member,
      payload: { email: "x@acme.test" },
    });
    expect(byMember.statusCode).toBe(403);
  });

  it("an invitation of team B only ever joins team B; team A cannot revoke it", async () => {
    const b = await invite("globex.hire@acme.test", "admin", t.outsider);
    const revoke = await t.call({
      method: "DELETE",
      url: `/api/v1/team/invitations/${b.invitation.id}/`,
      as: t.admin,
    });
    expect(revoke.statusCode).toBe(404);
    const accepted = await t.services.invitations.accept(b.token, { newAccount: { password: PASSWORD } });
    expect(accepted.team.slug).toBe("globex");
    expect(await t.services.teams.roleOf(t.otherTeam.id, accepted.userId)).toBe("admin");
    expect(await t.services.teams.roleOf(t.team.id, accepted.userId)).toBeUndefined();
  });

  it("an existing account joins with its own identity and keeps a higher role it already had", async () => {
    const outsiderInv = await invite("admin@globex.test", "member");
    await t.services.invitations.accept(outsiderInv.token, { userId: t.outsider.userId });
    expect(await t.services.teams.roleOf(t.team.id, t.outsider.userId)).toBe("member");
    // Another account cannot accept an invitation addressed to someone else.
    const other = await invite("someone.else@acme.test");
    await expect(
      t.services.invitations.accept(other.token, { userId: t.outsider.userId }),
    ).rejects.toMatchObject({
      code: "invitation_not_found",
    });
    await t.services.members.remove(
      { user: { id: t.admin.userId }, role: "admin", team: { id: t.team.id } },
      t.outsider.userId,
    );
  });
});
