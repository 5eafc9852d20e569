import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  describeAuditEvent,
  type FieldChange,
  fieldChanges,
  KNOWN_ACTIONS,
  REDACTED,
} from "../../host/audit/describe.ts";
import { auditCsv, auditJson } from "../../host/audit/export.ts";
import type { AuditFilter, ReadableAuditEvent } from "../../host/audit/service.ts";
import type { Domain } from "../../host/domain.ts";
import { type DashContext, type Form, sendHtml, str } from "../context.ts";
import { html, qs, type Renderable } from "../html.ts";
import { empty, page, when } from "../layout.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "audit" | "teams">;

const SIZES = [25, 50, 100];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** The filters and paging of the query string, each checked against its choices (never trusted as is). */
interface AuditQuery {
  action?: string;
  actor?: string;
  from?: string;
  to?: string;
  sort: "newest" | "oldest";
  size: number;
  page: number;
}

function parseQuery(q: Form): AuditQuery {
  const action = str(q.action);
  const actor = str(q.actor).slice(0, 64);
  const from = str(q.from);
  const to = str(q.to);
  const size = Number(q.size);
  const pageNo = Math.floor(Number(q.page));
  return {
    action: Object.hasOwn(KNOWN_ACTIONS, action) ? action : undefined,
    actor: actor || undefined,
    from: DATE.test(from) && !Number.isNaN(Date.parse(from)) ? from : undefined,
    to: DATE.test(to) && !Number.isNaN(Date.parse(to)) ? to : undefined,
    sort: q.sort === "oldest" ? "oldest" : "newest",
    size: SIZES.includes(size) ? size : 50,
    page: Number.isFinite(pageNo) && pageNo >= 1 ? Math.min(pageNo, 100_000) : 1,
  };
}

/** Dates are whole UTC days; `to` includes its day. */
const filterOf = (a: AuditQuery): AuditFilter => ({
  action: a.action,
  actor: a.actor === "system" ? null : a.actor,
  from: a.from ? new Date(`${a.from}T00:00:00Z`) : undefined,
  to: a.to ? new Date(Date.parse(`${a.to}T00:00:00Z`) + DAY_MS) : undefined,
});

const filterParams = (a: AuditQuery) => ({ action: a.action, actor: a.actor, from: a.from, to: a.to });

/** Where a target lives in the dashboard, if it has a page. */
function targetHref(e: ReadableAuditEvent): string | null {
  const id = encodeURIComponent(e.target_id);
  switch (e.target_type) {
    case "installation":
      return `/dashboard/installations/${id}`;
    case "mapping":
      return e.action === "mapping.deleted" ? null : `/dashboard/mappings/${id}`;
    case "api_token":
      return "/dashboard/tokens";
    case "member":
    case "invitation":
      return "/dashboard/members";
    default:
      return null;
  }
}

const fmt = new Intl.NumberFormat("en-US");

const shown = (v: unknown): Renderable =>
  v === undefined
    ? html`<span class="muted">—</span>`
    : v === REDACTED
      ? html`<span class="muted">${REDACTED}</span>`
      : html`<code class="small">${typeof v === "string" ? v : JSON.stringify(v)}</code>`;

function diff(changes: FieldChange[]): Renderable {
  if (changes.length === 0) return html`<span class="muted">no field changes</span>`;
  return html`<details class="audit-diff"><summary>${changes.length} field${changes.length === 1 ? "" : "s"} changed</summary>
  <table class="table"><thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>
  ${changes.map((c) => html`<tr><th scope="row"><code class="small">${c.field}</code></th><td>${shown(c.before)}</td><td>${shown(c.after)}</td></tr>`)}
  </tbody></table></details>`;
}

function sentence(e: ReadableAuditEvent): Renderable {
  const s = describeAuditEvent(e, e.actor_email);
  const href = targetHref(e);
  return html`${s.lead}${href ? html`<a href="${href}">${s.target}</a>` : html`<strong>${s.target}</strong>`}${s.tail}`;
}

function pagerOf(a: AuditQuery, total: number, count: number): Renderable {
  const first = total === 0 ? 0 : (a.page - 1) * a.size + 1;
  const last = (a.page - 1) * a.size + count;
  const base = {
    ...filterParams(a),
    sort: a.sort === "oldest" ? "oldest" : undefined,
    size: a.size === 50 ? undefined : a.size,
  };
  const link = (p: number) => `/dashboard/audit${qs({ ...base, page: p === 1 ? undefined : p })}`;
  const pages = Math.max(1, Math.ceil(total / a.size));
  return html`<nav class="pager" aria-label="Pagination">
  <span class="muted" id="audit-range">${total === 0 ? "No events" : `${fmt.format(first)}–${fmt.format(last)} of ${fmt.format(total)}`}</span>
  ${a.page > 1 ? html`<a class="btn btn-small btn-ghost" rel="prev" href="${link(Math.min(a.page - 1, pages))}">« Previous</a>` : null}
  ${last < total ? html`<a class="btn btn-small" rel="next" href="${link(a.page + 1)}">Next »</a>` : null}
</nav>`;
}

async function actorChoices(services: Deps, ctx: DashContext) {
  const [members, acted] = await Promise.all([
    services.teams.membersPage(ctx.auth.team.id, null, 500),
    services.audit.removedMembers(ctx.auth.team.id),
  ]);
  const byId = new Map<string, string>();
  for (const m of members.items) byId.set(m.user_id, m.email);
  for (const a of acted) if (!byId.has(a.id)) byId.set(a.id, `${a.email} (former member)`);
  return [...byId].sort((x, y) => x[1].localeCompare(y[1]));
}

export function auditPages(app: FastifyInstance, services: Deps) {
  app.get("/audit", async (req, reply) => {
    const ctx = req.dash;
    const a = parseQuery(req.query as Form);
    const [result, actors] = await Promise.all([
      services.audit.numbered(ctx.auth.team.id, filterOf(a), {
        page: a.page,
        size: a.size,
        oldestFirst: a.sort === "oldest",
      }),
      actorChoices(services, ctx),
    ]);
    const exportQs = qs(filterParams(a));
    const filtered = Boolean(a.action || a.actor || a.from || a.to);
    const body = html`<section class="card">
  <form method="get" action="/dashboard/audit" class="filters" id="audit-filters">
  <div class="field"><label for="a-action">Action</label><select id="a-action" name="action">
    <option value="">Any action</option>
    ${Object.entries(KNOWN_ACTIONS).map(([k, label]) => html`<option value="${k}" ${a.action === k ? html`selected` : null}>${label}</option>`)}</select></div>
  <div class="field"><label for="a-actor">Who</label><select id="a-actor" name="actor">
    <option value="">Anyone</option>
    <option value="system" ${a.actor === "system" ? html`selected` : null}>The service (scheduled work)</option>
    ${actors.map(([id, email]) => html`<option value="${id}" ${a.actor === id ? html`selected` : null}>${email}</option>`)}</select></div>
  <div class="field"><label for="a-from">From</label><input id="a-from" name="from" type="date" value="${a.from ?? ""}"></div>
  <div class="field"><label for="a-to">To</label><input id="a-to" name="to" type="date" value="${a.to ?? ""}"></div>
  <div class="field"><label for="a-sort">Order</label><select id="a-sort" name="sort">
    <option value="newest">Newest first</option><option value="oldest" ${a.sort === "oldest" ? html`selected` : null}>Oldest first</option></select></div>
  <div class="field"><label for="a-size">Per page</label><select id="a-size" name="size">
    ${SIZES.map((n) => html`<option value="${n}" ${a.size === n ? html`selected` : null}>${n}</option>`)}</select></div>
  <div class="field field-button"><button class="btn" type="submit" id="audit-filter">Filter</button>
  ${filtered ? html`<a class="btn btn-ghost" href="/dashboard/audit">Clear</a>` : null}</div></form>
  <p class="small">Export ${filtered ? "these filtered events" : "all events"}: <a href="/dashboard/audit/export.csv${exportQs}" id="export-csv" download>CSV</a> · <a href="/dashboard/audit/export.json${exportQs}" id="export-json" download>JSON</a></p>
  ${
    result.items.length === 0
      ? empty(filtered ? "No events match these filters." : "No audit events yet.")
      : html`<table class="table" id="audit-table"><thead><tr><th scope="col">When</th><th scope="col">What happened</th><th scope="col">Changes</th></tr></thead><tbody>
    ${result.items.map(
      (e) => html`<tr data-action="${e.action}"><td data-label="When">${when(e.created_at)}</td>
      <td class="audit-sentence" data-label="What happened">${sentence(e)}<div class="muted small"><code>${e.action}</code>${e.request_id ? html` · request <code>${e.request_id}</code>` : null}</div></td>
      <td class="change" data-label="Changes">${diff(fieldChanges(e.before, e.after))}</td></tr>`,
    )}</tbody></table>`
  }
  ${pagerOf(a, result.total, result.items.length)}</section>`;
    return sendHtml(reply, page(ctx, { title: "Audit log", active: "audit", body }));
  });

  async function exported(req: FastifyRequest, reply: FastifyReply, format: "csv" | "json") {
    const ctx = req.dash;
    const a = parseQuery(req.query as Form);
    const events = await services.audit.export(ctx.auth.team.id, filterOf(a));
    const name = `audit-${ctx.auth.team.slug}-${new Date().toISOString().slice(0, 10)}.${format}`;
    reply.header("content-disposition", `attachment; filename="${name}"`);
    if (format === "csv") return reply.type("text/csv; charset=utf-8").send(auditCsv(events));
    const meta = {
      team: ctx.auth.team.slug,
      exported_at: new Date().toISOString(),
      filters: filterParams(a),
    };
    return reply.type("application/json; charset=utf-8").send(auditJson(events, meta));
  }

  app.get("/audit/export.csv", (req, reply) => exported(req, reply, "csv"));
  app.get("/audit/export.json", (req, reply) => exported(req, reply, "json"));
}
