import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import { confirmThenAct } from "../confirm.ts";
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
type Deps = Pick<Domain, "tokens" | "flash">;

const EXPIRY_DAYS = ["30", "90", "365", ""];
const SCOPES = [
  { value: "read_write", label: "Read and write" },
  { value: "read", label: "Read only" },
] as const;
type Scope = (typeof SCOPES)[number]["value"];

/** The flash kind of a token just created: shown once on the page the POST redirects to. */
const NEW_TOKEN = "api_token";

interface NewToken {
  token: string;
  name: string;
  scope: Scope;
}

const scopeLabel = (s: string) => (s === "read" ? "read only" : "read and write");

/**
 * Personal API tokens of the signed-in user (for the CLI and scripts). Each user manages their own.
 * Creating is post-redirect-get: the secret travels to the next page in a one-time server-side flash, so
 * a reload shows the list again and never creates a second token.
 */
export function tokenPages(app: FastifyInstance, services: Deps) {
  async function tokensPage(
    ctx: DashContext,
    q: Form,
    o: {
      created?: NewToken;
      createdGone?: boolean;
      errors?: FieldErrors;
      values?: Form;
      notice?: string;
    } = {},
  ) {
    const result = await services.tokens.page(ctx.auth.user.id, q.cursor || undefined, 50);
    const body = html`${
      o.created
        ? html`<section class="card card-ok" id="new-token" role="status"><h2>Token “${o.created.name}” created (${scopeLabel(o.created.scope)})</h2>
      <p>Copy it now: it is shown only once and cannot be recovered.</p>
      <label for="new-token-value" class="visually-hidden">New token</label>
      <div class="form-row"><input id="new-token-value" class="token-value" type="text" readonly value="${o.created.token}" data-select-on-focus>
      <button type="button" class="btn" id="copy-token" data-copy-from="new-token-value" hidden>Copy</button></div>
      <p class="hint" data-copy-status aria-live="polite"></p>
      <p class="hint">Use it as <code>Authorization: Bearer &lt;token&gt;</code> with <code>X-Team-Slug: ${ctx.auth.team.slug}</code>.</p></section>
      <script src="/dashboard/assets/tokens.js" defer></script>`
        : o.createdGone
          ? html`<div class="notice notice-info" role="status" id="token-shown-once">The new token was shown once and is not shown again. If you did not copy it, revoke it and create another.</div>`
          : null
    }
<section class="card"><h2>Create a token</h2>${o.errors ? errorSummary("Fix the fields marked below.") : null}
  <form method="post" action="/dashboard/tokens" class="form form-row">${csrfField(ctx)}
  <div class="field"><label for="t-name">Name</label><input id="t-name" name="name" type="text" maxlength="100" required value="${o.values?.name ?? ""}" placeholder="e.g. laptop CLI" ${invalidAttrs(o.errors, "name")}>${fieldError(o.errors, "name")}</div>
  <div class="field"><label for="t-scope">Access</label><select id="t-scope" name="scope">
    ${SCOPES.map((s) => html`<option value="${s.value}" ${(o.values?.scope ?? "read_write") === s.value ? html`selected` : null}>${s.label}</option>`)}</select></div>
  <div class="field"><label for="t-exp">Expires</label><select id="t-exp" name="expires_in_days">
    ${EXPIRY_DAYS.map((d) => html`<option value="${d}" ${(o.values?.expires_in_days ?? "90") === d ? html`selected` : null}>${d ? `in ${d} days` : "never"}</option>`)}</select></div>
  <div class="field field-button"><button type="submit" class="btn btn-primary" id="create-token">Create token</button></div></form>
  <p class="hint">A read-only token can list, resolve and pull, and is refused (403 <code>token_read_only</code>) on every write: push, run, bind-confirm and any change.</p></section>
<section class="card"><h2>Your tokens</h2>${
      result.items.length === 0
        ? empty("You have no API tokens.")
        : html`<table class="table" id="tokens-table"><thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Access</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>
    ${result.items.map((t) => {
      const expired = t.expires_at !== null && new Date(t.expires_at) <= new Date();
      return html`<tr><td data-label="Name">${t.name}</td><td data-label="Prefix"><code>${t.prefix}…</code></td><td data-label="Access">${t.scope === "read" ? badge("info", "read only") : badge("muted", "read and write")}</td><td data-label="Created">${when(t.created_at)}</td><td data-label="Expires">${t.expires_at ? when(t.expires_at) : "never"}</td><td data-label="Last used">${when(t.last_used_at)}</td>
      <td data-label="State">${t.revoked_at ? badge("muted", "revoked") : expired ? badge("warn", "expired") : badge("ok", "active")}</td>
      <td class="actions">${t.revoked_at ? null : html`<a class="btn btn-small btn-danger-ghost" href="/dashboard/tokens/${t.id}/revoke">Revoke<span class="visually-hidden"> ${t.name}</span></a>`}</td></tr>`;
    })}</tbody></table>`
    }${pager("/dashboard/tokens", { cursor: q.cursor || undefined }, result.next_cursor)}</section>`;
    return page(ctx, { title: "API tokens", active: "tokens", body, notice: o.notice ?? q.done });
  }

  app.get("/tokens", async (req, reply) => {
    const q = req.query as Form;
    const created = q.created
      ? await services.flash.take<NewToken>(req.dash.session.id, NEW_TOKEN, q.created)
      : null;
    return sendHtml(
      reply,
      await tokensPage(
        req.dash,
        { ...q, created: undefined },
        created ? { created } : { createdGone: Boolean(q.created) },
      ),
    );
  });

  app.post("/tokens", async (req, reply) => {
    const ctx = req.dash;
    const form = formOf(req);
    const name = str(form.name);
    const days = str(form.expires_in_days);
    const scope = (str(form.scope) || "read_write") as Scope;
    const errors: FieldErrors = {};
    if (!name || name.length > 100) errors.name = "Name the token (at most 100 characters).";
    if (!EXPIRY_DAYS.includes(days)) errors.expires_in_days = "Pick an expiry.";
    if (!SCOPES.some((s) => s.value === scope)) errors.scope = "Pick the token's access.";
    if (Object.keys(errors).length)
      return sendHtml(reply, await tokensPage(ctx, {}, { errors, values: form }), 400);
    const created = await services.tokens.create({
      userId: ctx.auth.user.id,
      name,
      scope,
      expiresAt: days ? new Date(Date.now() + Number(days) * 86_400_000) : null,
      teamId: ctx.auth.team.id,
      requestId: req.id,
    });
    const flash = await services.flash.put(ctx.session.id, NEW_TOKEN, {
      token: created.token,
      name,
      scope,
    } satisfies NewToken);
    return seeOther(reply, `/dashboard/tokens?created=${encodeURIComponent(flash)}`);
  });

  confirmThenAct(app, "/tokens/:id/revoke", {
    param: "id",
    what: "revocation",
    anyone: true,
    title: "Revoke API token",
    active: "tokens",
    async ask(req, id) {
      const token = await services.tokens.find(req.dash.auth.user.id, id);
      if (!token) throw new DomainError("token_not_found", "No API token of yours has this id.");
      if (token.revoked_at) return { redirect: "/dashboard/tokens?done=token_revoked" };
      return {
        heading: html`Revoke “${token.name}” (<code>${token.prefix}…</code>)?`,
        explanation: html`Anything using this token (a CLI, a script, CI) is refused from its next request. This cannot be undone; you can create a new token.`,
        button: "Revoke token",
        buttonId: "confirm-revoke",
        cancelHref: "/dashboard/tokens",
      };
    },
    async act(req, id) {
      await services.tokens.revoke({
        userId: req.dash.auth.user.id,
        tokenId: id,
        teamId: req.dash.auth.team.id,
        requestId: req.id,
      });
      return "/dashboard/tokens?done=token_revoked";
    },
  });
}
