import { createHash, randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { consentDesk } from "../core/consent.ts";
import {
  type SimHandler,
  type SimReply,
  type SimRequest,
  SimRouter,
  startSimServer,
} from "../core/server.ts";
import {
  bearerToken,
  mountControlApi,
  pageOf,
  type SeedFile,
  type SimCredential,
  type SimIssue,
  type SimIssueStatus,
  type SimResource,
  SimStore,
  type SimWorkspace,
} from "../core/store.ts";
import { type ProviderSimulator, providerSimulator, type SimulatorOptions } from "../core/types.ts";
import { type AppKeys, generateAppKeys, jwtProblem } from "./jwt.ts";
import { RateLimiter, type RateResource } from "./ratelimit.ts";
import {
  DOCS,
  fullName,
  githubLabels,
  type IssueExtras,
  installation,
  isClosed,
  issue,
  pullAsIssue,
  repository,
  type SimApp,
  type SimPull,
  statusFromLabel,
  type Urls,
} from "./shapes.ts";
import { githubWebhooks } from "./webhooks.ts";

/**
 * A GitHub (api.github.com / GHES REST v3) simulator for one GitHub App: app JWT authentication
 * (RS256, verified with the app's public key), installation tokens, installation repositories,
 * issues (with pull requests mixed in, as GitHub does), issue search, primary rate limits and the
 * app install redirect. See docs/simulators/github.md.
 */

/** A person who signs in to (simulated) github.com: which installations they can reach as a user. */
interface SimUser {
  login: string;
  id: number;
  /** Installation ids this user can access (`GET /user/installations`) and install on. */
  installations: string[];
}

interface GithubSeed extends SeedFile {
  app?: Partial<SimApp>;
  users?: SimUser[];
}

interface SeedExtras {
  visibility?: string;
  /** A fork of another repository (served as `fork: true`). */
  fork?: boolean;
  /** `false`: a repository of the account that a `selected` installation was not given. */
  selected?: boolean;
  pulls?: { title: string; body?: string | null }[];
}

interface Ctx {
  ws: SimWorkspace;
  cred: SimCredential;
  urls: Urls;
}

interface Found {
  ws: SimWorkspace;
  r: SimResource;
}

const TOKEN_TTL_MS = 3_600_000;
const ISSUES_DOCS = "https://docs.github.com/rest/issues/issues";
const SEARCH_DOCS = "https://docs.github.com/rest/search/search#search-issues-and-pull-requests";
const RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
const MINT_DOCS = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";
const TOKEN_ERRORS_DOCS =
  "https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";
const USER_TOKEN_TTL_S = 28_800;
const USER_REFRESH_TTL_S = 15_897_600;

const ghError = (status: number, message: string, documentation_url = DOCS, extra = {}): SimReply => ({
  status,
  json: { message, documentation_url, status: String(status), ...extra },
});
const notFound = (doc = DOCS) => ghError(404, "Not Found", doc);
const isReply = (x: Found | SimReply): x is SimReply => !("r" in x);

function secondsIso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** GitHub token formats: `ghs_` installation, `ghu_` user access, `ghr_` refresh tokens. */
function newToken(prefix: "ghs" | "ghu" | "ghr", length = 36): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return `${prefix}_${[...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join("")}`;
}

function paging(req: SimRequest, defaultPer = 30): { page: number; perPage: number } {
  const per = Number(req.query.get("per_page"));
  const page = Number(req.query.get("page"));
  return {
    perPage: Number.isInteger(per) && per > 0 ? Math.min(per, 100) : defaultPer,
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

/**
 * GitHub's `link` header: prev, next, last, first; the request's own query (per_page included) with
 * `page` replaced; left out when everything fits on one page. `path` may differ from the request's
 * (repository issue lists link to the id form `/repositories/{id}/issues`).
 */
function linkHeader(
  urls: Urls,
  path: string,
  req: SimRequest,
  page: number,
  lastPage: number,
): Record<string, string> {
  if (lastPage <= 1 && page <= 1) return {};
  const at = (p: number) => {
    const q = new URLSearchParams(req.query);
    q.set("page", String(p));
    return `<${urls.api}${path}?${q}>`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(`${at(Math.min(page - 1, Math.max(lastPage, 1)))}; rel="prev"`);
  if (page < lastPage) parts.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`);
  if (page > 1) parts.push(`${at(1)}; rel="first"`);
  return { link: parts.join(", ") };
}

export async function startGithubSimulator(opts: SimulatorOptions = {}): Promise<ProviderSimulator> {
  const store = new SimStore({
    generatedPrefix: opts.generatedPrefix,
    newResourceId: (seq) => String(700_100_000 + seq),
    newIssueId: (seq) => String(2_100_000_000 + seq),
    resourceType: "repository",
    defaultPath: (ws, name) => `${ws.slug}/${name}`,
  });
  const seed = SimStore.readSeed(opts.seedFile ?? new URL("./seed.json", import.meta.url)) as GithubSeed;
  // `generatedResources` sizes the default workspace only; the others keep their seeded count.
  store.seed({
    ...seed,
    workspaces: seed.workspaces.map((w, i) =>
      i === 0 && opts.generatedResources !== undefined ? { ...w, generated: opts.generatedResources } : w,
    ),
  });

  const app: SimApp = { id: "900001", slug: "spec-kitty-sim", name: "Spec Kitty (simulated)", ...seed.app };
  const router = new SimRouter();
  const keys: AppKeys = generateAppKeys();
  const limiter = new RateLimiter();
  const users: SimUser[] = seed.users ?? [];
  const oauthClient = { id: `Iv1.${app.id}sim`, secret: randomBytes(20).toString("hex") };
  /** The App's webhook secret, as set on its settings page (the hook itself is registered at /_sim/webhooks). */
  const webhookSecret = randomBytes(20).toString("hex");
  const web: { callbackUrl: string | null; installTarget: string | null; signedIn: string | null } = {
    callbackUrl: null,
    installTarget: null,
    signedIn: users[0]?.login ?? null,
  };
  const desk = consentDesk(router);
  /** User-authorization codes waiting to be exchanged at `/login/oauth/access_token`. */
  const userCodes = new Map<
    string,
    {
      login: string;
      redirect_uri: string | null;
      challenge: string | null;
      expires_at: number;
      used: boolean;
    }
  >();
  const visibility = new Map<string, string>();
  const forks = new Set<string>();
  /** Repositories left out of their `selected` installation (readable only when public). */
  const unselected = new Set<string>();
  const pulls = new Map<string, SimPull[]>();
  const issueExtras = new Map<string, IssueExtras>();
  /** Lower-cased `owner/name` → repo id; names a repo had before a rename stay, so they can redirect. */
  const nameIndex = new Map<string, string>();
  let pullSeq = 0;

  const defaultWorkspace = () => store.workspaces.keys().next().value as string;
  const workspaceOf = (r: SimResource) => store.workspaces.get(r.workspace_id)!;
  const visibilityOf = (r: SimResource) =>
    visibility.get(r.id) ?? String(workspaceOf(r).details.default_visibility ?? "private");
  const extrasOf = (i: SimIssue): IssueExtras =>
    issueExtras.get(i.id) ?? {
      author: `${workspaceOf(store.resource(i.resource_id)).slug}-dev`,
      authorType: "User",
      closed_at: null,
    };

  const addPull = (r: SimResource, title: string, body: string | null) => {
    const list = pulls.get(r.id) ?? [];
    const pr: SimPull = {
      id: 1_900_000_000 + ++pullSeq,
      number: r.next_issue_number++,
      title,
      body,
      created_at: new Date().toISOString(),
    };
    list.push(pr);
    pulls.set(r.id, list);
    return pr;
  };

  for (const w of seed.workspaces) {
    for (const res of (w.resources ?? []) as (SeedExtras & { name: string })[]) {
      const r = store.resourcesOf(w.id).find((x) => x.name === res.name);
      if (!r) continue;
      if (res.visibility) visibility.set(r.id, res.visibility);
      if (res.fork) forks.add(r.id);
      if (res.selected === false) unselected.add(r.id);
      for (const p of res.pulls ?? []) addPull(r, p.title, p.body ?? null);
    }
  }
  const indexNames = () => {
    for (const r of store.resources.values()) nameIndex.set(fullName(workspaceOf(r), r).toLowerCase(), r.id);
  };
  indexNames();

  let simUrl = "http://127.0.0.1";
  const hooks = githubWebhooks(store, {
    app,
    urls: () => ({ api: simUrl, web: simUrl }),
    visibilityOf,
    granted: (r) => !unselected.has(r.id),
  });

  const urlsOf = (req: SimRequest): Urls => {
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    return { api: origin, web: origin };
  };

  // ---- authentication ------------------------------------------------------------------------

  /** Endpoints that take the app JWT (`/app/...`). */
  const asApp =
    (handler: (req: SimRequest, urls: Urls) => SimReply): SimHandler =>
    (req) => {
      const token = bearerToken(req.headers.authorization);
      if (!token) return ghError(401, "A JSON web token could not be decoded");
      const problem = jwtProblem(token, keys, app.id);
      if (problem) return ghError(401, problem);
      const rl = limiter.hit(`app:${app.id}`, "core");
      if (rl.exceeded)
        return {
          ...ghError(403, `API rate limit exceeded for app ID ${app.id}.`, RATE_DOCS),
          headers: rl.headers,
        };
      const reply = handler(req, urlsOf(req));
      return { ...reply, headers: { ...rl.headers, ...reply.headers } };
    };

  /** Endpoints that take an installation token, with its installation's rate limit. */
  const asInstallation =
    (handler: (req: SimRequest, ctx: Ctx) => SimReply, resource: RateResource = "core"): SimHandler =>
    (req) => {
      const token = bearerToken(req.headers.authorization);
      if (!token) return ghError(401, "Requires authentication");
      const cred = store.check(token);
      if (typeof cred === "string" || cred.kind === "user_token") return ghError(401, "Bad credentials");
      const ws = store.workspaces.get(cred.workspaces[0]);
      if (!ws || ws.details.uninstalled) return ghError(401, "Bad credentials");
      if (ws.details.suspended_at) return ghError(403, "This installation has been suspended");
      const rl = limiter.hit(`installation:${ws.id}`, resource);
      if (rl.exceeded) {
        return {
          ...ghError(403, `API rate limit exceeded for installation ID ${ws.id}.`, RATE_DOCS),
          headers: rl.headers,
        };
      }
      const reply = handler(req, { ws, cred, urls: urlsOf(req) });
      return {
        ...reply,
        headers: { ...rl.headers, "x-github-api-version-selected": "2022-11-28", ...reply.headers },
      };
    };

  const installedWorkspace = (id: string) => {
    const ws = store.workspaces.get(id);
    return ws && !ws.details.uninstalled ? ws : null;
  };

  // ---- the app -------------------------------------------------------------------------------

  router.on(
    "GET",
    "/app",
    asApp((_req, urls) => ({
      json: {
        id: Number(app.id),
        slug: app.slug,
        client_id: `Iv1.${app.id}sim`,
        node_id: `A_kwDO${app.id}`,
        name: app.name,
        description: "",
        external_url: urls.web,
        html_url: `${urls.web}/apps/${app.slug}`,
        created_at: "2026-01-01T00:00:00Z",
        updated_at: "2026-01-01T00:00:00Z",
        permissions: { issues: "write", metadata: "read" },
        events: ["issues", "repository"],
        installations_count: [...store.workspaces.values()].filter((w) => !w.details.uninstalled).length,
      },
    })),
  );

  router.on(
    "GET",
    "/app/installations",
    asApp((req, urls) => {
      const all = [...store.workspaces.values()].filter((w) => !w.details.uninstalled);
      const { page, perPage } = paging(req);
      const { items } = pageOf(all, page, perPage);
      return {
        headers: linkHeader(urls, "/app/installations", req, page, Math.ceil(all.length / perPage)),
        json: items.map((w) => installation(w, app, urls)),
      };
    }),
  );

  router.on(
    "GET",
    "/app/installations/:id",
    asApp((req, urls) => {
      const ws = installedWorkspace(req.params.id);
      return ws
        ? { json: installation(ws, app, urls) }
        : notFound("https://docs.github.com/rest/apps/apps#get-an-installation-for-the-authenticated-app");
    }),
  );

  router.on(
    "POST",
    "/app/installations/:id/access_tokens",
    asApp((req) => {
      const ws = installedWorkspace(req.params.id);
      if (!ws) return notFound(MINT_DOCS);
      if (ws.details.suspended_at) return ghError(403, "This installation has been suspended", MINT_DOCS);
      const expiresAt = Math.floor((Date.now() + TOKEN_TTL_MS) / 1000) * 1000;
      const token = newToken("ghs");
      store.addCredential({
        token,
        workspaces: [ws.id],
        kind: "installation_token",
        expires_at: expiresAt,
        meta: { app_id: app.id },
      });
      return {
        status: 201,
        json: {
          token,
          expires_at: secondsIso(expiresAt),
          permissions: { issues: "write", metadata: "read" },
          repository_selection: String(ws.details.repository_selection ?? "all"),
        },
      };
    }),
  );

  // ---- repositories --------------------------------------------------------------------------

  const renderRepo = (r: SimResource, urls: Urls) => {
    const ws = workspaceOf(r);
    nameIndex.set(fullName(ws, r).toLowerCase(), r.id);
    return repository(ws, r, visibilityOf(r), urls, forks.has(r.id));
  };

  router.on(
    "GET",
    "/installation/repositories",
    asInstallation((req, { ws, urls }) => {
      const all = store.resourcesOf(ws.id).filter((r) => !unselected.has(r.id));
      const { page, perPage } = paging(req);
      const { items } = pageOf(all, page, perPage);
      return {
        headers: linkHeader(urls, "/installation/repositories", req, page, Math.ceil(all.length / perPage)),
        json: {
          total_count: all.length,
          repositories: items.map((r) => renderRepo(r, urls)),
          repository_selection: String(ws.details.repository_selection ?? "all"),
        },
      };
    }),
  );

  /** Whether the installation was given the repository (all of its account's, or the selected ones). */
  const granted = (ctx: Ctx, r: SimResource) =>
    ctx.cred.workspaces.includes(r.workspace_id) && !unselected.has(r.id);

  /**
   * An installation token reads any public repository, granted or not, as GitHub's do; writing needs
   * the repository to be granted ("Resource not accessible by integration").
   */
  const repoById = (ctx: Ctx, id: string, method = "GET"): Found | SimReply => {
    const r = store.resources.get(id);
    if (!r) return notFound();
    if (granted(ctx, r)) return { ws: workspaceOf(r), r };
    if (visibilityOf(r) !== "public") return notFound();
    if (method !== "GET") return ghError(403, "Resource not accessible by integration", ISSUES_DOCS);
    return { ws: workspaceOf(r), r };
  };

  /** `/repos/{owner}/{repo}/...`: case-insensitive; a former name answers 301 (GET) or 307 to the id form. */
  const repoByName = (req: SimRequest, ctx: Ctx): Found | SimReply => {
    const key = `${req.params.owner}/${req.params.repo}`.toLowerCase();
    if (!nameIndex.has(key)) indexNames();
    const found = repoById(ctx, nameIndex.get(key) ?? "", req.method);
    if (isReply(found)) return found;
    if (fullName(found.ws, found.r).toLowerCase() === key) return found;
    const rest = req.path.split("/").slice(4).filter(Boolean).join("/");
    const location = `${ctx.urls.api}/repositories/${found.r.id}${rest ? `/${rest}` : ""}${req.url.search}`;
    return {
      status: req.method === "GET" ? 301 : 307,
      headers: { location },
      json: { message: "Moved Permanently", url: location, documentation_url: DOCS },
    };
  };

  /** Registers a handler on both address forms of a repository. */
  const onRepo = (
    method: string,
    suffix: string,
    handler: (req: SimRequest, ctx: Ctx, found: Found) => SimReply,
    resource: RateResource = "core",
  ) => {
    const run = (resolve: (req: SimRequest, ctx: Ctx) => Found | SimReply) =>
      asInstallation((req, ctx) => {
        const found = resolve(req, ctx);
        return isReply(found) ? found : handler(req, ctx, found);
      }, resource);
    router.on(method, `/repos/:owner/:repo${suffix}`, run(repoByName));
    router.on(
      method,
      `/repositories/:repo_id${suffix}`,
      run((req, ctx) => repoById(ctx, req.params.repo_id, req.method)),
    );
  };

  onRepo("GET", "", (_req, { urls }, { r }) => ({ json: renderRepo(r, urls) }));

  // ---- issues --------------------------------------------------------------------------------

  const renderIssue = (found: Found, i: SimIssue, urls: Urls) =>
    issue(found.ws, found.r, i, extrasOf(i), urls);

  const issuesDisabled = () => ghError(410, "Issues are disabled for this repo", ISSUES_DOCS);
  const archived = () => ghError(403, "Repository was archived so is read-only.", ISSUES_DOCS);
  const invalid = (field: string, code: string) =>
    ghError(422, "Validation Failed", ISSUES_DOCS, { errors: [{ resource: "Issue", field, code }] });

  const labelList = (raw: unknown): string[] | null =>
    Array.isArray(raw)
      ? raw
          .map((l) => (typeof l === "string" ? l : (l as { name?: string })?.name))
          .filter((l): l is string => !!l)
      : null;

  /**
   * A GitHub write (`state`, `state_reason`, `labels` replacing the set) as a store status and the
   * non-status labels. The working states live in `status: …` labels.
   */
  function applyWrite(
    body: any,
    current: SimIssue | null,
  ): { status: SimIssueStatus; labels: string[] } | SimReply {
    if (body.state !== undefined && body.state !== "open" && body.state !== "closed")
      return invalid("state", "invalid");
    const reasons = [undefined, null, "completed", "not_planned", "reopened", "duplicate"];
    if (!reasons.includes(body.state_reason)) return invalid("state_reason", "invalid");
    const given = labelList(body.labels);
    if (body.labels !== undefined && given === null) return invalid("labels", "invalid");
    const labels = given ?? (current ? githubLabels(current) : []);
    const state = body.state ?? (current && isClosed(current.status) ? "closed" : "open");
    let status: SimIssueStatus;
    if (state === "closed") {
      const reason = body.state_reason;
      if (reason === "not_planned" || reason === "duplicate") status = "canceled";
      else if (reason == null && current && isClosed(current.status)) status = current.status;
      else status = "done";
    } else {
      status = labels.map(statusFromLabel).find(Boolean) ?? "todo";
    }
    return { status, labels: labels.filter((l) => !statusFromLabel(l)) };
  }

  onRepo("GET", "/issues", (req, { urls }, found) => {
    if (found.r.issues_disabled) return issuesDisabled();
    const state = req.query.get("state") ?? "open";
    const wanted = (closed: boolean) => state === "all" || (state === "closed") === closed;
    const rows: { number: number; render: () => unknown }[] = [];
    for (const i of found.r.issues) {
      if (wanted(isClosed(i.status)))
        rows.push({ number: i.number, render: () => renderIssue(found, i, urls) });
    }
    for (const p of pulls.get(found.r.id) ?? []) {
      if (wanted(false))
        rows.push({ number: p.number, render: () => pullAsIssue(found.ws, found.r, p, urls) });
    }
    // Default order: newest first (sort=created, direction=desc).
    const dir = req.query.get("direction") === "asc" ? 1 : -1;
    rows.sort((a, b) => dir * (a.number - b.number));
    const { page, perPage } = paging(req);
    const { items } = pageOf(rows, page, perPage);
    const path = `/repositories/${found.r.id}/issues`;
    return {
      headers: linkHeader(urls, path, req, page, Math.ceil(rows.length / perPage)),
      json: items.map((row) => row.render()),
    };
  });

  onRepo("GET", "/issues/:number", (req, { urls }, found) => {
    if (found.r.issues_disabled) return issuesDisabled();
    const n = Number(req.params.number);
    const i = found.r.issues.find((x) => x.number === n);
    if (i) return { json: renderIssue(found, i, urls) };
    const p = (pulls.get(found.r.id) ?? []).find((x) => x.number === n);
    return p ? { json: pullAsIssue(found.ws, found.r, p, urls) } : notFound(ISSUES_DOCS);
  });

  onRepo("POST", "/issues", (req, ctx, found) => {
    if (found.r.archived) return archived();
    if (found.r.issues_disabled) return issuesDisabled();
    const body = req.body ?? {};
    if (typeof body.title !== "string" || body.title.trim() === "") return invalid("title", "missing_field");
    const write = applyWrite({ labels: body.labels ?? [] }, null);
    if (!("labels" in write)) return write;
    const created = store.addIssue(found.r.id, {
      title: body.title,
      body: typeof body.body === "string" ? body.body : null,
      labels: write.labels,
      status: write.status,
      assignees: Array.isArray(body.assignees) ? body.assignees.map(String) : [],
    });
    // Written with an installation token: authored by the app's bot user.
    issueExtras.set(created.id, { author: `${app.slug}[bot]`, authorType: "Bot", closed_at: null });
    const json = renderIssue(found, created, ctx.urls);
    return { status: 201, headers: { location: json.url }, json };
  });

  onRepo("PATCH", "/issues/:number", (req, { urls }, found) => {
    if (found.r.archived) return archived();
    if (found.r.issues_disabled) return issuesDisabled();
    const i = found.r.issues.find((x) => x.number === Number(req.params.number));
    if (!i) return notFound(ISSUES_DOCS);
    const body = req.body ?? {};
    if (body.title !== undefined && (typeof body.title !== "string" || !body.title.trim())) {
      return invalid("title", "invalid");
    }
    const write = applyWrite(body, i);
    if (!("labels" in write)) return write;
    const wasClosed = isClosed(i.status);
    store.updateIssue(i.id, {
      title: body.title,
      body: body.body === undefined ? undefined : body.body === null ? null : String(body.body),
      status: write.status,
      labels: write.labels,
      assignees: Array.isArray(body.assignees) ? body.assignees.map(String) : undefined,
    });
    if (wasClosed !== isClosed(write.status)) {
      const extras = extrasOf(i);
      issueExtras.set(i.id, { ...extras, closed_at: isClosed(write.status) ? i.updated_at : null });
    }
    return { json: renderIssue(found, i, urls) };
  });

  // ---- search --------------------------------------------------------------------------------

  /** Matches a search finds before GitHub's time limit stops it (null: every search finishes). */
  let searchFindsBeforeTimeout: number | null = null;
  router.on("PUT", "/_sim/github/search", (req) => {
    const n = req.body?.finds_before_timeout;
    if (n !== null && !(Number.isInteger(n) && n >= 0)) {
      return { status: 400, json: { error: "finds_before_timeout must be a whole number or null" } };
    }
    searchFindsBeforeTimeout = n;
    return { json: { finds_before_timeout: n } };
  });

  router.on(
    "GET",
    "/search/issues",
    asInstallation((req, ctx) => {
      const q = req.query.get("q");
      if (!q?.trim()) {
        return ghError(422, "Validation Failed", SEARCH_DOCS, {
          errors: [{ resource: "Search", field: "q", code: "missing" }],
        });
      }
      const parsed = parseSearch(q);
      let repos = ctx.cred.workspaces.flatMap((w) => store.resourcesOf(w)).filter((r) => granted(ctx, r));
      if (parsed.repos.length > 0) {
        const wanted = parsed.repos.map((name) => {
          const id = nameIndex.get(name.toLowerCase());
          const r = id ? store.resources.get(id) : undefined;
          return r &&
            (granted(ctx, r) || visibilityOf(r) === "public") &&
            fullName(workspaceOf(r), r).toLowerCase() === name.toLowerCase()
            ? r
            : null;
        });
        if (wanted.some((r) => r === null)) {
          return ghError(422, "Validation Failed", SEARCH_DOCS, {
            errors: [
              {
                message:
                  "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.",
                resource: "Search",
                field: "q",
                code: "invalid",
              },
            ],
          });
        }
        repos = wanted as SimResource[];
      }
      const matches = (title: string, body: string | null) => {
        const text = `${title}\n${body ?? ""}`.toLowerCase();
        const has = (t: string) => text.includes(t.toLowerCase());
        return !parsed.not.some(has) && parsed.anyOf.some((group) => group.every(has));
      };
      const rows: { created: string; render: () => unknown }[] = [];
      for (const r of repos) {
        if (r.issues_disabled) continue;
        const found = { ws: workspaceOf(r), r };
        if (!parsed.is.has("pr")) {
          for (const i of r.issues) {
            const closed = isClosed(i.status);
            if (parsed.state && (parsed.state === "closed") !== closed) continue;
            if (parsed.labels.some((l) => !githubLabels(i).some((x) => x.toLowerCase() === l.toLowerCase())))
              continue;
            if (matches(i.title, i.body))
              rows.push({ created: i.created_at, render: () => renderIssue(found, i, ctx.urls) });
          }
        }
        if (!parsed.is.has("issue") && parsed.state !== "closed" && parsed.labels.length === 0) {
          for (const p of pulls.get(r.id) ?? []) {
            if (matches(p.title, p.body))
              rows.push({ created: p.created_at, render: () => pullAsIssue(found.ws, r, p, ctx.urls) });
          }
        }
      }
      // A search that runs out of time answers with the matches found so far (`incomplete_results`).
      const timedOut = searchFindsBeforeTimeout !== null && rows.length > searchFindsBeforeTimeout;
      if (timedOut) rows.splice(searchFindsBeforeTimeout ?? 0);
      rows.sort((a, b) => b.created.localeCompare(a.created));
      const capped = rows.slice(0, 1000); // GitHub returns at most 1,000 results per search
      const { page, perPage } = paging(req);
      const { items } = pageOf(capped, page, perPage);
      return {
        headers: linkHeader(ctx.urls, "/search/issues", req, page, Math.ceil(capped.length / perPage)),
        json: {
          total_count: rows.length,
          incomplete_results: timedOut,
          items: items.map((row) => ({ ...(row.render() as object), score: 1 })),
        },
      };
    }, "search"),
  );

  // ---- github.com: install and user authorization (web) --------------------------------------

  const userNamed = (login: string | null) => users.find((u) => u.login === login) ?? null;
  const signInRequired = (): SimReply => ({
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
    raw: "<!DOCTYPE html><html><body><h1>Sign in to GitHub</h1><p>No simulated user is signed in: PUT /_sim/app {signed_in_user}.</p></body></html>",
  });

  /** A user-authorization code for the signed-in user, as a redirect to the app's callback URL. */
  const backWithCode = (
    login: string,
    target: string,
    extra: Record<string, string>,
    o: { state: string | null; redirectUri: string | null; challenge: string | null },
  ): SimReply => {
    const code = randomBytes(10).toString("hex");
    userCodes.set(code, {
      login,
      redirect_uri: o.redirectUri,
      challenge: o.challenge,
      expires_at: Date.now() + 10 * 60_000,
      used: false,
    });
    const url = new URL(target);
    url.searchParams.set("code", code);
    for (const [k, v] of Object.entries(extra)) url.searchParams.set(k, v);
    if (o.state !== null) url.searchParams.set("state", o.state);
    return { status: 302, headers: { location: url.toString() } };
  };

  /**
   * The install page with "Request user authorization (OAuth) during installation" on: the signed-in
   * user picks an account they administer, and GitHub sends them to the callback URL with `code`,
   * `installation_id` and `setup_action=install` (the setup URL is unused in that mode).
   */
  router.on("GET", "/apps/:slug/installations/new", (req) => {
    if (req.params.slug !== app.slug) return { status: 404, raw: "Not Found" };
    const callback = web.callbackUrl;
    if (!callback)
      return ghError(
        400,
        "The simulated GitHub App has no callback URL: PUT /_sim/app {callback_url} first.",
      );
    const user = userNamed(web.signedIn);
    if (!user) return signInRequired();
    const preferred =
      [...store.workspaces.values()].find((w) => String(w.details.account_id) === req.query.get("target_id"))
        ?.id ?? web.installTarget;
    const targets = user.installations
      .map((id) => store.workspaces.get(id))
      .filter((w): w is SimWorkspace => Boolean(w))
      .sort((a, b) => Number(b.id === preferred) - Number(a.id === preferred));
    const state = req.query.get("state");
    return desk.ask({
      provider: "GitHub",
      app: app.name,
      signedInAs: user.login,
      scopes: ["issues: write", "metadata: read"],
      choice: {
        label: "Install on",
        options: targets.map((w) => ({ value: w.id, label: `${w.slug} (${w.details.account_type})` })),
      },
      allow: (chosen) => {
        const ws = store.workspaces.get(chosen!)!;
        ws.details.uninstalled = false; // installing again restores an uninstalled installation (same id)
        return backWithCode(
          user.login,
          callback,
          { installation_id: ws.id, setup_action: "install" },
          { state, redirectUri: null, challenge: null },
        );
      },
      deny: () => {
        const url = new URL(callback);
        url.searchParams.set("error", "access_denied");
        if (state !== null) url.searchParams.set("state", state);
        return { status: 302, headers: { location: url.toString() } };
      },
    });
  });

  /** Web application flow for a GitHub App: the user authorizes the app and comes back with a code. */
  router.on("GET", "/login/oauth/authorize", (req) => {
    const q = req.query;
    if (q.get("client_id") !== oauthClient.id) return { status: 404, raw: "Not Found" };
    const callback = web.callbackUrl;
    if (!callback) return ghError(400, "The simulated GitHub App has no callback URL.");
    const redirectUri = q.get("redirect_uri");
    // GitHub: host and port must match the registered callback URL; the path may be a subdirectory.
    if (redirectUri && !redirectWithin(callback, redirectUri)) {
      return {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        raw: "<!DOCTYPE html><html><body><h1>The redirect_uri is not associated with this application.</h1></body></html>",
      };
    }
    const user = userNamed(web.signedIn);
    if (!user) return signInRequired();
    const state = q.get("state");
    const target = redirectUri ?? callback;
    return desk.ask({
      provider: "GitHub",
      app: app.name,
      signedInAs: user.login,
      scopes: ["Verify your GitHub identity", "Know which resources you can access"],
      allow: () =>
        backWithCode(user.login, target, {}, { state, redirectUri, challenge: q.get("code_challenge") }),
      deny: () => {
        const url = new URL(target);
        url.searchParams.set("error", "access_denied");
        url.searchParams.set("error_description", "The user has denied your application access.");
        if (state !== null) url.searchParams.set("state", state);
        return { status: 302, headers: { location: url.toString() } };
      },
    });
  });

  /** Token errors answer 200 with an `error` field, as GitHub's token endpoint does. */
  const tokenError = (error: string, description: string): SimReply => ({
    status: 200,
    json: { error, error_description: description, error_uri: TOKEN_ERRORS_DOCS },
  });

  const issueUserTokens = (login: string): SimReply => {
    const access = newToken("ghu");
    const refresh = newToken("ghr", 76);
    store.addCredential({
      token: access,
      workspaces: [],
      kind: "user_token",
      expires_at: Date.now() + USER_TOKEN_TTL_S * 1000,
      meta: { login, refresh_token: refresh },
    });
    store.addCredential({
      token: refresh,
      workspaces: [],
      kind: "user_refresh",
      expires_at: null,
      meta: { login },
    });
    return {
      json: {
        access_token: access,
        expires_in: USER_TOKEN_TTL_S,
        refresh_token: refresh,
        refresh_token_expires_in: USER_REFRESH_TTL_S,
        scope: "",
        token_type: "bearer",
      },
    };
  };

  router.on("POST", "/login/oauth/access_token", (req) => {
    const b = (req.body ?? {}) as Record<string, string>;
    if (b.client_id !== oauthClient.id || b.client_secret !== oauthClient.secret)
      return tokenError(
        "incorrect_client_credentials",
        "The client_id and/or client_secret passed are incorrect.",
      );
    if (b.grant_type === "refresh_token") {
      const old = store.credentials.get(b.refresh_token ?? "");
      if (old?.kind !== "user_refresh" || old.revoked)
        return tokenError("bad_refresh_token", "The refresh token passed is incorrect or expired.");
      old.revoked = true;
      return issueUserTokens(old.meta!.login);
    }
    const pending = userCodes.get(b.code ?? "");
    if (!pending || pending.used || pending.expires_at <= Date.now())
      return tokenError("bad_verification_code", "The code passed is incorrect or expired.");
    if (pending.redirect_uri && b.redirect_uri !== pending.redirect_uri)
      return tokenError(
        "redirect_uri_mismatch",
        "The redirect_uri MUST match the registered callback URL for this application.",
      );
    if (pending.challenge) {
      const computed = b.code_verifier
        ? createHash("sha256").update(b.code_verifier).digest("base64url")
        : null;
      if (computed !== pending.challenge)
        return tokenError("invalid_grant", "The code_verifier does not match the code_challenge.");
    }
    pending.used = true;
    return issueUserTokens(pending.login);
  });

  /** Endpoints that take a user access token (`ghu_`). */
  const asUser =
    (handler: (req: SimRequest, user: SimUser, urls: Urls) => SimReply): SimHandler =>
    (req) => {
      const token = bearerToken(req.headers.authorization);
      if (!token) return ghError(401, "Requires authentication");
      const cred = store.check(token);
      const user =
        typeof cred === "string" || cred.kind !== "user_token" ? null : userNamed(cred.meta!.login);
      if (!user) return ghError(401, "Bad credentials");
      return handler(req, user, urlsOf(req));
    };

  router.on(
    "GET",
    "/user",
    asUser((_req, user, urls) => ({
      json: { login: user.login, id: user.id, type: "User", html_url: `${urls.web}/${user.login}` },
    })),
  );

  router.on(
    "GET",
    "/user/installations",
    asUser((req, user, urls) => {
      const all = user.installations
        .map((id) => installedWorkspace(id))
        .filter((w): w is SimWorkspace => Boolean(w));
      const { page, perPage } = paging(req);
      const { items } = pageOf(all, page, perPage);
      return {
        headers: linkHeader(urls, "/user/installations", req, page, Math.ceil(all.length / perPage)),
        json: { total_count: all.length, installations: items.map((w) => installation(w, app, urls)) },
      };
    }),
  );

  // ---- GitHub-specific control routes --------------------------------------------------------

  router.on("PUT", "/_sim/app", (req) => {
    const b = req.body ?? {};
    if (b.callback_url !== undefined) web.callbackUrl = b.callback_url;
    if (b.install_target !== undefined)
      web.installTarget = b.install_target === null ? null : String(b.install_target);
    if (b.signed_in_user !== undefined) {
      if (b.signed_in_user !== null && !userNamed(b.signed_in_user))
        return { status: 400, json: { error: `no simulated user ${b.signed_in_user}` } };
      web.signedIn = b.signed_in_user;
    }
    return {
      json: {
        app_id: app.id,
        slug: app.slug,
        callback_url: web.callbackUrl,
        install_target: web.installTarget,
        signed_in_user: web.signedIn,
      },
    };
  });
  router.on("PATCH", "/_sim/installations/:id", (req) => {
    const ws = store.workspaces.get(req.params.id);
    if (!ws) return { status: 404, json: { error: `installation ${req.params.id} not found` } };
    if (typeof req.body?.suspended === "boolean") {
      const was = Boolean(ws.details.suspended_at);
      ws.details.suspended_at = req.body.suspended ? new Date().toISOString() : null;
      if (was !== req.body.suspended)
        hooks.installationEvent(ws, req.body.suspended ? "suspend" : "unsuspend");
    }
    return { json: ws };
  });
  router.on("DELETE", "/_sim/installations/:id", (req) => {
    const ws = store.workspaces.get(req.params.id);
    if (!ws) return { status: 404, json: { error: `installation ${req.params.id} not found` } };
    const was = !ws.details.uninstalled;
    ws.details.uninstalled = true;
    for (const c of store.credentials.values()) if (c.workspaces.includes(ws.id)) c.revoked = true;
    if (was) hooks.installationEvent(ws, "deleted");
    return { status: 204 };
  });
  // A `selected` installation given (or losing) a repository: `installation_repositories` added / removed.
  router.on("PUT", "/_sim/installations/:id/repositories/:repo_id", (req) => {
    const ws = store.workspaces.get(req.params.id);
    const r = store.resources.get(req.params.repo_id);
    if (!ws || !r || r.workspace_id !== ws.id)
      return { status: 404, json: { error: "no such installation or repository" } };
    if (typeof req.body?.selected !== "boolean")
      return { status: 400, json: { error: "selected is required" } };
    const was = !unselected.has(r.id);
    if (req.body.selected) unselected.delete(r.id);
    else unselected.add(r.id);
    if (was !== req.body.selected) hooks.selectionEvent(ws, req.body.selected ? "added" : "removed", [r]);
    return { json: { id: r.id, selected: req.body.selected } };
  });
  hooks.hub.mount(router);
  router.on("PUT", "/_sim/rate-limit", (req) => {
    const b = req.body ?? {};
    limiter.configure({
      ...(typeof b.core === "number" ? { core: b.core } : {}),
      ...(typeof b.search === "number" ? { search: b.search } : {}),
    });
    return { json: limiter.limits };
  });
  // A repository becomes a fork (or stops being one): what `fork` says in every repository object.
  router.on("PUT", "/_sim/resources/:id/fork", (req) => {
    const r = store.resources.get(req.params.id);
    if (!r) return { status: 404, json: { error: `resource ${req.params.id} not found` } };
    if (req.body?.fork === false) forks.delete(r.id);
    else forks.add(r.id);
    return { json: { id: r.id, fork: forks.has(r.id) } };
  });
  router.on("POST", "/_sim/resources/:id/pulls", (req) => {
    const r = store.resources.get(req.params.id);
    if (!r) return { status: 404, json: { error: `resource ${req.params.id} not found` } };
    if (typeof req.body?.title !== "string") return { status: 400, json: { error: "title is required" } };
    return { status: 201, json: addPull(r, req.body.title, req.body.body ?? null) };
  });

  mountControlApi(router, store);

  const sim = await startSimServer({
    name: "github",
    router,
    port: opts.port,
    faultBody: (status) => ({ message: STATUS_CODES[status] ?? "Error", documentation_url: DOCS }),
  });
  simUrl = sim.url;
  const def = store.workspaces.get(defaultWorkspace())!;
  return providerSimulator("github", sim, store, {
    webhook_secret: webhookSecret,
    api_url: sim.url,
    web_url: sim.url,
    app_id: app.id,
    app_slug: app.slug,
    private_key_pem: keys.privateKeyPem,
    client_id: oauthClient.id,
    client_secret: oauthClient.secret,
    installation_id: def.id,
    account: def.slug,
  });
}

/** GitHub's redirect_uri rule: same scheme, host and port as the callback URL; the path may go deeper. */
function redirectWithin(callback: string, candidate: string): boolean {
  try {
    const a = new URL(callback);
    const b = new URL(candidate);
    return a.origin === b.origin && b.pathname.startsWith(a.pathname.replace(/\/?$/, ""));
  } catch {
    return false;
  }
}

/**
 * The subset of GitHub's issue search syntax the simulator understands: qualifiers, quoted phrases and
 * words, and the advanced search operators: unquoted `OR` between terms, `NOT` (or a leading `-`) before a
 * term, `AND` and parentheses as plain grouping. A quoted `"OR"` or `"repo:x"` is a word.
 */
function parseSearch(q: string) {
  const out = {
    repos: [] as string[],
    is: new Set<string>(),
    state: null as string | null,
    labels: [] as string[],
    /** Alternatives, each a set of terms that must all match. */
    anyOf: [[]] as string[][],
    not: [] as string[],
  };
  const unquote = (s: string) => s.replace(/^"(.*)"$/, "$1");
  let negate = false;
  for (const m of q.matchAll(/(-?)(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)/g)) {
    const [, minus, qualifier, value, phrase, bare] = m;
    if (qualifier && !minus) {
      const v = unquote(value);
      const k = qualifier.toLowerCase();
      if (k === "repo") out.repos.push(v);
      else if (k === "is" && (v === "open" || v === "closed")) out.state = v;
      else if (k === "is") out.is.add(v.toLowerCase());
      else if (k === "state") out.state = v.toLowerCase();
      else if (k === "label") out.labels.push(v);
      // other qualifiers (in:, author:, sort: ...) are accepted and ignored
      continue;
    }
    let term = phrase ?? bare?.replace(/[()]/g, "") ?? "";
    if (bare === "OR") {
      out.anyOf.push([]);
      continue;
    }
    if (bare === "AND" || (bare && !term)) continue;
    if (bare === "NOT") {
      negate = true;
      continue;
    }
    if (bare?.startsWith("-") && term.length > 1) {
      negate = true;
      term = term.slice(1);
    }
    if (!term) continue;
    if (negate) out.not.push(term);
    else out.anyOf[out.anyOf.length - 1].push(term);
    negate = false;
  }
  return out;
}
