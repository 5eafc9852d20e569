import type { Static } from "typebox";
import { type IssueStatus, type NormalizedIssue, TrackerError } from "../../tracker/index.ts";
import { DomainError } from "../errors/domain-error.ts";
import { toEnvelope } from "../errors/envelope.ts";
import { providerError } from "../http/provider-errors.ts";
import { invalidCursor } from "./errors.ts";
import type { ItemError as ItemErrorSchema, PullPhase as PullPhaseSchema } from "./schemas.ts";
import type { RuntimeTarget } from "./target.ts";

/**
 * Issues are read from the provider in fixed pages of this size, so a provider cursor always names the
 * same page; the host's cursor adds the offset already handed out within that page.
 */
export const PROVIDER_PAGE = 50;
/** Extra provider pages one pull may scan past its limit when filters skip issues. */
const FILTER_SCAN_PAGES = 10;

export interface PullFilters {
  updated_since?: string;
  status?: IssueStatus[];
  issue_type?: NormalizedIssue["issue_type"][];
}

export interface PullInput {
  limit: number;
  cursor?: string;
  filters?: PullFilters;
}

export type ItemError = Static<typeof ItemErrorSchema>;
export type PullPhase = Static<typeof PullPhaseSchema>;
export type PhaseStatus = PullPhase["status"];
export type Summary = PullPhase["summary"];

interface Cursor {
  /** binding_ref the cursor was issued for. */
  r: string;
  /** Provider cursor of the current page (null = first page). */
  c: string | null;
  /** Issues of that page already handed out. */
  o: number;
}

function encode(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decode(raw: string | undefined, bindingRef: string): Cursor {
  if (!raw) return { r: bindingRef, c: null, o: 0 };
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor();
  }
  if (
    !c ||
    c.r !== bindingRef ||
    (c.c !== null && typeof c.c !== "string") ||
    !Number.isInteger(c.o) ||
    c.o < 0
  )
    throw invalidCursor();
  return c;
}

function matches(issue: NormalizedIssue, f: PullFilters | undefined): boolean {
  if (!f) return true;
  if (f.status?.length && !f.status.includes(issue.status)) return false;
  if (f.issue_type?.length && !f.issue_type.includes(issue.issue_type)) return false;
  if (f.updated_since) {
    const since = Date.parse(f.updated_since);
    const at = issue.updated_at ? Date.parse(issue.updated_at) : Number.NaN;
    if (!Number.isNaN(since) && (Number.isNaN(at) || at < since)) return false;
  }
  return true;
}

/** The provider failure as a per-item / per-phase error entry (source `provider`). */
export function itemErrorOf(err: unknown, at: { index?: number; wp_id?: string | null } = {}): ItemError {
  const app = err instanceof TrackerError ? providerError(err) : err instanceof DomainError ? err : null;
  if (!app)
    return {
      ...at,
      error_code: "internal_error",
      message: "The item failed unexpectedly.",
      retryable: true,
      retry_after_seconds: null,
      source: "saas",
    };
  const e = toEnvelope(app);
  return {
    ...at,
    error_code: e.error_code,
    message: e.message,
    retryable: e.retryable,
    retry_after_seconds: e.retry_after_seconds,
    source: e.source,
  };
}

/**
 * Normalised issues of the mapped resource, `limit` at a time. A provider failure on the first page is
 * the request's error; a failure after some issues were read returns them as a truthful `partial`
 * result whose `next_cursor` resumes at the page that failed.
 */
export async function pullIssues(t: RuntimeTarget, input: PullInput): Promise<PullPhase> {
  const start = decode(input.cursor, t.mapping.mapping.bindingRef);
  const items: NormalizedIssue[] = [];
  const itemErrors: ItemError[] = [];
  let skipped = 0;
  let page = { c: start.c, o: start.o };
  let next: Cursor | null = null;
  const maxPages = Math.ceil(input.limit / PROVIDER_PAGE) + FILTER_SCAN_PAGES;

  for (let pages = 0; ; pages++) {
    if (pages >= maxPages) {
      next = { r: start.r, ...page };
      break;
    }
    let got: Awaited<ReturnType<RuntimeTarget["adapter"]["listIssues"]>>;
    try {
      const cursor = page.c;
      got = await t.call(() => t.adapter.listIssues(t.conn, t.params, { cursor, limit: PROVIDER_PAGE }));
    } catch (err) {
      // Nothing read yet: the failure is the answer. Otherwise keep what was read, and say where to resume.
      if (pages === 0) throw err;
      itemErrors.push(itemErrorOf(err));
      next = { r: start.r, ...page };
      break;
    }
    const issues = got.issues;
    let i = page.o;
    for (; i < issues.length && items.length < input.limit; i++) {
      if (matches(issues[i], input.filters)) items.push(issues[i]);
      else skipped++;
    }
    if (i < issues.length) {
      next = { r: start.r, c: page.c, o: i };
      break;
    }
    if (!got.next_cursor) break;
    page = { c: got.next_cursor, o: 0 };
    if (items.length >= input.limit) {
      next = { r: start.r, ...page };
      break;
    }
  }

  const status: PhaseStatus = itemErrors.length === 0 ? "ok" : items.length > 0 ? "partial" : "error";
  return {
    status,
    summary: {
      total: items.length + skipped + itemErrors.length,
      succeeded: items.length,
      failed: itemErrors.length,
      skipped,
    } satisfies Summary,
    items,
    item_errors: itemErrors.length > 0 ? itemErrors : null,
    has_more: next !== null,
    next_cursor: next ? encode(next) : null,
  };
}
