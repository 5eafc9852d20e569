import { createHash } from "node:crypto";
import type { SimIssue, SimIssueStatus, SimResource } from "../core/store.ts";

/**
 * Jira's JSON shapes for projects, issues, statuses and transitions, rendered from the neutral store.
 * Every simulated project shares one workflow whose statuses cover the neutral ones, with a global
 * transition into each status ("any status may move here", as team-managed projects allow).
 */

export type ApiVersion = "2" | "3";

interface StatusDef {
  id: string;
  name: string;
  category: { id: number; key: "new" | "indeterminate" | "done"; colorName: string; name: string };
  transitionId: string;
  resolution?: string;
}

const NEW = { id: 2, key: "new", colorName: "blue-gray", name: "To Do" } as const;
const INDETERMINATE = { id: 4, key: "indeterminate", colorName: "yellow", name: "In Progress" } as const;
const DONE = { id: 3, key: "done", colorName: "green", name: "Done" } as const;

export const STATUSES: Record<SimIssueStatus, StatusDef> = {
  todo: { id: "10000", name: "To Do", category: NEW, transitionId: "11" },
  in_progress: { id: "10001", name: "In Progress", category: INDETERMINATE, transitionId: "21" },
  in_review: { id: "10002", name: "In Review", category: INDETERMINATE, transitionId: "31" },
  blocked: { id: "10003", name: "Blocked", category: INDETERMINATE, transitionId: "41" },
  done: { id: "10004", name: "Done", category: DONE, transitionId: "51", resolution: "Done" },
  canceled: { id: "10005", name: "Canceled", category: DONE, transitionId: "61", resolution: "Won't Do" },
};

export const ISSUE_TYPES: Record<SimIssue["issue_type"], { id: string; name: string; subtask: boolean }> = {
  epic: { id: "10000", name: "Epic", subtask: false },
  story: { id: "10001", name: "Story", subtask: false },
  task: { id: "10002", name: "Task", subtask: false },
  bug: { id: "10003", name: "Bug", subtask: false },
  subtask: { id: "10004", name: "Subtask", subtask: true },
  chore: { id: "10005", name: "Chore", subtask: false },
};

const PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"];

/** `2026-03-02T10:31:00.000+0000`, Jira's timestamp format. */
export const jiraTime = (iso: string) => new Date(iso).toISOString().replace("Z", "+0000");

/** Atlassian account ids are opaque 24-hex strings; derive a stable one from the display name. */
export const accountId = (name: string) => createHash("sha1").update(name).digest("hex").slice(0, 24);

export function statusJson(apiBase: string, s: SimIssueStatus) {
  const d = STATUSES[s];
  return {
    self: `${apiBase}/status/${d.id}`,
    description: "",
    iconUrl: `${apiBase}/images/icons/statuses/generic.png`,
    name: d.name,
    id: d.id,
    statusCategory: { self: `${apiBase}/statuscategory/${d.category.id}`, ...d.category },
  };
}

export function transitionsJson(apiBase: string, current: SimIssueStatus) {
  return (Object.keys(STATUSES) as SimIssueStatus[])
    .filter((s) => s !== current)
    .map((s) => ({
      id: STATUSES[s].transitionId,
      name: STATUSES[s].name,
      to: statusJson(apiBase, s),
      hasScreen: false,
      isGlobal: true,
      isInitial: false,
      isAvailable: true,
      isConditional: false,
      isLooped: false,
    }));
}

export const statusForTransition = (id: string): SimIssueStatus | null =>
  (Object.keys(STATUSES) as SimIssueStatus[]).find((s) => STATUSES[s].transitionId === id) ?? null;

function avatarUrls(siteUrl: string, id: string) {
  const u = `${siteUrl}/rest/api/3/universal_avatar/view/type/project/avatar/${id}`;
  return { "48x48": u, "24x24": `${u}?size=small`, "16x16": `${u}?size=xsmall`, "32x32": `${u}?size=medium` };
}

export function projectJson(r: SimResource, apiBase: string, siteUrl: string, cloud: boolean) {
  const base = {
    expand: "description,lead,issueTypes,url,projectKeys,permissions,insight",
    self: `${apiBase}/project/${r.id}`,
    id: r.id,
    key: r.key,
    name: r.name,
    avatarUrls: avatarUrls(siteUrl, r.id),
    projectTypeKey: "software",
    simplified: false,
    style: "classic",
    isPrivate: false,
    properties: {},
    ...(cloud ? { entityId: uuidOf(r.id), uuid: uuidOf(r.id) } : {}),
  };
  return r.archived
    ? {
        ...base,
        archived: true,
        archivedDate: jiraTime(r.updated_at),
        archivedBy: { displayName: "Jira Admin" },
      }
    : cloud
      ? base
      : { ...base, archived: false };
}

function uuidOf(id: string) {
  const h = createHash("md5").update(`project:${id}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export const issueKey = (r: SimResource, i: SimIssue) => `${r.key}-${i.number}`;

function userJson(apiBase: string, name: string, v: ApiVersion) {
  const id = accountId(name);
  return v === "3"
    ? {
        self: `${apiBase}/user?accountId=${id}`,
        accountId: id,
        displayName: name,
        active: true,
        accountType: "atlassian",
      }
    : {
        self: `${apiBase}/user?username=${encodeURIComponent(name)}`,
        name: name.split(" ")[0].toLowerCase(),
        key: id,
        displayName: name,
        active: true,
      };
}

/** All fields of an issue; `fields` (when given) keeps only the requested ones, as Jira does. */
export function issueJson(
  i: SimIssue,
  r: SimResource,
  apiBase: string,
  siteUrl: string,
  v: ApiVersion,
  fields: Set<string> | "all" | "id",
) {
  if (fields === "id") return { id: i.id };
  const status = STATUSES[i.status];
  const all: Record<string, unknown> = {
    summary: i.title,
    description: v === "3" ? textToAdf(i.body) : i.body,
    status: statusJson(apiBase, i.status),
    issuetype: { self: `${apiBase}/issuetype/${ISSUE_TYPES[i.issue_type].id}`, ...ISSUE_TYPES[i.issue_type] },
    priority: {
      self: `${apiBase}/priority/${i.priority + 1}`,
      id: String(i.priority + 1),
      name: PRIORITIES[i.priority] ?? "Medium",
    },
    assignee: i.assignees[0] ? userJson(apiBase, i.assignees[0], v) : null,
    reporter: userJson(apiBase, "Jira Admin", v),
    labels: i.labels,
    created: jiraTime(i.created_at),
    updated: jiraTime(i.updated_at),
    resolution: status.resolution
      ? { self: `${apiBase}/resolution/1`, id: "1", name: status.resolution }
      : null,
    resolutiondate: status.resolution ? jiraTime(i.updated_at) : null,
    project: {
      self: `${apiBase}/project/${r.id}`,
      id: r.id,
      key: r.key,
      name: r.name,
      projectTypeKey: "software",
      simplified: false,
      avatarUrls: avatarUrls(siteUrl, r.id),
    },
  };
  const picked =
    fields === "all" ? all : Object.fromEntries(Object.entries(all).filter(([k]) => fields.has(k)));
  return {
    expand: "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
    id: i.id,
    self: `${apiBase}/issue/${i.id}`,
    key: issueKey(r, i),
    fields: picked,
  };
}

/** Reads a `fields` parameter (array or comma list); `*all`/`*navigable` mean everything. */
export function fieldSelection(raw: unknown, fallback: "all" | "id"): Set<string> | "all" | "id" {
  const list = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(",") : [];
  const names = list.map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) return fallback;
  if (names.some((n) => n === "*all" || n === "*navigable")) return "all";
  return new Set(names);
}

/* ---- Atlassian Document Format, the simulator's own minimal reading and writing ---- */

interface Adf {
  type?: string;
  text?: string;
  content?: Adf[];
  attrs?: Record<string, unknown>;
}

export function textToAdf(text: string | null) {
  if (!text) return null;
  return {
    version: 1,
    type: "doc",
    content: text.split(/\n\n+/).map((para) => ({
      type: "paragraph",
      content: para
        .split("\n")
        .flatMap((line, n) => [
          ...(n > 0 ? [{ type: "hardBreak" }] : []),
          ...(line ? [{ type: "text", text: line }] : []),
        ]),
    })),
  };
}

/** Is this a document Jira v3 would accept as a rich-text field value? */
export const isAdfDoc = (v: unknown): v is Adf =>
  !!v && typeof v === "object" && (v as Adf).type === "doc" && Array.isArray((v as Adf).content);

export function adfToText(doc: Adf): string | null {
  const flat = (n: Adf): string =>
    n.type === "text" ? (n.text ?? "") : n.type === "hardBreak" ? "\n" : (n.content ?? []).map(flat).join("");
  const text = (doc.content ?? []).map(flat).join("\n\n").trim();
  return text || null;
}
