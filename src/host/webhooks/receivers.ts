import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Per provider: how a delivery is verified (before a byte of it is parsed), which id names it for
 * deduplication, and which of our resources it is about. docs/webhooks.md says where each rule comes from.
 * Every function takes untrusted input and never throws: a malformed payload reads as "nothing to do".
 */

export type Headers = Record<string, string | string[] | undefined>;

/** What an event asks us to re-read: one resource by its native id, or the installation itself. */
export type Target = { kind: "resource"; native_id: string } | { kind: "installation" };

export interface ParsedEvent {
  /** `repository.renamed`, `project_rename`, ... (for the delivery log). */
  event: string;
  /** GitHub: the App installation id the delivery is for; per-hook providers: null (the URL names it). */
  workspaceId: string | null;
  targets: Target[];
}

export interface Receiver {
  /** Whether the delivery's signature (or token) matches the secret; constant time. */
  verify(headers: Headers, raw: Buffer, secret: string): boolean;
  /** Seconds the delivery may be old, when the provider signs a timestamp (checked after verify). */
  fresh?(body: unknown, now: number): boolean;
  /** The provider's delivery id; the same on a redelivery of the same event. */
  deliveryId(headers: Headers, raw: Buffer): string | null;
  /** The targets of a verified, JSON-parsed body; null when the event is nothing we follow. */
  parse(headers: Headers, body: unknown): ParsedEvent | null;
}

const header = (h: Headers, name: string): string | null => {
  const v = h[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === "string" && s.length > 0 && s.length <= 512 ? s : null;
};

/** Constant-time equality of two strings (length differences leak only the length). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const hmacHex = (secret: string, raw: Buffer) =>
  createHmac("sha256", secret).update(raw).digest("hex");

const obj = (v: unknown): Record<string, unknown> | null =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/** A provider's numeric id as a string, or null. */
const numericId = (v: unknown): string | null =>
  (typeof v === "number" && Number.isSafeInteger(v) && v > 0) ||
  (typeof v === "string" && /^\d{1,15}$/.test(v))
    ? String(v)
    : null;

/** GitHub App webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` under the App's secret. */
const GITHUB_REPOSITORY_ACTIONS = new Set([
  "renamed",
  "archived",
  "unarchived",
  "transferred",
  "deleted",
  "privatized",
  "publicized",
  "edited",
  "created",
]);
const GITHUB_INSTALLATION_ACTIONS = new Set([
  "created",
  "deleted",
  "suspend",
  "unsuspend",
  "new_permissions_accepted",
]);

export const github: Receiver = {
  verify(headers, raw, secret) {
    const sig = header(headers, "x-hub-signature-256");
    if (!sig?.startsWith("sha256=")) return false;
    return safeEqual(sig.slice(7), hmacHex(secret, raw));
  },
  deliveryId: (headers) => header(headers, "x-github-delivery"),
  parse(headers, body) {
    const b = obj(body);
    const name = header(headers, "x-github-event");
    const action = typeof b?.action === "string" ? b.action : "";
    const workspaceId = numericId(obj(b?.installation)?.id);
    if (!b || !name || !workspaceId) return null;
    const event = `${name}.${action}`;
    if (name === "installation" && GITHUB_INSTALLATION_ACTIONS.has(action))
      return { event, workspaceId, targets: [{ kind: "installation" }] };
    if (name === "installation_repositories" && (action === "added" || action === "removed")) {
      const list = [b.repositories_added, b.repositories_removed].flatMap((l) => (Array.isArray(l) ? l : []));
      const ids = [
        ...new Set(list.map((r) => numericId(obj(r)?.id)).filter((id): id is string => id !== null)),
      ];
      return {
        event,
        workspaceId,
        targets: ids.slice(0, 1000).map((native_id) => ({ kind: "resource", native_id })),
      };
    }
    if (name === "repository" && GITHUB_REPOSITORY_ACTIONS.has(action)) {
      const id = numericId(obj(b.repository)?.id);
      return id ? { event, workspaceId, targets: [{ kind: "resource", native_id: id }] } : null;
    }
    return null;
  },
};

/**
 * GitLab (system hooks and group/project webhooks): `X-Gitlab-Token` carries the secret token as set on
 * the hook (no HMAC). `Idempotency-Key` stays the same across retries (GitLab 17.4+); before that
 * `X-Gitlab-Event-UUID`, else a hash of the body.
 */
const GITLAB_PROJECT_EVENTS = new Set([
  "project_create",
  "project_destroy",
  "project_rename",
  "project_transfer",
  "project_update",
]);

export const gitlab: Receiver = {
  verify(headers, _raw, secret) {
    const token = header(headers, "x-gitlab-token");
    return token !== null && safeEqual(token, secret);
  },
  deliveryId: (headers, raw) =>
    header(headers, "idempotency-key") ??
    header(headers, "x-gitlab-event-uuid") ??
    `sha256:${createHash("sha256").update(raw).digest("hex")}`,
  parse(_headers, body) {
    const b = obj(body);
    if (!b) return null;
    // System hooks name the event in `event_name`; group webhooks' project events in `event_name` too.
    const name = typeof b.event_name === "string" ? b.event_name : null;
    if (!name || !GITLAB_PROJECT_EVENTS.has(name)) return null;
    const id = numericId(b.project_id) ?? numericId(obj(b.project)?.id);
    return id ? { event: name, workspaceId: null, targets: [{ kind: "resource", native_id: id }] } : null;
  },
};

export const RECEIVERS = { github, gitlab } as const;
export type ReceiverProvider = keyof typeof RECEIVERS;
export const isReceiverProvider = (p: string): p is ReceiverProvider => Object.hasOwn(RECEIVERS, p);
