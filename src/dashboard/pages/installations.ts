import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError, ValidationError } from "../../host/errors/domain-error.ts";
import { setBrowserCookie } from "../../host/http/cookies.ts";
import { CONNECT_COOKIE } from "../../host/installations/connect.ts";
import type { ConnectInput } from "../../host/installations/service.ts";
import { installationView } from "../../host/installations/service.ts";
import { authorizeOrigin, redirectAvailable, redirectFlow } from "../../host/installations/settings.ts";
import {
  type ConnectField,
  isProvider,
  type ProviderId,
  providerIds,
  providerModule,
  type TokenConnect,
} from "../../tracker/index.ts";
import { confirmThenAct } from "../confirm.ts";
import { type DashContext, type Form, formOf, requireAdmin, seeOther, sendHtml, str } from "../context.ts";
import { isRefusal } from "../errors.ts";
import { type Html, html } from "../html.ts";
import {
  badge,
  csrfField,
  empty,
  errorSummary,
  extLink,
  type FieldErrors,
  fieldError,
  invalidAttrs,
  page,
  providerBadge,
  providerName,
  when,
} from "../layout.ts";
import { contentSecurityPolicy } from "../security.ts";
import { guidance, healthBadge, installationAttention, mappingStatusBadge } from "../views.ts";
import { eventHealthCard, eventHealthRoutes } from "./event-health.ts";

/** The domain services these pages call. */
type Deps = Pick<
  Domain,
  "connect" | "installations" | "inventory" | "jobs" | "mappingAdmin" | "mappings" | "settings" | "webhooks"
>;

/** The provider's token form; a provider without one (the GitHub App) connects only through its redirect flow. */
const tokenFormOf = (p: ProviderId): TokenConnect | undefined => providerModule(p).connect.token;

function validUrl(s: string) {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

/** Form → connect request, or field errors. Nothing is sent to the provider until the form is valid. */
function connectInput(
  provider: ProviderId,
  def: TokenConnect,
  form: Form,
): { input?: ConnectInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const v = (n: string) => str(form[n]);
  for (const f of def.fields) {
    if (f.required && !v(f.name)) errors[f.name] = `Enter the ${f.label.toLowerCase()}.`;
    if (f.type === "url" && v(f.name) && !validUrl(v(f.name))) errors[f.name] = "Enter a full http(s) URL.";
  }
  if (v("display_name").length > 200) errors.display_name = "At most 200 characters.";
  if (Object.keys(errors).length) return { errors };

  const { credential, options } = def.fromForm(v);
  return {
    errors,
    input: {
      provider,
      base_url: v("base_url") || undefined,
      credential,
      options,
      workspace_id: v("workspace_id") || undefined,
      display_name: v("display_name") || undefined,
    },
  };
}

const oauthAvailable = (services: Deps, p: ProviderId) => redirectAvailable(services.settings, p);

/** What the connect page shows again after a refused submit: the values, errors and a workspace choice. */
interface ConnectPageState {
  values?: Form;
  errors?: FieldErrors;
  summary?: string | null;
  workspaces?: { id: string; name: string; url: string | null }[];
  reconnect?: { id: string; name: string } | null;
}

function connectPage(
  ctx: DashContext,
  services: Deps,
  opts: ConnectPageState & { provider?: ProviderId },
): Html {
  const p = opts.provider;
  const tabs = html`<nav class="tabs" aria-label="Provider">${providerIds().map(
    (x) =>
      html`<a href="/dashboard/connect?provider=${x}" class="tab ${x === p ? "active" : ""}" ${x === p ? html`aria-current="page"` : null}>${providerName(x)}</a>`,
  )}</nav>`;
  if (!p)
    return page(ctx, {
      title: "Connect a tracker",
      active: "overview",
      crumbs: [{ label: "Overview", href: "/dashboard/" }, { label: "Connect" }],
      body: html`<p class="lead">Pick the tracker to connect. Spec Kitty then discovers every repository, project or team the connection can see, and keeps that inventory current.</p>
${catalog(services)}`,
    });
  const redirect = redirectCard(ctx, services, p, opts.reconnect ?? null);
  const form = tokenFormOf(p);
  const token = form ? tokenCard(ctx, p, form, opts) : null;
  const body = html`${opts.reconnect ? null : tabs}
${opts.reconnect ? html`<p class="muted">Reconnecting the same workspace keeps the installation id, its inventory and every mapping.</p>` : null}
${token ? null : errorSummary(opts.summary)}
${redirect}${token}
${redirect || token ? null : html`<section class="card"><p>${providerName(p)} is not set up on this server yet: an operator must register the ${providerModule(p).connect.redirectSetup ?? "OAuth app"} first.</p></section>`}`;
  return page(ctx, {
    title: opts.reconnect ? "Reconnect installation" : "Connect a tracker",
    active: "overview",
    crumbs: [{ label: "Overview", href: "/dashboard/" }, { label: opts.reconnect ? "Reconnect" : "Connect" }],
    body,
  });
}

/**
 * The provider catalog: one card per provider with its main way in first — the App install for GitHub,
 * the provider's sign-in when this server has an OAuth app for it, else a pasted token — and what an
 * operator must set up when neither is available.
 */
function catalog(services: Deps): Html {
  return html`<div class="catalog" id="provider-catalog">${providerIds().map((p) => {
    const name = providerName(p);
    const redirect = oauthAvailable(services, p) ? redirectFlow(services.settings, p) : null;
    const token = tokenFormOf(p);
    const href = `/dashboard/connect?provider=${p}`;
    const main = redirect
      ? html`<a class="btn btn-primary" href="${href}">${redirect.kind === "app_install" ? `Install the ${name} App` : `Sign in with ${name}`}</a>`
      : token
        ? html`<a class="btn btn-primary" href="${href}">Connect with a token</a>`
        : null;
    const text = redirect
      ? redirect.kind === "app_install"
        ? `Recommended: install this server's ${name} App on an organization or account; ${name} confirms you can access it.`
        : `Authorize Spec Kitty in ${name}, or paste ${token?.noun ?? "a token"} instead.`
      : token
        ? `Paste ${token.noun}; it is checked with ${name} before anything is saved.`
        : `Not set up on this server yet: an operator must register the ${providerModule(p).connect.redirectSetup ?? "OAuth app"} first.`;
    return html`<section class="card provider-card" data-provider="${p}">
    <h2>${providerBadge(p)}</h2>
    <p>${text}</p>
    <div class="button-row">${main}${redirect && token ? html`<a class="btn btn-ghost" href="${href}#connect-form">Use a token instead</a>` : null}</div>
  </section>`;
  })}</div>`;
}

/** The consent-flow card: an App install (GitHub's), or "Sign in with" for the OAuth providers. */
function redirectCard(
  ctx: DashContext,
  services: Deps,
  p: ProviderId,
  reconnect: { id: string; name: string } | null,
): Html | null {
  if (!oauthAvailable(services, p)) return null;
  const app = redirectFlow(services.settings, p)?.kind === "app_install";
  const name = providerName(p);
  const heading = app
    ? reconnect
      ? `Authorize on ${name}`
      : `Install the ${name} App`
    : `Sign in with ${name}`;
  const text = app
    ? reconnect
      ? `${name} confirms that your ${name} user can still access this installation; nothing else changes.`
      : `Install this server's ${name} App on an organization or account you administer. ${name} asks you to authorize the App, confirms you can access the installation, and sends you back here.`
    : `Authorize Spec Kitty in ${name}; you come back here when done.`;
  return html`<section class="card" id="redirect-connect"><h2>${heading}</h2><p>${text}</p>
  <form method="post" action="/dashboard/connect/start">${csrfField(ctx)}<input type="hidden" name="provider" value="${p}">
  ${reconnect ? html`<input type="hidden" name="reconnect" value="${reconnect.id}">` : null}
  <button type="submit" class="btn ${app ? "btn-primary" : ""}">Continue to ${providerName(p)}</button></form></section>`;
}

function tokenCard(ctx: DashContext, p: ProviderId, def: TokenConnect, opts: ConnectPageState): Html {
  const values = opts.values ?? {};
  const field = (f: ConnectField) => html`<div class="field">
    <label for="f-${f.name}">${f.label}${f.required ? null : html` <span class="muted">(optional)</span>`}</label>
    <input id="f-${f.name}" name="${f.name}" type="${f.secret ? "password" : f.type === "url" ? "url" : "text"}" ${f.secret ? html`autocomplete="off"` : null}
      value="${f.secret ? "" : (values[f.name] ?? "")}" ${f.required ? html`required` : null} ${invalidAttrs(opts.errors, f.name)}>
    ${f.hint ? html`<p class="hint">${f.hint}</p>` : null}
    ${fieldError(opts.errors, f.name)}
  </div>`;
  return html`<section class="card">
  <h2>${opts.reconnect ? html`Reconnect ${opts.reconnect.name} with a token` : html`Connect ${providerName(p)} with a token`}</h2>
  <p>${def.intro}</p>
  ${errorSummary(opts.summary)}
  <form method="post" action="/dashboard/connect" class="form" id="connect-form">
    ${csrfField(ctx)}
    <input type="hidden" name="provider" value="${p}">
    ${opts.reconnect ? html`<input type="hidden" name="reconnect" value="${opts.reconnect.id}">` : null}
    ${def.fields.map(field)}
    ${
      opts.workspaces?.length
        ? html`<div class="field">
      <label for="f-workspace_id">Workspace</label>
      <select id="f-workspace_id" name="workspace_id" required ${invalidAttrs(opts.errors, "workspace_id")}>
        ${opts.workspaces.map((w) => html`<option value="${w.id}" ${values.workspace_id === w.id ? html`selected` : null}>${w.name} (${w.id})</option>`)}
      </select>
      <p class="hint">This credential reaches several workspaces. Pick one, and enter the secret again.</p>
      ${fieldError(opts.errors, "workspace_id")}
    </div>`
        : values.workspace_id
          ? html`<input type="hidden" name="workspace_id" value="${values.workspace_id}">`
          : null
    }
    ${
      opts.reconnect
        ? null
        : html`<div class="field"><label for="f-display_name">Display name <span class="muted">(optional)</span></label>
      <input id="f-display_name" name="display_name" type="text" maxlength="200" value="${values.display_name ?? ""}" ${invalidAttrs(opts.errors, "display_name")}>
      ${fieldError(opts.errors, "display_name")}</div>`
    }
    <div class="form-actions">
      <button type="submit" class="btn btn-primary">${opts.reconnect ? "Reconnect" : "Connect"}</button>
      <a class="btn btn-ghost" href="${opts.reconnect ? `/dashboard/installations/${opts.reconnect.id}` : "/dashboard/"}">Cancel</a>
    </div>
  </form>
  <p class="hint">The credential is checked with a live call to ${providerName(p)} before anything is saved, then stored encrypted. It is never shown again.</p>
</section>`;
}

/** The connect page's form may be redirected to the provider's consent page: allow exactly that origin. */
function allowConsentRedirect(reply: FastifyReply, services: Deps, provider: ProviderId | undefined) {
  const origin =
    provider && oauthAvailable(services, provider) ? authorizeOrigin(services.settings, provider) : null;
  if (origin) reply.header("content-security-policy", contentSecurityPolicy([origin]));
}

const FIELD_OF: Record<string, string> = {
  "body.base_url": "base_url",
  "body.workspace_id": "workspace_id",
  "body.credential.kind": "token",
};

export function installationPages(app: FastifyInstance, services: Deps) {
  /** The connected installation a change page is about; admins only. */
  const connectedForAdmin = (req: FastifyRequest) => {
    requireAdmin(req);
    return services.installations.getConnected(req.dash.auth.team.id, (req.params as { id: string }).id);
  };

  app.get("/connect", async (req, reply) => {
    requireAdmin(req);
    const q = req.query as Record<string, string | undefined>;
    const provider = isProvider(q.provider) ? q.provider : undefined;
    let reconnect: { id: string; name: string } | null = null;
    const values: Form = {};
    if (q.reconnect) {
      const row = await services.installations.get(req.dash.auth.team.id, q.reconnect);
      reconnect = { id: row.id, name: row.displayName };
      const opts = row.connectionOptions as Record<string, string>;
      Object.assign(values, { base_url: row.baseUrl, workspace_id: row.workspaceId, ...opts });
      allowConsentRedirect(reply, services, row.provider);
      return sendHtml(reply, connectPage(req.dash, services, { provider: row.provider, values, reconnect }));
    }
    allowConsentRedirect(reply, services, provider);
    return sendHtml(reply, connectPage(req.dash, services, { provider, values }));
  });

  app.post("/connect", async (req, reply) => {
    requireAdmin(req);
    const form = formOf(req);
    if (!isProvider(form.provider)) throw new DomainError("unknown_provider", "Pick a provider to connect.");
    const provider = form.provider;
    const reconnect = form.reconnect
      ? await services.installations
          .get(req.dash.auth.team.id, form.reconnect)
          .then((r) => ({ id: r.id, name: r.displayName }))
      : null;
    const again = (o: {
      errors?: FieldErrors;
      summary?: string;
      workspaces?: { id: string; name: string; url: string | null }[];
    }) => {
      allowConsentRedirect(reply, services, provider);
      return sendHtml(
        reply,
        connectPage(req.dash, services, { provider, values: form, reconnect, ...o }),
        400,
      );
    };

    const def = tokenFormOf(provider);
    if (!def)
      return again({
        summary: `${providerName(provider)} connects through the App install, which lets ${providerName(provider)} confirm you can access the installation: use Continue to ${providerName(provider)}.`,
      });
    const { input, errors } = connectInput(provider, def, form);
    if (!input) return again({ errors, summary: "Fix the fields marked below." });
    try {
      const { installation, reconnected, refresh } = await services.installations.connectWithCredential(
        req.dash.auth,
        input,
        req.id,
      );
      return seeOther(
        reply,
        `/dashboard/installations/${installation.id}?op=${refresh.id}&done=${reconnected ? "reconnected" : "connected"}`,
      );
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      if (err.code === "workspace_choice_required") {
        const workspaces = (err.details.workspaces ?? []) as {
          id: string;
          name: string;
          url: string | null;
        }[];
        return again({ summary: "This credential reaches several workspaces: pick one.", workspaces });
      }
      if (err instanceof ValidationError) {
        const fields = (err.details.fields ?? []) as { field: string; problem: string }[];
        const fe: FieldErrors = {};
        for (const f of fields) if (FIELD_OF[f.field]) fe[FIELD_OF[f.field]] = `${f.problem}.`;
        return again({ errors: fe, summary: err.message });
      }
      if (!isRefusal(err) && err.source !== "provider") throw err;
      return again({ summary: err.message });
    }
  });

  app.post("/connect/start", async (req, reply) => {
    requireAdmin(req);
    const form = formOf(req);
    if (!isProvider(form.provider)) throw new DomainError("unknown_provider", "Pick a provider to connect.");
    const reconnect = form.reconnect
      ? await services.installations.get(req.dash.auth.team.id, form.reconnect)
      : null;
    const started = await services.connect.start(req.dash.auth, {
      provider: form.provider,
      workspace_id: reconnect?.workspaceId,
      return_to: "/dashboard/installations/connected",
    });
    setBrowserCookie(reply, CONNECT_COOKIE, started.binding);
    return reply.redirect(started.authorize_url, 303);
  });

  app.get("/installations/connected", async (req, reply) => {
    const q = req.query as Form;
    const row = await services.installations.get(req.dash.auth.team.id, str(q.installation_id));
    const op = /^[A-Za-z0-9_]{1,64}$/.test(str(q.op)) ? `&op=${str(q.op)}` : "";
    return seeOther(reply, `/dashboard/installations/${row.id}?done=connected${op}`);
  });

  app.get("/installations/:id", async (req, reply) => {
    const ctx = req.dash;
    const teamId = ctx.auth.team.id;
    const q = req.query as Form;
    const row = await services.installations.get(teamId, (req.params as { id: string }).id);
    const i = installationView(row);
    const counts = await services.inventory.counts(teamId, i.id);
    const mappings = await services.mappings.page({ teamId, installationId: i.id }, undefined, 50);
    if (row.disconnectedAt) {
      const by = await services.installations.disconnectedBy(row);
      return sendHtml(reply, disconnectedPage(ctx, i, by?.email ?? null, mappings.items, q.done));
    }
    const events = eventHealthCard(ctx, await services.webhooks.health(teamId, i.id));
    // The operation the URL names, else the pass queued or running now (started by anyone, or scheduled).
    const op =
      (q.op ? await services.jobs.get(q.op, teamId) : undefined) ??
      (await services.inventory.activeRefresh(teamId, i.id));
    const running = op?.status === "pending" || op?.status === "running";
    const opPanel = op
      ? op.status === "completed"
        ? html`<div class="notice notice-ok" role="status" id="sync-status">Sync completed: ${syncSummary(op.result)}.</div>`
        : op.status === "failed" || op.status === "dead"
          ? html`<div class="notice notice-error" role="alert" id="sync-status">Sync failed${op.status === "dead" ? ` after ${op.attempts} attempts` : ""}: ${(op.error as { message?: string })?.message ?? "unknown error"}</div>`
          : html`<div class="notice notice-info progress" role="status" aria-live="polite" id="sync-status" data-poll="/dashboard/operations/${op.id}" data-done-url="/dashboard/installations/${i.id}?op=${op.id}">
            <span class="spinner" aria-hidden="true"></span> <span data-progress-text>Sync ${op.status}…${progressText(op.progress)}</span>
            <a class="js-remove" href="/dashboard/installations/${i.id}?op=${op.id}">Refresh</a></div>`
      : null;
    const err = i.health.last_error_code
      ? html`<section class="card card-error" id="last-error"><h2>Last error</h2>
      <p><code>${i.health.last_error_code}</code> ${i.health.last_error_message ?? ""}</p>
      <p><strong>What to do next:</strong> ${guidance(i.health.last_error_code, i.provider)}</p>
      <p class="muted small">Failed ${when(i.health.last_failure_at)}; ${i.health.consecutive_failures} failure(s) in a row.</p></section>`
      : null;
    const actions = ctx.isAdmin
      ? html`<form method="post" action="/dashboard/installations/${i.id}/sync" class="inline">${csrfField(ctx)}${
          running
            ? html`<button type="submit" class="btn btn-primary" id="sync-now" disabled aria-describedby="sync-status">Syncing…</button>`
            : html`<button type="submit" class="btn btn-primary" id="sync-now" data-busy-label="Syncing…">Sync now</button>`
        }</form>
      <a class="btn" href="/dashboard/connect?reconnect=${i.id}">Reconnect</a>
      <a class="btn btn-danger-ghost" href="/dashboard/installations/${i.id}/disconnect">Disconnect</a>`
      : null;
    const attention = installationAttention(i);
    const stale =
      attention?.label === "Stale" && !running
        ? html`<div class="notice notice-warn" role="note" id="stale">${attention.todo}</div>`
        : null;
    const body = html`${opPanel}${stale}
<div class="grid-2">
<section class="card">
  <h2>Status</h2>
  <dl class="facts">
    <dt>Health</dt><dd>${healthBadge(i)} ${badge(i.status === "active" ? "ok" : "bad", i.status)}</dd>
    <dt>Provider</dt><dd>${providerBadge(i.provider)}</dd>
    <dt>Workspace</dt><dd>${extLink(i.workspace.url, i.workspace.name)} <span class="muted">(${i.workspace.id})</span></dd>
    <dt>Host</dt><dd><code>${i.host}</code></dd>
    <dt>Credential</dt><dd>${i.auth_kind} <span class="muted">(stored encrypted, never shown)</span></dd>
    <dt>Last sync</dt><dd>${when(i.last_sync_at)}</dd>
    <dt>Last success</dt><dd>${when(i.health.last_success_at)}</dd>
    <dt>Connected</dt><dd>${when(i.created_at)}</dd>
  </dl>
</section>
<section class="card">
  <h2>Inventory</h2>
  <dl class="facts">
    <dt>Discovered</dt><dd><a href="/dashboard/inventory?installation_id=${i.id}">${counts.live} resources</a></dd>
    <dt>Bound</dt><dd><a href="/dashboard/inventory?installation_id=${i.id}&state=bound">${counts.bound}</a></dd>
    <dt>Unbound</dt><dd><a href="/dashboard/inventory?installation_id=${i.id}&state=unbound">${counts.unbound}</a></dd>
    <dt>Missing</dt><dd><a href="/dashboard/inventory?installation_id=${i.id}&state=missing">${counts.missing}</a></dd>
    <dt>Archived</dt><dd><a href="/dashboard/inventory?installation_id=${i.id}&state=archived">${counts.archived}</a></dd>
  </dl>
  ${ctx.isAdmin ? html`<p><a class="btn btn-small" href="/dashboard/mappings/new?installation_id=${i.id}">Map a resource</a> <a class="btn btn-small btn-ghost" href="/dashboard/installations/${i.id}/repair">Advanced: enter a provider id</a></p>` : null}
</section>
</div>
${err}
${events}
<section class="card">
  <h2>Mappings</h2>
  ${
    mappings.items.length === 0
      ? empty("No project is mapped to a resource of this installation yet.")
      : html`<table class="table"><thead><tr><th scope="col">Resource</th><th scope="col">Project</th><th scope="col">Status</th><th scope="col">binding_ref</th></tr></thead><tbody>
    ${mappings.items.map(
      (
        m,
      ) => html`<tr><td data-label="Resource">${m.display_label}</td><td data-label="Project"><a href="/dashboard/projects/${m.project_id}">${m.project_slug}</a></td>
      <td data-label="Status">${mappingStatusBadge(m)}</td><td data-label="binding_ref"><a href="/dashboard/mappings/${m.binding_ref}"><code>${m.binding_ref}</code></a></td></tr>`,
    )}</tbody></table>`
  }
</section>`;
    return sendHtml(
      reply,
      page(ctx, {
        title: i.display_name,
        active: "overview",
        crumbs: [{ label: "Overview", href: "/dashboard/" }, { label: i.display_name }],
        actions,
        body,
        notice: q.done,
      }),
    );
  });

  eventHealthRoutes(app, services, connectedForAdmin);

  app.post("/installations/:id/sync", async (req, reply) => {
    const row = await connectedForAdmin(req);
    const { job } = await services.inventory.requestRefresh(
      req.dash.auth.team.id,
      row.id,
      req.dash.auth.user.id,
    );
    return seeOther(reply, `/dashboard/installations/${row.id}?op=${job.id}`);
  });

  app.get("/operations/:id", async (req, reply) => {
    const job = await services.jobs.get((req.params as { id: string }).id, req.dash.auth.team.id);
    if (!job) throw new DomainError("page_not_found", "No such operation in this team.");
    return reply.type("application/json; charset=utf-8").send({
      status: job.status,
      progress_text: progressText(job.progress),
      done: job.status === "completed" || job.status === "failed" || job.status === "dead",
    });
  });

  confirmThenAct(app, "/installations/:id/disconnect", {
    param: "id",
    what: "disconnect",
    title: "Disconnect installation",
    active: "overview",
    ask: async (req, id) => {
      const row = await services.installations.getConnected(req.dash.auth.team.id, id);
      const counts = await services.inventory.counts(req.dash.auth.team.id, row.id);
      return {
        heading: html`Disconnect ${row.displayName}?`,
        explanation: html`The stored ${providerName(row.provider)} credential is discarded. ${counts.bound} mapping(s) of this installation will need attention; the CLI gets clear errors for them until they are reconnected or moved.`,
        button: "Yes, disconnect",
        cancelHref: `/dashboard/installations/${row.id}`,
      };
    },
    act: async (req, id) => {
      await services.installations.disconnect(req.dash.auth, id, req.id);
      return "/dashboard/?done=disconnected";
    },
  });

  const repairPage = (
    ctx: DashContext,
    row: { id: string; displayName: string; provider: string },
    o: { value?: string; error?: string; found?: Html },
  ) =>
    page(ctx, {
      title: "Advanced: enter a provider id",
      active: "overview",
      crumbs: [
        { label: "Overview", href: "/dashboard/" },
        { label: row.displayName, href: `/dashboard/installations/${row.id}` },
        { label: "Repair" },
      ],
      body: html`<section class="card">
  <p>Repair path for admins: when a resource is missing from the inventory, enter its ${providerName(row.provider)} id. Spec Kitty asks ${providerName(row.provider)} what it is and shows the result before anything is mapped. Normally you pick resources from the inventory instead.</p>
  <form method="post" action="/dashboard/installations/${row.id}/repair" class="form">
    ${csrfField(ctx)}
    <div class="field"><label for="f-native_id">${providerName(row.provider)} id</label>
    <input id="f-native_id" name="native_id" type="text" required maxlength="256" value="${o.value ?? ""}" ${o.error ? html`aria-invalid="true" aria-describedby="native_id-error"` : null}>
    <p class="hint">The provider's immutable id (repository id, project id, team id or project GUID).</p>
    ${o.error ? html`<p class="field-error" id="native_id-error">${o.error}</p>` : null}</div>
    <div class="form-actions"><button type="submit" class="btn btn-primary">Look it up</button></div>
  </form></section>${o.found ?? null}`,
    });

  app.get("/installations/:id/repair", async (req, reply) => {
    const row = await connectedForAdmin(req);
    return sendHtml(reply, repairPage(req.dash, row, {}));
  });

  app.post("/installations/:id/repair", async (req, reply) => {
    const ctx = req.dash;
    const row = await connectedForAdmin(req);
    const value = str(formOf(req).native_id);
    if (!value || value.length > 256)
      return sendHtml(
        reply,
        repairPage(ctx, row, { value, error: "Enter the provider id (at most 256 characters)." }),
        400,
      );
    try {
      const r = await services.mappingAdmin.repairLookup(ctx.auth, {
        installation_id: row.id,
        native_id: value,
      });
      const found = html`<section class="card" id="repair-result"><h2>${providerName(row.provider)} says this is</h2>
      <dl class="facts"><dt>Label</dt><dd>${r.display_label}</dd><dt>Key</dt><dd>${r.key ?? "—"}</dd><dt>Name</dt><dd>${r.name}</dd>
      <dt>Path</dt><dd>${r.full_path ?? "—"}</dd><dt>Workspace</dt><dd>${r.provider_context.workspace_name ?? "—"}</dd>
      <dt>Id</dt><dd><code>${r.native_id}</code></dd><dt>Link</dt><dd>${extLink(r.web_url, r.web_url ?? "—")}</dd></dl>
      <p>Nothing is mapped yet. If this is the right resource, continue to pick the project.</p>
      <a class="btn btn-primary" href="/dashboard/mappings/new?installation_id=${row.id}&resource_id=${r.id}">Map this resource…</a></section>`;
      return sendHtml(reply, repairPage(ctx, row, { value, found }));
    } catch (err) {
      if (err instanceof DomainError && isRefusal(err))
        return sendHtml(reply, repairPage(ctx, row, { value, error: err.message }), 400);
      if (err instanceof DomainError && err.source === "provider")
        return sendHtml(reply, repairPage(ctx, row, { value, error: err.message }), 502);
      throw err;
    }
  });
}

/** A disconnected installation: what it was, who disconnected it, what depended on it, and the way back. */
function disconnectedPage(
  ctx: DashContext,
  i: ReturnType<typeof installationView>,
  byEmail: string | null,
  mappings: { display_label: string; project_id: string; project_slug: string; binding_ref: string }[],
  done?: string,
) {
  const reconnect = html`<a class="btn btn-primary" id="reconnect" href="/dashboard/connect?reconnect=${i.id}">Reconnect</a>`;
  const body = html`<section class="card" id="disconnected">
  <h2>Disconnected</h2>
  <dl class="facts">
    <dt>Status</dt><dd>${healthBadge(i)}</dd>
    <dt>Disconnected</dt><dd>${when(i.disconnected_at)}${byEmail ? html` by ${byEmail}` : null}</dd>
    <dt>Provider</dt><dd>${providerBadge(i.provider)}</dd>
    <dt>Workspace</dt><dd>${extLink(i.workspace.url, i.workspace.name)} <span class="muted">(${i.workspace.id})</span></dd>
    <dt>Host</dt><dd><code>${i.host}</code></dd>
    <dt>Last success</dt><dd>${when(i.health.last_success_at)}</dd>
  </dl>
  <p>Its credential was discarded and it is not synced. The CLI gets <code>installation_disconnected</code> for the mappings below until it is reconnected.</p>
  ${ctx.isAdmin ? html`<p>Reconnect the same workspace (button above) to keep this installation's id; once the first sync finds their resources, its mappings work again.</p>` : html`<p class="muted">Ask a team admin to reconnect it.</p>`}
</section>
<section class="card">
  <h2>Mappings that depend on it</h2>
  ${
    mappings.length === 0
      ? empty("No project was mapped to a resource of this installation.")
      : html`<table class="table" id="dependent-mappings"><thead><tr><th scope="col">Resource</th><th scope="col">Project</th><th scope="col">Status</th><th scope="col">binding_ref</th></tr></thead><tbody>
    ${mappings.map(
      (
        m,
      ) => html`<tr><td data-label="Resource">${m.display_label}</td><td data-label="Project"><a href="/dashboard/projects/${m.project_id}">${m.project_slug}</a></td>
      <td data-label="Status">${badge("warn", "Needs attention")}</td><td data-label="binding_ref"><a href="/dashboard/mappings/${m.binding_ref}"><code>${m.binding_ref}</code></a></td></tr>`,
    )}</tbody></table>`
  }
</section>`;
  return page(ctx, {
    title: i.display_name,
    active: "overview",
    crumbs: [{ label: "Overview", href: "/dashboard/" }, { label: i.display_name }],
    actions: ctx.isAdmin ? reconnect : null,
    body,
    notice: done,
  });
}

function progressText(p: unknown): string {
  const x = p as { pages_fetched?: number; resources_seen?: number } | null;
  return x?.resources_seen !== undefined
    ? ` ${x.resources_seen} resources seen (${x.pages_fetched ?? 0} pages)`
    : "";
}

function syncSummary(r: unknown): string {
  const x = (r ?? {}) as { seen?: number; added?: number; updated?: number; missing?: number };
  return `${x.seen ?? 0} resources seen, ${x.added ?? 0} added, ${x.updated ?? 0} updated, ${x.missing ?? 0} newly missing`;
}
