import type {
  Connection,
  IssueDraft,
  IssuePage,
  IssuePatch,
  IssueStatus,
  NormalizedIssue,
} from "../core/adapter.ts";
import type { ConnectorParams } from "../core/descriptor.ts";
import { TrackerError } from "../core/errors.ts";
import { textToAdf } from "./adf.ts";
import { errorTexts, jiraRequest, type Mode, malformed, modeOf, PROVIDER, restUrl, trimUrl } from "./http.ts";
import { checkIssue, dcWorkspaceId, type JiraIssue, type JiraStatus, statusOf, toIssue } from "./mapping.ts";

/**
 * Issue operations, always scoped to the mapped project by its immutable id (`project = 10001`), never
 * by the renameable key. Cloud searches with the enhanced `POST /rest/api/3/search/jql` (nextPageToken
 * cursor); Data Center with `POST /rest/api/2/search` (startAt offsets). Status changes go through the
 * workflow's transitions, since Jira does not let a client set `status` directly.
 */

const FIELDS = [
  "summary",
  "description",
  "status",
  "issuetype",
  "priority",
  "assignee",
  "labels",
  "created",
  "updated",
  "resolution",
  "project",
];
const MAX_RESULTS = 100;
const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]*-\d+$/;

interface Scope {
  mode: Mode;
  cloudId: string | null;
  projectId: string;
  siteUrl: string;
  workspace: string;
}

const str = (v: unknown): string | null =>
  typeof v === "string" && v.length > 0 ? v : typeof v === "number" ? String(v) : null;

function scopeOf(conn: Connection, params: ConnectorParams): Scope {
  const mode = modeOf(conn);
  const projectId = str(params.project_id);
  if (!projectId || !/^\d+$/.test(projectId)) {
    throw new TrackerError("invalid_request", PROVIDER, "jira connector params carry no numeric project_id");
  }
  const cloudId = str(params.cloud_id) ?? conn.options?.cloud_id ?? null;
  const siteUrl = trimUrl(str(params.site_url) ?? conn.base_url);
  return { mode, cloudId, projectId, siteUrl, workspace: cloudId ?? dcWorkspaceId(siteUrl) };
}

const url = (conn: Connection, s: Scope, path: string, query?: Record<string, string | string[]>) =>
  restUrl(conn, s.cloudId, path, query);

const normalize = (s: Scope) => (raw: unknown) => toIssue(checkIssue(raw), s);

/** A JQL string literal: double quotes, with `"` and `\` escaped. */
export const jqlString = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

const clampLimit = (limit: number) => Math.max(1, Math.min(MAX_RESULTS, Math.floor(limit) || 1));

interface SearchResult {
  issues: JiraIssue[];
  next: string | null;
  status: number;
  body: unknown;
}

async function search(
  conn: Connection,
  s: Scope,
  jql: string,
  limit: number,
  cursor: string | null,
  okStatuses: number[] = [],
): Promise<SearchResult> {
  if (s.mode !== "dc") {
    const res = await jiraRequest<{ issues?: unknown; nextPageToken?: unknown; isLast?: unknown }>(conn, {
      method: "POST",
      url: url(conn, s, "/search/jql"),
      idempotent: true,
      json: {
        jql,
        maxResults: clampLimit(limit),
        fields: FIELDS,
        ...(cursor ? { nextPageToken: cursor } : {}),
      },
      okStatuses,
    });
    if (res.status >= 300) return { issues: [], next: null, status: res.status, body: res.body };
    const b = res.body;
    if (!b || !Array.isArray(b.issues)) throw malformed("search response");
    const token = typeof b.nextPageToken === "string" && b.isLast !== true ? b.nextPageToken : null;
    return { issues: b.issues.map(checkIssue), next: token, status: res.status, body: b };
  }
  const startAt = cursor ? Number(cursor) : 0;
  if (!Number.isInteger(startAt) || startAt < 0)
    throw new TrackerError("invalid_request", PROVIDER, "jira cursor is not valid");
  const res = await jiraRequest<{ issues?: unknown; total?: unknown; startAt?: unknown }>(conn, {
    method: "POST",
    url: url(conn, s, "/search"),
    idempotent: true,
    json: { jql, startAt, maxResults: clampLimit(limit), fields: FIELDS },
    okStatuses,
  });
  if (res.status >= 300) return { issues: [], next: null, status: res.status, body: res.body };
  const b = res.body;
  if (!b || !Array.isArray(b.issues) || typeof b.total !== "number") throw malformed("search response");
  const seen = startAt + b.issues.length;
  return {
    issues: b.issues.map(checkIssue),
    next: b.issues.length > 0 && seen < b.total ? String(seen) : null,
    status: res.status,
    body: b,
  };
}

export async function listIssues(
  conn: Connection,
  params: ConnectorParams,
  opts: { cursor?: string | null; limit: number },
): Promise<IssuePage> {
  const s = scopeOf(conn, params);
  const page = await search(
    conn,
    s,
    `project = ${s.projectId} ORDER BY created DESC`,
    opts.limit,
    opts.cursor ?? null,
  );
  return { issues: page.issues.map(normalize(s)), next_cursor: page.next };
}

/** `key = PAY-12` in the project. Jira answers 400 for a key that does not exist: that is an empty result. */
async function byKey(conn: Connection, s: Scope, key: string): Promise<NormalizedIssue[]> {
  if (!ISSUE_KEY.test(key)) return [];
  const page = await search(
    conn,
    s,
    `project = ${s.projectId} AND key = ${key.toUpperCase()}`,
    1,
    null,
    [400],
  );
  if (page.status === 400) {
    if (errorTexts(page.body).some((t) => /key/i.test(t))) return [];
    throw new TrackerError("invalid_request", PROVIDER, "jira rejected the key search");
  }
  return page.issues.map(normalize(s));
}

export async function searchIssues(
  conn: Connection,
  params: ConnectorParams,
  query: { key?: string; text?: string; limit: number },
): Promise<NormalizedIssue[]> {
  const s = scopeOf(conn, params);
  const found: NormalizedIssue[] = query.key ? await byKey(conn, s, query.key.trim()) : [];
  const text = query.text?.trim();
  if (text && found.length < query.limit) {
    const jql = `project = ${s.projectId} AND text ~ ${jqlString(text)} ORDER BY updated DESC`;
    const page = await search(conn, s, jql, query.limit, null);
    for (const issue of page.issues.map(normalize(s))) {
      if (!found.some((f) => f.ref.id === issue.ref.id)) found.push(issue);
    }
  }
  return found.slice(0, query.limit);
}

async function fetchIssue(conn: Connection, s: Scope, idOrKey: string): Promise<NormalizedIssue | null> {
  const res = await jiraRequest<unknown>(conn, {
    url: url(conn, s, `/issue/${encodeURIComponent(idOrKey)}`, { fields: FIELDS.join(",") }),
    okStatuses: [404],
  });
  if (res.status === 404) return null;
  const issue = normalize(s)(res.body);
  // An id or key from another project is not this mapping's issue.
  return issue.provider_metadata.project_id === s.projectId ? issue : null;
}

export function getIssue(conn: Connection, params: ConnectorParams, idOrKey: string) {
  return fetchIssue(conn, scopeOf(conn, params), idOrKey);
}

/** Jira labels cannot contain spaces. */
const jiraLabels = (labels: string[]) => labels.map((l) => l.trim().replace(/\s+/g, "_")).filter(Boolean);

/** v3 takes an ADF document; v2 (Data Center) plain text. */
const description = (s: Scope, body: string | null | undefined) =>
  s.mode === "dc" ? (body?.trim() ? body : null) : textToAdf(body);

export async function createIssue(
  conn: Connection,
  params: ConnectorParams,
  draft: IssueDraft,
): Promise<NormalizedIssue> {
  const s = scopeOf(conn, params);
  const fields: Record<string, unknown> = {
    project: { id: s.projectId },
    summary: draft.title,
    issuetype: { name: "Task" },
  };
  const desc = description(s, draft.body);
  if (desc !== null) fields.description = desc;
  if (draft.labels?.length) fields.labels = jiraLabels(draft.labels);
  const res = await jiraRequest<{ id?: unknown; key?: unknown }>(conn, {
    method: "POST",
    url: url(conn, s, "/issue"),
    json: { fields },
  });
  const id = res.body?.id;
  if (typeof id !== "string") throw malformed("create-issue response");
  if (draft.status && draft.status !== "todo") await transition(conn, s, id, draft.status);
  const created = await fetchIssue(conn, s, id);
  if (!created) throw malformed("issue after create");
  return created;
}

export async function updateIssue(
  conn: Connection,
  params: ConnectorParams,
  idOrKey: string,
  patch: IssuePatch,
): Promise<NormalizedIssue> {
  const s = scopeOf(conn, params);
  const current = await fetchIssue(conn, s, idOrKey);
  if (!current) throw new TrackerError("not_found", PROVIDER, "jira has no such issue in the mapped project");
  const id = current.ref.id;
  const fields: Record<string, unknown> = {};
  if (patch.title !== undefined) fields.summary = patch.title;
  if (patch.body !== undefined) fields.description = description(s, patch.body);
  if (patch.labels !== undefined) fields.labels = jiraLabels(patch.labels);
  if (Object.keys(fields).length > 0) {
    await jiraRequest(conn, {
      method: "PUT",
      url: url(conn, s, `/issue/${encodeURIComponent(id)}`),
      json: { fields },
    });
  }
  if (patch.status && patch.status !== current.status) await transition(conn, s, id, patch.status);
  const updated = await fetchIssue(conn, s, id);
  if (!updated) throw malformed("issue after update");
  return updated;
}

interface Transition {
  id: string;
  name?: string;
  to?: JiraStatus;
}

/** When the workflow has no status that maps exactly, the closest category still moves the issue. */
const FALLBACK_CATEGORY: Record<IssueStatus, string> = {
  todo: "new",
  in_progress: "indeterminate",
  in_review: "indeterminate",
  blocked: "indeterminate",
  done: "done",
  canceled: "done",
};

function pickTransition(transitions: Transition[], wanted: IssueStatus): Transition | undefined {
  return (
    transitions.find((t) => statusOf(t.to) === wanted) ??
    transitions.find((t) => t.to?.statusCategory?.key === FALLBACK_CATEGORY[wanted])
  );
}

async function transition(conn: Connection, s: Scope, issueId: string, wanted: IssueStatus): Promise<void> {
  const path = `/issue/${encodeURIComponent(issueId)}/transitions`;
  const res = await jiraRequest<{ transitions?: unknown }>(conn, { url: url(conn, s, path) });
  const list = res.body?.transitions;
  if (!Array.isArray(list)) throw malformed("transitions response");
  const chosen = pickTransition(list as Transition[], wanted);
  if (!chosen || typeof chosen.id !== "string") {
    throw new TrackerError(
      "invalid_request",
      PROVIDER,
      `jira workflow offers no transition to ${wanted} for this issue`,
    );
  }
  await jiraRequest(conn, {
    method: "POST",
    url: url(conn, s, path),
    json: { transition: { id: chosen.id } },
  });
}
