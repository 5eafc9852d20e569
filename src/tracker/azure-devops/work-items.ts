import type { IssueStatus, NormalizedIssue } from "../core/adapter.ts";
import { malformed } from "./http.ts";
import { type ProjectProcess, statusFor, typeNamed, type WorkItemType } from "./process.ts";

/**
 * Work item ↔ normalised issue. States come from the work item type's own states and their categories
 * (process.ts); ADO has no blocked state, so blocked is an in-progress state plus the tag "Blocked".
 */

export interface WorkItem {
  id: number;
  rev?: number;
  fields: Record<string, unknown>;
  url?: string;
  _links?: { html?: { href?: string } };
}

export interface IdentityRef {
  displayName?: string;
  uniqueName?: string;
  id?: string;
}

export const BLOCKED_TAG = "Blocked";

const TYPE_TO_ISSUE_TYPE: Record<string, NormalizedIssue["issue_type"]> = {
  epic: "epic",
  feature: "epic",
  "user story": "story",
  "product backlog item": "story",
  requirement: "story",
  issue: "story",
  bug: "bug",
  task: "task",
};

export function isWorkItem(w: unknown): w is WorkItem {
  const o = w as WorkItem | null;
  return typeof o?.id === "number" && typeof o.fields === "object" && o.fields !== null;
}

export function asWorkItem(body: unknown, what: string): WorkItem {
  if (!isWorkItem(body)) throw malformed(`${what} (expected a work item)`);
  return body;
}

/** `System.Tags` is one string, `"a; b"`. */
export function parseTags(value: unknown): string[] {
  if (typeof value !== "string") return [];
  return value
    .split(";")
    .map((t) => t.trim())
    .filter(Boolean);
}

const isBlockedTag = (t: string) => t.toLowerCase() === BLOCKED_TAG.toLowerCase();

/** The tag string to write: the labels, plus the Blocked marker exactly when the status is blocked. */
export function tagsFor(labels: string[], status: IssueStatus): string {
  const tags = labels.filter((t) => !isBlockedTag(t));
  if (status === "blocked") tags.push(BLOCKED_TAG);
  return tags.join("; ");
}

export function statusOf(type: WorkItemType | null, state: unknown, tags: string[]): IssueStatus {
  const status = statusFor(type, state);
  return status === "in_progress" && tags.some(isBlockedTag) ? "blocked" : status;
}

/** ADO descriptions are HTML; the normalised body is plain text. */
export function htmlToText(html: unknown): string | null {
  if (typeof html !== "string" || html.trim() === "") return null;
  const text = html
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|li|h[1-6])>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
  return text.replace(/\n+$/, "");
}

export function textToHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\n/g, "<br>");
}

function identityName(v: unknown): string | null {
  if (typeof v === "string") return v || null;
  const ref = v as IdentityRef | null;
  return ref?.uniqueName || ref?.displayName || null;
}

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

export function toIssue(
  wi: WorkItem,
  ctx: { workspace: string; webUrl: (id: number) => string; process: ProjectProcess },
): NormalizedIssue {
  const f = wi.fields;
  const tags = parseTags(f["System.Tags"]);
  const type = typeNamed(ctx.process, f["System.WorkItemType"]);
  const priority = Number(f["Microsoft.VSTS.Common.Priority"]);
  const assignee = identityName(f["System.AssignedTo"]);
  return {
    ref: {
      system: "azure_devops",
      id: String(wi.id),
      workspace: ctx.workspace,
      key: String(wi.id),
      url: wi._links?.html?.href ?? ctx.webUrl(wi.id),
    },
    title: String(f["System.Title"] ?? ""),
    body: htmlToText(f["System.Description"]),
    status: statusOf(type, f["System.State"], tags),
    issue_type: TYPE_TO_ISSUE_TYPE[String(f["System.WorkItemType"] ?? "").toLowerCase()] ?? "task",
    priority: Number.isInteger(priority) && priority >= 1 && priority <= 4 ? priority : 0,
    assignees: assignee ? [assignee] : [],
    labels: tags.filter((t) => !isBlockedTag(t)),
    created_at: str(f["System.CreatedDate"]),
    updated_at: str(f["System.ChangedDate"]),
    provider_metadata: {
      work_item_type: str(f["System.WorkItemType"]),
      state: str(f["System.State"]),
      reason: str(f["System.Reason"]),
      rev: wi.rev ?? null,
      team_project: str(f["System.TeamProject"]),
      area_path: str(f["System.AreaPath"]),
      iteration_path: str(f["System.IterationPath"]),
      assigned_to: (f["System.AssignedTo"] as IdentityRef | undefined)?.displayName ?? null,
      description_html: str(f["System.Description"]),
      tags: tags,
      api_url: wi.url ?? null,
    },
  };
}

/** `42`, `#42` and the `AB#42` mention syntax all name work item 42. */
export function parseWorkItemId(value: string | undefined | null): number | null {
  const m = value?.trim().match(/^(?:[A-Za-z]*#)?(\d{1,10})$/);
  if (!m) return null;
  const id = Number(m[1]);
  return id > 0 && id <= 2_147_483_647 ? id : null;
}

/** WIQL string literal: single quotes doubled. */
export function wiqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
