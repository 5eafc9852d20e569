import { createHash } from "node:crypto";
import type { SimCredential, SimIssue, SimIssueStatus, SimResource, SimStore } from "../core/store.ts";
import { GqlError, type GqlObject } from "./graphql.ts";

/**
 * The slice of Linear's schema the simulator serves, rendered from the provider-neutral store:
 * organization, teams (with workflow states, labels and issues), issue lookup by UUID or identifier,
 * issue connections with IssueFilter, searchIssues, and the issueCreate / issueUpdate /
 * issueLabelCreate mutations. Ids are UUIDs like Linear's; cursors are node ids as Linear's are.
 */

/** A stable UUID (v4 layout) derived from a seed string, for synthesised entities (states, labels, users). */
export function uuidFrom(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  const variant = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type WorkflowState = { name: string; type: string; color: string; status: SimIssueStatus };

/**
 * A team's workflow. Neutral status → the state an issue shows; the reverse mapping is used when a
 * client sets `stateId`. Backlog and Duplicate exist but no store status maps to them. Seeded teams use
 * a customised workflow with review and blocked states (like "How we work at Linear" in Linear's
 * "Workflows" docs); a team seeded with `"workflow": "default"` has the set a new team comes with:
 * "Backlog > Todo > In Progress > Done > Canceled" (https://linear.app/docs/configuring-workflows).
 */
const CUSTOMISED: WorkflowState[] = [
  { name: "Backlog", type: "backlog", color: "#bec2c8", status: "todo" },
  { name: "Todo", type: "unstarted", color: "#e2e2e2", status: "todo" },
  { name: "In Progress", type: "started", color: "#f2c94c", status: "in_progress" },
  { name: "In Review", type: "started", color: "#5e6ad2", status: "in_review" },
  { name: "Blocked", type: "started", color: "#eb5757", status: "blocked" },
  { name: "Done", type: "completed", color: "#5e6ad2", status: "done" },
  { name: "Canceled", type: "canceled", color: "#95a2b3", status: "canceled" },
  { name: "Duplicate", type: "canceled", color: "#95a2b3", status: "canceled" },
];
const DEFAULT_WORKFLOW = CUSTOMISED.filter((w) => !["In Review", "Blocked", "Duplicate"].includes(w.name));
const DEFAULT_STATE: Record<SimIssueStatus, string> = {
  todo: "Todo",
  in_progress: "In Progress",
  in_review: "In Review",
  blocked: "Blocked",
  done: "Done",
  canceled: "Canceled",
};
const PRIORITY_LABELS = ["No priority", "Urgent", "High", "Medium", "Low"];
const MAX_PAGE = 250;

export const notFound = (entity: string) =>
  new GqlError(
    `Entity not found: ${entity}`,
    "invalid input",
    "INVALID_INPUT",
    200,
    `Could not find referenced ${entity}.`,
  );
export const invalidInput = (message: string) =>
  new GqlError(message, "invalid input", "INVALID_INPUT", 200, message);

/** Simulator-only state that the neutral store does not model. */
export interface LinearSimState {
  store: SimStore;
  /** Public web origin used in `url` fields (`{web}/{urlKey}/issue/ENG-1/slug`). */
  webUrl: string;
  /** Labels created with issueLabelCreate per team (names seen on issues exist implicitly). */
  createdLabels: Map<string, Set<string>>;
  /**
   * Workspace labels per organization id: usable on every team's issues and not listed by
   * `team.labels` (Linear lists them with the root `issueLabels`). A name here wins over a team label.
   */
  workspaceLabels: Map<string, string[]>;
  /** The exact workflow state chosen for an issue, kept while it still matches the issue's status. */
  stateOverride: Map<string, string>;
  /** Teams seeded with Linear's default workflow (no In Review, no Blocked). */
  defaultWorkflowTeams: Set<string>;
  syncId: number;
}

export interface RequestContext {
  sim: LinearSimState;
  credential: SimCredential;
  /** Linear has one organization per credential. */
  orgId: string;
}

type Args = Record<string, unknown>;

// ---- filtering -------------------------------------------------------------------------------

/**
 * Applies a Linear filter object (`{ team: { id: { eq } }, title: { containsIgnoreCase } }`, with
 * `and`/`or`) to a flat view of an entity. Unknown comparators and fields never match silently:
 * they fail like Linear's input validation.
 */
function matches(filter: unknown, view: Record<string, unknown>): boolean {
  if (!filter || typeof filter !== "object") return true;
  for (const [key, cond] of Object.entries(filter as Record<string, unknown>)) {
    if (cond === null || cond === undefined) continue;
    if (key === "and") {
      if (!(cond as unknown[]).every((c) => matches(c, view))) return false;
      continue;
    }
    if (key === "or") {
      if (!(cond as unknown[]).some((c) => matches(c, view))) return false;
      continue;
    }
    if (!(key in view)) throw invalidInput(`Unsupported filter field: ${key}`);
    const value = view[key];
    // An absent relation (a workspace label's `team`) matches `{ null: true }` and no nested condition.
    if (value === null && Object.keys(cond as object).some((op) => !COMPARATORS.has(op))) return false;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const { null: wantNull, ...rest } = cond as Record<string, unknown>;
      if (wantNull === true) return false;
      if (!matches(rest, value as Record<string, unknown>)) return false;
    } else if (!compare(cond as Record<string, unknown>, value)) return false;
  }
  return true;
}

const COMPARATORS = new Set([
  "eq",
  "neq",
  "in",
  "nin",
  "null",
  "contains",
  "containsIgnoreCase",
  "eqIgnoreCase",
  "startsWith",
  "gt",
  "lt",
]);

function compare(cond: Record<string, unknown>, value: unknown): boolean {
  const s = (v: unknown) => String(v ?? "").toLowerCase();
  for (const [op, want] of Object.entries(cond)) {
    if (want === undefined) continue;
    const ok =
      op === "eq"
        ? value === want
        : op === "neq"
          ? value !== want
          : op === "in"
            ? (want as unknown[]).includes(value)
            : op === "nin"
              ? !(want as unknown[]).includes(value)
              : op === "null"
                ? (value === null) === want
                : op === "contains"
                  ? String(value ?? "").includes(String(want))
                  : op === "containsIgnoreCase"
                    ? s(value).includes(s(want))
                    : op === "eqIgnoreCase"
                      ? s(value) === s(want)
                      : op === "startsWith"
                        ? String(value ?? "").startsWith(String(want))
                        : op === "gt"
                          ? String(value) > String(want)
                          : op === "lt"
                            ? String(value) < String(want)
                            : undefined;
    if (ok === undefined) throw invalidInput(`Unsupported comparator: ${op}`);
    if (!ok) return false;
  }
  return true;
}

// ---- connections -----------------------------------------------------------------------------

/** Relay connection over `items`, cursors being node ids (as Linear's endCursor values are). */
function connection<T extends { id: string }>(
  typename: string,
  items: T[],
  args: Args,
  render: (item: T) => GqlObject,
): GqlObject {
  const first = Math.min(MAX_PAGE, Math.max(0, Number(args.first ?? 50)));
  let start = 0;
  if (typeof args.after === "string" && args.after !== "") {
    const at = items.findIndex((i) => i.id === args.after);
    if (at < 0) throw invalidInput("Invalid cursor: the `after` cursor does not match any node.");
    start = at + 1;
  }
  const page = items.slice(start, start + first);
  const nodes = page.map(render);
  return {
    __typename: `${typename}Connection`,
    nodes,
    edges: page.map((item, i) => ({ __typename: `${typename}Edge`, cursor: item.id, node: nodes[i] })),
    pageInfo: {
      __typename: "PageInfo",
      hasNextPage: start + first < items.length,
      hasPreviousPage: start > 0,
      startCursor: page[0]?.id ?? null,
      endCursor: page.at(-1)?.id ?? null,
    },
  };
}

/** `orderBy: createdAt` (default) keeps creation order; `updatedAt` lists the most recently updated first. */
function ordered<T extends { updated_at: string }>(items: T[], orderBy: unknown): T[] {
  if (orderBy !== "updatedAt") return items;
  return [...items].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
}

// ---- entities --------------------------------------------------------------------------------

export function identifierOf(team: SimResource, issue: SimIssue) {
  return `${team.key}-${issue.number}`;
}

function slugOf(title: string) {
  return (
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 60) || "issue"
  );
}

export function stateId(teamId: string, name: string) {
  return uuidFrom(`state:${teamId}:${name}`);
}

function labelId(teamId: string, name: string) {
  return uuidFrom(`label:${teamId}:${name.toLowerCase()}`);
}

function workspaceLabelId(orgId: string, name: string) {
  return uuidFrom(`label:workspace:${orgId}:${name.toLowerCase()}`);
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** A label as an issue or a listing sees it: a team's own label, or (team null) a workspace label. */
interface LabelRef {
  id: string;
  name: string;
  team: SimResource | null;
}

export function addTeamLabel(sim: LinearSimState, teamId: string, name: string) {
  const set = sim.createdLabels.get(teamId) ?? new Set<string>();
  set.add(name);
  sim.createdLabels.set(teamId, set);
}

export class LinearSchema {
  constructor(private readonly ctx: RequestContext) {}

  private get store() {
    return this.ctx.sim.store;
  }

  private org() {
    const ws = this.store.workspaces.get(this.ctx.orgId);
    if (!ws) throw notFound("Organization");
    return ws;
  }

  /** A team of the caller's organization, or Linear's entity-not-found error. */
  team(id: unknown): SimResource {
    const r = typeof id === "string" ? this.store.resources.get(id) : undefined;
    if (!r || r.workspace_id !== this.ctx.orgId || r.type !== "team") throw notFound("Team");
    return r;
  }

  private teams(): SimResource[] {
    return this.store.resourcesOf(this.ctx.orgId, "team");
  }

  /** By UUID or by identifier (`ENG-12`, matched case-insensitively against the current team key). */
  issue(id: unknown): SimIssue {
    if (typeof id !== "string") throw notFound("Issue");
    const byId = this.store.issues.get(id);
    if (byId && this.store.resources.get(byId.resource_id)?.workspace_id === this.ctx.orgId) return byId;
    const m = /^([A-Za-z0-9_]+)-(\d+)$/.exec(id);
    if (m) {
      const team = this.teams().find((t) => t.key?.toUpperCase() === m[1].toUpperCase());
      const issue = team?.issues.find((i) => i.number === Number(m[2]));
      if (issue) return issue;
    }
    throw notFound("Issue");
  }

  private orgIssues(): SimIssue[] {
    return this.teams().flatMap((t) => t.issues);
  }

  organizationObj(): GqlObject {
    const ws = this.org();
    return {
      __typename: "Organization",
      id: ws.id,
      name: ws.name,
      urlKey: ws.slug,
      logoUrl: null,
      createdAt: String(ws.details.created_at ?? "2024-01-01T00:00:00.000Z"),
      teams: (a: Args) => this.teamConnection(a),
    };
  }

  teamConnection(a: Args): GqlObject {
    let list = this.teams();
    if (a.includeArchived !== true) list = list.filter((t) => !t.archived);
    if (a.filter) list = list.filter((t) => matches(a.filter, this.teamView(t)));
    return connection("Team", ordered(list, a.orderBy), a, (t) => this.teamObj(t));
  }

  private teamView(t: SimResource): Record<string, unknown> {
    return { id: t.id, key: t.key, name: t.name, description: t.description, private: false };
  }

  teamObj(t: SimResource): GqlObject {
    const archivedAt = t.archived ? t.updated_at : null;
    return {
      __typename: "Team",
      id: t.id,
      key: t.key,
      name: t.name,
      displayName: t.name,
      description: t.description,
      private: false,
      icon: null,
      color: "#5e6ad2",
      timezone: "Etc/UTC",
      archivedAt,
      // A retired team keeps its history but takes no new issues: the simulator's "issues disabled".
      retiredAt: t.issues_disabled ? t.updated_at : null,
      createdAt: t.created_at,
      updatedAt: t.updated_at,
      issueCount: t.issues.length,
      organization: () => this.organizationObj(),
      states: (a: Args) =>
        connection(
          "WorkflowState",
          this.workflowOf(t).map((w) => ({ ...w, id: stateId(t.id, w.name) })),
          a,
          (w) => this.stateObj(t, w.name),
        ),
      labels: (a: Args) =>
        connection(
          "IssueLabel",
          this.labelNames(t).map((name) => this.teamLabel(t, name)),
          a,
          (l) => this.labelObj(l),
        ),
      issues: (a: Args) => this.issueConnection(t.issues, a),
    };
  }

  private stateObj(t: SimResource, name: string): GqlObject {
    const workflow = this.workflowOf(t);
    const idx = workflow.findIndex((w) => w.name === name);
    const w = workflow[idx];
    return {
      __typename: "WorkflowState",
      id: stateId(t.id, w.name),
      name: w.name,
      type: w.type,
      color: w.color,
      position: idx,
      description: null,
      team: () => this.teamObj(t),
    };
  }

  /** The team's own label names: created ones and names on its issues, minus workspace labels. */
  labelNames(t: SimResource): string[] {
    const names = new Map<string, string>();
    for (const n of this.ctx.sim.createdLabels.get(t.id) ?? []) names.set(n.toLowerCase(), n);
    for (const i of t.issues)
      for (const n of i.labels) if (!names.has(n.toLowerCase())) names.set(n.toLowerCase(), n);
    for (const n of this.workspaceLabelNames()) names.delete(n.toLowerCase());
    return [...names.values()];
  }

  private workspaceLabelNames(): string[] {
    return this.ctx.sim.workspaceLabels.get(this.ctx.orgId) ?? [];
  }

  private teamLabel(t: SimResource, name: string): LabelRef {
    return { id: labelId(t.id, name), name, team: t };
  }

  private workspaceLabel(name: string): LabelRef {
    return { id: workspaceLabelId(this.ctx.orgId, name), name, team: null };
  }

  /** What a label name on an issue of team `t` refers to: the workspace label of that name, else the team's. */
  private labelOnIssue(t: SimResource, name: string): LabelRef {
    const ws = this.workspaceLabelNames().find((n) => sameName(n, name));
    return ws ? this.workspaceLabel(ws) : this.teamLabel(t, name);
  }

  /** Every label of the organization: workspace labels first, then each team's. */
  private allLabels(): LabelRef[] {
    return [
      ...this.workspaceLabelNames().map((n) => this.workspaceLabel(n)),
      ...this.teams().flatMap((t) => this.labelNames(t).map((n) => this.teamLabel(t, n))),
    ];
  }

  private labelObj(l: LabelRef): GqlObject {
    const team = l.team;
    return {
      __typename: "IssueLabel",
      id: l.id,
      name: l.name,
      color: "#bec2c8",
      isGroup: false,
      team: team ? () => this.teamObj(team) : null,
    };
  }

  private labelConnection(a: Args): GqlObject {
    const view = (l: LabelRef) => ({
      id: l.id,
      name: l.name,
      isGroup: false,
      team: l.team ? { id: l.team.id, key: l.team.key, name: l.team.name } : null,
    });
    const list = this.allLabels().filter((l) => matches(a.filter, view(l)));
    return connection("IssueLabel", list, a, (l) => this.labelObj(l));
  }

  private userObj(name: string): GqlObject {
    const handle = name.toLowerCase().replace(/[^a-z0-9]+/g, ".");
    return {
      __typename: "User",
      id: uuidFrom(`user:${this.ctx.orgId}:${name}`),
      name,
      displayName: handle,
      email: `${handle}@example.com`,
      active: true,
    };
  }

  issueConnection(issues: SimIssue[], a: Args, typename = "Issue"): GqlObject {
    const list = a.filter ? issues.filter((i) => matches(a.filter, this.issueView(i))) : issues;
    return connection(typename, ordered(list, a.orderBy), a, (i) => this.issueObj(i, typename));
  }

  private issueView(i: SimIssue): Record<string, unknown> {
    const t = this.store.resource(i.resource_id);
    const state = this.stateOf(i);
    return {
      id: i.id,
      number: i.number,
      title: i.title,
      description: i.body,
      priority: i.priority,
      team: this.teamView(t),
      state: { id: stateId(t.id, state.name), name: state.name, type: state.type },
      createdAt: i.created_at,
      updatedAt: i.updated_at,
    };
  }

  private stateOf(i: SimIssue) {
    const workflow = this.workflowOf(this.store.resource(i.resource_id));
    const chosen = this.ctx.sim.stateOverride.get(i.id);
    const w = chosen ? workflow.find((s) => s.name === chosen && s.status === i.status) : undefined;
    // A status the team has no state for (review, blocked on a default workflow) shows as In Progress.
    return (
      w ??
      workflow.find((s) => s.name === DEFAULT_STATE[i.status]) ??
      (workflow.find((s) => s.name === DEFAULT_STATE.in_progress) as WorkflowState)
    );
  }

  issueObj(i: SimIssue, typename = "Issue"): GqlObject {
    const t = this.store.resource(i.resource_id);
    const ws = this.org();
    const identifier = identifierOf(t, i);
    const state = this.stateOf(i);
    return {
      __typename: typename,
      id: i.id,
      identifier,
      number: i.number,
      title: i.title,
      description: i.body,
      url: `${this.ctx.sim.webUrl}/${ws.slug}/issue/${identifier}/${slugOf(i.title)}`,
      branchName: `${identifier.toLowerCase()}-${slugOf(i.title)}`.slice(0, 80),
      priority: i.priority,
      priorityLabel: PRIORITY_LABELS[i.priority] ?? "No priority",
      estimate: null,
      dueDate: null,
      createdAt: i.created_at,
      updatedAt: i.updated_at,
      archivedAt: null,
      startedAt: state.type === "started" ? i.updated_at : null,
      completedAt: state.type === "completed" ? i.updated_at : null,
      canceledAt: state.type === "canceled" ? i.updated_at : null,
      trashed: false,
      previousIdentifiers: [],
      state: this.stateObj(t, state.name),
      team: () => this.teamObj(t),
      labels: (a: Args) =>
        connection(
          "IssueLabel",
          i.labels.map((name) => this.labelOnIssue(t, name)),
          a,
          (l) => this.labelObj(l),
        ),
      assignee: i.assignees[0] ? this.userObj(i.assignees[0]) : null,
      creator: null,
      parent: null,
      project: null,
      ...(typename === "IssueSearchResult" ? { metadata: {} } : {}),
    };
  }

  // ---- roots ---------------------------------------------------------------------------------

  query(): GqlObject {
    return {
      __typename: "Query",
      organization: () => this.organizationObj(),
      teams: (a: Args) => this.teamConnection(a),
      team: (a: Args) => this.teamObj(this.team(a.id)),
      issue: (a: Args) => this.issueObj(this.issue(a.id)),
      issues: (a: Args) => this.issueConnection(this.orgIssues(), a),
      searchIssues: (a: Args) => this.searchIssues(a),
      issueLabels: (a: Args) => this.labelConnection(a),
    };
  }

  /** Case-insensitive term match on identifier, title and description; title hits rank first. */
  private searchIssues(a: Args): GqlObject {
    const term = String(a.term ?? "")
      .trim()
      .toLowerCase();
    if (!term) throw invalidInput("term must not be empty");
    const scoped = this.orgIssues().filter((i) => matches(a.filter, this.issueView(i)));
    const score = (i: SimIssue) => {
      const t = this.store.resource(i.resource_id);
      if (identifierOf(t, i).toLowerCase() === term) return 3;
      if (i.title.toLowerCase().includes(term)) return 2;
      return (i.body ?? "").toLowerCase().includes(term) ? 1 : 0;
    };
    const hits = scoped
      .map((i, pos) => ({ i, s: score(i), pos }))
      .filter((h) => h.s > 0)
      .sort((x, y) => y.s - x.s || x.pos - y.pos)
      .map((h) => h.i);
    const conn = this.issueConnection(hits, { first: a.first, after: a.after }, "IssueSearchResult");
    return { ...conn, __typename: "IssueSearchPayload", totalCount: hits.length };
  }

  mutation(): GqlObject {
    return {
      __typename: "Mutation",
      issueCreate: (a: Args) => this.issueCreate((a.input ?? {}) as Args),
      issueUpdate: (a: Args) => this.issueUpdate(a.id, (a.input ?? {}) as Args),
      issueLabelCreate: (a: Args) => this.issueLabelCreate((a.input ?? {}) as Args),
    };
  }

  private payload(typename: string, field: string, value: GqlObject): GqlObject {
    return { __typename: typename, success: true, lastSyncId: ++this.ctx.sim.syncId, [field]: value };
  }

  private workflowOf(t: SimResource): WorkflowState[] {
    return this.ctx.sim.defaultWorkflowTeams.has(t.id) ? DEFAULT_WORKFLOW : CUSTOMISED;
  }

  /** State id of this team → neutral status, or Linear's error for a state of another team. */
  private statusForState(t: SimResource, id: unknown): { status: SimIssueStatus; name: string } {
    const w = this.workflowOf(t).find((s) => stateId(t.id, s.name) === id);
    if (!w) throw notFound("WorkflowState");
    return { status: w.status, name: w.name };
  }

  /** Label ids → names; an issue takes its own team's labels and workspace labels, never another team's. */
  private labelNamesFor(t: SimResource, ids: unknown): string[] {
    if (!Array.isArray(ids)) throw invalidInput("labelIds must be a list");
    const labels = this.allLabels();
    return ids.map((id) => {
      const label = labels.find((l) => l.id === id);
      if (!label) throw notFound("IssueLabel");
      if (label.team && label.team.id !== t.id) {
        throw invalidInput(`Label ${label.name} belongs to another team and cannot be added to this issue.`);
      }
      return label.name;
    });
  }

  private issueCreate(input: Args): GqlObject {
    const t = this.team(input.teamId);
    if (typeof input.title !== "string" || input.title.trim() === "") {
      throw invalidInput("Argument Validation Error: title must not be empty");
    }
    if (t.archived) throw invalidInput("Cannot create issues in an archived team.");
    if (t.issues_disabled) throw invalidInput("Cannot create issues in a retired team.");
    // Without a stateId an issue gets the team's default status: "By default, your first Backlog status
    // will be the default status" (https://linear.app/docs/configuring-workflows).
    const state =
      input.stateId !== undefined
        ? this.statusForState(t, input.stateId)
        : (this.workflowOf(t).find((w) => w.type === "backlog") ?? null);
    const issue = this.store.addIssue(t.id, {
      title: input.title,
      body: typeof input.description === "string" ? input.description : null,
      status: state?.status ?? "todo",
      labels: input.labelIds !== undefined ? this.labelNamesFor(t, input.labelIds) : [],
      priority: typeof input.priority === "number" ? input.priority : 0,
    });
    if (state) this.ctx.sim.stateOverride.set(issue.id, state.name);
    return this.payload("IssuePayload", "issue", this.issueObj(issue));
  }

  private issueUpdate(id: unknown, input: Args): GqlObject {
    const issue = this.issue(id);
    const t = this.store.resource(issue.resource_id);
    const state = input.stateId !== undefined ? this.statusForState(t, input.stateId) : null;
    this.store.updateIssue(issue.id, {
      title: typeof input.title === "string" ? input.title : undefined,
      body:
        input.description === null || typeof input.description === "string" ? input.description : undefined,
      status: state?.status,
      labels: input.labelIds !== undefined ? this.labelNamesFor(t, input.labelIds) : undefined,
      priority: typeof input.priority === "number" ? input.priority : undefined,
    });
    if (state) this.ctx.sim.stateOverride.set(issue.id, state.name);
    return this.payload("IssuePayload", "issue", this.issueObj(issue));
  }

  /**
   * A team label (`teamId`) or, without it, a workspace label. A name the workspace already has is
   * refused for a team too, so a workspace label is never shadowed by a team copy.
   */
  private issueLabelCreate(input: Args): GqlObject {
    const t = input.teamId === undefined || input.teamId === null ? null : this.team(input.teamId);
    const name = typeof input.name === "string" ? input.name.trim() : "";
    if (!name) throw invalidInput("Argument Validation Error: name must not be empty");
    const taken = t
      ? [...this.labelNames(t), ...this.workspaceLabelNames()]
      : this.allLabels().map((l) => l.name);
    if (taken.some((n) => sameName(n, name))) throw invalidInput("Duplicate label name");
    if (!t) {
      this.ctx.sim.workspaceLabels.set(this.ctx.orgId, [...this.workspaceLabelNames(), name]);
      return this.payload("IssueLabelPayload", "issueLabel", this.labelObj(this.workspaceLabel(name)));
    }
    addTeamLabel(this.ctx.sim, t.id, name);
    return this.payload("IssueLabelPayload", "issueLabel", this.labelObj(this.teamLabel(t, name)));
  }
}
