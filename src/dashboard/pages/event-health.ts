import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Domain } from "../../host/domain.ts";
import type { InstallationRow } from "../../host/installations/service.ts";
import { type DashContext, seeOther, sendHtml } from "../context.ts";
import { type Html, html } from "../html.ts";
import { badge, csrfField, page, when } from "../layout.ts";

type Deps = Pick<Domain, "webhooks">;
type EventHealth = Awaited<ReturnType<Domain["webhooks"]["health"]>>;

const STATE: Record<EventHealth["state"], [Parameters<typeof badge>[0], string]> = {
  receiving: ["ok", "Receiving events"],
  awaiting_first_delivery: ["info", "Waiting for the first event"],
  failing: ["bad", "Events failing"],
  not_configured: ["warn", "Not receiving events"],
  schedule_only: ["muted", "Scheduled refresh only"],
};

function whatToDo(ctx: DashContext, h: EventHealth): Html | null {
  if (h.registration === "schedule_only")
    return html`<p class="muted small">This provider sends no event for the resources we list; the inventory follows the scheduled refresh and <em>Sync now</em>.</p>`;
  if (h.registration === "app")
    return h.secret_set
      ? html`<p class="muted small">The GitHub App delivers every installation's events to <code>${h.url}</code>; nothing to set up here.</p>`
      : html`<p class="small">An operator sets the App's webhook URL to <code>${h.url}</code> and its secret as <code>GITHUB_APP_WEBHOOK_SECRET</code>.</p>`;
  const buttons = ctx.isAdmin
    ? html`<form method="post" action="/dashboard/installations/${h.installation_id}/webhook-register" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-small" id="register-hook">Register again</button></form>
    <form method="post" action="/dashboard/installations/${h.installation_id}/webhook-secret" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-small" id="rotate-hook-secret">${h.secret_set ? "Generate a new secret" : "Generate the secret"}</button></form>`
    : null;
  if (h.registration === "automatic")
    return html`<p class="small" id="hook-reason">${h.registration_reason ?? ""}</p>
  <p class="muted small">URL: <code id="hook-url">${h.url}</code>. A new secret is put on the hook at once; nothing to paste.</p>${buttons}`;
  const steps = html`<ol class="small" id="hook-steps">
    <li>In GitLab, add a system hook (Admin area → System hooks) or a group webhook with project events.</li>
    <li>URL: <code id="hook-url">${h.url}</code></li>
    <li>Secret token: ${h.secret_set ? "the one shown when it was last generated" : "generate one below"} (shown once).</li>
  </ol>`;
  const why = h.registration_reason
    ? html`<p class="small" id="hook-reason">${h.registration_reason}</p>`
    : null;
  return html`${why}${steps}${buttons}`;
}

const MODE: Partial<Record<EventHealth["registration"], string>> = {
  automatic: "Registered automatically",
  manual: "Manual setup",
};
const SCOPE: Record<string, string> = { system: "system hook", group: "group webhook" };

/** The installation page's event-health card: are the provider's events reaching us, and how fresh is the inventory. */
export function eventHealthCard(ctx: DashContext, h: EventHealth): Html {
  const [kind, label] = STATE[h.state];
  return html`<section class="card" id="event-health">
  <h2>Events</h2>
  <dl class="facts">
    <dt>State</dt><dd id="event-state">${badge(kind, label)}</dd>
    ${
      MODE[h.registration]
        ? html`<dt>Hook</dt><dd id="hook-mode">${MODE[h.registration]}${h.hook_scope ? ` (${SCOPE[h.hook_scope] ?? h.hook_scope})` : ""}</dd>`
        : null
    }
    ${
      h.registration === "schedule_only"
        ? null
        : html`<dt>Deliveries</dt><dd>${h.deliveries}</dd>
    <dt>Last delivery</dt><dd>${when(h.last_delivery_at)}</dd>
    <dt>Last applied</dt><dd>${when(h.last_applied_at)}</dd>
    <dt>Last failure</dt><dd id="event-failure">${h.last_failure_at ? html`${when(h.last_failure_at)}: ${h.last_failure_reason ?? ""}` : html`<span class="muted">none</span>`}</dd>`
    }
    <dt>Inventory refreshed</dt><dd>${when(h.inventory_synced_at)} <span class="muted small">(full pass)</span></dd>
  </dl>
  ${whatToDo(ctx, h)}
</section>`;
}

/**
 * The reveal-once page after an admin generated a hook secret (POST, never cached, never shown again),
 * and "Register again" (the provider's hooks API, then back to the installation's Events card).
 */
export function eventHealthRoutes(
  app: FastifyInstance,
  services: Deps,
  connectedForAdmin: (req: FastifyRequest) => Promise<InstallationRow>,
) {
  app.post("/installations/:id/webhook-register", async (req, reply) => {
    const row = await connectedForAdmin(req);
    await services.webhooks.registerAgain(req.dash.auth, row.id, req.id);
    return seeOther(reply, `/dashboard/installations/${row.id}#event-health`);
  });

  app.post("/installations/:id/webhook-secret", async (req, reply) => {
    const row = await connectedForAdmin(req);
    const ctx = req.dash;
    const rotated = await services.webhooks.rotateSecret(ctx.auth, row.id, req.id);
    reply.header("cache-control", "no-store");
    return sendHtml(
      reply,
      page(ctx, {
        title: "Hook secret",
        active: "overview",
        crumbs: [
          { label: "Overview", href: "/dashboard/" },
          { label: row.displayName, href: `/dashboard/installations/${row.id}` },
          { label: "Hook secret" },
        ],
        body: rotated.hook_updated
          ? // The service put the secret on GitLab's hook itself: nobody needs to see it.
            html`<section class="card" id="hook-secret-updated">
  <h2>The hook has the new secret</h2>
  <p class="notice notice-ok" role="status">GitLab's hook was updated with the new secret; the previous one no longer verifies. Nothing to paste.</p>
  <p><a class="btn" href="/dashboard/installations/${row.id}">Done</a></p>
</section>`
          : html`<section class="card" id="hook-secret">
  <h2>Paste these into the provider's hook</h2>
  <p class="notice notice-info" role="status">The secret is shown this once. Copy it now; the previous secret no longer verifies.</p>
  ${rotated.registration_reason ? html`<p class="small" id="hook-reason">${rotated.registration_reason}</p>` : null}
  <dl class="facts">
    <dt>URL</dt><dd><code id="hook-url">${rotated.url}</code></dd>
    <dt>Secret token</dt><dd><code id="hook-secret-value">${rotated.secret}</code></dd>
  </dl>
  <p><a class="btn" href="/dashboard/installations/${row.id}">Done</a></p>
</section>`,
      }),
    );
  });
}
