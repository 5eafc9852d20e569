import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import type { ProjectSort } from "../../host/projects/service.ts";
import { providerIds } from "../../tracker/index.ts";
import { type Form, sendHtml } from "../context.ts";
import { html } from "../html.ts";
import { empty, page, providerBadge, providerName, when } from "../layout.ts";
import { listFields, listPager, listRequest, listTotal } from "../listing.ts";
import { mappingStatusBadge } from "../views.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "installations" | "mappings" | "projects">;

/** The project list's sorts, as the sort menu names them. */
const PROJECT_SORT_LABELS: Record<ProjectSort, string> = {
  slug: "Slug A–Z",
  slug_desc: "Slug Z–A",
  newest: "Newest",
  oldest: "Oldest",
};

export function projectPages(app: FastifyInstance, services: Deps) {
  app.get("/projects", async (req, reply) => {
    const ctx = req.dash;
    const q = req.query as Form;
    const list = listRequest(q, PROJECT_SORT_LABELS, "slug");
    const result = await services.projects.list(ctx.auth.team.id, list);
    const body = html`<section class="card">
  <form method="get" action="/dashboard/projects" class="filters">
    ${listFields("p", PROJECT_SORT_LABELS, list)}
    <div class="field field-button"><button class="btn js-remove" type="submit">Apply</button></div>
  </form>
  ${listTotal(result, "projects")}
  ${
    result.items.length === 0
      ? empty(
          result.total > 0
            ? html`This page is past the end of the list. <a href="/dashboard/projects">Back to the first page</a>.`
            : ctx.isAdmin
              ? html`No project yet. Projects appear when a CLI binds one, or when you <a href="/dashboard/mappings/new">map a resource to a new project</a>.`
              : "No project yet. Projects appear when a CLI binds one, or when an admin maps a resource to a new project.",
        )
      : html`<table class="table" id="projects-table"><thead><tr><th scope="col">Project</th><th scope="col">Name</th><th scope="col">Repository</th><th scope="col">CLI bound</th><th scope="col">Created</th></tr></thead><tbody>
      ${result.items.map(
        (
          p,
        ) => html`<tr><td data-label="Project"><a href="/dashboard/projects/${p.id}">${p.slug}</a></td><td data-label="Name">${p.name}</td><td data-label="Repository">${p.repo_slug ?? html`<span class="muted">—</span>`}</td>
        <td data-label="CLI bound">${p.uuid ? "yes" : html`<span class="muted">not yet</span>`}</td><td data-label="Created">${when(p.created_at)}</td></tr>`,
      )}</tbody></table>`
  }
  ${listPager("/dashboard/projects", {}, list, result)}
</section>`;
    return sendHtml(reply, page(ctx, { title: "Projects", active: "projects", body }));
  });

  app.get("/projects/:id", async (req, reply) => {
    const ctx = req.dash;
    const teamId = ctx.auth.team.id;
    const p = await services.projects.byId(teamId, (req.params as { id: string }).id);
    if (!p) throw new DomainError("page_not_found", "No such project in this team.");
    const live = await services.mappings.page({ teamId, projectId: p.id }, undefined, 50);
    const deleted = await services.mappings.page(
      { teamId, projectId: p.id, status: "deleted" },
      undefined,
      20,
    );
    const installs = await services.installations.listForTeam(teamId);
    const connected = new Set(installs.map((i) => i.provider));
    const byProvider = new Map(live.items.map((m) => [m.provider, m]));
    const nodeIds = (p.nodeIds as string[]) ?? [];
    const buildIds = (p.buildIds as string[]) ?? [];
    const body = html`<div class="grid-2">
<section class="card"><h2>Project</h2><dl class="facts">
  <dt>Slug</dt><dd><code>${p.slug}</code></dd><dt>Name</dt><dd>${p.name}</dd>
  <dt>Repository</dt><dd>${p.repoSlug ?? "—"}</dd><dt>Created</dt><dd>${when(p.createdAt)}</dd></dl></section>
<section class="card" id="cli-identities"><h2>CLI identities seen</h2><dl class="facts">
  <dt>Project uuid</dt><dd>${p.uuid ? html`<code>${p.uuid}</code>` : html`<span class="muted">not bound by a CLI yet</span>`}</dd>
  <dt>Machines (node ids)</dt><dd>${nodeIds.length ? html`<ul class="plain">${nodeIds.map((n) => html`<li><code>${n}</code></li>`)}</ul>` : html`<span class="muted">none</span>`}</dd>
  <dt>Builds</dt><dd>${buildIds.length ? html`<ul class="plain">${buildIds.map((n) => html`<li><code>${n}</code></li>`)}</ul>` : html`<span class="muted">none</span>`}</dd>
</dl></section></div>
<section class="card"><h2>Mappings per provider</h2>
<table class="table" id="project-mappings"><thead><tr><th scope="col">Provider</th><th scope="col">Resource</th><th scope="col">Status</th><th scope="col">binding_ref</th></tr></thead><tbody>
${providerIds().map((prov) => {
  const m = byProvider.get(prov);
  return html`<tr><td data-label="Provider">${providerBadge(prov)}</td>${
    m
      ? html`<td data-label="Resource">${m.display_label}</td><td data-label="Status">${mappingStatusBadge(m)}</td><td data-label="binding_ref"><a href="/dashboard/mappings/${m.binding_ref}"><code>${m.binding_ref}</code></a></td>`
      : html`<td colspan="3" data-label="Resource"><span class="muted">Not mapped.</span> ${
          ctx.isAdmin && connected.has(prov)
            ? html`<a href="/dashboard/mappings/new?project=${p.slug}&installation_id=${installs.find((i) => i.provider === prov)?.id ?? ""}">Map a ${providerName(prov)} resource…</a>`
            : null
        }</td>`
  }</tr>`;
})}
</tbody></table></section>
${
  deleted.items.length
    ? html`<section class="card"><h2>Earlier mappings</h2><table class="table"><thead><tr><th scope="col">Resource</th><th scope="col">Provider</th><th scope="col">binding_ref</th><th scope="col">Ended</th></tr></thead><tbody>
  ${deleted.items.map((m) => html`<tr><td data-label="Resource">${m.display_label}</td><td data-label="Provider">${providerBadge(m.provider)}</td><td data-label="binding_ref"><a href="/dashboard/mappings/${m.binding_ref}"><code>${m.binding_ref}</code></a></td><td data-label="Ended">${when(m.deleted_at)}</td></tr>`)}
  </tbody></table></section>`
    : null
}`;
    return sendHtml(
      reply,
      page(ctx, {
        title: p.slug,
        active: "projects",
        crumbs: [{ label: "Projects", href: "/dashboard/projects" }, { label: p.slug }],
        body,
      }),
    );
  });
}
