import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import { resourceView } from "../../host/inventory/service.ts";
import type { MappingSort } from "../../host/mappings/service.ts";
import { MAPPING_STATES } from "../../host/mappings/states.ts";
import { isProvider, providerIds } from "../../tracker/index.ts";
import { confirmThenAct } from "../confirm.ts";
import { type DashContext, type Form, formOf, requireAdmin, seeOther, sendHtml, str } from "../context.ts";
import { isRefusal, statusOf } from "../errors.ts";
import { html, qs } from "../html.ts";
import {
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
import { listFields, listPager, listRequest, listTotal } from "../listing.ts";
import { mappingStatusBadge } from "../views.ts";
import { searchResources, typeahead } from "./inventory.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "installations" | "inventory" | "mappingAdmin" | "mappings" | "projects">;

const NEW = "__new__";

/** The mapping list's sorts, as the sort menu names them. */
const MAPPING_SORT_LABELS: Record<MappingSort, string> = {
  resource: "Resource A–Z",
  resource_desc: "Resource Z–A",
  project: "Project A–Z",
  newest: "Newest bound",
  oldest: "Oldest bound",
};
type ResourceView = ReturnType<typeof resourceView>;
type Installation = Awaited<ReturnType<Deps["installations"]["listForTeam"]>>[number];

interface Checked {
  errors: FieldErrors;
  installation?: Installation;
  resource?: ResourceView;
  project?: { slug: string; isNew: boolean };
  replaces: { label: string; ref: string } | null;
}

export function mappingPages(app: FastifyInstance, services: Deps) {
  const teamOf = (ctx: DashContext) => ctx.auth.team.id;

  async function resourceById(teamId: string, id: string) {
    const row = id ? await services.inventory.resource(teamId, id) : undefined;
    if (!row) return undefined;
    const live = await services.mappings.liveForResource(row.installationId, row.resourceKey);
    return resourceView(row, live ? { bindingRef: live.bindingRef, boundAt: live.boundAt } : null);
  }

  /** The domain's checks of the save (mappings/draft.ts), answered on the form's fields. */
  async function check(
    ctx: DashContext,
    form: Form,
    moving?: { provider: string; projectId: string; resourceId: string },
  ): Promise<Checked> {
    const choice = str(form.project);
    const isNew = choice === NEW;
    const project = isNew
      ? { slug: str(form.new_project_slug).toLowerCase(), intent: "new" as const }
      : { slug: choice, intent: "existing" as const };
    const c = await services.mappingAdmin.checkDraft(teamOf(ctx), {
      installationId: str(form.installation_id),
      resourceId: str(form.resource_id),
      ...(moving ? { moving } : { project }),
    });
    const errors: FieldErrors = {};
    for (const { field, error } of c.problems) {
      const name = field === "project_slug" ? (isNew ? "new_project_slug" : "project") : field;
      errors[name] ??= error.message;
    }
    return {
      errors,
      installation: c.installation,
      resource: c.resource && resourceView(c.resource, null),
      project: c.project && { slug: c.project.slug, isNew: !c.project.row },
      replaces: c.replaces,
    };
  }

  function installationSelect(installs: Installation[], selected: string | undefined, errors?: FieldErrors) {
    return html`<div class="field"><label for="f-installation_id">Installation</label>
    <select id="f-installation_id" name="installation_id" required ${invalidAttrs(errors, "installation_id")}>
      ${installs.length > 1 ? html`<option value="">Choose…</option>` : null}
      ${installs.map((i) => html`<option value="${i.id}" data-provider="${i.provider}" ${i.id === selected ? html`selected` : null}>${providerName(i.provider)} · ${i.displayName} (${i.workspaceName})</option>`)}
    </select>${fieldError(errors, "installation_id")}</div>`;
  }

  async function createForm(
    ctx: DashContext,
    form: Form,
    o: { errors?: FieldErrors; summary?: string | null; results?: ResourceView[] | null } = {},
  ) {
    const teamId = teamOf(ctx);
    const installs = await services.installations.listForTeam(teamId);
    const projects = await services.projects.page(teamId, undefined, 200);
    const selected = await resourceById(teamId, str(form.resource_id));
    const installationId =
      str(form.installation_id) || selected?.installation_id || (installs.length === 1 ? installs[0].id : "");
    const choice = str(form.project);
    const body = installs.length
      ? html`${errorSummary(o.summary)}<section class="card">
  <form method="post" action="/dashboard/mappings/new" class="form" id="mapping-form">
    ${csrfField(ctx)}<input type="hidden" name="step" value="review">
    <div class="field"><label for="f-project">Project</label>
      <select id="f-project" name="project" ${invalidAttrs(o.errors, "project")} data-new-toggle="new-project">
        <option value="">Choose a project…</option>
        ${projects.items.map((p) => html`<option value="${p.slug}" ${p.slug === choice ? html`selected` : null}>${p.slug}${p.name !== p.slug ? ` — ${p.name}` : ""}</option>`)}
        <option value="${NEW}" ${choice === NEW ? html`selected` : null}>+ Create a new project</option>
      </select>${fieldError(o.errors, "project")}</div>
    <div class="field" id="new-project"><label for="f-new_project_slug">New project slug <span class="muted">(when creating one)</span></label>
      <input id="f-new_project_slug" name="new_project_slug" type="text" maxlength="128" value="${form.new_project_slug ?? ""}" ${invalidAttrs(o.errors, "new_project_slug")}>
      <p class="hint">The CLI adopts this project the first time it binds a project with this slug.</p>
      ${fieldError(o.errors, "new_project_slug")}</div>
    ${installationSelect(installs, installationId, o.errors)}
    ${typeahead({
      id: "resource-search",
      label: "Resource",
      source: "/dashboard/resources/search",
      installationField: "f-installation_id",
      selected,
      q: form.q,
      error: o.errors?.resource_id,
      results: o.results,
      fallbackAction: "/dashboard/mappings/new",
    })}
    <div class="form-actions"><button type="submit" class="btn btn-primary" id="review">Review mapping</button>
    <a class="btn btn-ghost" href="/dashboard/mappings">Cancel</a></div>
  </form></section>`
      : empty(
          html`Connect a tracker first: there is no inventory to pick from. <a href="/dashboard/connect">Connect a tracker</a>`,
        );
    return page(ctx, {
      title: "New mapping",
      active: "mappings",
      crumbs: [{ label: "Mappings", href: "/dashboard/mappings" }, { label: "New" }],
      body,
    });
  }

  function resourceFacts(r: ResourceView, inst?: Installation) {
    return html`<dl class="facts">
      <dt>Resource</dt><dd>${extLink(r.web_url, r.display_label)}</dd>
      <dt>Key</dt><dd>${r.key ?? "—"}</dd><dt>Name</dt><dd>${r.name}</dd>
      <dt>Workspace</dt><dd>${r.provider_context.workspace_name ?? "—"}</dd>
      <dt>Provider</dt><dd>${providerBadge(r.provider)}${inst ? html` <span class="sub">${inst.displayName}</span>` : null}</dd>
      <dt>Provider id</dt><dd><code>${r.native_id}</code></dd></dl>`;
  }

  function hiddenFields(form: Form, names: string[]) {
    return names.map((n) => (form[n] ? html`<input type="hidden" name="${n}" value="${form[n]}">` : null));
  }

  app.get("/mappings", async (req, reply) => {
    const ctx = req.dash;
    const q = req.query as Form;
    const provider = isProvider(q.provider) ? q.provider : undefined;
    const status = MAPPING_STATES.find((s) => s === q.status);
    const list = listRequest(q, MAPPING_SORT_LABELS, "resource");
    const result = await services.mappings.list({ teamId: teamOf(ctx), provider, status }, list);
    const params = { provider, status };
    const body = html`<section class="card">
  <form method="get" action="/dashboard/mappings" class="filters">
    <div class="field"><label for="m-provider">Provider</label><select id="m-provider" name="provider"><option value="">All</option>
      ${providerIds().map((p) => html`<option value="${p}" ${p === provider ? html`selected` : null}>${providerName(p)}</option>`)}</select></div>
    <div class="field"><label for="m-status">Status</label><select id="m-status" name="status"><option value="">Live (active and disabled)</option>
      ${MAPPING_STATES.map((s) => html`<option value="${s}" ${s === status ? html`selected` : null}>${s}</option>`)}</select></div>
    ${listFields("m", MAPPING_SORT_LABELS, list)}
    <div class="field field-button"><button class="btn" type="submit">Apply</button></div>
  </form>
  ${listTotal(result, "mappings")}
  ${
    result.items.length === 0
      ? empty(
          result.total > 0
            ? html`This page is past the end of the list. <a href="/dashboard/mappings${qs(params)}">Back to the first page</a>.`
            : provider || status
              ? html`No mapping matches these filters. <a href="/dashboard/mappings">Clear the filters</a>.`
              : ctx.isAdmin
                ? html`No mapping yet. A mapping ties a Spec Kitty project to one discovered resource; <a href="/dashboard/mappings/new">create the first one</a>, or let the CLI bind a project.`
                : "No mapping yet. A team admin maps projects to resources here, or the CLI binds them.",
        )
      : html`<table class="table" id="mappings-table"><thead><tr><th scope="col">Resource</th><th scope="col">Project</th><th scope="col">Provider</th><th scope="col">Status</th><th scope="col">binding_ref</th><th scope="col">Bound</th></tr></thead><tbody>
    ${result.items.map(
      (
        m,
      ) => html`<tr><td data-label="Resource">${m.display_label}</td><td data-label="Project"><a href="/dashboard/projects/${m.project_id}">${m.project_slug}</a></td><td data-label="Provider">${providerBadge(m.provider)}</td>
      <td data-label="Status">${mappingStatusBadge(m)}</td><td data-label="binding_ref"><a href="/dashboard/mappings/${m.binding_ref}"><code>${m.binding_ref}</code></a></td><td data-label="Bound">${when(m.bound_at)}</td></tr>`,
    )}</tbody></table>`
  }
  ${listPager("/dashboard/mappings", params, list, result)}
</section>`;
    return sendHtml(
      reply,
      page(ctx, {
        title: "Mappings",
        active: "mappings",
        body,
        actions: ctx.isAdmin
          ? html`<a class="btn btn-primary" href="/dashboard/mappings/new">New mapping</a>`
          : null,
      }),
    );
  });

  app.get("/mappings/new", async (req, reply) => {
    requireAdmin(req);
    const q = req.query as Form;
    const results = q.search
      ? (
          await searchResources(services, req.dash.auth.team, {
            installationId: str(q.installation_id),
            q: str(q.q),
          })
        ).items
      : null;
    return sendHtml(reply, await createForm(req.dash, q, { results }));
  });

  app.post("/mappings/new", async (req, reply) => {
    requireAdmin(req);
    const ctx = req.dash;
    const form = formOf(req);
    if (form.step === "back") return sendHtml(reply, await createForm(ctx, form));
    const c = await check(ctx, form);
    if (Object.keys(c.errors).length)
      return sendHtml(
        reply,
        await createForm(ctx, form, { errors: c.errors, summary: "Fix the fields marked below." }),
        400,
      );
    const resource = c.resource!;
    const project = c.project!;
    if (form.step !== "confirm") {
      const body = html`<section class="card" id="review-card">
  <h2>Map ${project.isNew ? html`new project <strong>${project.slug}</strong>` : html`<strong>${project.slug}</strong>`} to this ${providerName(resource.provider)} resource?</h2>
  ${resourceFacts(resource, c.installation)}
  ${project.isNew ? html`<p>The project <strong>${project.slug}</strong> is created with the mapping.</p>` : null}
  ${c.replaces ? html`<div class="notice notice-warn" role="note">${project.slug} is mapped to <strong>${c.replaces.label}</strong> today. Saving replaces that mapping; its binding_ref <code>${c.replaces.ref}</code> then answers as deleted.</div>` : null}
  <form method="post" action="/dashboard/mappings/new" class="form">
    ${csrfField(ctx)}${hiddenFields(form, ["installation_id", "resource_id", "project", "new_project_slug", "q"])}
    <div class="form-actions"><button type="submit" name="step" value="confirm" class="btn btn-primary" id="confirm">Create mapping</button>
    <button type="submit" name="step" value="back" class="btn btn-ghost">Back</button></div>
  </form></section>`;
      return sendHtml(
        reply,
        page(ctx, {
          title: "Confirm mapping",
          active: "mappings",
          crumbs: [{ label: "Mappings", href: "/dashboard/mappings" }, { label: "New" }],
          body,
        }),
      );
    }
    try {
      const { created, mapping } = await services.mappingAdmin.create(
        ctx.auth,
        { resource_id: resource.id, project_slug: project.slug },
        "dashboard",
        req.id,
      );
      return seeOther(
        reply,
        `/dashboard/mappings/${mapping.binding_ref}?done=${created ? "mapping_created" : "mapping_exists"}`,
      );
    } catch (err) {
      if (err instanceof DomainError && isRefusal(err))
        return sendHtml(reply, await createForm(ctx, form, { summary: err.message }), statusOf(err));
      throw err;
    }
  });

  app.get("/mappings/:ref", async (req, reply) => {
    const ctx = req.dash;
    const q = req.query as Form;
    const ref = (req.params as { ref: string }).ref;
    const m = await services.mappingAdmin.view(teamOf(ctx), ref);
    const resource = await resourceById(teamOf(ctx), m.resource_id);
    const installs = (await services.installations.listForTeam(teamOf(ctx), m.provider)) as Installation[];
    const inst = installs.find((i) => i.id === m.installation_id);
    const live = m.status !== "deleted";
    const admin = ctx.isAdmin && live;
    const body = html`<div class="grid-2">
<section class="card"><h2>Mapping</h2><dl class="facts">
  <dt>Status</dt><dd>${mappingStatusBadge(m)}</dd>
  <dt>Project</dt><dd><a href="/dashboard/projects/${m.project_id}">${m.project_slug}</a></dd>
  <dt>binding_ref</dt><dd><code id="binding-ref">${m.binding_ref}</code></dd>
  <dt>Created via</dt><dd>${m.created_via}</dd>
  <dt>Bound</dt><dd>${when(m.bound_at)}</dd>
  <dt>Updated</dt><dd>${when(m.updated_at)}</dd>
  ${m.deleted_at ? html`<dt>Deleted</dt><dd>${when(m.deleted_at)}</dd>` : null}
</dl></section>
<section class="card"><h2>Resource</h2>${resource ? resourceFacts(resource, inst) : html`<p>${m.display_label}</p>`}
${m.resource_missing_since ? html`<div class="notice notice-error" role="note">This resource disappeared upstream ${when(m.resource_missing_since)}. Map the project to another resource, or delete the mapping.</div>` : null}
${live && m.sync_state === "installation_disconnected" ? html`<div class="notice notice-error" role="note">Its installation was disconnected. Reconnect it, or move the mapping to another resource.</div>` : null}
</section></div>
${
  admin
    ? html`<section class="card" id="change-resource"><h2>Change resource</h2>
  <p>Move <strong>${m.project_slug}</strong> to another ${providerName(m.provider)} resource. The new mapping gets a new binding_ref; CLIs holding the old one are told to rebind.</p>
  <form method="post" action="/dashboard/mappings/${m.binding_ref}/change" class="form">
    ${csrfField(ctx)}<input type="hidden" name="step" value="review">
    ${installationSelect(installs, inst?.id ?? installs[0]?.id)}
    ${typeahead({
      id: "change-search",
      label: "New resource",
      source: "/dashboard/resources/search",
      installationField: "f-installation_id",
      q: q.q,
      allowRef: m.binding_ref,
      results: q.search
        ? (
            await searchResources(services, ctx.auth.team, {
              installationId: str(q.installation_id),
              q: str(q.q),
            })
          ).items
        : null,
      fallbackAction: `/dashboard/mappings/${m.binding_ref}`,
    })}
    <div class="form-actions"><button type="submit" class="btn btn-primary" id="review-change">Review change</button></div>
  </form></section>
<section class="card" id="danger-zone"><h2>Status</h2><div class="button-row">
  <form method="post" action="/dashboard/mappings/${m.binding_ref}/status" class="inline">${csrfField(ctx)}
    ${
      m.status === "disabled"
        ? html`<input type="hidden" name="status" value="active"><button type="submit" class="btn" id="enable">Enable</button>`
        : html`<input type="hidden" name="status" value="disabled"><button type="submit" class="btn" id="disable">Disable</button>`
    }</form>
  <a class="btn btn-danger-ghost" href="/dashboard/mappings/${m.binding_ref}/delete" id="delete">Delete…</a></div>
  <p class="hint">Disabled mappings keep their binding_ref; the CLI is told an admin disabled them. Deleted refs are never reused.</p></section>`
    : null
}`;
    return sendHtml(
      reply,
      page(ctx, {
        title: m.display_label,
        active: "mappings",
        crumbs: [{ label: "Mappings", href: "/dashboard/mappings" }, { label: m.binding_ref }],
        body,
        notice: q.done,
      }),
    );
  });

  app.post("/mappings/:ref/change", async (req, reply) => {
    requireAdmin(req);
    const ctx = req.dash;
    const form = formOf(req);
    const ref = (req.params as { ref: string }).ref;
    const m = await services.mappingAdmin.view(teamOf(ctx), ref);
    if (m.status === "deleted")
      throw new DomainError("mapping_deleted", "This mapping was deleted; create a new one.");
    const c = await check(ctx, form, {
      provider: m.provider,
      projectId: m.project_id,
      resourceId: m.resource_id,
    });
    const fail = (message: string, status: number) =>
      sendHtml(
        reply,
        page(ctx, {
          title: "Change resource",
          active: "mappings",
          body: html`${errorSummary(message)}<p><a class="btn" href="/dashboard/mappings/${ref}">Back to the mapping</a></p>`,
        }),
        status,
      );
    if (Object.keys(c.errors).length) return fail(Object.values(c.errors).join(" "), 400);
    const resource = c.resource!;
    if (form.step !== "confirm") {
      const body = html`<section class="card" id="review-card"><h2>Move ${m.project_slug} from ${m.display_label} to:</h2>
  ${resourceFacts(resource, c.installation)}
  <div class="notice notice-warn" role="note">The mapping gets a new binding_ref; <code>${ref}</code> then answers as deleted.</div>
  <form method="post" action="/dashboard/mappings/${ref}/change" class="form">${csrfField(ctx)}${hiddenFields(form, ["installation_id", "resource_id"])}
  <div class="form-actions"><button type="submit" name="step" value="confirm" class="btn btn-primary" id="confirm">Change resource</button>
  <a class="btn btn-ghost" href="/dashboard/mappings/${ref}">Cancel</a></div></form></section>`;
      return sendHtml(reply, page(ctx, { title: "Confirm change", active: "mappings", body }));
    }
    try {
      const next = await services.mappingAdmin.change(ctx.auth, ref, { resource_id: resource.id }, req.id);
      return seeOther(reply, `/dashboard/mappings/${next.binding_ref}?done=mapping_rebound`);
    } catch (err) {
      if (err instanceof DomainError && isRefusal(err)) return fail(err.message, statusOf(err));
      throw err;
    }
  });

  app.post("/mappings/:ref/status", async (req, reply) => {
    requireAdmin(req);
    const ref = (req.params as { ref: string }).ref;
    const status = formOf(req).status;
    if (status !== "active" && status !== "disabled")
      throw new DomainError("invalid_form", "Choose enable or disable.");
    const m = await services.mappingAdmin.view(teamOf(req.dash), ref);
    if (m.status === "deleted")
      throw new DomainError("mapping_deleted", "A deleted mapping cannot be changed.");
    await services.mappingAdmin.change(req.dash.auth, ref, { status }, req.id);
    return seeOther(
      reply,
      `/dashboard/mappings/${ref}?done=${status === "active" ? "mapping_enabled" : "mapping_disabled"}`,
    );
  });

  confirmThenAct(app, "/mappings/:ref/delete", {
    param: "ref",
    what: "delete",
    title: "Delete mapping",
    active: "mappings",
    ask: async (req, ref) => {
      const m = await services.mappingAdmin.view(teamOf(req.dash), ref);
      if (m.status === "deleted") return { redirect: `/dashboard/mappings/${m.binding_ref}` };
      return {
        heading: html`Delete the mapping of ${m.project_slug} to ${m.display_label}?`,
        explanation: html`CLIs using <code>${m.binding_ref}</code> are told it was deleted and asked to rebind. The ref is never reused. The discovered resource stays in the inventory.`,
        button: "Yes, delete mapping",
        buttonId: "confirm-delete",
        cancelHref: `/dashboard/mappings/${m.binding_ref}`,
      };
    },
    act: async (req, ref) => {
      await services.mappingAdmin.remove(req.dash.auth, ref, req.id);
      return `/dashboard/mappings/${ref}?done=mapping_deleted`;
    },
  });
}
