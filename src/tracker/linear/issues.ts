import type {
  Connection,
  IssueDraft,
  IssuePage,
  IssuePatch,
  IssueStatus,
  NormalizedIssue,
} from "../core/adapter.ts";
import { connectionCache } from "../core/connection-cache.ts";
import type { ConnectorParams } from "../core/descriptor.ts";
import { TrackerError } from "../core/errors.ts";
import { bodyWithMarker, carriesMarker, markerComment, withoutMarker } from "../core/marker.ts";
import { gql, gqlNode, need, PROVIDER } from "./graphql.ts";

/**
 * Issue operations on one Linear team (connector params `team_id`, `organization_id`).
 *
 * Status mapping, by workflow state type (Linear's fixed categories; state names are per team):
 *   triage, backlog, unstarted  → todo
 *   started                     → in_progress; in_review when the state's name mentions "review";
 *                                 blocked when it mentions "block"
 *   completed                   → done
 *   canceled (incl. Duplicate)  → canceled
 * Setting a status picks the team's state of the matching type with the lowest position (for todo an
 * `unstarted` state before `backlog`; for in_review / blocked a started state named so, else the
 * plain in-progress state; for canceled a state not named "Duplicate" first).
 *
 * Linear has no issue types: `issue_type` comes from labels (Bug, Epic, Feature/Story, Chore) or a
 * parent issue (subtask), else `task`. `priority` is Linear's own 0–4 scale (0 none, 1 urgent … 4 low).
 */

const MAX_PAGE = 100;

const ISSUE_FIELDS = `id identifier number title description url priority priorityLabel branchName createdAt updatedAt
  state { id name type }
  team { id key }
  labels(first: 20) { nodes { name } }
  assignee { id name displayName }
  parent { id identifier }
  project { id name }`;

const ISSUES_QUERY = `query SpecKittyIssues($teamId: String!, $first: Int!, $after: String) {
  team(id: $teamId) {
    issues(first: $first, after: $after, orderBy: createdAt) {
      nodes { ${ISSUE_FIELDS} }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const ISSUE_QUERY = `query SpecKittyIssue($id: String!) { issue(id: $id) { ${ISSUE_FIELDS} } }`;

// `teamId` would only boost ranking; the filter is what keeps results inside the bound team.
const SEARCH_QUERY = `query SpecKittySearchIssues($term: String!, $first: Int!, $filter: IssueFilter) {
  searchIssues(term: $term, first: $first, filter: $filter) { nodes { ${ISSUE_FIELDS} } }
}`;

const STATES_QUERY = `query SpecKittyTeamStates($teamId: String!) {
  team(id: $teamId) { states(first: 100) { nodes { id name type position } } }
}`;

/** A team's labels together with the workspace's (`team: null`), which `team.labels` does not list. */
const LABELS_QUERY = `query SpecKittyLabels($filter: IssueLabelFilter, $after: String) {
  issueLabels(first: 250, after: $after, filter: $filter) {
    nodes { id name team { id } } pageInfo { hasNextPage endCursor }
  }
}`;

/** Enough pages for 10,000 labels; a workspace with more is refused rather than read forever. */
const MAX_LABEL_PAGES = 40;

const LABEL_CREATE = `mutation SpecKittyLabelCreate($input: IssueLabelCreateInput!) {
  issueLabelCreate(input: $input) { success issueLabel { id name } }
}`;

const ISSUE_CREATE = `mutation SpecKittyIssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { ${ISSUE_FIELDS} } }
}`;

const ISSUE_UPDATE = `mutation SpecKittyIssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { ${ISSUE_FIELDS} } }
}`;

interface StateNode {
  id: string;
  name: string;
  type: string;
  position?: number;
}

interface IssueNode {
  id: string;
  identifier: string;
  number: number;
  title: string;
  description: string | null;
  url: string | null;
  priority: number | null;
  priorityLabel: string | null;
  branchName: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  state: StateNode | null;
  team: { id: string; key: string } | null;
  labels: { nodes: { name: string }[] } | null;
  assignee: { id: string; name: string; displayName: string | null } | null;
  parent: { id: string; identifier: string } | null;
  project: { id: string; name: string } | null;
}

type Params = ConnectorParams;

function teamIdOf(params: Params): string {
  const id = params.team_id;
  if (typeof id !== "string" || id === "") {
    throw new TrackerError("invalid_request", PROVIDER, "linear connector params carry no team_id");
  }
  return id;
}

const isIssue = (i: IssueNode) => typeof i?.id === "string" && typeof i.identifier === "string";

export function statusOf(state: Pick<StateNode, "name" | "type"> | null): IssueStatus {
  switch (state?.type) {
    case "started":
      if (/review/i.test(state.name)) return "in_review";
      if (/block/i.test(state.name)) return "blocked";
      return "in_progress";
    case "completed":
      return "done";
    case "canceled":
      return "canceled";
    default:
      return "todo"; // triage, backlog, unstarted
  }
}

function issueTypeOf(labels: string[], hasParent: boolean): NormalizedIssue["issue_type"] {
  const names = labels.map((l) => l.toLowerCase());
  if (names.includes("bug")) return "bug";
  if (names.includes("epic")) return "epic";
  if (names.includes("feature") || names.includes("story")) return "story";
  if (names.includes("chore")) return "chore";
  return hasParent ? "subtask" : "task";
}

function normalize(issue: IssueNode, params: Params): NormalizedIssue {
  const labels = (issue.labels?.nodes ?? []).map((l) => l.name);
  return {
    ref: {
      system: PROVIDER,
      id: issue.id,
      workspace: String(params.organization_id ?? ""),
      key: issue.identifier,
      url: issue.url ?? null,
    },
    title: issue.title,
    body: withoutMarker(issue.description ?? null),
    status: statusOf(issue.state),
    issue_type: issueTypeOf(labels, Boolean(issue.parent)),
    priority: typeof issue.priority === "number" ? Math.min(4, Math.max(0, issue.priority)) : 0,
    assignees: issue.assignee ? [issue.assignee.name || issue.assignee.displayName || issue.assignee.id] : [],
    labels,
    created_at: issue.createdAt ?? null,
    updated_at: issue.updatedAt ?? null,
    provider_metadata: {
      identifier: issue.identifier,
      number: issue.number,
      team_id: issue.team?.id ?? null,
      team_key: issue.team?.key ?? null,
      state: issue.state ? { id: issue.state.id, name: issue.state.name, type: issue.state.type } : null,
      priority_label: issue.priorityLabel ?? null,
      branch_name: issue.branchName ?? null,
      parent_identifier: issue.parent?.identifier ?? null,
      project: issue.project ? { id: issue.project.id, name: issue.project.name } : null,
    },
  };
}

/** The issue by UUID or identifier, only if it belongs to the bound team. */
async function fetchIssue(conn: Connection, params: Params, idOrKey: string): Promise<IssueNode | null> {
  const issue = await gqlNode<IssueNode>(conn, ISSUE_QUERY, idOrKey, "issue", isIssue);
  return issue && issue.team?.id === teamIdOf(params) ? issue : null;
}

export async function listIssues(
  conn: Connection,
  params: Params,
  opts: { cursor?: string | null; limit: number },
): Promise<IssuePage> {
  const first = Math.max(1, Math.min(MAX_PAGE, opts.limit));
  const data = await gql<{
    team: { issues: { nodes: IssueNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
  }>(conn, ISSUES_QUERY, { teamId: teamIdOf(params), first, after: opts.cursor ?? null });
  const issues = need(data?.team?.issues, "team.issues", (c) => Array.isArray(c.nodes));
  return {
    issues: issues.nodes.map((i) => normalize(need(i, "issues.nodes[]", isIssue), params)),
    next_cursor: issues.pageInfo?.hasNextPage ? need(issues.pageInfo.endCursor, "pageInfo.endCursor") : null,
  };
}

/** A key (`ENG-12`) is looked up exactly and wins; otherwise (or when it finds nothing) full-text search. */
export async function searchIssues(
  conn: Connection,
  params: Params,
  query: { key?: string; text?: string; limit: number },
): Promise<NormalizedIssue[]> {
  if (query.key) {
    const hit = await fetchIssue(conn, params, query.key.trim());
    if (hit) return [normalize(hit, params)];
  }
  const term = query.text?.trim();
  if (!term) return [];
  const data = await gql<{ searchIssues: { nodes: IssueNode[] } }>(conn, SEARCH_QUERY, {
    term,
    first: Math.max(1, Math.min(MAX_PAGE, query.limit)),
    filter: { team: { id: { eq: teamIdOf(params) } } },
  });
  const nodes = need(data?.searchIssues?.nodes, "searchIssues.nodes", Array.isArray);
  return nodes.map((i) => normalize(need(i, "searchIssues.nodes[]", isIssue), params));
}

const MARKED_QUERY = `query SpecKittyMarked($teamId: String!, $marker: String!) {
  team(id: $teamId) {
    issues(first: 5, filter: { description: { contains: $marker } }) { nodes { ${ISSUE_FIELDS} } }
  }
}`;

/** Linear filters on the stored description directly (no search index between). */
export async function findByMarker(conn: Connection, params: Params, marker: string) {
  const data = await gql<{ team: { issues: { nodes: IssueNode[] } } }>(conn, MARKED_QUERY, {
    teamId: teamIdOf(params),
    marker: markerComment(marker),
  });
  const nodes = need(data?.team?.issues?.nodes, "team.issues.nodes", Array.isArray);
  const hit = nodes.find((i) => carriesMarker(i.description, marker));
  return hit ? normalize(need(hit, "issues.nodes[]", isIssue), params) : null;
}

export async function getIssue(
  conn: Connection,
  params: Params,
  idOrKey: string,
): Promise<NormalizedIssue | null> {
  const issue = await fetchIssue(conn, params, idOrKey);
  return issue ? normalize(issue, params) : null;
}

async function teamStates(conn: Connection, teamId: string): Promise<StateNode[]> {
  const data = await gql<{ team: { states: { nodes: StateNode[] } } }>(conn, STATES_QUERY, { teamId });
  return need(data?.team?.states?.nodes, "team.states.nodes", Array.isArray);
}

/** The team's workflow state for a neutral status (see the mapping at the top of this file). */
export function pickState(states: StateNode[], status: IssueStatus): StateNode | null {
  const byPosition = [...states].sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  const ofType = (type: string) => byPosition.filter((s) => s.type === type);
  const started = ofType("started");
  const plainStarted = started.find((s) => statusOf(s) === "in_progress") ?? started[0] ?? null;
  switch (status) {
    case "todo":
      return ofType("unstarted")[0] ?? ofType("backlog")[0] ?? null;
    case "in_progress":
      return plainStarted;
    case "in_review":
    case "blocked":
      return started.find((s) => statusOf(s) === status) ?? plainStarted;
    case "done":
      return ofType("completed")[0] ?? null;
    case "canceled": {
      const canceled = ofType("canceled");
      return canceled.find((s) => !/duplicate/i.test(s.name)) ?? canceled[0] ?? null;
    }
  }
}

async function stateIdFor(conn: Connection, teamId: string, status: IssueStatus): Promise<string> {
  const state = pickState(await teamStates(conn, teamId), status);
  if (!state) {
    throw new TrackerError(
      "invalid_request",
      PROVIDER,
      `linear team has no workflow state for status ${status}`,
    );
  }
  return state.id;
}

interface LabelNode {
  id: string;
  name: string;
  team: { id: string } | null;
}

interface LabelPage {
  issueLabels: { nodes: LabelNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** Every label an issue of this team may carry: the team's own and the workspace's, all pages. */
async function labelsUsableBy(conn: Connection, teamId: string): Promise<LabelNode[]> {
  const filter = { or: [{ team: { id: { eq: teamId } } }, { team: { null: true } }] };
  const labels: LabelNode[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_LABEL_PAGES; page++) {
    const data: LabelPage | null = await gql<LabelPage>(conn, LABELS_QUERY, { filter, after });
    const list: LabelPage["issueLabels"] = need(data?.issueLabels, "issueLabels", (l) =>
      Array.isArray(l.nodes),
    );
    labels.push(...list.nodes);
    if (!list.pageInfo?.hasNextPage) return labels;
    after = need(list.pageInfo.endCursor, "issueLabels.pageInfo.endCursor");
  }
  throw new TrackerError(
    "invalid_request",
    PROVIDER,
    `linear workspace has more than ${MAX_LABEL_PAGES * 250} labels; remove unused labels and retry`,
  );
}

const teamLabels = connectionCache<LabelNode[]>();

/**
 * Label names → label ids: the team's label of that name, else the workspace's, else a new team label.
 * Reading workspace labels too keeps a workspace "Bug" from gaining a duplicate team "Bug".
 */
async function labelIdsFor(conn: Connection, teamId: string, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  // Shared by the items of one batch; labels created below are added to it, so the next item sees them.
  const existing = await teamLabels(conn, teamId, () => labelsUsableBy(conn, teamId));
  const byName = (name: string, own: boolean) =>
    existing.find((l) => l.name.toLowerCase() === name.toLowerCase() && (l.team !== null) === own);
  const ids: string[] = [];
  for (const name of names) {
    const found = byName(name, true) ?? byName(name, false);
    if (found) {
      ids.push(found.id);
      continue;
    }
    const created = await gql<{
      issueLabelCreate: { success: boolean; issueLabel: { id: string; name: string } };
    }>(conn, LABEL_CREATE, { input: { name, teamId } });
    const label = need(created?.issueLabelCreate?.issueLabel, "issueLabelCreate.issueLabel");
    existing.push({ ...label, team: { id: teamId } });
    ids.push(label.id);
  }
  return ids;
}

function payloadIssue(
  payload: { success: boolean; issue: IssueNode | null } | undefined,
  what: string,
): IssueNode {
  if (payload && payload.success === false) {
    throw new TrackerError("invalid_request", PROVIDER, `linear ${what} did not succeed`);
  }
  return need(payload?.issue, `${what}.issue`, isIssue);
}

export async function createIssue(
  conn: Connection,
  params: Params,
  draft: IssueDraft,
): Promise<NormalizedIssue> {
  const teamId = teamIdOf(params);
  const input: Record<string, unknown> = { teamId, title: draft.title };
  const description = bodyWithMarker(draft.body, draft.marker);
  if (description !== undefined) input.description = description;
  if (draft.status) input.stateId = await stateIdFor(conn, teamId, draft.status);
  if (draft.labels?.length) input.labelIds = await labelIdsFor(conn, teamId, draft.labels);
  const data = await gql<{ issueCreate: { success: boolean; issue: IssueNode | null } }>(conn, ISSUE_CREATE, {
    input,
  });
  return normalize(payloadIssue(data?.issueCreate, "issueCreate"), params);
}

export async function updateIssue(
  conn: Connection,
  params: Params,
  idOrKey: string,
  patch: IssuePatch,
): Promise<NormalizedIssue> {
  const teamId = teamIdOf(params);
  // Resolve first: the id must name an issue of the bound team, not just any issue the token can see.
  const current = await fetchIssue(conn, params, idOrKey);
  if (!current) {
    throw new TrackerError("not_found", PROVIDER, "linear issue not found in the bound team", {
      status: 404,
    });
  }
  const input: Record<string, unknown> = {};
  if (patch.title !== undefined) input.title = patch.title;
  if (patch.body !== undefined) input.description = patch.body;
  if (patch.status !== undefined && patch.status !== statusOf(current.state)) {
    input.stateId = await stateIdFor(conn, teamId, patch.status);
  }
  if (patch.labels !== undefined) input.labelIds = await labelIdsFor(conn, teamId, patch.labels);
  if (Object.keys(input).length === 0) return normalize(current, params);
  const data = await gql<{ issueUpdate: { success: boolean; issue: IssueNode | null } }>(conn, ISSUE_UPDATE, {
    id: current.id,
    input,
  });
  return normalize(payloadIssue(data?.issueUpdate, "issueUpdate"), params);
}
