import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import type { InventoryFilter, InventorySort, resourceView } from "../../host/inventory/service.ts";
import { type Unbindable, unbindable } from "../../host/mappings/service.ts";
import { type DashContext, type Form, sendHtml, str } from "../context.ts";
import { type Html, html, qs } from "../html.ts";
import { empty, extLink, page, providerBadge, providerName } from "../layout.ts";
import { listFields, listPager, listRequest, listTotal } from "../listing.ts";
import { resourceStateBadges } from "../views.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "installations" | "inventory">;

type ResourceView = ReturnType<typeof resourceView>;
const STATES = ["bound", "unbound", "missing", "archived"] as const;
type State = (typeof STATES)[number];

const UNBINDABLE_LABELS: Record<Unbindable, string> = {
  missing_upstream: "missing upstream",
  archived: "archived",
  issues_disabled: "issues disabled",
};

/** Why a resource cannot be picked, or null when it can (the rule is the domain's `unbindable`). */
export function unpickable(r: ResourceView, allowRef?: string): string | null {
  const why = unbindable({
    missingSince: r.missing_since,
    archived: r.archived,
    issuesDisabled: r.issues_disabled,
  });
  if (why) return UNBINDABLE_LABELS[why];
  if (r.binding_ref && r.binding_ref !== allowRef) return "already bound";
  return null;
}

/** One typeahead option: key, name, workspace and bound state, all escaped. */
export function optionItem(r: ResourceView, allowRef?: string): Html {
  const why = unpickable(r, allowRef);
  const ws = r.provider_context.workspace_name ?? "";
  return html`<li role="option" id="opt-${r.id}" class="option${why ? " option-disabled" : ""}" aria-selected="false" ${why ? html`aria-disabled="true"` : null}
  data-id="${r.id}" data-label="${r.display_label}" data-detail="${[r.key, ws].filter(Boolean).join(" · ")}">
  <span class="option-main"><span class="option-label">${r.display_label}</span>${r.key ? html` <span class="option-key">${r.key}</span>` : null}</span>
  <span class="option-sub">${r.name}${ws ? html` · ${ws}` : null}${r.full_path && r.full_path !== r.display_label ? html` · ${r.full_path}` : null}</span>
  <span class="option-state">${why ? html`<span class="badge badge-${why === "already bound" ? "info" : "warn"}">${why}</span>` : html`<span class="badge badge-muted">unbound</span>`}</span>
</li>`;
}

export async function searchResources(
  services: Deps,
  team: { id: string },
  f: { installationId?: string; provider?: string; q?: string },
  limit = 20,
) {
  if (!f.installationId && !f.provider) return { items: [] as ResourceView[], next_cursor: null };
  // Resources the team's curation rules hide are not offered here either (issue 20).
  return services.inventory.offeredPage(
    team,
    {
      teamId: team.id,
      installationId: f.installationId || undefined,
      provider: f.provider || undefined,
      q: f.q?.slice(0, 200) || undefined,
      fuzzy: true,
    },
    limit,
  );
}

/** Search-as-you-type over an installation's inventory (server-side search; app.js does the rest). */
export function typeahead(opts: {
  id: string;
  label: string;
  source: string;
  installationField: string;
  selected?: ResourceView | null;
  q?: string;
  allowRef?: string;
  error?: string | null;
  results?: ResourceView[] | null;
  fallbackAction: string;
}) {
  const sel = opts.selected;
  const listId = `${opts.id}-options`;
  return html`<div class="field typeahead" data-typeahead data-source="${opts.source}" data-installation-field="${opts.installationField}" ${opts.allowRef ? html`data-allow-ref="${opts.allowRef}"` : null}>
  <label for="${opts.id}" id="${opts.id}-label">${opts.label}</label>
  <div class="combo">
    <input id="${opts.id}" name="q" type="text" role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="${listId}"
      autocomplete="off" spellcheck="false" placeholder="Type to search by key, name or path" value="${opts.q ?? ""}"
      aria-describedby="${opts.id}-hint${opts.error ? ` ${opts.id}-error` : ""}" ${opts.error ? html`aria-invalid="true"` : null}>
    <button type="submit" class="btn js-remove" formmethod="get" formaction="${opts.fallbackAction}" name="search" value="1">Search</button>
    <ul id="${listId}" role="listbox" aria-labelledby="${opts.id}-label" class="listbox" hidden></ul>
  </div>
  <input type="hidden" name="resource_id" value="${sel?.id ?? ""}" data-typeahead-value>
  <p class="hint" id="${opts.id}-hint">Server-side search over the discovered inventory. Use ↑ ↓ to move, Enter to pick, Esc to close.</p>
  <p class="picked" data-typeahead-picked aria-live="polite">${sel ? html`Selected: <strong>${sel.display_label}</strong>${sel.key ? ` (${sel.key})` : ""} · ${sel.provider_context.workspace_name ?? ""}` : null}</p>
  ${opts.error ? html`<p class="field-error" id="${opts.id}-error">${opts.error}</p>` : null}
  ${
    opts.results
      ? html`<fieldset class="fallback-results"><legend>Results</legend>${
          opts.results.length === 0
            ? html`<p class="muted">No resource matches.</p>`
            : opts.results.map((r) => {
                const why = unpickable(r, opts.allowRef);
                return html`<label class="radio"><input type="radio" name="resource_id" value="${r.id}" ${why ? html`disabled` : null}> ${r.display_label}${r.key ? ` (${r.key})` : ""} — ${r.provider_context.workspace_name ?? ""}${why ? ` — ${why}` : ""}</label>`;
              })
        }</fieldset>`
      : null
  }
</div>`;
}

export function inventoryPages(app: FastifyInstance, services: Deps) {
  app.get("/resources/search", async (req, reply) => {
    const q = req.query as Form;
    const page = await searchResources(services, req.dash.auth.team, {
      installationId: str(q.installation_id),
      provider: str(q.provider),
      q: str(q.q),
    });
    const allowRef = str(q.allow_ref) || undefined;
    const body =
      page.items.length === 0
        ? html`<li role="option" class="option option-empty" aria-disabled="true" id="opt-none">No matching resource</li>`
        : html`${page.items.map((r) => optionItem(r, allowRef))}`;
    return sendHtml(reply, body);
  });

  app.get("/inventory", async (req, reply) => {
    const ctx: DashContext = req.dash;
    const teamId = ctx.auth.team.id;
    const q = req.query as Form;
    const installs = await services.installations.listForTeam(teamId);
    const installationId = installs.some((i) => i.id === q.installation_id) ? q.installation_id : undefined;
    const state = (STATES as readonly string[]).includes(q.state ?? "") ? (q.state as State) : undefined;
    const search = str(q.q).slice(0, 200);
    const filter: InventoryFilter = {
      teamId,
      installationId,
      installationIds: installationId ? undefined : installs.map((i) => i.id),
      q: search || undefined,
      fuzzy: true,
      state,
    };
    const list = listRequest(q, INVENTORY_SORT_LABELS, "name");
    const result = await services.inventory.list(filter, list);
    const hidden = await services.inventory.hiddenAmong(ctx.auth.team, result.items);
    const names = new Map(installs.map((i) => [i.id, i.displayName]));
    const params = { installation_id: installationId, q: search || undefined, state };
    const body = html`<section class="card">
  <form method="get" action="/dashboard/inventory" class="filters" role="search">
    <div class="field"><label for="inv-q">Search</label><input id="inv-q" type="search" name="q" value="${search}" placeholder="Key, name or path"></div>
    <div class="field"><label for="inv-inst">Installation</label><select id="inv-inst" name="installation_id">
      <option value="">All installations</option>
      ${installs.map((i) => html`<option value="${i.id}" ${i.id === installationId ? html`selected` : null}>${providerName(i.provider)} · ${i.displayName}</option>`)}
    </select></div>
    <div class="field"><label for="inv-state">Show</label><select id="inv-state" name="state">
      <option value="">All live and missing</option>
      ${STATES.map((s) => html`<option value="${s}" ${s === state ? html`selected` : null}>${s[0].toUpperCase() + s.slice(1)}</option>`)}
    </select></div>
    ${listFields("inv", INVENTORY_SORT_LABELS, list)}
    <div class="field field-button"><button type="submit" class="btn">Apply</button></div>
  </form>
  ${listTotal(result, "resources")}
  ${
    result.items.length === 0
      ? empty(
          installs.length === 0
            ? ctx.isAdmin
              ? html`No tracker is connected yet, so nothing is discovered. <a href="/dashboard/connect">Connect a tracker</a> first.`
              : "No tracker is connected yet, so nothing is discovered. Ask a team admin to connect one."
            : result.total === 0 && !search && !state
              ? "Nothing discovered yet. The first sync of an installation fills the inventory; open the installation to see its progress."
              : result.total === 0
                ? html`No resource matches these filters. <a href="/dashboard/inventory">Clear the filters</a>.`
                : html`This page is past the end of the list. <a href="/dashboard/inventory${qs(params)}">Back to the first page</a>.`,
        )
      : html`<table class="table" id="inventory-table">
    <thead><tr><th scope="col">Resource</th><th scope="col">Key</th><th scope="col">Workspace</th><th scope="col">Installation</th><th scope="col">State</th><th scope="col">Mapping</th></tr></thead>
    <tbody>${result.items.map(
      (r) => html`<tr>
      <td data-label="Resource">${extLink(r.web_url, r.display_label)}<div class="sub">${r.name}${r.full_path ? html` · ${r.full_path}` : null}</div></td>
      <td data-label="Key">${r.key ? html`<code>${r.key}</code>` : html`<span class="muted">—</span>`}</td>
      <td data-label="Workspace">${r.provider_context.workspace_name ?? ""}</td>
      <td data-label="Installation">${providerBadge(r.provider)} <span class="sub">${names.get(r.installation_id) ?? ""}</span></td>
      <td data-label="State">${resourceStateBadges(r)}${hidden.has(r.id) ? html` <span class="badge badge-muted" title="Still discovered and tracked; not offered to the CLI or the picker">hidden by curation</span>` : null}</td>
      <td data-label="Mapping" class="actions">${mappingCell(ctx, r)}${ctx.isAdmin ? html` <a href="/dashboard/installations/${r.installation_id}/curation?resource_id=${r.id}">Curate…</a>` : null}</td></tr>`,
    )}</tbody></table>`
  }
  ${listPager("/dashboard/inventory", params, list, result)}
  ${ctx.isAdmin && installationId ? html`<p><a href="/dashboard/installations/${installationId}/curation" id="curation-link">Curation rules of this installation</a></p>` : null}
</section>`;
    return sendHtml(reply, page(ctx, { title: "Inventory", active: "inventory", body }));
  });
}

/** What the inventory's mapping column says: the mapping, the way to map it, or why it cannot be mapped. */
function mappingCell(ctx: DashContext, r: ResourceView) {
  if (r.binding_ref)
    return html`<span class="why">Already mapped.</span> <a href="/dashboard/mappings/${r.binding_ref}">View mapping</a>`;
  const why = unpickable(r);
  if (why) return html`<span class="why">${CANNOT_MAP[why] ?? `Cannot be mapped: ${why}.`}</span>`;
  return ctx.isAdmin
    ? html`<a href="/dashboard/mappings/new?installation_id=${r.installation_id}&resource_id=${r.id}">Map…</a>`
    : html`<span class="muted">Not mapped</span>`;
}

/** Why a row cannot be mapped, in a sentence that says what would change it. */
const CANNOT_MAP: Record<string, string> = {
  "missing upstream": "Cannot be mapped: it no longer exists upstream (missing since the last sync).",
  archived: "Cannot be mapped: archived in the provider. Unarchive it there, then sync.",
  "issues disabled": "Cannot be mapped: issues are turned off for it in the provider.",
};

/** The inventory's sorts, as the sort menu names them. */
export const INVENTORY_SORT_LABELS: Record<InventorySort, string> = {
  name: "Name A–Z",
  name_desc: "Name Z–A",
  newest: "Newest discovered",
  oldest: "Oldest discovered",
};
