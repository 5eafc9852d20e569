import type { IssueStatus, NormalizedIssue } from "../core/adapter.ts";
import { type BindableResource, identity, type Workspace } from "../core/descriptor.ts";
import { TrackerError } from "../core/errors.ts";
import { withoutMarker } from "../core/marker.ts";

/** The parts of GitHub's wire objects this adapter reads. */
export interface GhAccount {
  login: string;
  id: number;
  type?: string;
}

export interface GhInstallation {
  id: number;
  account: GhAccount | null;
  html_url?: string;
  repository_selection?: string;
  target_type?: string;
  target_id?: number;
  suspended_at?: string | null;
}

export interface GhRepository {
  id: number;
  node_id?: string;
  name: string;
  full_name: string;
  owner: GhAccount;
  private?: boolean;
  visibility?: string;
  /** True for a fork of another repository (REST "repository" object). */
  fork?: boolean;
  html_url?: string;
  archived?: boolean;
  disabled?: boolean;
  has_issues?: boolean;
  default_branch?: string;
}

export interface GhLabel {
  name: string;
}

export interface GhIssue {
  id: number;
  node_id?: string;
  number: number;
  title: string;
  body?: string | null;
  state: "open" | "closed";
  state_reason?: string | null;
  html_url?: string;
  labels?: (GhLabel | string)[];
  assignees?: { login: string }[] | null;
  user?: { login: string } | null;
  type?: { name?: string } | null;
  comments?: number;
  locked?: boolean;
  milestone?: { title?: string } | null;
  created_at?: string;
  updated_at?: string;
  closed_at?: string | null;
  pull_request?: unknown;
}

export function malformed(what: string): TrackerError {
  return new TrackerError("malformed_response", "github", `github ${what}: unexpected response shape`);
}

export function toWorkspace(inst: GhInstallation, host: string): Workspace {
  if (typeof inst?.id !== "number" || !inst.account?.login) throw malformed("GET /app/installations/{id}");
  return {
    provider: "github",
    host,
    id: String(inst.id),
    name: inst.account.login,
    url: inst.html_url ?? null,
    details: {
      repository_selection: inst.repository_selection ?? null,
      account_login: inst.account.login,
      account_type: inst.account.type ?? null,
      account_id: inst.account.id ?? null,
      target_type: inst.target_type ?? null,
      suspended: Boolean(inst.suspended_at),
    },
  };
}

function isRepository(r: unknown): r is GhRepository {
  const repo = r as GhRepository;
  return (
    typeof repo?.id === "number" &&
    typeof repo.name === "string" &&
    typeof repo.full_name === "string" &&
    typeof repo.owner?.login === "string"
  );
}

/** One repository as a bindable resource. Identity is the repo id: it survives renames and transfers. */
export function toResource(
  repo: unknown,
  ws: Workspace,
  apiBase: string,
  repositorySelection: string | null,
): BindableResource {
  if (!isRepository(repo)) throw malformed("repository");
  const visibility = repo.visibility ?? (repo.private ? "private" : "public");
  const htmlUrl = repo.html_url ?? null;
  return {
    identity: identity({
      provider: "github",
      host: ws.host,
      workspace_id: ws.id,
      resource_type: "repository",
      native_id: String(repo.id),
    }),
    display: {
      label: repo.full_name,
      key: null,
      name: repo.name,
      full_path: repo.full_name,
      web_url: htmlUrl,
      context: { workspace_name: ws.name, owner: repo.owner.login, repository: repo.name, visibility },
    },
    flags: { archived: repo.archived === true, issues_disabled: repo.has_issues === false },
    connector_params: {
      installation_id: ws.id,
      repo_id: String(repo.id),
      owner: repo.owner.login,
      repo: repo.name,
      api_base_url: apiBase,
    },
    routing_metadata: {
      provider: "github",
      version: 1,
      installation_id: ws.id,
      repo_id: String(repo.id),
      owner: repo.owner.login,
      name: repo.name,
      full_name: repo.full_name,
      html_url: htmlUrl,
      api_base_url: apiBase,
      node_id: repo.node_id ?? null,
      owner_id: repo.owner.id ?? null,
      owner_type: repo.owner.type ?? null,
      default_branch: repo.default_branch ?? null,
      visibility,
      fork: repo.fork === true,
      repository_selection: repositorySelection,
      display_key: repo.full_name,
      resource_url: htmlUrl,
    },
  };
}

/*
 * Status mapping. GitHub issues have only `state` (open/closed) and, when closed, `state_reason`
 * (completed, not_planned, duplicate; `reopened` when open again). The working states are labels:
 *   todo        ↔ open, no status label
 *   in_progress ↔ open + label `status: in progress`
 *   in_review   ↔ open + label `status: in review`
 *   blocked     ↔ open + label `status: blocked`
 *   done        ↔ closed, state_reason completed (or none)
 *   canceled    ↔ closed, state_reason not_planned (or duplicate)
 * Status labels are kept out of `labels` in the normalised issue; writes add or remove them.
 */
export const STATUS_LABELS: Partial<Record<IssueStatus, string>> = {
  in_progress: "status: in progress",
  in_review: "status: in review",
  blocked: "status: blocked",
};

const labelStatus = new Map(Object.entries(STATUS_LABELS).map(([s, l]) => [l, s as IssueStatus]));

export const isStatusLabel = (name: string) => labelStatus.has(name.toLowerCase());

export function labelNames(issue: GhIssue): string[] {
  return (issue.labels ?? []).map((l) => (typeof l === "string" ? l : l.name)).filter(Boolean);
}

export function statusOf(issue: GhIssue): IssueStatus {
  if (issue.state === "closed") {
    return issue.state_reason === "not_planned" || issue.state_reason === "duplicate" ? "canceled" : "done";
  }
  for (const name of labelNames(issue)) {
    const s = labelStatus.get(name.toLowerCase());
    if (s) return s;
  }
  return "todo";
}

/** Labels to send for a status: the non-status labels plus the status label, if the status has one. */
export function labelsWithStatus(labels: string[], status: IssueStatus): string[] {
  const kept = labels.filter((l) => !isStatusLabel(l));
  const statusLabel = STATUS_LABELS[status];
  return statusLabel ? [...kept, statusLabel] : kept;
}

/** `state` / `state_reason` for a status. */
export function stateFor(status: IssueStatus): { state: "open" | "closed"; state_reason?: string } {
  if (status === "done") return { state: "closed", state_reason: "completed" };
  if (status === "canceled") return { state: "closed", state_reason: "not_planned" };
  return { state: "open" };
}

const TYPE_WORDS: Record<string, NormalizedIssue["issue_type"]> = {
  bug: "bug",
  epic: "epic",
  story: "story",
  feature: "story",
  enhancement: "story",
  chore: "chore",
  task: "task",
  subtask: "subtask",
  "sub-task": "subtask",
};

/** GitHub issue types (`type.name`) where the org uses them, else the conventional labels. */
function issueTypeOf(issue: GhIssue, labels: string[]): NormalizedIssue["issue_type"] {
  const fromType = TYPE_WORDS[issue.type?.name?.toLowerCase() ?? ""];
  if (fromType) return fromType;
  for (const l of labels) {
    const t = TYPE_WORDS[l.toLowerCase().replace(/^type:\s*/, "")];
    if (t) return t;
  }
  return "task";
}

const PRIORITY_WORDS: Record<string, number> = { critical: 0, urgent: 0, high: 1, medium: 2, low: 3 };

/** `P0`..`P4` or `priority: high` style labels; 2 (medium) when none. */
function priorityOf(labels: string[]): number {
  for (const l of labels) {
    const m = l.toLowerCase().match(/^(?:priority[:\s/-]*)?(?:p([0-4])|(critical|urgent|high|medium|low))$/);
    if (m) return m[1] !== undefined ? Number(m[1]) : PRIORITY_WORDS[m[2]];
  }
  return 2;
}

/** Issue references are `owner/repo#number`; the number addresses the issue in every REST call. */
export function issueKey(owner: string, repo: string, number: number): string {
  return `${owner}/${repo}#${number}`;
}

export function toIssue(issue: GhIssue, owner: string, repo: string): NormalizedIssue {
  if (typeof issue?.number !== "number" || typeof issue.title !== "string") throw malformed("issue");
  const labels = labelNames(issue);
  return {
    ref: {
      system: "github",
      id: String(issue.number),
      workspace: `${owner}/${repo}`,
      key: issueKey(owner, repo, issue.number),
      url: issue.html_url ?? null,
    },
    title: issue.title,
    body: withoutMarker(issue.body ?? null),
    status: statusOf(issue),
    issue_type: issueTypeOf(issue, labels),
    priority: priorityOf(labels),
    assignees: (issue.assignees ?? []).map((a) => a.login),
    labels: labels.filter((l) => !isStatusLabel(l)),
    created_at: issue.created_at ?? null,
    updated_at: issue.updated_at ?? null,
    provider_metadata: {
      number: issue.number,
      issue_id: issue.id,
      node_id: issue.node_id ?? null,
      state: issue.state,
      state_reason: issue.state_reason ?? null,
      author: issue.user?.login ?? null,
      comments: issue.comments ?? 0,
      locked: issue.locked ?? false,
      milestone: issue.milestone?.title ?? null,
      closed_at: issue.closed_at ?? null,
    },
  };
}
