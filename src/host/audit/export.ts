import type { ReadableAuditEvent } from "./service.ts";

const COLUMNS = [
  "id",
  "created_at",
  "actor_email",
  "actor_user_id",
  "action",
  "summary",
  "target_type",
  "target_id",
  "before",
  "after",
  "request_id",
] as const;

/**
 * A CSV cell (RFC 4180 quoting). Text a spreadsheet would run as a formula (=, +, -, @, tab, CR) is
 * prefixed with an apostrophe, so an exported display name cannot execute in the reader's spreadsheet.
 */
function cell(v: unknown): string {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The events as CSV with a header row; before/after as JSON text (already redacted). */
export function auditCsv(events: ReadableAuditEvent[]): string {
  const lines = [COLUMNS.join(",")];
  for (const e of events) lines.push(COLUMNS.map((c) => cell(e[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** The events as one JSON document (already redacted). */
export function auditJson(events: ReadableAuditEvent[], meta: Record<string, unknown>): string {
  return JSON.stringify({ ...meta, count: events.length, events }, null, 2);
}
