import { readFileSync } from "node:fs";
import type { SimRouter } from "./server.ts";

/**
 * The provider-neutral state every simulator renders in its own wire format: workspaces, bindable
 * resources with their issues, and credentials. One control API (`/_sim/...`) changes it the same way
 * for every provider, so tests and the demo can rename, archive, delete and revoke without knowing a
 * provider's shapes.
 */

export type SimIssueStatus = "todo" | "in_progress" | "in_review" | "blocked" | "done" | "canceled";

export interface SimIssue {
  /** Provider-native immutable id (numeric string or UUID, per provider). */
  id: string;
  /** Per-resource sequence: GitHub/GitLab issue number, Jira key suffix, Linear identifier number. */
  number: number;
  resource_id: string;
  title: string;
  body: string | null;
  status: SimIssueStatus;
  labels: string[];
  assignees: string[];
  issue_type: "epic" | "story" | "task" | "bug" | "chore" | "subtask";
  priority: number;
  created_at: string;
  updated_at: string;
}

export interface SimResource {
  /** Provider-native immutable id (repo id, project id, team id, project GUID). */
  id: string;
  workspace_id: string;
  /** `repository`, `project`, `team`, ... */
  type: string;
  name: string;
  /** Jira project key, Linear team key; null where the provider has none. */
  key: string | null;
  /** GitHub `owner/name`, GitLab `group/sub/project`; null where the provider has none. */
  path: string | null;
  description: string | null;
  archived: boolean;
  issues_disabled: boolean;
  created_at: string;
  updated_at: string;
  issues: SimIssue[];
  next_issue_number: number;
}

/** A change to a resource, as the simulators' webhook emitters hear it (before: the resource as it was). */
export type ResourceChange =
  | { type: "created"; resource: SimResource }
  | { type: "updated"; resource: SimResource; before: SimResource }
  | { type: "deleted"; resource: SimResource };

export interface SimWorkspace {
  /** Immutable id: GitHub installation id, GitLab group id, Jira cloud id, Linear org id, ADO org name. */
  id: string;
  name: string;
  /** URL-friendly name: GitHub account login, GitLab group path, Jira site name, Linear url key, ADO org. */
  slug: string;
  details: Record<string, string | number | boolean | null>;
}

export interface SimCredential {
  token: string;
  /** Workspaces this credential reaches. */
  workspaces: string[];
  revoked: boolean;
  /** Epoch ms; null = never expires. */
  expires_at: number | null;
  /** Free-form: `oauth_access`, `oauth_refresh`, `pat`, `api_key`, `installation_token`, ... */
  kind: string;
  /** For refresh tokens: the access token family it renews. */
  meta?: Record<string, string>;
  /** Scopes the token was created with, where the provider has them (GitLab); absent = every scope. */
  scopes?: string[];
}

export interface SeedFile {
  workspaces: (SimWorkspace & {
    resources?: (Partial<Omit<SimResource, "issues">> & {
      name: string;
      issues?: (Partial<SimIssue> & { title: string })[];
    })[];
    /** Generated resources on top of the named ones. */
    generated?: number;
  })[];
  credentials?: Omit<SimCredential, "revoked">[];
}

export interface StoreOptions {
  /** How provider-native ids are minted for new resources and issues. */
  newResourceId(seq: number): string;
  newIssueId(seq: number): string;
  /** Default resource type for created resources. */
  resourceType: string;
  /** Builds `path` for a created resource that gave none (e.g. `acme/name`). */
  defaultPath?(workspace: SimWorkspace, name: string): string | null;
  /** Builds `key` for a created resource that gave none (e.g. Jira `PAY`). */
  defaultKey?(name: string, seq: number): string | null;
  /** Generated filler resources are named `<prefix>-00001`, ... (default `service`). */
  generatedPrefix?: string;
}

const now = () => new Date().toISOString();

export class SimStore {
  readonly workspaces = new Map<string, SimWorkspace>();
  /** Insertion order is the provider's listing order (by id ascending for numeric ids). */
  readonly resources = new Map<string, SimResource>();
  readonly issues = new Map<string, SimIssue>();
  readonly credentials = new Map<string, SimCredential>();
  /** Overrides the provider's OAuth access-token lifetime (tests of renewal before expiry). */
  accessTokenTtlSeconds: number | null = null;
  private resourceSeq = 0;
  private issueSeq = 0;
  private readonly listeners: ((change: ResourceChange) => void)[] = [];

  /** Calls `fn` after every resource change (the webhook emitters); seeding happens before anyone listens. */
  onResourceChange(fn: (change: ResourceChange) => void) {
    this.listeners.push(fn);
  }

  private changed(change: ResourceChange) {
    for (const fn of this.listeners) fn(change);
  }

  constructor(readonly opts: StoreOptions) {}

  addWorkspace(ws: SimWorkspace): SimWorkspace {
    this.workspaces.set(ws.id, ws);
    return ws;
  }

  addResource(
    input: Partial<Omit<SimResource, "issues" | "next_issue_number">> & {
      name: string;
      workspace_id: string;
    },
  ): SimResource {
    const ws = this.workspaces.get(input.workspace_id);
    if (!ws) throw new SimInputError(`unknown workspace ${input.workspace_id}`);
    this.resourceSeq++;
    const stamp = now();
    const r: SimResource = {
      id: input.id ?? this.opts.newResourceId(this.resourceSeq),
      workspace_id: ws.id,
      type: input.type ?? this.opts.resourceType,
      name: input.name,
      key: input.key ?? this.opts.defaultKey?.(input.name, this.resourceSeq) ?? null,
      path: input.path ?? this.opts.defaultPath?.(ws, input.name) ?? null,
      description: input.description ?? null,
      archived: input.archived ?? false,
      issues_disabled: input.issues_disabled ?? false,
      created_at: input.created_at ?? stamp,
      updated_at: input.updated_at ?? stamp,
      issues: [],
      next_issue_number: 1,
    };
    if (this.resources.has(r.id)) throw new SimInputError(`resource ${r.id} exists`);
    this.resources.set(r.id, r);
    this.changed({ type: "created", resource: r });
    return r;
  }

  updateResource(
    id: string,
    patch: Partial<
      Pick<SimResource, "name" | "key" | "path" | "description" | "archived" | "issues_disabled">
    >,
  ) {
    const r = this.resource(id);
    const before = { ...r };
    Object.assign(r, stripUndefined(patch), { updated_at: now() });
    this.changed({ type: "updated", resource: r, before });
    return r;
  }

  deleteResource(id: string) {
    const r = this.resource(id);
    for (const i of r.issues) this.issues.delete(i.id);
    this.resources.delete(id);
    this.changed({ type: "deleted", resource: r });
  }

  resource(id: string): SimResource {
    const r = this.resources.get(id);
    if (!r) throw new SimNotFound(`resource ${id}`);
    return r;
  }

  resourcesOf(workspaceId: string, type?: string): SimResource[] {
    const out: SimResource[] = [];
    for (const r of this.resources.values())
      if (r.workspace_id === workspaceId && (!type || r.type === type)) out.push(r);
    return out;
  }

  addIssue(resourceId: string, input: Partial<Omit<SimIssue, "resource_id">> & { title: string }): SimIssue {
    const r = this.resource(resourceId);
    this.issueSeq++;
    const stamp = now();
    const issue: SimIssue = {
      id: input.id ?? this.opts.newIssueId(this.issueSeq),
      number: input.number ?? r.next_issue_number,
      resource_id: r.id,
      title: input.title,
      body: input.body ?? null,
      status: input.status ?? "todo",
      labels: input.labels ?? [],
      assignees: input.assignees ?? [],
      issue_type: input.issue_type ?? "task",
      priority: input.priority ?? 2,
      created_at: input.created_at ?? stamp,
      updated_at: input.updated_at ?? stamp,
    };
    r.next_issue_number = Math.max(r.next_issue_number, issue.number) + 1;
    r.issues.push(issue);
    this.issues.set(issue.id, issue);
    return issue;
  }

  updateIssue(
    id: string,
    patch: Partial<Pick<SimIssue, "title" | "body" | "status" | "labels" | "assignees" | "priority">>,
  ) {
    const issue = this.issues.get(id);
    if (!issue) throw new SimNotFound(`issue ${id}`);
    Object.assign(issue, stripUndefined(patch), { updated_at: now() });
    return issue;
  }

  deleteIssue(id: string) {
    const issue = this.issues.get(id);
    if (!issue) throw new SimNotFound(`issue ${id}`);
    const r = this.resources.get(issue.resource_id);
    if (r) r.issues = r.issues.filter((i) => i.id !== id);
    this.issues.delete(id);
  }

  addCredential(c: Omit<SimCredential, "revoked"> & { revoked?: boolean }): SimCredential {
    const cred = { revoked: false, ...c };
    this.credentials.set(c.token, cred);
    return cred;
  }

  /** The credential behind a token, or why it fails: `missing` (unknown), `revoked`, `expired`. */
  check(token: string | null | undefined): SimCredential | "missing" | "revoked" | "expired" {
    if (!token) return "missing";
    const c = this.credentials.get(token);
    if (!c) return "missing";
    if (c.revoked) return "revoked";
    if (c.expires_at !== null && c.expires_at <= Date.now()) return "expired";
    return c;
  }

  /** Loads a seed file (named resources and issues, plus `generated` filler resources per workspace). */
  seed(seed: SeedFile, generatedOverride?: number) {
    for (const ws of seed.workspaces) {
      const { resources = [], generated = 0, ...workspace } = ws;
      this.addWorkspace(workspace);
      for (const { issues = [], ...res } of resources) {
        const r = this.addResource({ ...res, workspace_id: workspace.id });
        for (const issue of issues) this.addIssue(r.id, issue);
      }
      const n = generatedOverride ?? generated;
      for (let i = 1; i <= n; i++)
        this.addResource({
          name: `${this.opts.generatedPrefix ?? "service"}-${String(i).padStart(5, "0")}`,
          workspace_id: workspace.id,
        });
    }
    for (const c of seed.credentials ?? []) this.addCredential(c);
  }

  static readSeed(path: string | URL): SeedFile {
    return JSON.parse(readFileSync(path, "utf8")) as SeedFile;
  }
}

export class SimInputError extends Error {}
export class SimNotFound extends Error {}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Public view of a resource for the control API (issues summarised). */
function resourceView(r: SimResource) {
  const { issues, ...rest } = r;
  return { ...rest, issue_count: issues.length };
}

/**
 * The uniform control surface, identical on every simulator:
 *   GET    /_sim/state                          workspaces and resource counts
 *   GET    /_sim/resources?workspace_id=        resources (no issues)
 *   POST   /_sim/resources                      {workspace_id?, name, key?, path?, archived?, issues_disabled?, type?}
 *   PATCH  /_sim/resources/:id                  {name?, key?, path?, description?, archived?, issues_disabled?}
 *   DELETE /_sim/resources/:id
 *   GET    /_sim/resources/:id/issues
 *   POST   /_sim/resources/:id/issues           {title, body?, status?, labels?, ...}
 *   PATCH  /_sim/issues/:id, DELETE /_sim/issues/:id
 *   POST   /_sim/credentials                    {token, workspaces, kind?, expires_at?, scopes?}
 *   POST   /_sim/credentials/revoke             {token} (or {all: true})
 *   POST   /_sim/credentials/expire             {token} (or {all: true})
 *   PUT    /_sim/oauth                          {access_token_ttl_seconds} (null restores the provider's)
 */
export function mountControlApi(router: SimRouter, store: SimStore) {
  const guard = <T>(fn: () => T) => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SimNotFound) return { status: 404, json: { error: `${err.message} not found` } };
      if (err instanceof SimInputError) return { status: 400, json: { error: err.message } };
      throw err;
    }
  };
  const firstWorkspace = () => store.workspaces.keys().next().value as string;

  router.on("PUT", "/_sim/oauth", (req) => {
    const ttl = req.body?.access_token_ttl_seconds;
    store.accessTokenTtlSeconds = typeof ttl === "number" && ttl > 0 ? ttl : null;
    return { json: { access_token_ttl_seconds: store.accessTokenTtlSeconds } };
  });
  router.on("GET", "/_sim/state", () => ({
    json: {
      workspaces: [...store.workspaces.values()].map((w) => ({
        ...w,
        resource_count: store.resourcesOf(w.id).length,
      })),
      credentials: store.credentials.size,
    },
  }));
  router.on("GET", "/_sim/resources", (req) => {
    const ws = req.query.get("workspace_id");
    const list = ws ? store.resourcesOf(ws) : [...store.resources.values()];
    return { json: { resources: list.map(resourceView) } };
  });
  router.on("POST", "/_sim/resources", (req) =>
    guard(() => {
      const body = req.body ?? {};
      if (typeof body.name !== "string") throw new SimInputError("name is required");
      const r = store.addResource({ ...body, workspace_id: body.workspace_id ?? firstWorkspace() });
      return { status: 201, json: resourceView(r) };
    }),
  );
  router.on("PATCH", "/_sim/resources/:id", (req) =>
    guard(() => ({ json: resourceView(store.updateResource(req.params.id, req.body ?? {})) })),
  );
  router.on("DELETE", "/_sim/resources/:id", (req) =>
    guard(() => {
      store.deleteResource(req.params.id);
      return { status: 204 };
    }),
  );
  router.on("GET", "/_sim/resources/:id/issues", (req) =>
    guard(() => ({ json: { issues: store.resource(req.params.id).issues } })),
  );
  router.on("POST", "/_sim/resources/:id/issues", (req) =>
    guard(() => {
      if (typeof req.body?.title !== "string") throw new SimInputError("title is required");
      return { status: 201, json: store.addIssue(req.params.id, req.body) };
    }),
  );
  router.on("PATCH", "/_sim/issues/:id", (req) =>
    guard(() => ({ json: store.updateIssue(req.params.id, req.body ?? {}) })),
  );
  router.on("DELETE", "/_sim/issues/:id", (req) =>
    guard(() => {
      store.deleteIssue(req.params.id);
      return { status: 204 };
    }),
  );
  router.on("POST", "/_sim/credentials", (req) =>
    guard(() => {
      const b = req.body ?? {};
      if (typeof b.token !== "string") throw new SimInputError("token is required");
      const c = store.addCredential({
        token: b.token,
        workspaces: b.workspaces ?? [firstWorkspace()],
        kind: b.kind ?? "pat",
        expires_at: b.expires_at ?? null,
        ...(Array.isArray(b.scopes) ? { scopes: b.scopes.map(String) } : {}),
      });
      return { status: 201, json: { token: c.token, workspaces: c.workspaces } };
    }),
  );
  const eachCredential = (body: { token?: string; all?: boolean }, fn: (c: SimCredential) => void) => {
    const list = body?.all
      ? [...store.credentials.values()]
      : [store.credentials.get(body?.token ?? "")].filter(Boolean);
    if (list.length === 0) throw new SimNotFound("credential");
    for (const c of list) fn(c as SimCredential);
    return { json: { changed: list.length } };
  };
  router.on("POST", "/_sim/credentials/revoke", (req) =>
    guard(() => eachCredential(req.body, (c) => (c.revoked = true))),
  );
  router.on("POST", "/_sim/credentials/expire", (req) =>
    guard(() => eachCredential(req.body, (c) => (c.expires_at = Date.now() - 1))),
  );
}

/** `Authorization: Bearer X` / `token X` → X. */
export function bearerToken(header: string | string[] | undefined): string | null {
  const v = Array.isArray(header) ? header[0] : header;
  const m = v?.match(/^(?:Bearer|token)\s+(.+)$/i);
  return m ? m[1].trim() : null;
}

/** Paging helper shared by the page-number providers. */
export function pageOf<T>(items: T[], page: number, perPage: number): { items: T[]; hasNext: boolean } {
  const start = (page - 1) * perPage;
  return { items: items.slice(start, start + perPage), hasNext: start + perPage < items.length };
}
