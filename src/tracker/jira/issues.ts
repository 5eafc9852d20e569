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
    issuetype: { id: await creatableType(conn, s) },
  };
  const desc = description(s, draft.body);
  if (desc !== null) fields.description = desc;
  if (draft.labels?.length) fields.labels = jiraLabels(draft.labels);
  // The marker is an issue entity property: stored with the issue, never shown in its fields.
  const properties = draft.marker ? [{ key: MARKER_PROPERTY, value: { marker: draft.marker } }] : undefined;
  const res = await jiraRequest<{ id?: unknown; key?: unknown }>(conn, {
    method: "POST",
    url: url(conn, s, "/issue"),
    json: { fields, ...(properties ? { properties } : {}) },
  });
  const id = res.body?.id;
  if (typeof id !== "string") throw malformed("create-issue response");
  if (draft.status && draft.status !== "todo") await transition(conn, s, id, draft.status, null);
  const created = await fetchIssue(conn, s, id);
  if (!created) throw malformed("issue after create");
  return created;
}

/** The issue entity property that holds a created issue's marker (core/marker.ts). */
const MARKER_PROPERTY = "spec-kitty";

/**
 * The project's newest issues with their marker property (`properties` of the search), newest first.
 * Jira's search reads its index, which takes a moment to see a new issue; the marker is looked for again
 * before the next create.
 */
export async function findByMarker(conn: Connection, params: ConnectorParams, marker: string) {
  const s = scopeOf(conn, params);
  const res = await jiraRequest<{ issues?: unknown }>(conn, {
    method: "POST",
    url: url(conn, s, s.mode === "dc" ? "/search" : "/search/jql"),
    idempotent: true,
    json: {
      jql: `project = ${s.projectId} ORDER BY created DESC`,
      maxResults: 50,
      fields: ["summary"],
      properties: [MARKER_PROPERTY],
    },
  });
  const issues = res.body?.issues;
  if (!Array.isArray(issues)) throw malformed("search response");
  const hit = issues.find(
    (i: { properties?: Record<string, { marker?: unknown }> }) =>
      i?.properties?.[MARKER_PROPERTY]?.marker === marker,
  ) as { id?: unknown } | undefined;
  return typeof hit?.id === "string" ? fetchIssue(conn, s, hit.id) : null;
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
  if (patch.status && patch.status !== current.status) {
    const m = current.provider_metadata;
    const from =
      typeof m.status_id === "string"
        ? { id: m.status_id, category: categoryOf({ statusCategory: { key: String(m.status_category) } }) }
        : null;
    await transition(conn, s, id, patch.status, from);
  }
  const updated = await fetchIssue(conn, s, id);
  if (!updated) throw malformed("issue after update");
  return updated;
}

/* ---- issue types ---- */

interface CreateMetaType {
  id?: unknown;
  name?: unknown;
  subtask?: unknown;
  hierarchyLevel?: unknown;
}

/**
 * Which issue type a work package becomes, from the project's own scheme (a service desk has no "Task").
 * Sub-tasks need a parent and are never chosen. Preference: Task, Story, Service Request, Request; then
 * the first other standard type in the scheme's order; bugs and incidents after that; an epic (hierarchy
 * level 1) only when nothing else exists.
 */
const PREFERRED = ["task", "story", "service request", "request"];
const LATE = /^(bug|defect|incident|problem)$/;

export function pickIssueType(types: CreateMetaType[]): string | null {
  const usable = types.filter(
    (t): t is { id: string; name: string; subtask?: unknown; hierarchyLevel?: unknown } =>
      typeof t.id === "string" && typeof t.name === "string" && t.subtask !== true,
  );
  const isEpic = (t: { name: string; hierarchyLevel?: unknown }) =>
    typeof t.hierarchyLevel === "number" ? t.hierarchyLevel > 0 : /^epic$/i.test(t.name);
  const rank = (t: { name: string; hierarchyLevel?: unknown }) => {
    const name = t.name.toLowerCase();
    const preferred = PREFERRED.indexOf(name);
    if (preferred >= 0) return preferred;
    if (isEpic(t)) return PREFERRED.length + 2;
    return LATE.test(name) ? PREFERRED.length + 1 : PREFERRED.length;
  };
  // A stable sort keeps the scheme's order within one rank.
  const best = [...usable].sort((a, b) => rank(a) - rank(b))[0];
  return best?.id ?? null;
}

const CREATEMETA_PAGE = 50;
const CREATEMETA_MAX_PAGES = 10;

/**
 * The project's creatable types from `GET /issue/createmeta/{project}/issuetypes` (Cloud: `issueTypes`;
 * Data Center 8.4+: `values` and `isLast`). The older `createmeta?projectIds=&expand=` is deprecated on
 * Cloud and gone from Data Center 9, so it is not used.
 */
async function creatableType(conn: Connection, s: Scope): Promise<string> {
  const types: CreateMetaType[] = [];
  for (let page = 0, startAt = 0; page < CREATEMETA_MAX_PAGES; page++) {
    const res = await jiraRequest<{
      issueTypes?: unknown;
      values?: unknown;
      total?: unknown;
      isLast?: unknown;
    }>(conn, {
      url: url(conn, s, `/issue/createmeta/${s.projectId}/issuetypes`, {
        startAt: String(startAt),
        maxResults: String(CREATEMETA_PAGE),
      }),
    });
    const list = res.body?.issueTypes ?? res.body?.values;
    if (!Array.isArray(list)) throw malformed("create metadata");
    types.push(...(list as CreateMetaType[]));
    startAt += list.length;
    const total = typeof res.body?.total === "number" ? res.body.total : null;
    if (list.length === 0 || res.body?.isLast === true || (total !== null && startAt >= total)) break;
  }
  const id = pickIssueType(types);
  if (!id) {
    const reason = "the project offers no issue type that can be created without a parent";
    throw new TrackerError("invalid_request", PROVIDER, `jira: ${reason}`, { reason });
  }
  return id;
}

/* ---- transitions ---- */

interface TransitionField {
  required?: boolean;
  hasDefaultValue?: boolean;
  name?: string;
  allowedValues?: { id?: string; name?: string }[];
}

interface Transition {
  id: string;
  name?: string;
  to?: JiraStatus;
  fields?: Record<string, TransitionField>;
}

type Category = "new" | "indeterminate" | "done";
const CATEGORY_ORDER: Category[] = ["new", "indeterminate", "done"];

/** The category a neutral status lives in. */
const CATEGORY_OF: Record<IssueStatus, Category> = {
  todo: "new",
  in_progress: "indeterminate",
  in_review: "indeterminate",
  blocked: "indeterminate",
  done: "done",
  canceled: "done",
};

const categoryOf = (s: JiraStatus | undefined): Category => {
  const key = s?.statusCategory?.key;
  return key === "done" || key === "indeterminate" ? key : "new";
};

/** Each hop is one request pair; real workflows reach any category within a few hops. */
const MAX_HOPS = 6;

/**
 * Moves the issue along the workflow. Jira only shows the transitions out of the current status (reading
 * the whole workflow needs admin rights), so each hop takes, in order: a transition to a status that maps
 * exactly to `wanted`; else one into the wanted category (`in_review` on a workflow without a review
 * status lands in In Progress); else a step to an unvisited status of the nearest category, never through
 * a done status unless done is where the issue is going. Required fields on the way are filled
 * (`fillFields`); a workflow that offers no way on is a clear refusal naming where the issue stands.
 */
async function transition(
  conn: Connection,
  s: Scope,
  issueId: string,
  wanted: IssueStatus,
  from: { id: string; category: Category } | null,
): Promise<void> {
  const path = `/issue/${encodeURIComponent(issueId)}/transitions`;
  const target = CATEGORY_OF[wanted];
  const visited = new Set<string>(from ? [from.id] : []);
  let hereCategory = from?.category ?? null;
  let here = "its current status";
  for (let n = 0; n < MAX_HOPS; n++) {
    const res = await jiraRequest<{ transitions?: unknown }>(conn, {
      url: url(conn, s, path, { expand: "transitions.fields" }),
    });
    const list = res.body?.transitions;
    if (!Array.isArray(list)) throw malformed("transitions response");
    const hop = nextHop(list as Transition[], wanted, visited, hereCategory);
    if (!hop.next) {
      if (hop.arrived) return;
      break;
    }
    const { next } = hop;
    await jiraRequest(conn, {
      method: "POST",
      url: url(conn, s, path),
      json: { transition: { id: next.id }, ...fillFields(next, wanted) },
    });
    if (hop.final) return;
    if (next.to?.id) visited.add(next.to.id);
    hereCategory = categoryOf(next.to);
    here = next.to?.name ?? here;
  }
  const reason = `the workflow offers no way from ${here} to a ${target === "new" ? "to do" : target} status for ${wanted}`;
  throw new TrackerError("invalid_request", PROVIDER, `jira: ${reason}`, { reason });
}

type Hop = { next: Transition; final: boolean } | { next: null; arrived: boolean };

function nextHop(list: Transition[], wanted: IssueStatus, visited: Set<string>, here: Category | null): Hop {
  const valid = list.filter((t) => typeof t?.id === "string");
  const exact = valid.find((t) => statusOf(t.to) === wanted);
  if (exact) return { next: exact, final: true };
  const target = CATEGORY_OF[wanted];
  // Already in the wanted category with no exact status one hop away: moving to a sibling gains nothing.
  // (Done and canceled differ by outcome, so a done issue going to canceled walks on through a reopen.)
  if (here === target && target !== "done") return { next: null, arrived: true };
  // Into the wanted category, but never into "canceled" for done (or "done" for canceled) by accident.
  const sameCategory = valid.find(
    (t) => categoryOf(t.to) === target && (target !== "done" || !isOtherEnd(t, wanted)),
  );
  if (sameCategory) return { next: sameCategory, final: true };
  const distance = (t: Transition) =>
    Math.abs(CATEGORY_ORDER.indexOf(categoryOf(t.to)) - CATEGORY_ORDER.indexOf(target));
  const steps = valid
    .filter((t) => !(t.to?.id && visited.has(t.to.id)) && categoryOf(t.to) !== "done")
    .sort((a, b) => distance(a) - distance(b));
  return steps[0] ? { next: steps[0], final: false } : { next: null, arrived: false };
}

/**
 * A done status that means the other outcome: Canceled when done is wanted. (A plain Done status can
 * still mean canceled through its resolution, Won't Do, so the reverse does not count.)
 */
const isOtherEnd = (t: Transition, wanted: IssueStatus) => wanted === "done" && statusOf(t.to) === "canceled";

const CANCEL_RESOLUTION = /won'?t|cancel|declin|reject|duplicate|obsolete/i;

/**
 * Values for the transition screen's required fields. Resolution: "Done" (or, going to canceled, a
 * won't-do kind) when the field offers it, else its first allowed value. Any other required field without
 * a default is something the service cannot know: a refusal that names it.
 */
function fillFields(t: Transition, wanted: IssueStatus): { fields?: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(t.fields ?? {})) {
    if (!f?.required || f.hasDefaultValue) continue;
    if (key === "resolution") {
      const values = (f.allowedValues ?? []).filter(
        (v) => typeof v?.id === "string" || typeof v?.name === "string",
      );
      const choice =
        (wanted === "canceled" ? values.find((v) => CANCEL_RESOLUTION.test(v.name ?? "")) : undefined) ??
        values.find((v) => (v.name ?? "").toLowerCase() === "done") ??
        values[0];
      if (choice) {
        fields.resolution = choice.id ? { id: choice.id } : { name: choice.name };
        continue;
      }
    }
    const reason = `the workflow transition "${t.name ?? t.id}" requires the field "${f.name ?? key}", which the service cannot fill`;
    throw new TrackerError("invalid_request", PROVIDER, `jira: ${reason}`, { reason });
  }
  return Object.keys(fields).length > 0 ? { fields } : {};
}
