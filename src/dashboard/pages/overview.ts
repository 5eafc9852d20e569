import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { installationView } from "../../host/installations/service.ts";
import { mappingHealth } from "../../host/mappings/health.ts";
import { sendHtml } from "../context.ts";
import { html } from "../html.ts";
import { anyProvider, badge, empty, page, providerBadge, providerName, when } from "../layout.ts";
import { healthBadge, installationAttention } from "../views.ts";

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
    for (let i = 0; i < 5; i++) {
      const p = await services.mappings.page({ teamId }, cursor, 200);
      for (const m of p.items) {
        const why = attentionReason(m);
        if (why) attention.push({ m, why });
      }
      if (!p.next_cursor) break;
      cursor = p.next_cursor;
    }
    const mappingCount = (await services.mappings.list({ teamId }, { sort: "resource", size: 1 })).total;
    const troubled = installs.flatMap(({ view }) => {
      const a = installationAttention(view);
      return a ? [{ view, ...a }] : [];
    });

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

${
  installs.length === 0 && disconnected.length === 0
    ? html`<section class="card card-start" id="get-started"><h2>Get started</h2>
  <ol class="steps">
    <li><strong>Connect a tracker.</strong> ${ctx.isAdmin ? html`<a href="/dashboard/connect">Pick ${anyProvider()}</a>; Spec Kitty then discovers its repositories, projects or teams.` : "Ask a team admin to connect one; Spec Kitty then discovers its repositories, projects or teams."}</li>
    <li><strong>Map projects to resources.</strong> Each Spec Kitty project maps to one discovered resource per tracker, from the inventory or when the CLI binds it.</li>
    <li><strong>Use the CLI.</strong> <code>spec-kitty tracker bind</code> finds the mapping; pushes then go to that resource.</li>
  </ol></section>`
    : null
}

${
  troubled.length
    ? html`<section class="card card-error" id="installations-attention">
  <div class="card-head"><h2>Installations that need attention</h2>${badge("bad", String(troubled.length))}</div>
  <table class="table">
    <thead><tr><th scope="col">Installation</th><th scope="col">Problem</th><th scope="col">What to do</th></tr></thead>
    <tbody>${troubled.map(
      (t) => html`<tr>
      <td data-label="Installation"><a href="/dashboard/installations/${t.view.id}">${t.view.display_name}</a><div class="sub">${providerName(t.view.provider)} · ${t.view.workspace.name}</div></td>
      <td data-label="Problem">${badge(t.label === "Stale" ? "warn" : "bad", t.label)}${t.view.health.last_error_code ? html` <code>${t.view.health.last_error_code}</code>` : null}</td>
      <td data-label="What to do">${t.todo}${ctx.isAdmin && (t.view.status === "revoked" || t.view.status === "error") ? html` <a href="/dashboard/connect?reconnect=${t.view.id}">Reconnect…</a>` : null}</td></tr>`,
    )}</tbody>
  </table>
</section>`
    : null
}

<section class="card">
  <div class="card-head"><h2>Installations</h2>${ctx.isAdmin ? html`<a class="btn btn-primary" href="/dashboard/connect">Connect a tracker</a>` : null}</div>
  ${
    installs.length === 0
      ? empty(
          ctx.isAdmin
            ? html`No tracker is connected${disconnected.length ? " now" : " yet"}. <a href="/dashboard/connect">Connect ${anyProvider()}</a>.`
            : `No tracker is connected${disconnected.length ? " now" : " yet"}. Ask a team admin to connect one.`,
        )
      : html`<table class="table" id="installations">
    <thead><tr><th scope="col">Installation</th><th scope="col">Provider</th><th scope="col">Health</th><th scope="col">Last sync</th><th scope="col" class="num">Bound</th><th scope="col" class="num">Unbound</th><th scope="col" class="num">Missing</th></tr></thead>
    <tbody>
      ${installs.map(
        ({ view: i, counts: c }) => html`<tr>
        <td data-label="Installation"><a href="/dashboard/installations/${i.id}">${i.display_name}</a><div class="sub">${i.workspace.name} · ${i.host}</div></td>
        <td data-label="Provider">${providerBadge(i.provider)}</td>
        <td data-label="Health">${healthBadge(i)}</td>
        <td data-label="Last sync">${when(i.last_sync_at)}</td>
        <td data-label="Bound" class="num"><a href="/dashboard/inventory?installation_id=${i.id}&state=bound">${c.bound}</a></td>
        <td data-label="Unbound" class="num"><a href="/dashboard/inventory?installation_id=${i.id}&state=unbound">${c.unbound}</a></td>
        <td data-label="Missing" class="num">${c.missing ? html`<a class="warn-text" href="/dashboard/inventory?installation_id=${i.id}&state=missing">${c.missing}</a>` : "0"}</td>
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
      <td data-label="Installation"><a href="/dashboard/installations/${i.id}">${i.display_name}</a><div class="sub">${i.workspace.name} · ${i.host}</div></td>
      <td data-label="Provider">${providerBadge(i.provider)}</td>
      <td data-label="Disconnected">${when(i.disconnected_at)}</td>
      ${ctx.isAdmin ? html`<td data-label="Action"><a class="btn btn-small" href="/dashboard/connect?reconnect=${i.id}">Reconnect</a></td>` : null}</tr>`,
    )}</tbody>
  </table>
</section>`
    : null
}

<section class="card">
  <div class="card-head"><h2>Mappings that need attention</h2>${attention.length ? badge("warn", String(attention.length)) : null}</div>
  ${
    attention.length > 0
      ? html`<table class="table" id="attention">
    <thead><tr><th scope="col">Project</th><th scope="col">Resource</th><th scope="col">Provider</th><th scope="col">What to do</th></tr></thead>
    <tbody>${attention.map(
      ({ m, why }) => html`<tr>
      <td data-label="Project"><a href="/dashboard/projects/${m.project_id}">${m.project_slug}</a></td>
      <td data-label="Resource"><a href="/dashboard/mappings/${m.binding_ref}">${m.display_label}</a></td>
      <td data-label="Provider">${providerBadge(m.provider)}</td>
      <td data-label="What to do">${why}</td></tr>`,
    )}</tbody>
  </table>`
      : mappingCount === 0
        ? empty(
            installs.length === 0
              ? "No mapping yet. Connect a tracker first; then map projects to the resources it discovers."
              : ctx.isAdmin
                ? html`No mapping yet. <a href="/dashboard/mappings/new">Map a project to a resource</a>, or let the CLI bind one with <code>spec-kitty tracker bind</code>.`
                : "No mapping yet. A team admin maps projects to resources, or the CLI binds them.",
          )
        : empty(
            `All ${mappingCount.toLocaleString("en-US")} mapping${mappingCount === 1 ? " is" : "s are"} active and point at live resources.`,
          )
  }
</section>`;
    return sendHtml(reply, page(ctx, { title: "Overview", active: "overview", body, notice: q.done }));
  });
}
