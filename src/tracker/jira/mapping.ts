import type { IssueStatus, NormalizedIssue } from "../core/adapter.ts";
import { type BindableResource, hostOf, identity, type Workspace } from "../core/descriptor.ts";
import { adfToText } from "./adf.ts";
import { type Deployment, malformed, trimUrl } from "./http.ts";

/** Wire shapes, only the fields the adapter reads. */
export interface JiraProject {
  id: string;
  key: string;
  name: string;
  archived?: boolean;
  projectTypeKey?: string;
  style?: string;
  simplified?: boolean;
}

export interface JiraStatus {
  id?: string;
  name?: string;
  statusCategory?: { key?: string; name?: string };
}

export interface JiraIssue {
  id: string;
  key: string;
  fields?: {
    summary?: string;
    description?: unknown;
    status?: JiraStatus;
    issuetype?: { name?: string; subtask?: boolean };
    priority?: { id?: string; name?: string } | null;
    assignee?: { accountId?: string; name?: string; displayName?: string } | null;
    labels?: string[];
    created?: string;
    updated?: string;
    resolution?: { name?: string } | null;
    project?: { id?: string; key?: string; name?: string };
  };
}

export interface SiteFacts {
  deployment: Deployment;
  cloudId: string | null;
  siteUrl: string;
  /** Where the connection's product calls go (gateway path for OAuth, else the site or server URL). */
  apiBaseUrl: string;
}

export function checkProject(p: unknown): JiraProject {
  const o = p as Partial<JiraProject> | null;
  if (!o || typeof o.id !== "string" || typeof o.key !== "string" || typeof o.name !== "string") {
    throw malformed("project");
  }
  return o as JiraProject;
}

export function checkIssue(i: unknown): JiraIssue {
  const o = i as Partial<JiraIssue> | null;
  if (!o || typeof o.id !== "string" || typeof o.key !== "string") throw malformed("issue");
  return o as JiraIssue;
}

/**
 * Data Center has no cloud id and serverInfo carries no server id, so the workspace id is the server's
 * configured base URL without its scheme (`jira.example.com/jira`): stable unless the admin moves Jira.
 */
export function dcWorkspaceId(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.host}${u.pathname}`.replace(/\/+$/, "").toLowerCase();
}

export function cloudWorkspace(cloudId: string, name: string, siteUrl: string): Workspace {
  const site = trimUrl(siteUrl);
  return {
    provider: "jira",
    host: hostOf(site),
    id: cloudId,
    name,
    url: site,
    details: { site_url: site, deployment: "cloud", cloud_id: cloudId },
  };
}

export function dcWorkspace(
  info: { serverTitle?: string; baseUrl?: string; version?: string; deploymentType?: string },
  connBase: string,
): Workspace {
  const site = trimUrl(info.baseUrl || connBase);
  return {
    provider: "jira",
    // The host we actually call (the configured base URL may name a proxy-facing address).
    host: hostOf(connBase),
    id: dcWorkspaceId(site),
    name: info.serverTitle || "Jira",
    url: site,
    details: {
      site_url: site,
      deployment: "data_center",
      deployment_type: info.deploymentType ?? null,
      version: info.version ?? null,
    },
  };
}

export function siteFactsOf(workspace: Workspace, deployment: Deployment, apiBaseUrl: string): SiteFacts {
  const site = typeof workspace.details.site_url === "string" ? workspace.details.site_url : workspace.url;
  return {
    deployment,
    cloudId: deployment === "cloud" ? workspace.id : null,
    siteUrl: trimUrl(site ?? apiBaseUrl),
    apiBaseUrl: trimUrl(apiBaseUrl),
  };
}

export function toResource(project: JiraProject, workspace: Workspace, site: SiteFacts): BindableResource {
  const webUrl = `${site.siteUrl}/browse/${encodeURIComponent(project.key)}`;
  return {
    identity: identity({
      provider: "jira",
      host: workspace.host,
      workspace_id: workspace.id,
      resource_type: "project",
      native_id: project.id,
    }),
    display: {
      label: `${project.name} (${project.key})`,
      key: project.key,
      name: project.name,
      full_path: null,
      web_url: webUrl,
      context: { workspace_name: workspace.name, site_url: site.siteUrl, project_key: project.key },
    },
    // Jira has no per-project switch for issues: every project has them.
    flags: { archived: project.archived === true, issues_disabled: false },
    connector_params: {
      deployment: site.deployment,
      cloud_id: site.cloudId,
      site_url: site.siteUrl,
      project_id: project.id,
      project_key: project.key,
      api_base_url: site.apiBaseUrl,
    },
    routing_metadata: {
      provider: "jira",
      version: 1,
      deployment: site.deployment,
      cloud_id: site.cloudId,
      site_url: site.siteUrl,
      project_id: project.id,
      project_key: project.key,
      project_name: project.name,
      api_base_url: site.apiBaseUrl,
      project_type_key: project.projectTypeKey ?? null,
    },
  };
}

/**
 * Jira status → neutral status. Jira workflows are per project, but every status belongs to one of three
 * categories: `new` (To Do), `indeterminate` (In Progress), `done`. The category decides, and the status
 * name (or the resolution, for done) refines it:
 *   new, name ~ block/hold                → blocked ("Waiting for support", a service desk's first status, is todo)
 *   new otherwise                         → todo
 *   indeterminate, name ~ review/QA/verify → in_review
 *   indeterminate, name ~ block/hold/wait  → blocked
 *   indeterminate otherwise                → in_progress
 *   done, name or resolution ~ cancel/won't do/declined/rejected/duplicate → canceled
 *   done otherwise                         → done
 */
const CANCELED = /cancel|won'?t|declin|reject|abandon|duplicate|obsolete/i;
const REVIEW = /review|\bqa\b|verif|testing/i;
const BLOCKED = /block|on hold|hold|waiting|imped/i;
/** In the To Do category, waiting means waiting for someone to start (a service desk's queue). */
const BLOCKED_BEFORE_START = /block|hold|imped/i;

export function statusOf(status: JiraStatus | undefined, resolution?: string | null): IssueStatus {
  const category = status?.statusCategory?.key ?? "new";
  const name = status?.name ?? "";
  if (category === "done")
    return CANCELED.test(name) || CANCELED.test(resolution ?? "") ? "canceled" : "done";
  if (category === "indeterminate") {
    if (REVIEW.test(name)) return "in_review";
    if (BLOCKED.test(name)) return "blocked";
    return "in_progress";
  }
  return BLOCKED_BEFORE_START.test(name) ? "blocked" : "todo";
}

function issueTypeOf(t: { name?: string; subtask?: boolean } | undefined): NormalizedIssue["issue_type"] {
  if (t?.subtask) return "subtask";
  const name = (t?.name ?? "").toLowerCase();
  if (name === "epic") return "epic";
  if (/^(story|user story|new feature|feature|improvement)$/.test(name)) return "story";
  if (/^(bug|defect|incident)$/.test(name)) return "bug";
  if (/^sub-?task$/.test(name)) return "subtask";
  if (name === "chore") return "chore";
  return "task";
}

/** Jira's default scheme Highest..Lowest (ids 1..5) → 0..4; a custom scheme falls back to its id, else medium. */
const PRIORITY_NAMES: Record<string, number> = {
  highest: 0,
  blocker: 0,
  high: 1,
  critical: 1,
  medium: 2,
  low: 3,
  lowest: 4,
  trivial: 4,
};

function priorityOf(p: { id?: string; name?: string } | null | undefined): number {
  const byName = PRIORITY_NAMES[(p?.name ?? "").toLowerCase()];
  if (byName !== undefined) return byName;
  const id = Number(p?.id);
  return Number.isInteger(id) && id >= 1 && id <= 5 ? id - 1 : 2;
}

/** Jira timestamps look like `2026-03-02T10:31:00.000+0000`; ISO-8601 wants `+00:00`. */
export function isoTime(value: string | undefined): string | null {
  if (!value) return null;
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export function toIssue(raw: JiraIssue, ref: { workspace: string; siteUrl: string }): NormalizedIssue {
  const f = raw.fields ?? {};
  const resolution = f.resolution?.name ?? null;
  const assignee = f.assignee ?? null;
  return {
    ref: {
      system: "jira",
      id: raw.id,
      workspace: ref.workspace,
      key: raw.key,
      url: `${trimUrl(ref.siteUrl)}/browse/${encodeURIComponent(raw.key)}`,
    },
    title: f.summary ?? "",
    body: adfToText(f.description),
    status: statusOf(f.status, resolution),
    issue_type: issueTypeOf(f.issuetype),
    priority: priorityOf(f.priority),
    assignees: assignee
      ? [assignee.displayName ?? assignee.name ?? assignee.accountId ?? ""].filter(Boolean)
      : [],
    labels: f.labels ?? [],
    created_at: isoTime(f.created),
    updated_at: isoTime(f.updated),
    provider_metadata: {
      project_id: f.project?.id ?? null,
      project_key: f.project?.key ?? null,
      status_id: f.status?.id ?? null,
      status_name: f.status?.name ?? null,
      status_category: f.status?.statusCategory?.key ?? null,
      issue_type_name: f.issuetype?.name ?? null,
      priority_name: f.priority?.name ?? null,
      resolution,
      assignee_account_id: assignee?.accountId ?? assignee?.name ?? null,
    },
  };
}
