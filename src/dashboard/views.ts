import type { InstallationView } from "../host/installations/service.ts";
import { type MappingHealth, mappingHealth } from "../host/mappings/health.ts";
import type { DashContext } from "./context.ts";
import { type Html, html } from "./html.ts";
import { badge, csrfField, providerName } from "./layout.ts";

export function health(i: InstallationView) {
  const h = i.health;
  const failedLast =
    h.last_failure_at !== null && (h.last_success_at === null || h.last_failure_at > h.last_success_at);
  if (i.status === "disconnected") return { kind: "muted" as const, label: "Disconnected" };
  if (i.status === "revoked") return { kind: "bad" as const, label: "Access revoked" };
  if (i.status === "suspended") return { kind: "warn" as const, label: "Suspended" };
  if (i.status === "error") return { kind: "bad" as const, label: "Failing" };
  if (failedLast) return { kind: "warn" as const, label: "Last sync failed" };
  if (!i.last_sync_at && !h.last_success_at) return { kind: "info" as const, label: "Not synced yet" };
  return { kind: "ok" as const, label: "Healthy" };
}

export const healthBadge = (i: InstallationView) => {
  const h = health(i);
  return badge(h.kind, h.label);
};

/** An installation whose last good sync is older than this is stale (the scheduled sync runs hourly by default). */
export const STALE_AFTER_HOURS = 24;

/**
 * Why a connected installation needs someone, and what to do, or null when it does not: access revoked,
 * suspended, failing (its last pass failed), or stale (no good sync for `STALE_AFTER_HOURS`).
 */
export function installationAttention(
  i: InstallationView,
  now = Date.now(),
): { label: string; todo: string } | null {
  const p = providerName(i.provider);
  if (i.status === "disconnected") return null;
  if (i.status === "revoked")
    return {
      label: "Access revoked",
      todo: guidance(i.health.last_error_code ?? "provider_auth_revoked", i.provider),
    };
  if (i.status === "suspended")
    return {
      label: "Suspended",
      todo: `The ${p} installation is suspended. Unsuspend it in ${p}, then press Sync now.`,
    };
  const h = health(i);
  if (h.label === "Failing" || h.label === "Last sync failed")
    return { label: h.label, todo: guidance(i.health.last_error_code, i.provider) };
  const since = i.health.last_success_at ?? (i.last_sync_at ? null : i.created_at);
  if (since && now - Date.parse(since) > STALE_AFTER_HOURS * 3600_000)
    return {
      label: "Stale",
      todo: `No successful sync for more than ${STALE_AFTER_HOURS} hours, so the inventory may be out of date. Press Sync now; if it fails, the error says what to do.`,
    };
  return null;
}

/** What an admin should do about an installation's last error. */
export function guidance(code: string | null, provider: string): string {
  const p = providerName(provider);
  switch (code) {
    case "provider_auth_expired":
    case "provider_auth_revoked":
      return `The ${p} credential no longer works. Reconnect the installation with a new credential; its mappings keep their binding refs.`;
    case "provider_forbidden":
      return `Give the credential (or the app installation) access to the workspace in ${p}, then press Sync now.`;
    case "rate_limited":
      return `${p} is rate limiting this installation. Wait a few minutes, then press Sync now; the scheduled sync also retries.`;
    case "upstream_unavailable":
    case "upstream_malformed":
      return `${p} had a problem answering. The inventory was left unchanged. Press Sync now later.`;
    case "upstream_rejected":
      return `${p} rejected the request. Check the installation's URL and options, and reconnect if they changed.`;
    default:
      return `Press Sync now to try again. If it keeps failing, reconnect the installation.`;
  }
}

const MAPPING_BADGES: Record<MappingHealth, [Parameters<typeof badge>[0], string]> = {
  deleted: ["muted", "Deleted"],
  disabled: ["warn", "Disabled"],
  installation_disconnected: ["muted", "Installation disconnected"],
  resource_missing: ["bad", "Resource missing"],
  installation_revoked: ["bad", "Installation revoked"],
  installation_suspended: ["warn", "Installation suspended"],
  installation_error: ["bad", "Installation failing"],
  healthy: ["ok", "Active"],
};

/** A mapping's health as the domain classifies it (mappings/health.ts), as one badge. */
export function mappingStatusBadge(m: Parameters<typeof mappingHealth>[0]) {
  const [kind, label] = MAPPING_BADGES[mappingHealth(m)];
  return badge(kind, label);
}

export function resourceStateBadges(r: {
  binding_ref: string | null;
  missing_since: string | null;
  archived: boolean;
  issues_disabled: boolean;
}) {
  return html`${r.binding_ref ? badge("info", "Bound") : r.missing_since ? null : badge("muted", "Unbound")}${
    r.missing_since ? badge("bad", "Missing") : null
  }${r.archived ? badge("warn", "Archived") : null}${r.issues_disabled ? badge("warn", "Issues off") : null}`;
}

/**
 * The confirmation card in front of a destructive POST: the form echoes `confirm` (an id the handler
 * checks with `requireConfirmed`), next to a way back.
 */
export function dangerConfirmCard(
  ctx: DashContext,
  o: {
    heading: Html;
    explanation: Html;
    action: string;
    confirm: string;
    button: string;
    buttonId?: string;
    cancelHref: string;
  },
) {
  return html`<section class="card card-danger">
  <h2>${o.heading}</h2>
  <p>${o.explanation}</p>
  <form method="post" action="${o.action}" class="form">
    ${csrfField(ctx)}<input type="hidden" name="confirm" value="${o.confirm}">
    <div class="form-actions"><button type="submit" class="btn btn-danger"${o.buttonId ? html` id="${o.buttonId}"` : null}>${o.button}</button>
    <a class="btn btn-ghost" href="${o.cancelHref}">Cancel</a></div>
  </form></section>`;
}
