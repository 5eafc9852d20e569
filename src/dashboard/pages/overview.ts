import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { installationView } from "../../host/installations/service.ts";
import { mappingHealth } from "../../host/mappings/health.ts";
import { sendHtml } from "../context.ts";
import { html } from "../html.ts";
import { anyProvider, badge, empty, page, providerBadge, when } from "../layout.ts";
import { healthBadge } from "../views.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "installations" | "inventory" | "mappings">;

type ListedMapping = Awaited<ReturnType<Deps["mappings"]["page"]>>["items"][number];

/** What an admin should do about a mapping the CLI cannot use as it is, or null when it is fine. */
function attentionReason(m: ListedMapping): string | null {
  const health = mappingHealth(m);
  switch (health) {
    case "healthy":
    case "deleted":
      return null;
    case "disabled":
      return "Disabled by an admin: the CLI cannot use it until it is enabled.";
    case "installation_disconnected":
      return "Its installation was disconnected. Reconnect it, or map the project to another resource.";
    case "resource_missing":
      return "The resource no longer exists upstream. Map the project to another resource, or delete the mapping.";
    default:
      return `Its installation is ${health.slice("installation_".length)}. Reconnect the installation.`;
  }
}

export function overviewPages(app: FastifyInstance, services: Deps) {
  app.get("/", async (req, reply) => {
    const ctx = req.dash;
    const teamId = ctx.auth.team.id;
    const q = req.query as Record<string, string | undefined>;
    const rows = await services.installations.listForTeam(teamId, undefined, "all");
    const installs = await Promise.all(
      rows
        .filter((r) => !r.disconnectedAt)
        .map(async (r) => ({
          view: installationView(r),
          counts: await services.inventory.counts(teamId, r.id),
        })),
    );
    const disconnected = rows.filter((r) => r.disconnectedAt).map(installationView);

    const attention: {
      m: Awaited<ReturnType<typeof services.mappings.page>>["items"][number];
      why: string;
    }[] = [];
    let cursor: string | undefined;
    let mappingCount = 0;
    for (let i = 0; i < 5; i++) {
      const p = await services.mappings.page({ teamId }, cursor, 200);
      mappingCount += p.items.length;
      for (const m of p.items) {
        const why = attentionReason(m);
        if (why) attention.push({ m, why });
      }
      if (!p.next_cursor) break;
      cursor = p.next_cursor;
    }

    const totals = installs.reduce(
      (a, i) => ({
        live: a.live + i.counts.live,
        bound: a.bound + i.counts.bound,
        unbound: a.unbound + i.counts.unbound,
        missing: a.missing + i.counts.missing,
      }),
      { live: 0, bound: 0, unbound: 0, missing: 0 },
    );

    const body = html`
<section class="stats" aria-label="Totals">
  <div class="stat"><span class="stat-n">${installs.length}</span><span class="stat-l">Installations</span></div>
  <div class="stat"><span class="stat-n">${totals.live}</span><span class="stat-l">Discovered resources</span></div>
  <div class="stat"><span class="stat-n">${totals.bound}</span><span class="stat-l">Bound</span></div>
  <div class="stat"><span class="stat-n">${totals.unbound}</span><span class="stat-l">Unbound</span></div>
  <div class="stat ${totals.missing ? "stat-warn" : ""}"><span class="stat-n">${totals.missing}</span><span class="stat-l">Missing</span></div>
  <div class="stat"><span class="stat-n">${mappingCount}</span><span class="stat-l">Mappings</span></div>
</section>

<section class="card">
  <div class="card-head"><h2>Installations</h2>${ctx.isAdmin ? html`<a class="btn btn-primary" href="/dashboard/connect">Connect a tracker</a>` : null}</div>
  ${
    installs.length === 0
      ? empty(
          ctx.isAdmin
            ? html`No tracker is connected yet. <a href="/dashboard/connect">Connect ${anyProvider()}</a>.`
            : "No tracker is connected yet. Ask a team admin to connect one.",
        )
      : html`<table class="table" id="installations">
    <thead><tr><th scope="col">Installation</th><th scope="col">Provider</th><th scope="col">Health</th><th scope="col">Last sync</th><th scope="col" class="num">Bound</th><th scope="col" class="num">Unbound</th><th scope="col" class="num">Missing</th></tr></thead>
    <tbody>
      ${installs.map(
        ({ view: i, counts: c }) => html`<tr>
        <td><a href="/dashboard/installations/${i.id}">${i.display_name}</a><div class="sub">${i.workspace.name} · ${i.host}</div></td>
        <td>${providerBadge(i.provider)}</td>
        <td>${healthBadge(i)}</td>
        <td>${when(i.last_sync_at)}</td>
        <td class="num"><a href="/dashboard/inventory?installation_id=${i.id}&state=bound">${c.bound}</a></td>
        <td class="num"><a href="/dashboard/inventory?installation_id=${i.id}&state=unbound">${c.unbound}</a></td>
        <td class="num">${c.missing ? html`<a class="warn-text" href="/dashboard/inventory?installation_id=${i.id}&state=missing">${c.missing}</a>` : "0"}</td>
      </tr>`,
      )}
    </tbody>
  </table>`
  }
</section>

${
  disconnected.length
    ? html`<section class="card card-muted" id="disconnected-installations">
  <div class="card-head"><h2>Disconnected</h2>${badge("muted", String(disconnected.length))}</div>
  <p class="muted">Not synced and not usable by the CLI. Reconnecting the same workspace keeps the installation id and brings its mappings back.</p>
  <table class="table">
    <thead><tr><th scope="col">Installation</th><th scope="col">Provider</th><th scope="col">Disconnected</th>${ctx.isAdmin ? html`<th scope="col"><span class="visually-hidden">Action</span></th>` : null}</tr></thead>
    <tbody>${disconnected.map(
      (i) => html`<tr class="muted">
      <td><a href="/dashboard/installations/${i.id}">${i.display_name}</a><div class="sub">${i.workspace.name} · ${i.host}</div></td>
      <td>${providerBadge(i.provider)}</td>
      <td>${when(i.disconnected_at)}</td>
      ${ctx.isAdmin ? html`<td><a class="btn btn-small" href="/dashboard/connect?reconnect=${i.id}">Reconnect</a></td>` : null}</tr>`,
    )}</tbody>
  </table>
</section>`
    : null
}

<section class="card">
  <div class="card-head"><h2>Mappings that need attention</h2>${attention.length ? badge("warn", String(attention.length)) : null}</div>
  ${
    attention.length === 0
      ? empty("Every mapping is active and points at a live resource.")
      : html`<table class="table" id="attention">
    <thead><tr><th scope="col">Project</th><th scope="col">Resource</th><th scope="col">Provider</th><th scope="col">What to do</th></tr></thead>
    <tbody>${attention.map(
      ({ m, why }) => html`<tr>
      <td><a href="/dashboard/projects/${m.project_id}">${m.project_slug}</a></td>
      <td><a href="/dashboard/mappings/${m.binding_ref}">${m.display_label}</a></td>
      <td>${providerBadge(m.provider)}</td>
      <td>${why}</td></tr>`,
    )}</tbody>
  </table>`
  }
</section>`;
    return sendHtml(reply, page(ctx, { title: "Overview", active: "overview", body, notice: q.done }));
  });
}
