import { isProvider, providerModule } from "../../tracker/index.ts";

/** An audit event as the API and the dashboard read it. */
export interface AuditEventView {
  id: string;
  action: string;
  target_type: string;
  target_id: string;
  actor_user_id: string | null;
  before: unknown;
  after: unknown;
  request_id: string | null;
  created_at: string;
}

/** Every action the service records, with the words of its filter option. */
export const KNOWN_ACTIONS: Record<string, string> = {
  "installation.connected": "Installation connected",
  "installation.reconnected": "Installation reconnected",
  "installation.updated": "Installation changed",
  "installation.disconnected": "Installation disconnected",
  "installation.credentials_renewed": "Installation credentials renewed",
  "installation.refreshed": "Inventory sync changed resources",
  "installation.refresh_failed": "Inventory sync failed",
  "mapping.created": "Mapping created",
  "mapping.rebound": "Mapping moved to another resource",
  "mapping.disabled": "Mapping disabled",
  "mapping.enabled": "Mapping enabled",
  "mapping.deleted": "Mapping deleted",
  "api_token.created": "API token created",
  "api_token.revoked": "API token revoked",
  "member.role_changed": "Member role changed",
  "member.removed": "Member removed",
  "invitation.created": "Invitation sent",
  "invitation.revoked": "Invitation revoked",
  "invitation.accepted": "Invitation accepted",
};

/**
 * One event as a sentence, split around the target's name so a page can link it:
 * `${lead}${target}${tail}`, e.g. "admin@acme.test disconnected " + "Linear · Acme" + "".
 */
export interface AuditSentence {
  lead: string;
  target: string;
  tail: string;
}

export const sentenceText = (s: AuditSentence) => `${s.lead}${s.target}${s.tail}`;

type Fields = Record<string, unknown>;
const obj = (v: unknown): Fields => (v && typeof v === "object" && !Array.isArray(v) ? (v as Fields) : {});
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function installationLabel(e: AuditEventView): string {
  const f = { ...obj(e.before), ...obj(e.after) };
  const provider = text(f.provider);
  const name = text(f.display_name);
  const p = provider && isProvider(provider) ? providerModule(provider).displayName : provider;
  return p && name ? `${p} · ${name}` : (name ?? p ?? e.target_id);
}

/** `actor`: the acting user's email, or null for the service itself (scheduled syncs, renewals). */
export function describeAuditEvent(e: AuditEventView, actor: string | null): AuditSentence {
  const who = actor ?? "The service";
  const b = obj(e.before);
  const a = obj(e.after);
  const s = (lead: string, target: string, tail = ""): AuditSentence => ({ lead, target, tail });
  switch (e.action) {
    case "installation.connected":
      return s(`${who} connected `, installationLabel(e));
    case "installation.reconnected":
      return s(`${who} reconnected `, installationLabel(e));
    case "installation.updated":
      return b.display_name !== a.display_name && text(b.display_name)
        ? s(`${who} renamed ${b.display_name} to `, installationLabel(e))
        : s(`${who} changed the settings of `, installationLabel(e));
    case "installation.disconnected":
      return s(`${who} disconnected `, installationLabel(e));
    case "installation.credentials_renewed":
      return s(`${who} renewed the credentials of `, installationLabel(e));
    case "installation.refreshed": {
      const n = Number(a.rows_written ?? 0);
      return s("A sync of ", installationLabel(e), ` changed ${n} resource${n === 1 ? "" : "s"}`);
    }
    case "installation.refresh_failed":
      return s(
        "A sync of ",
        installationLabel(e),
        ` failed${text(a.error_code) ? ` (${a.error_code})` : ""}`,
      );
    case "mapping.created":
      return s(`${who} mapped `, text(a.display_label) ?? e.target_id, " to a project");
    case "mapping.rebound":
      return s(
        `${who} moved the mapping of ${text(b.display_label) ?? "a resource"} to `,
        text(a.display_label) ?? e.target_id,
      );
    case "mapping.disabled":
    case "mapping.enabled":
    case "mapping.deleted":
      return s(
        `${who} ${e.action.slice("mapping.".length)} the mapping of `,
        text(a.display_label) ?? text(b.display_label) ?? e.target_id,
      );
    case "api_token.created":
      return s(
        `${who} created the API token `,
        `“${text(a.name) ?? e.target_id}”`,
        a.scope === "read" ? " (read only)" : "",
      );
    case "api_token.revoked":
      return s(`${who} revoked the API token `, `“${text(a.name) ?? text(b.name) ?? e.target_id}”`);
    case "member.role_changed":
      return s(`${who} made `, text(a.email) ?? e.target_id, a.role === "admin" ? " an admin" : " a member");
    case "member.removed":
      return s(`${who} removed `, text(b.email) ?? e.target_id, " from the team");
    case "invitation.created":
      return s(
        `${who} invited `,
        text(a.email) ?? e.target_id,
        a.role === "admin" ? " as an admin" : " as a member",
      );
    case "invitation.revoked":
      return s(`${who} revoked the invitation of `, text(a.email) ?? text(b.email) ?? e.target_id);
    case "invitation.accepted":
      return s(
        `${text(a.email) ?? who} accepted the `,
        "invitation",
        ` and joined as ${a.role === "admin" ? "an admin" : "a member"}`,
      );
    default:
      return s(`${who} did ${e.action} on ${e.target_type} `, e.target_id);
  }
}

/** Keys whose values are never shown or exported, wherever they sit in a payload (defence in depth). */
const SECRET_KEY =
  /secret|password|passwd|ciphertext|private_key|^token$|access_token|refresh_token|api_key|authorization|cookie/i;

export const REDACTED = "[redacted]";

/** Payload keys are few and repeat across events: each is tested once. */
const secretKeys = new Map<string, boolean>();
const isSecretKey = (k: string) => {
  let secret = secretKeys.get(k);
  if (secret === undefined) {
    secret = SECRET_KEY.test(k);
    if (secretKeys.size < 10_000) secretKeys.set(k, secret);
  }
  return secret;
};

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === "object") {
    const out: Fields = {};
    for (const [k, v] of Object.entries(value as Fields))
      out[k] = isSecretKey(k) ? REDACTED : redactSecrets(v);
    return out;
  }
  return value;
}

/** One changed field: its dotted path and the value before and after (`undefined`: absent). */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

function flatten(v: unknown, prefix: string, out: Map<string, unknown>) {
  if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v as Fields)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.set(prefix, v);
}

/** The fields that differ between before and after, secrets redacted, in a stable order. */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const b = new Map<string, unknown>();
  const a = new Map<string, unknown>();
  flatten(redactSecrets(before), "", b);
  flatten(redactSecrets(after), "", a);
  const keys = [...new Set([...b.keys(), ...a.keys()])].sort();
  return keys
    .filter((k) => JSON.stringify(b.get(k)) !== JSON.stringify(a.get(k)))
    .map((k) => ({ field: k, before: b.get(k), after: a.get(k) }));
}
