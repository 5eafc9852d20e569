import type { SimReply, SimRequest, SimRouter } from "../core/server.ts";
import {
  bearerToken,
  type SimCredential,
  type SimIssue,
  type SimResource,
  type SimStore,
} from "../core/store.ts";
import type { WebhookHub } from "../core/webhooks.ts";
import { mountHooksApi } from "./hooks.ts";
import { keysetPage, offsetCapped, offsetPage } from "./paging.ts";
import { type GitlabWorld, isClosed, normalizeLabels, type SimGroup, statusFrom } from "./world.ts";

/**
 * The REST v4 surface under `/api/v4`: user, groups, group projects, projects, project issues. Every call
 * authenticates like GitLab (PRIVATE-TOKEN, Authorization: Bearer, or the `private_token` / `access_token`
 * query parameters), counts against a per-token throttle with GitLab's `RateLimit-*` headers, and answers
 * errors in GitLab's bodies.
 */

const msg = (status: number, message: string): SimReply => ({ status, json: { message } });
const notFound = (what: string) => msg(404, `404 ${what} Not Found`);
const forbidden = () => msg(403, "403 Forbidden");

interface Auth {
  cred: SimCredential;
  token: string;
}

function tokenOf(req: SimRequest): { token: string | null; via: "private" | "bearer" } {
  const header = req.headers["private-token"];
  const priv = (Array.isArray(header) ? header[0] : header) ?? req.query.get("private_token");
  if (priv) return { token: priv, via: "private" };
  return { token: bearerToken(req.headers.authorization) ?? req.query.get("access_token"), via: "bearer" };
}

function invalidToken(description: string): SimReply {
  return {
    status: 401,
    headers: {
      "www-authenticate": `Bearer realm="Protected by OAuth 2.0", error="invalid_token", error_description="${description}"`,
    },
    json: { error: "invalid_token", error_description: description },
  };
}

function authenticate(store: SimStore, req: SimRequest): Auth | SimReply {
  const { token, via } = tokenOf(req);
  const checked = store.check(token);
  if (checked === "revoked")
    return invalidToken("Token was revoked. You have to re-authorize from the user.");
  if (checked === "expired") {
    return invalidToken("Token is expired. You can either do re-authorization or token refresh.");
  }
  // Refresh tokens are not API credentials; PRIVATE-TOKEN never takes an OAuth token.
  if (
    checked === "missing" ||
    checked.kind === "oauth_refresh" ||
    (via === "private" && checked.kind.startsWith("oauth"))
  ) {
    return msg(401, "401 Unauthorized");
  }
  return { cred: checked, token: token! };
}

/**
 * Scopes that grant a call (GitLab docs, "Personal access token scopes"): `api` everything, `read_api`
 * every read, `read_user` only `GET /user`.
 */
function scopesFor(method: string, path: string): string[] {
  if (method !== "GET") return ["api"];
  return path === "/user" ? ["api", "read_api", "read_user"] : ["api", "read_api"];
}

/** A token without the scope: 403 with the accepted scopes, and no WWW-Authenticate header (lib/api/api_guard.rb). */
function insufficientScope(accepted: string[]): SimReply {
  return {
    status: 403,
    json: {
      error: "insufficient_scope",
      error_description: "The request requires higher privileges than provided by the access token.",
      scope: accepted.join(" "),
    },
  };
}

/** GitLab's authenticated-API throttle (Rack::Attack), per token over fixed windows. */
export class Throttle {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    public limit = 10_000,
    public windowSeconds = 60,
  ) {}

  reset(limit: number, windowSeconds: number) {
    this.limit = limit;
    this.windowSeconds = windowSeconds;
    this.windows.clear();
  }

  hit(key: string) {
    const now = Date.now();
    const periodMs = this.windowSeconds * 1000;
    // Like Rack::Attack, windows are aligned to multiples of the period since the epoch.
    const start = Math.floor(now / periodMs) * periodMs;
    let w = this.windows.get(key);
    if (!w || w.start !== start) {
      w = { start, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    const resetAt = Math.ceil((start + periodMs) / 1000);
    const headers: Record<string, string> = {
      "ratelimit-name": "throttle_authenticated_api",
      "ratelimit-limit": String(this.limit),
      "ratelimit-observed": String(w.count),
      "ratelimit-remaining": String(Math.max(0, this.limit - w.count)),
      "ratelimit-reset": String(resetAt),
    };
    if (w.count <= this.limit) return { throttled: false, headers };
    return {
      throttled: true,
      headers: {
        ...headers,
        "ratelimit-resettime": new Date(resetAt * 1000).toUTCString(),
        "retry-after": String(Math.max(1, Math.ceil((resetAt * 1000 - now) / 1000))),
      },
    };
  }
}

const bool = (v: string | null) => (v === null ? null : v === "true" || v === "1");

/** Comma-separated (form) or array (JSON) label lists. */
function labelList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === "string") return v.split(",");
  return [];
}

export function mountApi(
  router: SimRouter,
  store: SimStore,
  world: GitlabWorld,
  throttle: Throttle,
  hub: WebhookHub,
) {
  const base = () => world.baseUrl;
  const reaches = (a: Auth, workspaceId: string) => a.cred.workspaces.includes(workspaceId);

  const api = (method: string, path: string, handler: (req: SimRequest, a: Auth) => SimReply) => {
    const accepted = scopesFor(method, path);
    router.on(method, `/api/v4${path}`, (req) => {
      const a = authenticate(store, req);
      if (!("cred" in a)) return a;
      const scopes = a.cred.scopes;
      if (scopes && !accepted.some((s) => scopes.includes(s))) return insufficientScope(accepted);
      const rl = throttle.hit(a.token);
      if (rl.throttled) {
        return {
          status: 429,
          headers: { ...rl.headers, "content-type": "text/plain" },
          raw: "Retry later\n",
        };
      }
      const reply = handler(req, a);
      return { ...reply, headers: { ...rl.headers, ...reply.headers } };
    });
  };

  const visibleProject = (a: Auth, id: string): SimResource | null => {
    const r = /^\d+$/.test(id)
      ? store.resources.get(id)
      : [...store.resources.values()].find((x) => world.projectPath(x).toLowerCase() === id.toLowerCase());
    return r && reaches(a, r.workspace_id) ? r : null;
  };
  const visibleGroup = (a: Auth, id: string): SimGroup | null => {
    const g = world.findGroup(id);
    return g && reaches(a, g.workspace_id) ? g : null;
  };

  // ---- user and groups ---------------------------------------------------------------------------------

  api("GET", "/user", (_req, a) => ({
    json: {
      ...world.userJson(world.userOf(a.cred)),
      created_at: "2023-03-01T10:00:00.000Z",
      bio: "",
      public_email: null,
      is_admin: world.userOf(a.cred).admin === true,
      two_factor_enabled: true,
    },
  }));

  api("GET", "/groups", (req, a) => {
    const topOnly = bool(req.query.get("top_level_only")) === true;
    const search = req.query.get("search")?.toLowerCase();
    const orderBy = req.query.get("order_by") ?? "name";
    const desc = req.query.get("sort") === "desc";
    const groups = world
      .allGroups()
      .filter((g) => reaches(a, g.workspace_id) && (!topOnly || g.parent_id === null))
      .filter(
        (g) => !search || g.name.toLowerCase().includes(search) || g.path.toLowerCase().includes(search),
      )
      .sort((x, y) => {
        const c =
          orderBy === "id"
            ? x.id - y.id
            : (orderBy === "path" ? x.full_path : x.full_name).localeCompare(
                orderBy === "path" ? y.full_path : y.full_name,
              );
        return desc ? -c : c;
      });
    return offsetPage(base(), req, groups, (g) => world.groupJson(g));
  });

  api("GET", "/groups/:id", (req, a) => {
    const g = visibleGroup(a, req.params.id);
    if (!g) return notFound("Group");
    const withProjects = bool(req.query.get("with_projects")) !== false;
    return {
      json: {
        ...world.groupJson(g),
        shared_with_groups: [],
        ...(withProjects
          ? {
              projects: world
                .projectsOf(g, false)
                .slice(0, 100)
                .map((r) => world.projectJson(r)),
              shared_projects: [],
            }
          : {}),
      },
    };
  });

  api("GET", "/groups/:id/descendant_groups", (req, a) => {
    const g = visibleGroup(a, req.params.id);
    if (!g) return notFound("Group");
    const prefix = `${g.full_path.toLowerCase()}/`;
    const below = world
      .allGroups()
      .filter((x) => x.full_path.toLowerCase().startsWith(prefix))
      .sort((x, y) => x.full_path.localeCompare(y.full_path));
    return offsetPage(base(), req, below, (x) => world.groupJson(x));
  });

  api("GET", "/groups/:id/projects", (req, a) => {
    const g = visibleGroup(a, req.params.id);
    if (!g) return notFound("Group");
    const capped = offsetCapped(req, world.maxProjectOffset);
    if (capped) return capped;
    const projects = filterProjects(
      req,
      world.projectsOf(g, bool(req.query.get("include_subgroups")) === true),
    );
    return offsetPage(base(), req, sortProjects(req, projects), (r) => world.projectJson(r));
  });

  // ---- projects ----------------------------------------------------------------------------------------

  function filterProjects(req: SimRequest, list: SimResource[]): SimResource[] {
    const archived = bool(req.query.get("archived"));
    const withIssues = bool(req.query.get("with_issues_enabled")) === true;
    const search = req.query.get("search")?.toLowerCase();
    return list.filter(
      (r) =>
        (archived === null || r.archived === archived) &&
        (!withIssues || !r.issues_disabled) &&
        (!search ||
          r.name.toLowerCase().includes(search) ||
          world.projectPath(r).toLowerCase().includes(search)),
    );
  }

  /** GitLab's default order is `created_at desc`; ties fall back to id in the same direction. */
  function sortProjects(req: SimRequest, list: SimResource[]): SimResource[] {
    const orderBy = req.query.get("order_by") ?? "created_at";
    const dir = (req.query.get("sort") ?? "desc") === "asc" ? 1 : -1;
    const key = (r: SimResource): string | number =>
      orderBy === "name"
        ? r.name.toLowerCase()
        : orderBy === "path"
          ? world.projectPath(r).toLowerCase()
          : orderBy === "updated_at" || orderBy === "last_activity_at"
            ? r.updated_at
            : orderBy === "created_at"
              ? r.created_at
              : 0;
    return [...list].sort((x, y) => {
      const kx = key(x);
      const ky = key(y);
      const c = kx < ky ? -1 : kx > ky ? 1 : Number(x.id) - Number(y.id);
      return c * dir;
    });
  }

  api("GET", "/projects", (req, a) => {
    const mine = [...store.resources.values()].filter((r) => reaches(a, r.workspace_id));
    const projects = filterProjects(req, mine);
    if (req.query.get("pagination") === "keyset") {
      if ((req.query.get("order_by") ?? "id") !== "id") {
        return { status: 405, json: { message: "405 Method Not Allowed" } };
      }
      const dir = req.query.get("sort") === "desc" ? -1 : 1;
      const sorted = [...projects].sort((x, y) => (Number(x.id) - Number(y.id)) * dir);
      return keysetPage(
        base(),
        req,
        sorted,
        (r) => Number(r.id),
        (r) => world.projectJson(r),
      );
    }
    return (
      offsetCapped(req, world.maxProjectOffset) ??
      offsetPage(base(), req, sortProjects(req, projects), (r) => world.projectJson(r))
    );
  });

  api("GET", "/projects/:id", (req, a) => {
    const r = visibleProject(a, req.params.id);
    return r ? { json: world.projectJson(r, { permissions: true }) } : notFound("Project");
  });

  // ---- issues ------------------------------------------------------------------------------------------

  /** The project behind an issues call, or GitLab's refusal (hidden → 404, issues off → 403). */
  const issuesProject = (a: Auth, id: string, write: boolean): SimResource | SimReply => {
    const r = visibleProject(a, id);
    if (!r) return notFound("Project");
    if (r.issues_disabled || (write && r.archived)) return forbidden();
    return r;
  };
  const findIssue = (r: SimResource, iid: string) => r.issues.find((i) => String(i.number) === iid) ?? null;

  api("GET", "/projects/:id/issues", (req, a) => {
    const r = issuesProject(a, req.params.id, false);
    if (!("issues" in r)) return r;
    const q = req.query;
    const state = q.get("state") ?? "all";
    const iids = q.getAll("iids[]").concat(q.getAll("iids"));
    const labels = labelList(q.get("labels"))
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean);
    const search = q.get("search")?.toLowerCase();
    const assignee = q.get("assignee_username");
    const matches = (i: SimIssue) => {
      const rendered = world.issueLabels(i).map((l) => l.toLowerCase());
      return (
        (state === "all" || (state === "closed") === isClosed(i.status)) &&
        (iids.length === 0 || iids.includes(String(i.number))) &&
        labels.every((l) => rendered.includes(l)) &&
        (!search ||
          i.title.toLowerCase().includes(search) ||
          (i.body ?? "").toLowerCase().includes(search)) &&
        (!assignee || i.assignees.includes(assignee))
      );
    };
    const orderBy = q.get("order_by") === "updated_at" ? "updated_at" : "created_at";
    const dir = q.get("sort") === "asc" ? 1 : -1;
    const list = r.issues.filter(matches).sort((x, y) => {
      const c = x[orderBy] < y[orderBy] ? -1 : x[orderBy] > y[orderBy] ? 1 : Number(x.id) - Number(y.id);
      return c * dir;
    });
    return offsetPage(base(), req, list, (i) => world.issueJson(i));
  });

  api("GET", "/projects/:id/issues/:iid", (req, a) => {
    const r = issuesProject(a, req.params.id, false);
    if (!("issues" in r)) return r;
    const issue = findIssue(r, req.params.iid);
    return issue ? { json: world.issueJson(issue) } : msg(404, "404 Not found");
  });

  api("POST", "/projects/:id/issues", (req, a) => {
    const r = issuesProject(a, req.params.id, true);
    if (!("issues" in r)) return r;
    const b = req.body ?? {};
    if (b.title === undefined) return { status: 400, json: { error: "title is missing" } };
    if (!String(b.title).trim()) return { status: 400, json: { message: { title: ["can't be blank"] } } };
    const labels = normalizeLabels(labelList(b.labels));
    const issue = store.addIssue(r.id, {
      title: String(b.title),
      body: b.description ?? null,
      labels: labels.filter((l) => !l.toLowerCase().startsWith("status::")),
      status: statusFrom("opened", labels),
      assignees: assigneesFrom(b.assignee_ids),
    });
    return { status: 201, json: world.issueJson(issue) };
  });

  api("PUT", "/projects/:id/issues/:iid", (req, a) => {
    const r = issuesProject(a, req.params.id, true);
    if (!("issues" in r)) return r;
    const issue = findIssue(r, req.params.iid);
    if (!issue) return msg(404, "404 Not found");
    const b = req.body ?? {};
    if (b.state_event !== undefined && b.state_event !== "close" && b.state_event !== "reopen") {
      return { status: 400, json: { error: "state_event does not have a valid value" } };
    }
    let labels = b.labels !== undefined ? labelList(b.labels) : world.issueLabels(issue);
    const removed = labelList(b.remove_labels).map((l) => l.trim().toLowerCase());
    labels = normalizeLabels([...labels, ...labelList(b.add_labels)]).filter(
      (l) => !removed.includes(l.toLowerCase()),
    );
    const wasClosed = isClosed(issue.status);
    const closed = b.state_event === "close" ? true : b.state_event === "reopen" ? false : wasClosed;
    store.updateIssue(issue.id, {
      title: b.title !== undefined ? String(b.title) : undefined,
      body: b.description !== undefined ? b.description : undefined,
      labels: labels.filter((l) => !l.toLowerCase().startsWith("status::")),
      status: statusFrom(closed ? "closed" : "opened", labels),
      assignees: b.assignee_ids !== undefined ? assigneesFrom(b.assignee_ids) : undefined,
    });
    return { json: world.issueJson(issue) };
  });

  function assigneesFrom(ids: unknown): string[] {
    const list = Array.isArray(ids) ? ids : typeof ids === "string" ? ids.split(",") : [];
    return list
      .map((id) => world.users.find((u) => String(u.id) === String(id).trim())?.username)
      .filter((u): u is string => Boolean(u));
  }

  mountHooksApi(
    (method, path, handler) =>
      api(method, path, (req, a) =>
        handler(req, { user: world.userOf(a.cred), reaches: (ws) => reaches(a, ws) }),
      ),
    world,
    hub,
  );

  // Unknown API routes answer like Grape does.
  for (const method of ["GET", "POST", "PUT", "DELETE"]) {
    router.on(method, "/api/v4/:rest*", () => ({ status: 404, json: { error: "404 Not Found" } }));
  }
}
