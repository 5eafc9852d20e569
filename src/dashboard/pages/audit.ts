import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { type Form, sendHtml, str } from "../context.ts";
import { html } from "../html.ts";
import { empty, page, pager, when } from "../layout.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "audit" | "teams">;

function summary(v: unknown): string {
  if (v === null || v === undefined) return "";
  const text = JSON.stringify(v);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export function auditPages(app: FastifyInstance, services: Deps) {
  app.get("/audit", async (req, reply) => {
    const ctx = req.dash;
    const q = req.query as Form;
    const action = str(q.action).slice(0, 100) || undefined;
    const result = await services.audit.page(ctx.auth.team.id, q.cursor || undefined, 50, action);
    const people = new Map<string, string>();
    for (const e of result.items) {
      if (e.actor_user_id && !people.has(e.actor_user_id)) {
        const u = await services.teams.findUser(e.actor_user_id);
        people.set(e.actor_user_id, u?.email ?? e.actor_user_id);
      }
    }
    const body = html`<section class="card">
  <form method="get" action="/dashboard/audit" class="filters"><div class="field"><label for="a-action">Action</label>
  <input id="a-action" name="action" type="text" value="${action ?? ""}" placeholder="e.g. mapping.created"></div>
  <div class="field field-button"><button class="btn" type="submit">Filter</button></div></form>
  ${
    result.items.length === 0
      ? empty("No audit events.")
      : html`<table class="table" id="audit-table"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Change</th></tr></thead><tbody>
    ${result.items.map(
      (
        e,
      ) => html`<tr><td>${when(e.created_at)}</td><td>${e.actor_user_id ? people.get(e.actor_user_id) : html`<span class="muted">system</span>`}</td>
      <td><code>${e.action}</code></td><td>${e.target_type} <code class="small">${e.target_id}</code></td>
      <td class="change">${e.before ? html`<div><span class="muted">before</span> <code class="small">${summary(e.before)}</code></div>` : null}${e.after ? html`<div><span class="muted">after</span> <code class="small">${summary(e.after)}</code></div>` : null}</td></tr>`,
    )}</tbody></table>`
  }
  ${pager("/dashboard/audit", { action, cursor: q.cursor || undefined }, result.next_cursor)}</section>`;
    return sendHtml(reply, page(ctx, { title: "Audit log", active: "audit", body }));
  });
}
