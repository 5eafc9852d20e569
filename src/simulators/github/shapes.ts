import { createHash } from "node:crypto";
import type { SimIssue, SimIssueStatus, SimResource, SimWorkspace } from "../core/store.ts";

/**
 * Store state in GitHub's REST v3 shapes (field names and types as api.github.com sends them).
 * The simulator serves the API and the web pages on one origin, so `api` and `web` are both its URL.
 */

export interface Urls {
  api: string;
  web: string;
}

export interface SimApp {
  id: string;
  slug: string;
  name: string;
}

export const DOCS = "https://docs.github.com/rest";

/** A stable small number from a string, for ids GitHub would have (labels, users). */
export function numericId(s: string, base = 100_000): number {
  return base + (createHash("sha1").update(s).digest().readUInt32BE(0) % 9_000_000);
}

const nodeId = (prefix: string, id: number | string) =>
  `${prefix}_kgDO${Buffer.from(String(id)).toString("base64url")}`;

export function account(ws: SimWorkspace, urls: Urls) {
  const login = ws.slug;
  const id = Number(ws.details.account_id);
  return {
    login,
    id,
    node_id: nodeId(ws.details.account_type === "Organization" ? "O" : "U", id),
    avatar_url: `${urls.web}/avatars/u/${id}`,
    url: `${urls.api}/users/${encodeURIComponent(login)}`,
    html_url: `${urls.web}/${encodeURIComponent(login)}`,
    type: String(ws.details.account_type ?? "User"),
    site_admin: false,
  };
}

export function user(login: string, urls: Urls, type = "User") {
  const id = numericId(login, 1_000_000);
  return {
    login,
    id,
    node_id: nodeId(type === "Bot" ? "BOT" : "U", id),
    avatar_url: `${urls.web}/avatars/u/${id}`,
    url: `${urls.api}/users/${encodeURIComponent(login)}`,
    html_url: `${urls.web}/${encodeURIComponent(login)}`,
    type,
    site_admin: false,
  };
}

export const fullName = (ws: SimWorkspace, r: SimResource) => `${ws.slug}/${r.name}`;
const repoPath = (ws: SimWorkspace, r: SimResource) =>
  `${encodeURIComponent(ws.slug)}/${encodeURIComponent(r.name)}`;

export function installation(ws: SimWorkspace, app: SimApp, urls: Urls) {
  const isOrg = ws.details.account_type === "Organization";
  return {
    id: Number(ws.id),
    client_id: `Iv1.${app.id}sim`,
    account: account(ws, urls),
    repository_selection: String(ws.details.repository_selection ?? "all"),
    access_tokens_url: `${urls.api}/app/installations/${ws.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: isOrg
      ? `${urls.web}/organizations/${encodeURIComponent(ws.slug)}/settings/installations/${ws.id}`
      : `${urls.web}/settings/installations/${ws.id}`,
    app_id: Number(app.id),
    app_slug: app.slug,
    target_id: Number(ws.details.account_id),
    target_type: isOrg ? "Organization" : "User",
    permissions: { issues: "write", metadata: "read" },
    events: ["issues", "repository"],
    created_at: "2026-01-05T09:00:00Z",
    updated_at: "2026-01-05T09:00:00Z",
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: ws.details.suspended_at ? user(`${ws.slug}-admin`, urls) : null,
    suspended_at: ws.details.suspended_at ?? null,
  };
}

export function repository(ws: SimWorkspace, r: SimResource, visibility: string, urls: Urls, fork = false) {
  const id = Number(r.id);
  const api = `${urls.api}/repos/${repoPath(ws, r)}`;
  const openIssues = r.issues.filter((i) => !isClosed(i.status)).length;
  return {
    id,
    node_id: nodeId("R", id),
    name: r.name,
    full_name: fullName(ws, r),
    private: visibility !== "public",
    owner: account(ws, urls),
    html_url: `${urls.web}/${repoPath(ws, r)}`,
    description: r.description,
    fork,
    url: api,
    issues_url: `${api}/issues{/number}`,
    labels_url: `${api}/labels{/name}`,
    pulls_url: `${api}/pulls{/number}`,
    created_at: r.created_at,
    updated_at: r.updated_at,
    pushed_at: r.updated_at,
    clone_url: `${urls.web}/${repoPath(ws, r)}.git`,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    has_issues: !r.issues_disabled,
    has_projects: true,
    has_downloads: true,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: r.archived,
    disabled: false,
    open_issues_count: openIssues,
    license: null,
    allow_forking: visibility === "public",
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility,
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
    default_branch: "main",
  };
}

/*
 * Status ↔ GitHub: open/closed + state_reason, and the working states as labels
 * (`status: in progress`, `status: in review`, `status: blocked`), as the adapter documents.
 */
export const STATUS_LABEL: Partial<Record<SimIssueStatus, string>> = {
  in_progress: "status: in progress",
  in_review: "status: in review",
  blocked: "status: blocked",
};
const LABEL_STATUS = new Map(Object.entries(STATUS_LABEL).map(([s, l]) => [l, s as SimIssueStatus]));

export const isClosed = (s: SimIssueStatus) => s === "done" || s === "canceled";
export const statusFromLabel = (name: string) => LABEL_STATUS.get(name.toLowerCase());

/** The labels GitHub shows: the stored ones plus the status label of a working state. */
export function githubLabels(i: SimIssue): string[] {
  const status = STATUS_LABEL[i.status];
  return status ? [...i.labels, status] : [...i.labels];
}

function label(name: string, ws: SimWorkspace, r: SimResource, urls: Urls) {
  const id = numericId(`${r.id}/${name}`, 4_000_000_000);
  return {
    id,
    node_id: nodeId("LA", id),
    url: `${urls.api}/repos/${repoPath(ws, r)}/labels/${encodeURIComponent(name)}`,
    name,
    color: createHash("sha1").update(name).digest("hex").slice(0, 6),
    default: false,
    description: null,
  };
}

export interface IssueExtras {
  author: string;
  authorType: string;
  closed_at: string | null;
}

export function issue(ws: SimWorkspace, r: SimResource, i: SimIssue, extras: IssueExtras, urls: Urls) {
  const id = Number(i.id);
  const api = `${urls.api}/repos/${repoPath(ws, r)}`;
  const assignees = i.assignees.map((a) => user(a, urls));
  const closed = isClosed(i.status);
  return {
    url: `${api}/issues/${i.number}`,
    repository_url: api,
    labels_url: `${api}/issues/${i.number}/labels{/name}`,
    comments_url: `${api}/issues/${i.number}/comments`,
    events_url: `${api}/issues/${i.number}/events`,
    html_url: `${urls.web}/${repoPath(ws, r)}/issues/${i.number}`,
    id,
    node_id: nodeId("I", id),
    number: i.number,
    title: i.title,
    user: user(extras.author, urls, extras.authorType),
    labels: githubLabels(i).map((l) => label(l, ws, r, urls)),
    state: closed ? "closed" : "open",
    locked: false,
    assignee: assignees[0] ?? null,
    assignees,
    milestone: null,
    comments: 0,
    created_at: i.created_at,
    updated_at: i.updated_at,
    closed_at: closed ? (extras.closed_at ?? i.updated_at) : null,
    author_association: extras.authorType === "Bot" ? "NONE" : "MEMBER",
    active_lock_reason: null,
    body: i.body,
    timeline_url: `${api}/issues/${i.number}/timeline`,
    performed_via_github_app: null,
    state_reason: i.status === "canceled" ? "not_planned" : closed ? "completed" : null,
  };
}

/** Pull requests share the issue number sequence and appear in the issues API with a `pull_request` key. */
export interface SimPull {
  id: number;
  number: number;
  title: string;
  body: string | null;
  created_at: string;
}

export function pullAsIssue(ws: SimWorkspace, r: SimResource, p: SimPull, urls: Urls) {
  const api = `${urls.api}/repos/${repoPath(ws, r)}`;
  const html = `${urls.web}/${repoPath(ws, r)}/pull/${p.number}`;
  return {
    url: `${api}/issues/${p.number}`,
    repository_url: api,
    html_url: html,
    id: p.id,
    node_id: nodeId("PR", p.id),
    number: p.number,
    title: p.title,
    user: user(`${ws.slug}-dev`, urls),
    labels: [],
    state: "open",
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: 0,
    created_at: p.created_at,
    updated_at: p.created_at,
    closed_at: null,
    author_association: "MEMBER",
    draft: false,
    pull_request: {
      url: `${api}/pulls/${p.number}`,
      html_url: html,
      diff_url: `${html}.diff`,
      patch_url: `${html}.patch`,
      merged_at: null,
    },
    body: p.body,
    state_reason: null,
  };
}
