import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Static } from "typebox";
import type { CurationPreview, CurationRuleInput } from "../../host/curation/schemas.ts";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import { type DashContext, type Form, formOf, requireAdmin, sendHtml, str } from "../context.ts";
import { type Html, html } from "../html.ts";
import { csrfField, empty, errorSummary, page, providerName } from "../layout.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "curation" | "installations" | "inventory">;

type RuleInput = Static<typeof CurationRuleInput>;
type Curation = Awaited<ReturnType<Deps["curation"]["get"]>>;
type Preview = Static<typeof CurationPreview>;

/** At most this many rules in one form (the API takes 100). */
const MAX_RULES = 100;

/** The rules a form carries: its rows (`r<i>_…`) minus the removed ones, plus the new rule when filled in. */
function rulesOf(f: Form): RuleInput[] {
  const rules: RuleInput[] = [];
  const count = Math.min(Number(f.count) || 0, MAX_RULES);
  const read = (p: string): RuleInput | null => {
    const effect = str(f[`${p}_effect`]) === "include" ? "include" : "exclude";
    const match = str(f[`${p}_match`]);
    if (match === "pattern") {
      const pattern = str(f[`${p}_pattern`]);
      return pattern ? { effect, match, pattern } : null;
    }
    if (match === "kind") {
      const [kind, value] = str(f[`${p}_kind`]).split("=");
      return kind && value ? { effect, match, kind, value } : null;
    }
    if (match === "resource") {
      const resource_id = str(f[`${p}_resource`]);
      return resource_id ? { effect, match, resource_id } : null;
    }
    return null;
  };
  for (let i = 0; i < count; i++) {
    if (f[`r${i}_remove`]) continue;
    const r = read(`r${i}`);
    if (r) rules.push(r);
  }
  const added = read("new");
  if (added) rules.push(added);
  return rules;
}

function describeRule(r: RuleInput, c: Curation, labels: Map<string, string>): Html {
  if (r.match === "pattern") return html`path or name matches <code>${r.pattern ?? ""}</code>`;
  if (r.match === "kind") {
    const kind = c.kinds.find((k) => k.name === r.kind);
    const value = kind?.values.find((v) => v.value === r.value);
    return html`${kind?.label ?? r.kind}: ${value?.label ?? r.value}`;
  }
  return html`the resource <strong>${labels.get(r.resource_id ?? "") ?? r.resource_id ?? ""}</strong>`;
}

const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function previewCard(p: Preview): Html {
  return html`<section class="card" id="curation-preview" aria-live="polite">
  <h2>Preview</h2>
  <p id="preview-summary">Saving these rules hides <strong data-newly-hidden>${counted(p.newly_hidden, "resource")}</strong> and reveals <strong data-newly-revealed>${counted(p.newly_revealed, "resource")}</strong>.</p>
  <dl class="facts">
    <dt>Offered now</dt><dd>${p.current.offered} of ${p.current.bindable}</dd>
    <dt>Offered after saving</dt><dd data-offered-after>${p.proposed.offered} of ${p.proposed.bindable}</dd>
    <dt>Mapped but hidden after saving</dt><dd>${p.proposed.hidden_mapped}${p.proposed.hidden_mapped ? " (these mappings keep working)" : ""}</dd>
  </dl>
  <p class="muted small">Nothing is saved until you press Save rules.</p>
</section>`;
}

function rulesPage(
  ctx: DashContext,
  c: Curation,
  display: string,
  state: {
    rules: RuleInput[];
    labels: Map<string, string>;
    preview?: Preview;
    error?: string | null;
    saved?: boolean;
    resource?: { id: string; label: string } | null;
  },
) {
  const kindOptions = c.kinds.flatMap((k) =>
    k.values.map((v) => ({ value: `${k.name}=${v.value}`, label: `${k.label}: ${v.label}` })),
  );
  const matches = state.preview?.rule_matches;
  const rows = state.rules.map(
    (r, i) => html`<tr>
      <td>${r.effect === "include" ? html`<span class="badge badge-ok">Include</span>` : html`<span class="badge badge-warn">Exclude</span>`}
        <input type="hidden" name="r${i}_effect" value="${r.effect}"><input type="hidden" name="r${i}_match" value="${r.match}">
        ${r.match === "pattern" ? html`<input type="hidden" name="r${i}_pattern" value="${r.pattern ?? ""}">` : null}
        ${r.match === "kind" ? html`<input type="hidden" name="r${i}_kind" value="${r.kind ?? ""}=${r.value ?? ""}">` : null}
        ${r.match === "resource" ? html`<input type="hidden" name="r${i}_resource" value="${r.resource_id ?? ""}">` : null}</td>
      <td>${describeRule(r, c, state.labels)}</td>
      <td>${matches ? String(matches[i] ?? "") : html`<span class="muted">—</span>`}</td>
      <td><label class="checkbox"><input type="checkbox" name="r${i}_remove" value="1"> Remove</label></td>
    </tr>`,
  );
  const hiddenMappings = c.hidden_mappings.length
    ? html`<section class="card" id="hidden-mappings"><h2>Mapped resources these rules hide</h2>
  <p>${counted(c.hidden_mappings.length, "mapping")} point${c.hidden_mappings.length === 1 ? "s" : ""} at a hidden resource. ${c.hidden_mappings.length === 1 ? "It keeps" : "They keep"} working (pull and push); the CLI just no longer offers the resource for new bindings.</p>
  <ul>${c.hidden_mappings.map((m) => html`<li><a href="/dashboard/mappings/${m.binding_ref}">${m.display_label}</a> → ${m.project_slug}</li>`)}</ul></section>`
    : null;
  const body = html`${state.saved ? html`<div class="notice notice-ok" role="status" id="curation-saved">Rules saved: ${c.counts.offered} of ${c.counts.bindable} bindable resources are offered.</div>` : null}
${errorSummary(state.error)}
<section class="card">
  <h2>What the CLI and the picker are offered</h2>
  <p id="curation-counts"><strong>${c.counts.offered}</strong> of ${c.counts.bindable} bindable resources are offered; ${c.counts.hidden} hidden. Hidden resources are still discovered and tracked, and existing mappings to them keep working.</p>
  <p class="muted small">A rule naming one resource decides for it; otherwise any matching exclude hides a resource; when there are include rules, only resources matching one are offered. Patterns match the path, name, key or label: <code>*</code> within a path segment, <code>**</code> across segments, <code>?</code> one character, ignoring case.</p>
</section>
${hiddenMappings}
<form method="post" action="/dashboard/installations/${c.installation_id}/curation" class="card" id="curation-form">
  ${csrfField(ctx)}
  <input type="hidden" name="count" value="${String(state.rules.length)}">
  <h2>Rules</h2>
  ${
    state.rules.length
      ? html`<table class="table" id="curation-rules"><thead><tr><th scope="col">Effect</th><th scope="col">Matches</th><th scope="col">Resources</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead><tbody>${rows}</tbody></table>`
      : empty("No rules: every bindable resource is offered.")
  }
  <fieldset class="new-rule"><legend>Add a rule</legend>
    <div class="field"><label for="new-effect">Effect</label><select id="new-effect" name="new_effect">
      <option value="exclude">Exclude (hide)</option><option value="include">Include (offer only these)</option></select></div>
    <div class="field"><label for="new-match">Match by</label><select id="new-match" name="new_match">
      <option value="">—</option>
      <option value="pattern" ${state.resource ? null : html`selected`}>Path or name pattern</option>
      ${kindOptions.length ? html`<option value="kind">Kind</option>` : null}
      ${state.resource ? html`<option value="resource" selected>This resource: ${state.resource.label}</option>` : null}
    </select></div>
    <div class="field"><label for="new-pattern">Pattern</label><input id="new-pattern" name="new_pattern" type="text" maxlength="200" placeholder="e.g. acme/sandbox-* or **/archive/**" autocomplete="off" spellcheck="false"></div>
    ${
      kindOptions.length
        ? html`<div class="field"><label for="new-kind">Kind</label><select id="new-kind" name="new_kind">${kindOptions.map((o) => html`<option value="${o.value}">${o.label}</option>`)}</select></div>`
        : null
    }
    ${state.resource ? html`<input type="hidden" name="new_resource" value="${state.resource.id}">` : null}
  </fieldset>
  <p class="actions">
    <button type="submit" class="btn" name="intent" value="preview" id="curation-preview-button">Preview</button>
    <button type="submit" class="btn btn-primary" name="intent" value="save" id="curation-save">Save rules</button>
  </p>
</form>
${state.preview ? previewCard(state.preview) : null}`;
  return page(ctx, {
    title: `Curation · ${display}`,
    active: "inventory",
    crumbs: [
      { label: "Overview", href: "/dashboard/" },
      { label: display, href: `/dashboard/installations/${c.installation_id}` },
      { label: "Curation" },
    ],
    body,
  });
}

export function curationPages(app: FastifyInstance, services: Deps) {
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

  async function load(req: FastifyRequest) {
    requireAdmin(req);
    const ctx = req.dash;
    const inst = await services.installations.get(ctx.auth.team.id, idOf(req));
    const c = await services.curation.get(ctx.auth, inst.id);
    return { ctx, inst, c, display: `${providerName(inst.provider)} · ${inst.displayName}` };
  }

  /** Labels of the resources `resource` rules name, for display. */
  async function labelsOf(teamId: string, rules: RuleInput[], c: Curation) {
    const labels = new Map<string, string>();
    for (const r of c.rules)
      if (r.resource_id && r.resource_label) labels.set(r.resource_id, r.resource_label);
    for (const r of rules)
      if (r.resource_id && !labels.has(r.resource_id)) {
        const found = await services.inventory.resource(teamId, r.resource_id);
        if (found) labels.set(found.id, found.label);
      }
    return labels;
  }

  const asInputs = (c: Curation): RuleInput[] =>
    c.rules.map((r) => ({
      effect: r.effect as RuleInput["effect"],
      match: r.match as RuleInput["match"],
      ...(r.pattern ? { pattern: r.pattern } : {}),
      ...(r.kind ? { kind: r.kind } : {}),
      ...(r.value ? { value: r.value } : {}),
      ...(r.resource_id ? { resource_id: r.resource_id } : {}),
    }));

  app.get("/installations/:id/curation", async (req, reply) => {
    const { ctx, inst, c, display } = await load(req);
    const q = req.query as Form;
    const picked = str(q.resource_id)
      ? await services.inventory.resource(ctx.auth.team.id, str(q.resource_id))
      : undefined;
    const resource =
      picked && picked.installationId === inst.id ? { id: picked.id, label: picked.label } : null;
    const rules = asInputs(c);
    return sendHtml(
      reply,
      rulesPage(ctx, c, display, {
        rules,
        labels: await labelsOf(ctx.auth.team.id, rules, c),
        saved: q.saved === "1",
        resource,
      }),
    );
  });

  app.post("/installations/:id/curation", async (req, reply) => {
    const { ctx, inst, c, display } = await load(req);
    const form = formOf(req);
    const rules = rulesOf(form);
    const labels = await labelsOf(ctx.auth.team.id, rules, c);
    try {
      if (form.intent === "save") {
        await services.curation.save(ctx.auth, inst.id, rules, req.id);
        return reply.redirect(`/dashboard/installations/${inst.id}/curation?saved=1`, 303);
      }
      const preview = await services.curation.preview(ctx.auth, inst.id, rules);
      return sendHtml(reply, rulesPage(ctx, c, display, { rules, labels, preview }));
    } catch (err) {
      if (err instanceof DomainError && err.code === "validation_error")
        return sendHtml(reply, rulesPage(ctx, c, display, { rules, labels, error: err.message }), 400);
      throw err;
    }
  });
}
