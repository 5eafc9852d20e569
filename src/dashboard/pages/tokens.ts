import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { type DashContext, type Form, formOf, seeOther, sendHtml, str } from "../context.ts";
import { html } from "../html.ts";
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
type Deps = Pick<Domain, "tokens">;

const EXPIRY_DAYS = ["30", "90", "365", ""];

/** Personal API tokens of the signed-in user (for the CLI and scripts). Each user manages their own. */
export function tokenPages(app: FastifyInstance, services: Deps) {
  async function tokensPage(
    ctx: DashContext,
    q: Form,
    o: {
      created?: { token: string; name: string };
      errors?: FieldErrors;
      values?: Form;
      notice?: string;
    } = {},
  ) {
    const result = await services.tokens.page(ctx.auth.user.id, q.cursor || undefined, 50);
    const body = html`${
      o.created
        ? html`<section class="card card-ok" id="new-token" role="status"><h2>Token “${o.created.name}” created</h2>
      <p>Copy it now: it is shown only once and cannot be recovered.</p>
      <label for="new-token-value" class="visually-hidden">New token</label>
      <input id="new-token-value" class="token-value" type="text" readonly value="${o.created.token}" data-select-on-focus>
      <p class="hint">Use it as <code>Authorization: Bearer &lt;token&gt;</code> with <code>X-Team-Slug: ${ctx.auth.team.slug}</code>.</p></section>`
        : null
    }
<section class="card"><h2>Create a token</h2>${o.errors ? errorSummary("Fix the fields marked below.") : null}
  <form method="post" action="/dashboard/tokens" class="form form-row">${csrfField(ctx)}
  <div class="field"><label for="t-name">Name</label><input id="t-name" name="name" type="text" maxlength="100" required value="${o.values?.name ?? ""}" placeholder="e.g. laptop CLI" ${invalidAttrs(o.errors, "name")}>${fieldError(o.errors, "name")}</div>
  <div class="field"><label for="t-exp">Expires</label><select id="t-exp" name="expires_in_days">
    ${EXPIRY_DAYS.map((d) => html`<option value="${d}" ${(o.values?.expires_in_days ?? "90") === d ? html`selected` : null}>${d ? `in ${d} days` : "never"}</option>`)}</select></div>
  <div class="field field-button"><button type="submit" class="btn btn-primary" id="create-token">Create token</button></div></form></section>
<section class="card"><h2>Your tokens</h2>${
      result.items.length === 0
        ? empty("You have no API tokens.")
        : html`<table class="table" id="tokens-table"><thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>
    ${result.items.map((t) => {
      const expired = t.expires_at !== null && new Date(t.expires_at) <= new Date();
      return html`<tr><td>${t.name}</td><td><code>${t.prefix}…</code></td><td>${when(t.created_at)}</td><td>${t.expires_at ? when(t.expires_at) : "never"}</td><td>${when(t.last_used_at)}</td>
      <td>${t.revoked_at ? badge("muted", "revoked") : expired ? badge("warn", "expired") : badge("ok", "active")}</td>
      <td class="actions">${t.revoked_at ? null : html`<form method="post" action="/dashboard/tokens/${t.id}/revoke" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-small btn-danger-ghost">Revoke</button></form>`}</td></tr>`;
    })}</tbody></table>`
    }${pager("/dashboard/tokens", { cursor: q.cursor || undefined }, result.next_cursor)}</section>`;
    return page(ctx, { title: "API tokens", active: "tokens", body, notice: o.notice ?? q.done });
  }

  app.get("/tokens", async (req, reply) => sendHtml(reply, await tokensPage(req.dash, req.query as Form)));

  app.post("/tokens", async (req, reply) => {
    const ctx = req.dash;
    const form = formOf(req);
    const name = str(form.name);
    const days = str(form.expires_in_days);
    const errors: FieldErrors = {};
    if (!name || name.length > 100) errors.name = "Name the token (at most 100 characters).";
    if (!EXPIRY_DAYS.includes(days)) errors.expires_in_days = "Pick an expiry.";
    if (Object.keys(errors).length)
      return sendHtml(reply, await tokensPage(ctx, {}, { errors, values: form }), 400);
    const created = await services.tokens.create({
      userId: ctx.auth.user.id,
      name,
      expiresAt: days ? new Date(Date.now() + Number(days) * 86_400_000) : null,
      teamId: ctx.auth.team.id,
      requestId: req.id,
    });
    return sendHtml(reply, await tokensPage(ctx, {}, { created: { token: created.token, name } }), 201);
  });

  app.post("/tokens/:id/revoke", async (req, reply) => {
    await services.tokens.revoke({
      userId: req.dash.auth.user.id,
      tokenId: (req.params as { id: string }).id,
      teamId: req.dash.auth.team.id,
      requestId: req.id,
    });
    return seeOther(reply, "/dashboard/tokens?done=token_revoked");
  });
}
