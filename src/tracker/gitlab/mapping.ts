import { ISSUE_TYPES, type IssueStatus, type NormalizedIssue } from "../core/adapter.ts";
import { type BindableResource, hostOf, identity, type Workspace } from "../core/descriptor.ts";
import { withoutMarker } from "../core/marker.ts";
import { malformed } from "./http.ts";

/** The GitLab REST v4 fields this adapter reads (responses carry many more). */
export interface GlNamespace {
  id: number;
  name: string;
  path: string;
  kind: "group" | "user" | string;
  full_path: string;
}

export interface GlProject {
  id: number;
  name: string;
  path: string;
  path_with_namespace: string;
  name_with_namespace?: string;
  web_url: string | null;
  archived?: boolean;
  issues_enabled?: boolean;
  issues_access_level?: string;
  visibility?: string;
  default_branch?: string | null;
  namespace?: GlNamespace;
  permissions?: {
    project_access: { access_level: number } | null;
    group_access: { access_level: number } | null;
  };
}

export interface GlGroup {
  id: number;
  name: string;
  path: string;
  full_name: string;
  full_path: string;
  web_url: string | null;
  parent_id: number | null;
}

export interface GlUser {
  id: number;
  username: string;
  name: string;
  web_url?: string | null;
}

export interface GlIssue {
  id: number;
  iid: number;
  project_id: number;
  title: string;
  description: string | null;
  state: "opened" | "closed";
  labels: string[];
  assignees?: { username: string }[];
  author?: { username: string } | null;
  milestone?: { title: string } | null;
  issue_type?: string;
  confidential?: boolean;
  due_date?: string | null;
  closed_at?: string | null;
  user_notes_count?: number;
  created_at: string | null;
  updated_at: string | null;
  web_url: string | null;
  references?: { short: string; relative: string; full: string };
}

export function checkProject(p: unknown): GlProject {
  const x = p as GlProject | null;
  if (!x || typeof x.id !== "number" || typeof x.path_with_namespace !== "string") throw malformed("project");
  return x;
}

export function checkGroup(g: unknown): GlGroup {
  const x = g as GlGroup | null;
  if (!x || typeof x.id !== "number" || typeof x.full_path !== "string") throw malformed("group");
  return x;
}

export function checkIssue(i: unknown): GlIssue {
  const x = i as GlIssue | null;
  if (!x || typeof x.id !== "number" || typeof x.iid !== "number" || typeof x.title !== "string") {
    throw malformed("issue");
  }
  return x;
}

export function groupWorkspace(base: string, g: GlGroup): Workspace {
  return {
    provider: "gitlab",
    host: hostOf(base),
    id: String(g.id),
    name: g.full_name || g.name,
    url: g.web_url ?? null,
    details: { kind: "group", full_path: g.full_path },
  };
}

export function membershipWorkspace(base: string, u: GlUser): Workspace {
  return {
    provider: "gitlab",
    host: hostOf(base),
    id: "membership",
    name: `Projects of ${u.username}`,
    url: u.web_url ?? null,
    details: { kind: "membership", full_path: u.username },
  };
}

/** Issues disabled shows as `issues_enabled: false` (older instances) or `issues_access_level: "disabled"`. */
const issuesDisabled = (p: GlProject) => p.issues_enabled === false || p.issues_access_level === "disabled";

export function toResource(base: string, ws: Workspace, p: GlProject): BindableResource {
  const namespace = p.namespace?.full_path ?? p.path_with_namespace.split("/").slice(0, -1).join("/");
  return {
    identity: identity({
      provider: "gitlab",
      host: hostOf(base),
      workspace_id: ws.id,
      resource_type: "project",
      native_id: String(p.id),
    }),
    display: {
      label: p.path_with_namespace,
      key: null,
      name: p.name,
      full_path: p.path_with_namespace,
      web_url: p.web_url ?? null,
      context: { workspace_name: ws.name, namespace, project: p.name },
    },
    flags: { archived: p.archived === true, issues_disabled: issuesDisabled(p) },
    connector_params: { base_url: base, project_id: p.id, path_with_namespace: p.path_with_namespace },
    routing_metadata: {
      provider: "gitlab",
      version: 1,
      base_url: base,
      project_id: p.id,
      path_with_namespace: p.path_with_namespace,
      namespace_full_path: namespace || null,
      name: p.name,
      web_url: p.web_url ?? null,
      namespace_id: p.namespace?.id ?? null,
      namespace_kind: p.namespace?.kind ?? null,
      workspace_kind: String(ws.details.kind ?? "group"),
    },
  };
}

/**
 * Status ↔ GitLab. GitLab issues only have `state` opened/closed; the finer statuses live in one scoped
 * label of the `status::` scope (scoped labels keep at most one label per scope):
 *   todo        opened, no status label
 *   in_progress opened + `status::in progress`
 *   in_review   opened + `status::in review`
 *   blocked     opened + `status::blocked`
 *   done        closed, no status label (or any other)
 *   canceled    closed + `status::canceled`
 * The status label is not part of `NormalizedIssue.labels`; it is rewritten on every status change.
 */
export const STATUS_LABELS: Partial<Record<IssueStatus, string>> = {
  in_progress: "status::in progress",
  in_review: "status::in review",
  blocked: "status::blocked",
  canceled: "status::canceled",
};

export const isStatusLabel = (l: string) => l.toLowerCase().startsWith("status::");

export function statusOf(state: string, labels: string[]): IssueStatus {
  const lower = new Set(labels.map((l) => l.toLowerCase()));
  if (state === "closed") return lower.has(STATUS_LABELS.canceled!) ? "canceled" : "done";
  for (const s of ["in_progress", "in_review", "blocked"] as const)
    if (lower.has(STATUS_LABELS[s]!)) return s;
  return "todo";
}

/** `incident` → bug, work-item `task`/`epic` as is, else a `type::X` or bare `bug`/`story`/... label; default task. */
function issueTypeOf(i: GlIssue): NormalizedIssue["issue_type"] {
  if (i.issue_type === "incident") return "bug";
  if (i.issue_type === "task" || i.issue_type === "epic") return i.issue_type;
  for (const l of i.labels) {
    const name = l.toLowerCase().replace(/^type::/, "");
    const hit = ISSUE_TYPES.find((t) => t === name);
    if (hit) return hit;
  }
  return "task";
}

/** GitLab Free has no priority field: a `priority::0`..`priority::4` scoped label, else 2 (normal). */
function priorityOf(labels: string[]): number {
  for (const l of labels) {
    const m = l.match(/^priority::([0-4])$/i);
    if (m) return Number(m[1]);
  }
  return 2;
}

/**
 * `ref.id` is GitLab's instance-wide issue id; `ref.key` is GitLab's full reference
 * `group/sub/project#iid` (`references.full`); `ref.workspace` is the project's path_with_namespace,
 * the scope in which iids are unique.
 */
export function toIssue(i: GlIssue, projectPath: string): NormalizedIssue {
  const path = i.references?.full?.replace(/#\d+$/, "") ?? projectPath;
  return {
    ref: {
      system: "gitlab",
      id: String(i.id),
      workspace: path,
      key: `${path}#${i.iid}`,
      url: i.web_url ?? null,
    },
    title: i.title,
    body: withoutMarker(i.description ?? null),
    status: statusOf(i.state, i.labels ?? []),
    issue_type: issueTypeOf(i),
    priority: priorityOf(i.labels ?? []),
    assignees: (i.assignees ?? []).map((a) => a.username),
    labels: (i.labels ?? []).filter((l) => !isStatusLabel(l)),
    created_at: i.created_at ?? null,
    updated_at: i.updated_at ?? null,
    provider_metadata: {
      iid: i.iid,
      project_id: i.project_id,
      state: i.state,
      gitlab_issue_type: i.issue_type ?? null,
      references: i.references ?? null,
      author: i.author?.username ?? null,
      milestone: i.milestone?.title ?? null,
      confidential: i.confidential ?? false,
      due_date: i.due_date ?? null,
      closed_at: i.closed_at ?? null,
      user_notes_count: i.user_notes_count ?? null,
    },
  };
}
