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
import {
  adoRequest,
  adoUrl,
  invalid,
  isOrganizationMissing,
  malformed,
  organizationNameById,
  PROVIDER,
  serviceBase,
} from "./http.ts";
import { type ProjectProcess, projectProcess, stateFor, typeNamed, type WorkItemType } from "./process.ts";
import { isProject } from "./projects.ts";
import {
  asWorkItem,
  isWorkItem,
  parseTags,
  parseWorkItemId,
  statusOf,
  tagsFor,
  textToHtml,
  toIssue,
  type WorkItem,
  wiqlString,
} from "./work-items.ts";

/**
 * Work item operations inside one mapped project. Lists and text searches run WIQL in the project's
 * context (`@project`), then read the items in batches; single reads are org-wide in ADO, so they are
 * checked against the mapped project before anything is returned or changed.
 */

/** ADO reads at most 200 work items per batch call. */
const BATCH = 200;
/** Largest page we hand out; read in batches of 200. */
const MAX_PAGE = 1000;

interface Target {
  org: string;
  /** The organization's instance id (mappings made before it was recorded have none). */
  orgId: string | null;
  projectId: string;
  projectName: string;
}

function targetOf(params: ConnectorParams): Target {
  const { organization, organization_id, project_id, project_name } = params;
  if (typeof organization !== "string" || !organization || typeof project_id !== "string" || !project_id) {
    throw invalid("azure_devops issue calls need connector params organization and project_id");
  }
  const orgId = typeof organization_id === "string" && organization_id ? organization_id : null;
  return { org: organization, orgId, projectId: project_id, projectName: String(project_name ?? "") };
}

/**
 * Runs `fn` against the organization; when ADO says no organization has that name any more (it was
 * renamed), finds its current name by its immutable id and runs `fn` once more.
 */
async function inOrganization<T>(conn: Connection, t: Target, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!t.orgId || !isOrganizationMissing(err)) throw err;
    const current = await organizationNameById(conn, t.orgId);
    if (!current || current.toLowerCase() === t.org.toLowerCase()) throw err;
    t.org = current;
    return fn();
  }
}

function issueOf(conn: Connection, t: Target, wi: WorkItem, process: ProjectProcess): NormalizedIssue {
  const base = serviceBase(conn);
  return toIssue(wi, {
    process,
    workspace: t.org.toLowerCase(),
    webUrl: (id) =>
      `${base}/${encodeURIComponent(t.org)}/${encodeURIComponent(t.projectName || t.projectId)}/_workitems/edit/${id}`,
  });
}

/** Runs a WIQL query in the project's context and returns the work item ids in query order. */
async function wiqlIds(conn: Connection, t: Target, where: string[], orderBy: string, top: number) {
  const query = `SELECT [System.Id] FROM WorkItems WHERE ${where.join(" AND ")} ORDER BY ${orderBy}`;
  const res = await adoRequest<unknown>(conn, {
    method: "POST",
    url: adoUrl(conn, t.org, `/${encodeURIComponent(t.projectId)}/_apis/wit/wiql`, { $top: top }),
    idempotent: true,
    json: { query },
  });
  const items = (res.body as { workItems?: unknown } | null)?.workItems;
  if (!Array.isArray(items) || !items.every((w) => typeof (w as { id?: unknown })?.id === "number")) {
    throw malformed("WIQL result (expected workItems[])");
  }
  return items.map((w) => (w as { id: number }).id);
}

/** Reads work items by id, 200 per call; ids deleted meanwhile are skipped (`errorPolicy=omit`). */
async function readWorkItems(
  conn: Connection,
  t: Target,
  ids: number[],
  expand: "links" | "relations" = "links",
): Promise<WorkItem[]> {
  const out: WorkItem[] = [];
  for (let i = 0; i < ids.length; i += BATCH) {
    const res = await adoRequest<unknown>(conn, {
      url: adoUrl(conn, t.org, "/_apis/wit/workitems", {
        ids: ids.slice(i, i + BATCH).join(","),
        $expand: expand,
        errorPolicy: "omit",
      }),
    });
    const value = (res.body as { value?: unknown } | null)?.value;
    if (!Array.isArray(value)) throw malformed("work item batch (expected {count, value[]})");
    for (const wi of value) {
      if (wi === null) continue;
      out.push(asWorkItem(wi, "work item batch"));
    }
  }
  return out;
}

/**
 * Whether a work item lives in the mapped project. `System.TeamProject` holds the project *name*; when it
 * differs from the name we know, the project may have been renamed, so its current name is asked once.
 */
async function inProject(conn: Connection, t: Target, wi: WorkItem): Promise<boolean> {
  const actual = String(wi.fields["System.TeamProject"] ?? "").toLowerCase();
  if (!actual) return false;
  if (t.projectName && actual === t.projectName.toLowerCase()) return true;
  const res = await adoRequest<unknown>(conn, {
    url: adoUrl(conn, t.org, `/_apis/projects/${encodeURIComponent(t.projectId)}`),
    okStatuses: [404],
  });
  if (res.status === 404) return false;
  if (!isProject(res.body)) throw malformed("project");
  t.projectName = res.body.name;
  return actual === res.body.name.toLowerCase();
}

async function readInProject(conn: Connection, t: Target, id: number): Promise<WorkItem | null> {
  const res = await adoRequest<unknown>(conn, {
    url: adoUrl(conn, t.org, `/_apis/wit/workitems/${id}`, { $expand: "links" }),
    okStatuses: [404],
  });
  if (res.status === 404) return null;
  const wi = asWorkItem(res.body, "work item");
  return (await inProject(conn, t, wi)) ? wi : null;
}

/** The opaque list cursor: the last work item id of the previous page (keyset, stable under deletes). */
const encodeCursor = (afterId: number) =>
  Buffer.from(JSON.stringify({ after: afterId })).toString("base64url");

function decodeCursor(cursor: string | null | undefined): number {
  if (!cursor) return 0;
  try {
    const after = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))?.after;
    if (Number.isInteger(after) && after >= 0) return after;
  } catch {
    // fall through
  }
  throw invalid("azure_devops issue cursor is not one this adapter issued");
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.floor(n) || lo));

export async function listIssues(
  conn: Connection,
  params: ConnectorParams,
  opts: { cursor?: string | null; limit: number },
): Promise<IssuePage> {
  const t = targetOf(params);
  const after = decodeCursor(opts.cursor);
  const size = clamp(opts.limit, 1, MAX_PAGE);
  return inOrganization(conn, t, async () => {
    // Keyset paging (`[System.Id] > after`) instead of an offset: WIQL caps a result at 20,000 ids.
    const ids = await wiqlIds(
      conn,
      t,
      ["[System.TeamProject] = @project", `[System.Id] > ${after}`],
      "[System.Id]",
      size + 1,
    );
    const pageIds = ids.slice(0, size);
    const items = await readWorkItems(conn, t, pageIds);
    const process = await projectProcess(conn, t.org, t.projectId);
    return {
      issues: items.map((wi) => issueOf(conn, t, wi, process)),
      next_cursor: ids.length > size ? encodeCursor(pageIds[pageIds.length - 1]) : null,
    };
  });
}

/**
 * By key (`42`, `#42`, `AB#42`; a text that looks like one counts too), then by title text
 * (`[System.Title] CONTAINS`), most recently changed first. Key matches come first, without duplicates.
 */
export async function searchIssues(
  conn: Connection,
  params: ConnectorParams,
  query: { key?: string; text?: string; limit: number },
): Promise<NormalizedIssue[]> {
  const t = targetOf(params);
  const limit = clamp(query.limit, 1, BATCH);
  return inOrganization(conn, t, async () => {
    const found: WorkItem[] = [];
    const id = parseWorkItemId(query.key) ?? parseWorkItemId(query.text);
    if (id !== null) {
      const wi = await readInProject(conn, t, id);
      if (wi) found.push(wi);
    }
    const text = query.text?.trim();
    if (text && found.length < limit) {
      const ids = await wiqlIds(
        conn,
        t,
        ["[System.TeamProject] = @project", `[System.Title] CONTAINS ${wiqlString(text)}`],
        "[System.ChangedDate] DESC",
        limit,
      );
      const fresh = ids.filter((i) => !found.some((w) => w.id === i));
      found.push(...(await readWorkItems(conn, t, fresh)));
    }
    if (found.length === 0) return [];
    const process = await projectProcess(conn, t.org, t.projectId);
    return found.slice(0, limit).map((wi) => issueOf(conn, t, wi, process));
  });
}

export async function getIssue(
  conn: Connection,
  params: ConnectorParams,
  idOrKey: string,
): Promise<NormalizedIssue | null> {
  const t = targetOf(params);
  const id = parseWorkItemId(idOrKey);
  if (id === null) return null;
  return inOrganization(conn, t, async () => {
    const wi = await readInProject(conn, t, id);
    return wi ? issueOf(conn, t, wi, await projectProcess(conn, t.org, t.projectId)) : null;
  });
}

type PatchOp = { op: "add"; path: string; value: unknown };
const setField = (field: string, value: unknown): PatchOp => ({ op: "add", path: `/fields/${field}`, value });

/** The state for a status on a type, or a refusal that names the type and its states. */
function requireState(type: WorkItemType, status: IssueStatus): string {
  const state = stateFor(type, status);
  if (state) return state;
  throw invalid(
    `azure_devops work item type ${type.name} has no state for ${status} (its states: ${type.states.map((s) => s.name).join(", ")})`,
  );
}

/** Creates the process's backlog item (Issue on Basic, User Story on Agile, PBI on Scrum, Requirement on CMMI). */
export async function createIssue(
  conn: Connection,
  params: ConnectorParams,
  draft: IssueDraft,
): Promise<NormalizedIssue> {
  const t = targetOf(params);
  if (!draft.title?.trim()) throw invalid("azure_devops work items need a title");
  const status = draft.status ?? "todo";
  return inOrganization(conn, t, async () => {
    const process = await projectProcess(conn, t.org, t.projectId);
    const type = process.backlogType;
    const ops: PatchOp[] = [setField("System.Title", draft.title)];
    // The marker is a Hyperlink relation added with the create (a link, not text in the description).
    if (draft.marker)
      ops.push({
        op: "add",
        path: "/relations/-",
        value: { rel: "Hyperlink", url: markerUrl(draft.marker) },
      });
    if (draft.body) ops.push(setField("System.Description", textToHtml(draft.body)));
    const tags = tagsFor(draft.labels ?? [], status);
    if (tags) ops.push(setField("System.Tags", tags));
    // A new item starts in its type's first state; only another status writes one.
    const state = requireState(type, status);
    if (state !== type.states[0]?.name) ops.push(setField("System.State", state));
    const res = await adoRequest<unknown>(conn, {
      method: "POST",
      url: adoUrl(
        conn,
        t.org,
        `/${encodeURIComponent(t.projectId)}/_apis/wit/workitems/$${encodeURIComponent(type.name)}`,
      ),
      json: ops,
      jsonPatch: true,
    });
    return issueOf(conn, t, asWorkItem(res.body, "created work item"), process);
  });
}

/** The Hyperlink a created work item carries as its marker (core/marker.ts). */
const markerUrl = (marker: string) => `https://spec-kitty.invalid/marker/${encodeURIComponent(marker)}`;

/**
 * The project's 50 newest work items (WIQL by id, descending) read with their relations; the one whose
 * Hyperlink is the marker's.
 */
export async function findByMarker(conn: Connection, params: ConnectorParams, marker: string) {
  const t = targetOf(params);
  return inOrganization(conn, t, async () => {
    const ids = await wiqlIds(conn, t, ["[System.TeamProject] = @project"], "[System.Id] DESC", 50);
    const items = await readWorkItems(conn, t, ids, "relations");
    const url = markerUrl(marker);
    const hit = items.find((wi) =>
      ((wi as { relations?: unknown }).relations as { rel?: unknown; url?: unknown }[] | undefined)?.some?.(
        (r) => r?.rel === "Hyperlink" && r.url === url,
      ),
    );
    return hit ? issueOf(conn, t, hit, await projectProcess(conn, t.org, t.projectId)) : null;
  });
}

export async function updateIssue(
  conn: Connection,
  params: ConnectorParams,
  idOrKey: string,
  patch: IssuePatch,
): Promise<NormalizedIssue> {
  const t = targetOf(params);
  const id = parseWorkItemId(idOrKey);
  return inOrganization(conn, t, async () => {
    const current = id === null ? null : await readInProject(conn, t, id);
    if (!current) {
      throw new TrackerError(
        "not_found",
        PROVIDER,
        `azure_devops work item ${idOrKey} is not in the mapped project`,
      );
    }
    const process = await projectProcess(conn, t.org, t.projectId);
    const type = typeNamed(process, current.fields["System.WorkItemType"]);
    const ops = patchOps(current, type, patch);
    if (ops.length === 0) return issueOf(conn, t, current, process);
    const res = await adoRequest<unknown>(conn, {
      method: "PATCH",
      url: adoUrl(conn, t.org, `/_apis/wit/workitems/${current.id}`, { $expand: "links" }),
      json: ops,
      jsonPatch: true,
    });
    if (!isWorkItem(res.body)) throw malformed("updated work item");
    return issueOf(conn, t, res.body, process);
  });
}

/** JSON Patch for a change; labels and the Blocked marker share System.Tags, so both are rewritten together. */
function patchOps(current: WorkItem, type: WorkItemType | null, patch: IssuePatch): PatchOp[] {
  const ops: PatchOp[] = [];
  if (patch.title !== undefined) {
    if (!patch.title.trim()) throw invalid("azure_devops work items need a title");
    ops.push(setField("System.Title", patch.title));
  }
  if (patch.body !== undefined)
    ops.push(setField("System.Description", patch.body ? textToHtml(patch.body) : ""));
  const currentTags = parseTags(current.fields["System.Tags"]);
  const currentStatus: IssueStatus = statusOf(type, current.fields["System.State"], currentTags);
  const status = patch.status ?? currentStatus;
  // Only a real status change writes a state, so a custom state of the same category is left alone.
  if (status !== currentStatus) {
    if (!type) {
      throw invalid(
        `azure_devops work item type ${String(current.fields["System.WorkItemType"])} is not in the project's process`,
      );
    }
    const state = requireState(type, status);
    if (state !== current.fields["System.State"]) ops.push(setField("System.State", state));
  }
  if (patch.labels !== undefined || status !== currentStatus) {
    const tags = tagsFor(patch.labels ?? currentTags, status);
    if (tags !== tagsFor(currentTags, currentStatus) || patch.labels !== undefined) {
      ops.push(setField("System.Tags", tags));
    }
  }
  return ops;
}
