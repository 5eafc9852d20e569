import type {
  Connection,
  IssueDraft,
  IssuePage,
  IssuePatch,
  IssueStatus,
  NormalizedIssue,
  TrackerAdapter,
} from "../core/adapter.ts";
import type { BindableResource, ConnectorParams, Workspace } from "../core/descriptor.ts";
import { probing, TrackerError } from "../core/errors.ts";
import type { HttpResponse } from "../core/http.ts";
import { bodyWithMarker, carriesMarker } from "../core/marker.ts";
import { apiUrl, glPages, glRequest, instanceUrl, isGitlabNotFound, malformed, nextPageUrl } from "./http.ts";
import {
  checkGroup,
  checkIssue,
  checkProject,
  type GlGroup,
  type GlIssue,
  type GlProject,
  type GlUser,
  groupWorkspace,
  isStatusLabel,
  membershipWorkspace,
  STATUS_LABELS,
  statusOf,
  toIssue,
  toResource,
} from "./mapping.ts";

/**
 * GitLab (gitlab.com and self-managed), REST v4. `conn.base_url` is the instance URL; every call goes
 * under `/api/v4`. A workspace is a group (its numeric id, projects of all its subgroups included) or
 * `membership`: every project the token's user is a member of.
 */

const PER_PAGE = 100;
const MEMBERSHIP = "membership";

/** The group the admin scoped the connection to: `options.group_id` (id or full path) or `options.group_path`. */
const scopedGroup = (conn: Connection) =>
  conn.options?.group_id || conn.options?.group_path || conn.options?.group || null;

async function fetchGroup(conn: Connection, idOrPath: string): Promise<GlGroup | null> {
  const url = apiUrl(conn, `/groups/${encodeURIComponent(idOrPath)}`, { with_projects: "false" });
  const res = await glRequest<unknown>(conn, { url, okStatuses: [404] });
  if (res.status === 404 && !isGitlabNotFound(res.body))
    throw notGitlab("GET /api/v4/groups/:id answered 404");
  return res.status === 404 ? null : checkGroup(res.body);
}

const notGitlab = (evidence: string) =>
  new TrackerError("not_provider", "gitlab", `gitlab ${evidence} without GitLab's error body`);

/** Every GitLab has `/api/v4/groups` and answers it in JSON. */
const asGitlab = <T>(fn: () => Promise<T>) => probing("gitlab", fn);

async function listWorkspaces(conn: Connection): Promise<Workspace[]> {
  const base = instanceUrl(conn);
  const wanted = scopedGroup(conn);
  if (wanted) {
    const group = await asGitlab(() => fetchGroup(conn, wanted));
    if (!group)
      throw new TrackerError("not_found", "gitlab", `gitlab has no group ${wanted} visible to this token`);
    return [groupWorkspace(base, group)];
  }
  const workspaces: Workspace[] = [];
  const groupsUrl = apiUrl(conn, "/groups", {
    top_level_only: "true",
    min_access_level: 10,
    per_page: PER_PAGE,
  });
  await asGitlab(async () => {
    for await (const page of glPages<unknown>(conn, groupsUrl)) {
      for (const g of page) workspaces.push(groupWorkspace(base, checkGroup(g)));
    }
  });
  const user = (await glRequest<GlUser>(conn, { url: apiUrl(conn, "/user") })).body;
  if (!user || typeof user.username !== "string") throw malformed("user");
  workspaces.push(membershipWorkspace(base, user));
  return workspaces;
}

const isMembership = (ws: Workspace) => ws.id === MEMBERSHIP || ws.details.kind === MEMBERSHIP;

/** The membership workspace reads `/projects` with keyset paging (no offset cap). */
const membershipProjectsUrl = (conn: Connection) =>
  apiUrl(conn, "/projects", {
    membership: "true",
    pagination: "keyset",
    order_by: "id",
    sort: "asc",
    per_page: PER_PAGE,
  });

/** A group's projects, oldest id first; GitLab offers only offset paging here. */
const groupProjectsUrl = (conn: Connection, groupId: string, withSubgroups: boolean) =>
  apiUrl(conn, `/groups/${encodeURIComponent(groupId)}/projects`, {
    include_subgroups: String(withSubgroups),
    with_shared: "false",
    per_page: PER_PAGE,
    order_by: "id",
    sort: "asc",
  });

/** GitLab's answer past the instance's maximum offset for offset-paged project lists (405). */
class OffsetCapReached extends Error {}

/** Pages of a project list; the offset cap ends it with OffsetCapReached instead of a generic error. */
async function* projectPages(conn: Connection, firstUrl: string): AsyncGenerator<GlProject[]> {
  let url: string | null = firstUrl;
  while (url) {
    const res: HttpResponse<unknown> = await glRequest<unknown>(conn, { url, okStatuses: [405] });
    if (res.status === 405) {
      if (/maximum allowed offset/i.test(String((res.body as { error?: unknown })?.error ?? "")))
        throw new OffsetCapReached();
      throw new TrackerError("invalid_request", "gitlab", "gitlab GET project list answered 405");
    }
    if (!Array.isArray(res.body)) throw malformed("project list (expected a list)");
    yield res.body.map(checkProject);
    const next = nextPageUrl(conn, url, res.headers);
    url = next === url ? null : next;
  }
}

/**
 * A group's inventory. One listing with subgroups covers most groups; past GitLab's offset cap
 * (50,000 by default) the rest is read group by group (the group itself, then each descendant group),
 * keeping only ids beyond those already seen, since every listing is in id order. A single group with
 * more projects of its own than the cap cannot be listed completely: that pass ends truncated, saying so.
 */
async function* groupProjects(conn: Connection, ws: Workspace): AsyncGenerator<GlProject[]> {
  let lastId = 0;
  try {
    for await (const page of projectPages(conn, groupProjectsUrl(conn, ws.id, true))) {
      yield page;
      for (const p of page) lastId = Math.max(lastId, p.id);
    }
    return;
  } catch (err) {
    if (!(err instanceof OffsetCapReached)) throw err;
  }
  const groups: string[] = [ws.id];
  for await (const page of glPages<{ id?: unknown }>(
    conn,
    apiUrl(conn, `/groups/${encodeURIComponent(ws.id)}/descendant_groups`, { per_page: PER_PAGE }),
  ))
    for (const g of page) if (typeof g.id === "number") groups.push(String(g.id));
  for (const groupId of groups) {
    try {
      for await (const page of projectPages(conn, groupProjectsUrl(conn, groupId, false))) {
        const rest = page.filter((p) => p.id > lastId);
        if (rest.length) yield rest;
      }
    } catch (err) {
      if (!(err instanceof OffsetCapReached)) throw err;
      throw new TrackerError(
        "invalid_request",
        "gitlab",
        `gitlab group ${groupId} has more projects of its own than GitLab's offset paging reaches (its instance limit); the inventory is incomplete. An administrator can raise the instance limit, or connect the membership workspace, which pages by keyset`,
      );
    }
  }
}

async function* discover(conn: Connection, ws: Workspace) {
  const base = instanceUrl(conn);
  const pages = isMembership(ws)
    ? glPages<unknown>(conn, membershipProjectsUrl(conn))
    : groupProjects(conn, ws);
  for await (const page of pages) {
    yield { resources: page.map((p) => toResource(base, ws, checkProject(p))) };
  }
}

/** Whether a project belongs to the workspace: a member's project, or one under the group's current path. */
async function inWorkspace(conn: Connection, ws: Workspace, p: GlProject): Promise<boolean> {
  if (isMembership(ws)) {
    // Public projects are readable by anyone; `permissions` says whether the user is a member.
    return !p.permissions || Boolean(p.permissions.project_access || p.permissions.group_access);
  }
  const group = await fetchGroup(conn, ws.id); // its current path: groups can be renamed or moved
  if (!group) return false;
  return p.path_with_namespace.toLowerCase().startsWith(`${group.full_path.toLowerCase()}/`);
}

async function getResource(
  conn: Connection,
  ws: Workspace,
  nativeId: string,
): Promise<BindableResource | null> {
  if (!/^\d+$/.test(nativeId)) return null;
  const res = await glRequest<unknown>(conn, {
    url: apiUrl(conn, `/projects/${nativeId}`),
    okStatuses: [404],
  });
  if (res.status === 404) return null;
  const project = checkProject(res.body);
  return (await inWorkspace(conn, ws, project)) ? toResource(instanceUrl(conn), ws, project) : null;
}

// ---- issues -------------------------------------------------------------------------------------------

interface ProjectRef {
  /** As it goes into a path: the numeric id (or an encoded path). */
  id: string;
  raw: string;
  path: string;
}

function projectOf(params: ConnectorParams): ProjectRef {
  const id = params.project_id;
  if (id === null || id === undefined || id === "") {
    throw new TrackerError("invalid_request", "gitlab", "gitlab connector params have no project_id");
  }
  return {
    id: encodeURIComponent(String(id)),
    raw: String(id),
    path: String(params.path_with_namespace ?? ""),
  };
}

/** `#12`, `12` or `group/project#12` (GitLab's full reference). Bare numbers are iids, as in `/issues/:issue_iid`. */
export function parseIssueRef(idOrKey: string): { path: string | null; iid: number } | null {
  const m = idOrKey.trim().match(/^(?:(.+)#|#)?(\d+)$/);
  return m ? { path: m[1] ?? null, iid: Number(m[2]) } : null;
}

/**
 * The iid a reference names in this project, or null when it names another project. A full reference
 * with a different path may still be this project renamed or moved (either side may be stale), so GitLab
 * says which project that path is: the project itself, or a moved-permanently pointing at its id.
 */
async function iidIn(conn: Connection, project: ProjectRef, idOrKey: string): Promise<number | null> {
  const ref = parseIssueRef(idOrKey);
  if (!ref) return null;
  if (!ref.path || ref.path.toLowerCase() === project.path.toLowerCase()) return ref.iid;
  const url = apiUrl(conn, `/projects/${encodeURIComponent(ref.path)}`);
  const res = await glRequest<{ id?: unknown } | null>(conn, { url, okStatuses: [301, 302, 307, 308, 404] });
  if (res.status === 404) return null;
  const sameId =
    res.status >= 300
      ? (res.headers.get("location") ?? "").replace(/\/+$/, "").endsWith(`/projects/${project.raw}`)
      : String(res.body?.id) === project.raw;
  return sameId ? ref.iid : null;
}

const encodeCursor = (page: number) => Buffer.from(JSON.stringify({ page })).toString("base64url");

function decodeCursor(cursor: string | null | undefined): number {
  if (!cursor) return 1;
  try {
    const page = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")).page;
    if (Number.isInteger(page) && page > 0) return page;
  } catch {
    // falls through to the error below
  }
  throw new TrackerError("invalid_request", "gitlab", "gitlab issue cursor is not valid");
}

const perPage = (limit: number) => Math.min(PER_PAGE, Math.max(1, Math.floor(limit) || 20));

function issueList(body: unknown): GlIssue[] {
  if (!Array.isArray(body)) throw malformed("issue list");
  return body.map(checkIssue);
}

async function listIssues(
  conn: Connection,
  params: ConnectorParams,
  opts: { cursor?: string | null; limit: number },
): Promise<IssuePage> {
  const project = projectOf(params);
  // Oldest first, so issues created while paging land on later pages instead of shifting earlier ones.
  const url = apiUrl(conn, `/projects/${project.id}/issues`, {
    state: "all",
    order_by: "created_at",
    sort: "asc",
    per_page: perPage(opts.limit),
    page: decodeCursor(opts.cursor),
  });
  const res = await glRequest<unknown>(conn, { url });
  const issues = issueList(res.body).map((i) => toIssue(i, project.path));
  const next = nextPageUrl(conn, url, res.headers);
  const nextPage = next ? Number(new URL(next).searchParams.get("page")) : 0;
  return { issues, next_cursor: nextPage > 0 ? encodeCursor(nextPage) : null };
}

/** The newest issues, as listed (the list sees an issue at once, unlike a search index). */
async function findByMarker(conn: Connection, params: ConnectorParams, marker: string) {
  const project = projectOf(params);
  const url = apiUrl(conn, `/projects/${project.id}/issues`, {
    state: "all",
    order_by: "created_at",
    sort: "desc",
    per_page: 50,
  });
  const res = await glRequest<unknown>(conn, { url });
  const hit = issueList(res.body).find((i) => carriesMarker(i.description, marker));
  return hit ? toIssue(hit, project.path) : null;
}

async function searchIssues(
  conn: Connection,
  params: ConnectorParams,
  query: { key?: string; text?: string; limit: number },
): Promise<NormalizedIssue[]> {
  const project = projectOf(params);
  const search = async (q: Record<string, string | number>) => {
    const url = apiUrl(conn, `/projects/${project.id}/issues`, {
      state: "all",
      per_page: perPage(query.limit),
      ...q,
    });
    const res = await glRequest<unknown>(conn, { url });
    return issueList(res.body).map((i) => toIssue(i, project.path));
  };
  // A key match wins; the text search is the fallback when the key names nothing.
  const iid = query.key ? await iidIn(conn, project, query.key) : null;
  if (iid !== null) {
    const hits = await search({ "iids[]": iid });
    if (hits.length > 0 || !query.text) return hits;
  }
  if (query.text?.trim()) return search({ search: query.text.trim(), order_by: "updated_at", sort: "desc" });
  return [];
}

async function fetchIssue(
  conn: Connection,
  params: ConnectorParams,
  idOrKey: string,
): Promise<GlIssue | null> {
  const project = projectOf(params);
  const iid = await iidIn(conn, project, idOrKey);
  if (iid === null) return null;
  const url = apiUrl(conn, `/projects/${project.id}/issues/${iid}`);
  const res = await glRequest<unknown>(conn, { url, okStatuses: [404] });
  return res.status === 404 ? null : checkIssue(res.body);
}

const isClosedStatus = (s: IssueStatus) => s === "done" || s === "canceled";

/** User labels plus the one status label for `status` (any other status label dropped). */
function labelsFor(userLabels: string[], status: IssueStatus): string {
  const labels = userLabels.filter((l) => !isStatusLabel(l));
  const statusLabel = STATUS_LABELS[status];
  return (statusLabel ? [...labels, statusLabel] : labels).join(",");
}

async function putIssue(conn: Connection, projectId: string, iid: number, body: Record<string, unknown>) {
  const url = apiUrl(conn, `/projects/${projectId}/issues/${iid}`);
  return checkIssue((await glRequest<unknown>(conn, { method: "PUT", url, json: body })).body);
}

async function createIssue(conn: Connection, params: ConnectorParams, draft: IssueDraft) {
  const project = projectOf(params);
  const status = draft.status ?? "todo";
  const url = apiUrl(conn, `/projects/${project.id}/issues`);
  const body = {
    title: draft.title,
    description: bodyWithMarker(draft.body, draft.marker),
    labels: labelsFor(draft.labels ?? [], status),
  };
  let issue = checkIssue((await glRequest<unknown>(conn, { method: "POST", url, json: body })).body);
  // GitLab creates issues open; a closed status takes a second call.
  if (isClosedStatus(status)) issue = await putIssue(conn, project.id, issue.iid, { state_event: "close" });
  return toIssue(issue, project.path);
}

async function updateIssue(conn: Connection, params: ConnectorParams, idOrKey: string, patch: IssuePatch) {
  const project = projectOf(params);
  const current = await fetchIssue(conn, params, idOrKey);
  if (!current)
    throw new TrackerError("not_found", "gitlab", `gitlab has no issue ${idOrKey} in this project`);
  const body: Record<string, unknown> = {};
  if (patch.title !== undefined) body.title = patch.title;
  if (patch.body !== undefined) body.description = patch.body ?? "";
  if (patch.labels !== undefined || patch.status !== undefined) {
    const status = patch.status ?? statusOf(current.state, current.labels);
    body.labels = labelsFor(patch.labels ?? current.labels, status);
    if (isClosedStatus(status) && current.state === "opened") body.state_event = "close";
    if (!isClosedStatus(status) && current.state === "closed") body.state_event = "reopen";
  }
  if (Object.keys(body).length === 0) return toIssue(current, project.path);
  return toIssue(await putIssue(conn, project.id, current.iid, body), project.path);
}

export const gitlabAdapter: TrackerAdapter = {
  provider: "gitlab",
  connectorParams: (r) => ({
    base_url: String(r.base_url),
    project_id: r.project_id as number | string,
    path_with_namespace: String(r.path_with_namespace),
  }),
  listWorkspaces,
  discover,
  getResource,
  listIssues,
  searchIssues,
  async getIssue(conn, params, idOrKey) {
    const issue = await fetchIssue(conn, params, idOrKey);
    return issue ? toIssue(issue, projectOf(params).path) : null;
  },
  createIssue,
  findByMarker,
  updateIssue,
};
