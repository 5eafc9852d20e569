import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import { confirmThenAct } from "../confirm.ts";
import { type DashContext, type Form, formOf, requireAdmin, seeOther, sendHtml, str } from "../context.ts";
import { html, type Renderable } from "../html.ts";
import {
  badge,
  csrfField,
  empty,
  errorSummary,
  type FieldErrors,
  fieldError,
  invalidAttrs,
  page,
  pager,
  when,
} from "../layout.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "teams" | "members" | "invitations" | "flash">;

/** The flash kind of an invite link just created: shown once on the page the POST redirects to. */
const INVITE_LINK = "invite_link";

interface NewInvite {
  url: string;
  email: string;
}

/** Fixed notices of these pages (`?done=` names a code, never text). */
const DONE: Record<string, string> = {
  promoted: "The member is now an admin.",
  demoted: "The admin is now a member. It holds from their next request.",
  removed: "Member removed. Their sessions and tokens no longer reach this team.",
  invitation_revoked: "Invitation revoked. Its link no longer works.",
};

export function doneNotice(code: string | undefined, notices: Record<string, string>): Renderable {
  const text = code ? notices[code] : undefined;
  return text ? html`<div class="notice notice-ok" role="status">${text}</div>` : null;
}

/** Team members and invitations: everyone sees who is in the team; admins invite, change roles, remove. */
export function memberPages(app: FastifyInstance, services: Deps) {
  async function membersPage(
    ctx: DashContext,
    q: Form,
    o: { invite?: NewInvite; errors?: FieldErrors; values?: Form } = {},
  ) {
    const team = ctx.teams.find((t) => t.id === ctx.auth.team.id);
    const result = await services.teams.membersPage(ctx.auth.team.id, q.cursor || null, 100);
    const invitations = ctx.isAdmin ? await services.invitations.open(ctx.auth.team.id) : [];
    const self = ctx.auth.user.id;
    const body = html`${doneNotice(q.done, DONE)}${
      o.invite
        ? html`<section class="card card-ok" id="new-invite" role="status"><h2>Invitation sent to ${o.invite.email}</h2>
      <p>We emailed this link. It is shown only once here; it works once, for 7 days.</p>
      <label for="invite-link" class="visually-hidden">Invite link</label>
      <div class="form-row"><input id="invite-link" class="token-value" type="text" readonly value="${o.invite.url}" data-select-on-focus>
      <button type="button" class="btn" data-copy-from="invite-link" hidden>Copy</button></div>
      <p class="hint" data-copy-status aria-live="polite"></p></section>
      <script src="/dashboard/assets/tokens.js" defer></script>`
        : null
    }${
      team?.isPrivate
        ? html`<div class="notice notice-info" role="status">This is your private teamspace: you are its only member. Switch to a shared team to invite people.</div>`
        : null
    }
<section class="card"><h2>Members</h2>${
      result.items.length === 0
        ? empty("No members.")
        : html`<table class="table" id="members-table"><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Joined</th>${ctx.isAdmin && !team?.isPrivate ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}</tr></thead><tbody>
    ${result.items.map(
      (
        m,
      ) => html`<tr data-member="${m.email}"><td data-label="Email">${m.email}${m.user_id === self ? html` <span class="muted">(you)</span>` : null}</td><td data-label="Name">${m.name}</td>
      <td data-label="Role">${m.role === "admin" ? badge("info", "admin") : badge("muted", "member")}</td><td data-label="Joined">${when(m.joined_at)}</td>
      ${
        ctx.isAdmin && !team?.isPrivate
          ? html`<td class="actions">${
              m.role === "member"
                ? html`<form method="post" action="/dashboard/members/${m.user_id}/promote" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-small">Make admin<span class="visually-hidden"> ${m.email}</span></button></form>`
                : html`<a class="btn btn-small btn-ghost" href="/dashboard/members/${m.user_id}/demote">Make member<span class="visually-hidden"> ${m.email}</span></a>`
            }
        <a class="btn btn-small btn-danger-ghost" href="/dashboard/members/${m.user_id}/remove">Remove<span class="visually-hidden"> ${m.email}</span></a></td>`
          : null
      }</tr>`,
    )}</tbody></table>`
    }${pager("/dashboard/members", { cursor: q.cursor || undefined }, result.next_cursor)}</section>
${
  ctx.isAdmin && !team?.isPrivate
    ? html`<section class="card"><h2>Invite someone</h2>${o.errors ? errorSummary(o.errors._ ?? "Fix the fields marked below.") : null}
  <form method="post" action="/dashboard/members/invite" class="form form-row">${csrfField(ctx)}
  <div class="field"><label for="i-email">Email</label><input id="i-email" name="email" type="email" maxlength="254" required value="${o.values?.email ?? ""}" placeholder="name@example.com" ${invalidAttrs(o.errors, "email")}>${fieldError(o.errors, "email")}</div>
  <div class="field"><label for="i-role">Role</label><select id="i-role" name="role">
    <option value="member" ${o.values?.role !== "admin" ? html`selected` : null}>Member</option>
    <option value="admin" ${o.values?.role === "admin" ? html`selected` : null}>Admin</option></select></div>
  <div class="field field-button"><button type="submit" class="btn btn-primary" id="send-invite">Send invitation</button></div></form>
  <p class="hint">Members map and read; admins also connect trackers, manage mappings and members.</p></section>
<section class="card"><h2>Open invitations</h2>${
        invitations.length === 0
          ? empty("No open invitations.")
          : html`<table class="table" id="invitations-table"><thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Invited by</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>
    ${invitations.map(
      (
        i,
      ) => html`<tr><td data-label="Email">${i.email}</td><td data-label="Role">${i.role}</td><td data-label="Invited by">${i.invited_by ?? html`<span class="muted">unknown</span>`}</td><td data-label="Expires">${when(i.expires_at)}</td>
      <td data-label="State">${i.status === "expired" ? badge("warn", "expired") : badge("ok", "pending")}</td>
      <td class="actions"><a class="btn btn-small btn-danger-ghost" href="/dashboard/invitations/${i.id}/revoke">Revoke<span class="visually-hidden"> invitation of ${i.email}</span></a></td></tr>`,
    )}</tbody></table>`
      }</section>`
    : null
}`;
    return page(ctx, { title: "Members", active: "members", body });
  }

  app.get("/members", async (req, reply) => {
    const q = req.query as Form;
    const invite = q.invited
      ? await services.flash.take<NewInvite>(req.dash.session.id, INVITE_LINK, q.invited)
      : null;
    return sendHtml(reply, await membersPage(req.dash, q, invite ? { invite } : {}));
  });

  app.post("/members/invite", async (req, reply) => {
    requireAdmin(req);
    const ctx = req.dash;
    const form = formOf(req);
    const email = str(form.email);
    const role = str(form.role) === "admin" ? "admin" : "member";
    try {
      const created = await services.invitations.create(ctx.auth, { email, role }, req.id);
      const flash = await services.flash.put(ctx.session.id, INVITE_LINK, {
        url: created.url,
        email: created.invitation.email,
      } satisfies NewInvite);
      return seeOther(reply, `/dashboard/members?invited=${encodeURIComponent(flash)}`);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      const field = err.code === "validation_error" || err.code === "already_member" ? "email" : "_";
      return sendHtml(
        reply,
        await membersPage(ctx, {}, { errors: { [field]: err.message }, values: form }),
        err.code === "validation_error" ? 400 : 409,
      );
    }
  });

  app.post("/members/:userId/promote", async (req, reply) => {
    requireAdmin(req);
    await services.members.setRole(req.dash.auth, (req.params as { userId: string }).userId, "admin", req.id);
    return seeOther(reply, "/dashboard/members?done=promoted");
  });

  const memberOf = async (ctx: DashContext, userId: string) => {
    const m = (await services.teams.membersPage(ctx.auth.team.id, null, 1000)).items.find(
      (x) => x.user_id === userId,
    );
    if (!m) throw new DomainError("member_not_found", "No such member in this team.");
    return m;
  };

  confirmThenAct(app, "/members/:userId/demote", {
    param: "userId",
    what: "role change",
    title: "Make member",
    active: "members",
    async ask(req, userId) {
      const m = await memberOf(req.dash, userId);
      if (m.role !== "admin") return { redirect: "/dashboard/members" };
      const self = userId === req.dash.auth.user.id;
      return {
        heading: html`Make ${m.email} a member?`,
        explanation: self
          ? html`You lose admin rights in this team from your next page: you will no longer manage installations, mappings or members.`
          : html`${m.email} can no longer connect trackers, change mappings or manage members, from their next request.`,
        button: "Make member",
        buttonId: "confirm-demote",
        cancelHref: "/dashboard/members",
      };
    },
    async act(req, userId) {
      await services.members.setRole(req.dash.auth, userId, "member", req.id);
      return userId === req.dash.auth.user.id ? "/dashboard/" : "/dashboard/members?done=demoted";
    },
  });

  confirmThenAct(app, "/members/:userId/remove", {
    param: "userId",
    what: "removal",
    title: "Remove member",
    active: "members",
    async ask(req, userId) {
      const m = await memberOf(req.dash, userId);
      return {
        heading: html`Remove ${m.email} from ${req.dash.auth.team.name}?`,
        explanation: html`Their sessions and API tokens stop reaching this team from their next request. Their account, and anything they connected or mapped, stay. You can invite them again.`,
        button: "Remove member",
        buttonId: "confirm-remove",
        cancelHref: "/dashboard/members",
      };
    },
    async act(req, userId) {
      await services.members.remove(req.dash.auth, userId, req.id);
      return userId === req.dash.auth.user.id ? "/dashboard/" : "/dashboard/members?done=removed";
    },
  });

  confirmThenAct(app, "/invitations/:id/revoke", {
    param: "id",
    what: "revocation",
    title: "Revoke invitation",
    active: "members",
    async ask(req, id) {
      const open = await services.invitations.open(req.dash.auth.team.id);
      const inv = open.find((i) => i.id === id);
      if (!inv) return { redirect: "/dashboard/members" };
      return {
        heading: html`Revoke the invitation of ${inv.email}?`,
        explanation: html`The link stops working at once. You can invite them again later.`,
        button: "Revoke invitation",
        buttonId: "confirm-revoke-invitation",
        cancelHref: "/dashboard/members",
      };
    },
    async act(req, id) {
      await services.invitations.revoke(req.dash.auth, id, req.id);
      return "/dashboard/members?done=invitation_revoked";
    },
  });
}
