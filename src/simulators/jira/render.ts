import { createHash } from "node:crypto";
import type { SimIssue, SimResource } from "../core/store.ts";
import {
  CATEGORIES,
  type IssueTypeDef,
  type ProjectTypeKey,
  RESOLUTIONS,
  statusById,
  transitionsFrom,
  type Workflow,
  type WorkflowStatus,
  type WorkflowTransition,
} from "./workflows.ts";

/**
 * Jira's JSON shapes for projects, issues, statuses and transitions, rendered from the neutral store and
 * each project's profile (type, issue types, workflow; see workflows.ts).
 */

export type ApiVersion = "2" | "3";

/** How one issue looks in its project: its workflow status, its Jira type and its resolution. */
export interface IssueView {
  typeKey: ProjectTypeKey;
  status: WorkflowStatus;
  type: IssueTypeDef;
  resolution: string | null;
}

const PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"];

/** `2026-03-02T10:31:00.000+0000`, Jira's timestamp format. */
export const jiraTime = (iso: string) => new Date(iso).toISOString().replace("Z", "+0000");

/** Atlassian account ids are opaque 24-hex strings; derive a stable one from the display name. */
export const accountId = (name: string) => createHash("sha1").update(name).digest("hex").slice(0, 24);

export function statusJson(apiBase: string, s: WorkflowStatus) {
  const category = CATEGORIES[s.category];
  return {
    self: `${apiBase}/status/${s.id}`,
    description: "",
    iconUrl: `${apiBase}/images/icons/statuses/generic.png`,
    name: s.name,
    id: s.id,
    statusCategory: { self: `${apiBase}/statuscategory/${category.id}`, ...category },
  };
}

/** The transition screen's resolution field, as `expand=transitions.fields` shows it. */
function resolutionField(apiBase: string) {
  return {
    required: true,
    schema: { type: "resolution", system: "resolution" },
    name: "Resolution",
    key: "resolution",
    hasDefaultValue: false,
    operations: ["set"],
    allowedValues: RESOLUTIONS.map((r) => ({ self: `${apiBase}/resolution/${r.id}`, ...r })),
  };
}

function transitionJson(apiBase: string, wf: Workflow, t: WorkflowTransition, withFields: boolean) {
  const screen = (t.requires ?? []).length > 0;
  return {
    id: t.id,
    name: t.name,
    to: statusJson(apiBase, statusById(wf, t.to)!),
    hasScreen: screen,
    isGlobal: t.from === null,
    isInitial: false,
    isAvailable: true,
    isConditional: false,
    isLooped: false,
    ...(withFields ? { fields: screen ? { resolution: resolutionField(apiBase) } : {} } : {}),
  };
}

/** The transitions out of `current`; `fields` only with `expand=transitions.fields`, as Jira does. */
export const transitionsJson = (
  apiBase: string,
  wf: Workflow,
  current: WorkflowStatus,
  withFields: boolean,
) => transitionsFrom(wf, current.id).map((t) => transitionJson(apiBase, wf, t, withFields));

export const issueTypeJson = (apiBase: string, t: IssueTypeDef, cloud: boolean) => ({
  self: `${apiBase}/issuetype/${t.id}`,
  id: t.id,
  description: "",
  iconUrl: `${apiBase}/images/icons/issuetypes/${t.id}.png`,
  name: t.name,
  subtask: t.subtask,
  ...(cloud ? { hierarchyLevel: t.hierarchyLevel } : {}),
});

function avatarUrls(siteUrl: string, id: string) {
  const u = `${siteUrl}/rest/api/3/universal_avatar/view/type/project/avatar/${id}`;
  return { "48x48": u, "24x24": `${u}?size=small`, "16x16": `${u}?size=xsmall`, "32x32": `${u}?size=medium` };
}

export function projectJson(
  r: SimResource,
  apiBase: string,
  siteUrl: string,
  cloud: boolean,
  typeKey: ProjectTypeKey,
) {
  const base = {
    expand: "description,lead,issueTypes,url,projectKeys,permissions,insight",
    self: `${apiBase}/project/${r.id}`,
    id: r.id,
    key: r.key,
    name: r.name,
    avatarUrls: avatarUrls(siteUrl, r.id),
    projectTypeKey: typeKey,
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
  view: IssueView,
) {
  if (fields === "id") return { id: i.id };
  const resolution = RESOLUTIONS.find((x) => x.name === view.resolution);
  const all: Record<string, unknown> = {
    summary: i.title,
    description: v === "3" ? textToAdf(i.body) : i.body,
    status: statusJson(apiBase, view.status),
    issuetype: issueTypeJson(apiBase, view.type, v === "3"),
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
    resolution: resolution ? { self: `${apiBase}/resolution/${resolution.id}`, ...resolution } : null,
    resolutiondate: resolution ? jiraTime(i.updated_at) : null,
    project: {
      self: `${apiBase}/project/${r.id}`,
      id: r.id,
      key: r.key,
      name: r.name,
      projectTypeKey: view.typeKey,
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
