import { isProvider, providerModule, providers } from "../tracker/index.ts";
import type { DashContext } from "./context.ts";
import { type Html, html, qs, type Renderable, safeUrl } from "./html.ts";

export const ASSET_VERSION = "2";

export const providerName = (p: string) => (isProvider(p) ? providerModule(p).displayName : p);

/** Every registered provider's name, e.g. "GitHub, GitLab, Jira, Linear or Azure DevOps". */
export function anyProvider(): string {
  const names = providers().map((p) => p.displayName);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : (names[0] ?? "");
}

/** Fixed notices for `?done=` after a redirect: the query names a code, never the text. */
const NOTICES: Record<string, string> = {
  signed_in: "Signed in.",
  team_switched: "Switched team.",
  connected: "Installation connected. The first sync is running.",
  reconnected: "Installation reconnected. A sync is running.",
  disconnected: "Installation disconnected. Its credentials were discarded; its mappings now need attention.",
  sync_started: "Sync started.",
  mapping_created: "Mapping created.",
  mapping_exists: "This project was already mapped to that resource; nothing changed.",
  mapping_rebound:
    "Mapping moved to the new resource. It has a new binding_ref; the old one now answers as deleted.",
  mapping_disabled: "Mapping disabled. The CLI gets `mapping_disabled` until it is enabled again.",
  mapping_enabled: "Mapping enabled.",
  mapping_deleted: "Mapping deleted. Its binding_ref now answers as deleted and is never reused.",
  token_revoked: "API token revoked.",
};

export interface Nav {
  key: string;
  label: string;
  href: string;
}

const NAV: Nav[] = [
  { key: "overview", label: "Overview", href: "/dashboard/" },
  { key: "inventory", label: "Inventory", href: "/dashboard/inventory" },
  { key: "projects", label: "Projects", href: "/dashboard/projects" },
  { key: "mappings", label: "Mappings", href: "/dashboard/mappings" },
  { key: "audit", label: "Audit log", href: "/dashboard/audit" },
  { key: "tokens", label: "API tokens", href: "/dashboard/tokens" },
];

export function csrfField(ctx: DashContext) {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

function shell(title: string, body: Html, extraHead: Renderable = null): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="/favicon.ico" sizes="16x16">
<title>${title} · Spec Kitty</title>
<link rel="stylesheet" href="/dashboard/assets/app.css?v=${ASSET_VERSION}">
<script src="/dashboard/assets/app.js?v=${ASSET_VERSION}" defer></script>
${extraHead}
</head>
${body}
</html>`;
}

export function page(
  ctx: DashContext,
  opts: {
    title: string;
    active?: string;
    body: Renderable;
    notice?: string | null;
    crumbs?: { label: string; href?: string }[];
    actions?: Renderable;
  },
): Html {
  const teamPicker =
    ctx.teams.length > 1
      ? html`<form method="post" action="/dashboard/team" class="team-switcher" data-autosubmit>
  ${csrfField(ctx)}
  <label for="team-switch" class="visually-hidden">Team</label>
  <select id="team-switch" name="team_id">
    ${ctx.teams.map(
      (t) =>
        html`<option value="${t.id}" ${t.id === ctx.auth.team.id ? html`selected` : null}>${t.name}${t.isPrivate ? "" : ` (${t.slug})`}</option>`,
    )}
  </select>
  <button type="submit" class="btn btn-small">Switch</button>
</form>`
      : html`<span class="team-name">${ctx.auth.team.name}</span>`;
  const notice = opts.notice ? NOTICES[opts.notice] : null;
  return shell(
    opts.title,
    html`<body>
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="/dashboard/"><span class="logo" aria-hidden="true">SK</span> Spec Kitty <span class="brand-sub">Trackers</span></a>
  <button type="button" class="btn btn-small menu-toggle" aria-expanded="false" aria-controls="sidenav" data-menu-toggle hidden>Menu</button>
  <div class="topbar-right">
    ${teamPicker}
    <span class="role role-${ctx.auth.role}" title="Your role in this team">${ctx.auth.role}</span>
    <span class="user">${ctx.session.user.email}</span>
    <form method="post" action="/dashboard/sign-out">${csrfField(ctx)}<button type="submit" class="btn btn-small btn-ghost">Sign out</button></form>
  </div>
</header>
<div class="layout">
  <nav class="sidenav" id="sidenav" aria-label="Main">
    <ul>
      ${NAV.map((n) => html`<li><a href="${n.href}" ${n.key === opts.active ? html`aria-current="page" class="active"` : null}>${n.label}</a></li>`)}
    </ul>
  </nav>
  <main id="main" class="content">
    ${
      opts.crumbs?.length
        ? html`<nav class="crumbs" aria-label="Breadcrumb"><ol>${opts.crumbs.map((c) => html`<li>${c.href ? html`<a href="${c.href}">${c.label}</a>` : c.label}</li>`)}</ol></nav>`
        : null
    }
    <div class="page-head">
      <h1>${opts.title}</h1>
      ${opts.actions ? html`<div class="page-actions">${opts.actions}</div>` : null}
    </div>
    ${notice ? html`<div class="notice notice-ok" role="status">${notice}</div>` : null}
    ${opts.body}
  </main>
</div>
</body>`,
  );
}

/** Pages without a signed-in user (sign-in, errors before sign-in). */
export function bare(title: string, body: Renderable): Html {
  return shell(
    title,
    html`<body class="bare">
<main id="main" class="bare-main">
  <div class="bare-brand"><span class="logo" aria-hidden="true">SK</span> Spec Kitty</div>
  ${body}
</main>
</body>`,
  );
}

export function badge(kind: "ok" | "warn" | "bad" | "muted" | "info", text: string) {
  return html`<span class="badge badge-${kind}">${text}</span>`;
}

export function providerBadge(p: string) {
  return html`<span class="provider provider-${p}">${providerName(p)}</span>`;
}

export function when(d: Date | string | null | undefined): Html {
  if (!d) return html`<span class="muted">never</span>`;
  const date = typeof d === "string" ? new Date(d) : d;
  const iso = date.toISOString();
  return html`<time datetime="${iso}" title="${iso}">${relative(date)}</time>`;
}

function relative(d: Date): string {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const fmt = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  const text =
    abs < 45
      ? "just now"
      : abs < 3600
        ? fmt(Math.round(abs / 60), "minute")
        : abs < 86400
          ? fmt(Math.round(abs / 3600), "hour")
          : abs < 86400 * 30
            ? fmt(Math.round(abs / 86400), "day")
            : d.toISOString().slice(0, 10);
  if (text === "just now" || /^\d{4}-/.test(text)) return text;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

export function extLink(url: string | null | undefined, text: Renderable) {
  const safe = safeUrl(url);
  return safe
    ? html`<a href="${safe}" target="_blank" rel="noopener noreferrer" class="ext">${text}<span class="visually-hidden"> (opens the provider)</span></a>`
    : html`${text}`;
}

export function pager(base: string, params: Record<string, string | undefined>, next: string | null) {
  const hasPrev = Boolean(params.cursor);
  if (!next && !hasPrev) return null;
  return html`<nav class="pager" aria-label="Pagination">
  ${hasPrev ? html`<a class="btn btn-small btn-ghost" href="${base}${qs({ ...params, cursor: undefined })}">« First page</a>` : null}
  ${next ? html`<a class="btn btn-small" rel="next" href="${base}${qs({ ...params, cursor: next })}">Next page »</a>` : null}
</nav>`;
}

export type FieldErrors = Record<string, string>;

export function fieldError(errors: FieldErrors | undefined, name: string) {
  const e = errors?.[name];
  return e ? html`<p class="field-error" id="${name}-error">${e}</p>` : null;
}

export const invalidAttrs = (errors: FieldErrors | undefined, name: string) =>
  errors?.[name] ? html`aria-invalid="true" aria-describedby="${name}-error"` : null;

export function errorSummary(message: string | null | undefined) {
  return message
    ? html`<div class="notice notice-error" role="alert"><strong>Nothing was saved.</strong> ${message}</div>`
    : null;
}

export function empty(text: Renderable) {
  return html`<div class="empty">${text}</div>`;
}
