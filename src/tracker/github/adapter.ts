import type {
  Connection,
  IssueDraft,
  IssuePage,
  IssuePatch,
  NormalizedIssue,
  TrackerAdapter,
} from "../core/adapter.ts";
import { type BindableResource, hostOf } from "../core/descriptor.ts";
import { parseLinkHeader } from "../core/discovery.ts";
import { TrackerError } from "../core/errors.ts";
import { type HttpResponse, httpFor, type ProviderHttpRules } from "../core/http.ts";
import { bodyWithMarker, carriesMarker } from "../core/marker.ts";
import {
  appCredential,
  appJwt,
  baseOf,
  dropInstallationToken,
  GITHUB_HEADERS,
  installationToken,
} from "./auth.ts";
import {
  type GhInstallation,
  type GhIssue,
  type GhRepository,
  labelNames,
  labelsWithStatus,
  malformed,
  stateFor,
  statusOf,
  toIssue,
  toResource,
  toWorkspace,
} from "./map.ts";
import { classifyGithub, GITHUB_RULES } from "./rules.ts";

/**
 * GitHub App adapter (REST v3, `X-GitHub-Api-Version: 2022-11-28`). The workspace is one app
 * installation; its bindable resources are the repositories it can access. Works against
 * api.github.com and GitHub Enterprise Server (`https://HOST/api/v3`).
 */

type Params = BindableResource["connector_params"];

interface CallRequest {
  method?: string;
  url: string;
  json?: unknown;
  okStatuses?: number[];
}

const REDIRECTS = [301, 302, 307, 308];

/**
 * The core client asks `classify` about `okStatuses` too (for errors inside a 200), so statuses a
 * call expects (404 on a lookup) must classify as success here.
 */
function rulesAccepting(okStatuses: number[] | undefined): ProviderHttpRules {
  if (!okStatuses?.length) return GITHUB_RULES;
  return {
    ...GITHUB_RULES,
    classify: (res, body) => (okStatuses.includes(res.status) ? null : classifyGithub(res, body)),
  };
}

/**
 * A call as the installation. A cached token that GitHub rejects with 401 (revoked, or the app was
 * reinstalled) is dropped and the call retried once with a fresh one. Renamed or transferred
 * repositories answer 301/307 to the id-form URL: followed once, same origin only.
 */
async function call<T>(conn: Connection, req: CallRequest, hops = 0): Promise<HttpResponse<T>> {
  for (let attempt = 0; ; attempt++) {
    const { token, cached } = await installationToken(conn);
    let res: HttpResponse<T>;
    try {
      res = await httpFor(conn).request<T>(rulesAccepting(req.okStatuses), {
        method: req.method,
        url: req.url,
        json: req.json,
        headers: { ...GITHUB_HEADERS, authorization: `Bearer ${token}` },
        okStatuses: [...(req.okStatuses ?? []), ...REDIRECTS],
      });
    } catch (err) {
      if (err instanceof TrackerError && err.status === 401 && cached && attempt === 0) {
        dropInstallationToken(conn, token);
        continue;
      }
      throw err;
    }
    if (!REDIRECTS.includes(res.status)) return res;
    const target = sameOriginTarget(conn, res.headers.get("location"));
    if (!target || hops > 0) {
      throw new TrackerError(
        "invalid_request",
        "github",
        `github redirect from ${pathOf(req.url)} not followed`,
        {
          status: res.status,
        },
      );
    }
    return call<T>(conn, { ...req, url: target }, hops + 1);
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "(invalid url)";
  }
}

/** A provider-given URL (redirect, `link` header) is only followed on the API's own origin. */
function sameOriginTarget(conn: Connection, location: string | null): string | null {
  if (!location) return null;
  try {
    const base = new URL(baseOf(conn));
    const target = new URL(location, `${base.origin}/`);
    return target.origin === base.origin ? target.toString() : null;
  } catch {
    return null;
  }
}

function repoParams(params: Params): { owner: string; repo: string; path: string } {
  const { owner, repo } = params;
  if (typeof owner !== "string" || typeof repo !== "string" || !owner || !repo) {
    throw new TrackerError("invalid_request", "github", "github connector params need owner and repo");
  }
  return { owner, repo, path: `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}` };
}

/** `12`, `#12` or `owner/repo#12` (this repository only) → 12. */
function issueNumber(params: Params, idOrKey: string): number | null {
  const m = idOrKey.trim().match(/^(?:([^\s#/]+\/[^\s#/]+))?#?(\d{1,15})$/);
  if (!m) return null;
  if (m[1] && m[1].toLowerCase() !== `${params.owner}/${params.repo}`.toLowerCase()) return null;
  return Number(m[2]);
}

/** The opaque list cursor: the page GitHub's `link` rel=next pointed at, with the page size. */
interface ListCursor {
  p: number;
  n: number;
}

function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(cursor: string): ListCursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as ListCursor;
    if (Number.isInteger(c.p) && c.p >= 1 && Number.isInteger(c.n) && c.n >= 1 && c.n <= 100) return c;
  } catch {
    // fall through
  }
  throw new TrackerError("invalid_request", "github", "github issue cursor is not valid");
}

const perPage = (limit: number) => Math.min(100, Math.max(1, Math.floor(limit) || 1));

function issuesOnly(items: unknown): GhIssue[] {
  if (!Array.isArray(items)) throw malformed("issue list");
  // The issues API also returns pull requests (they share the number sequence); they carry `pull_request`.
  return (items as GhIssue[]).filter((i) => !i?.pull_request);
}

async function fetchIssue(conn: Connection, params: Params, n: number): Promise<GhIssue | null> {
  const { path } = repoParams(params);
  const res = await call<GhIssue>(conn, {
    url: `${baseOf(conn)}${path}/issues/${n}`,
    okStatuses: [404, 410],
  });
  if (res.status === 404 || res.status === 410 || res.body?.pull_request) return null;
  return res.body;
}

async function patchIssue(conn: Connection, params: Params, n: number, body: Record<string, unknown>) {
  const { owner, repo, path } = repoParams(params);
  const res = await call<GhIssue>(conn, {
    method: "PATCH",
    url: `${baseOf(conn)}${path}/issues/${n}`,
    json: body,
  });
  return toIssue(res.body, owner, repo);
}

/**
 * The user's text as GitHub search terms. The default (advanced) issue search reads unquoted AND / OR /
 * NOT, parentheses and `qualifier:value` (a `repo:` would widen the search beyond the bound repository),
 * so each word is quoted and stays a word. GitHub caps a query at 256 characters.
 */
function searchWords(text: string): string {
  return text
    .replace(/["\\]/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => `"${w}"`)
    .join(" ")
    .slice(0, 200)
    .replace(/ "[^"]*$/, "");
}

/** Whether the installation was given the repository: `selected` installations list few, so a scan is cheap. */
async function granted(conn: Connection, nativeId: string): Promise<boolean> {
  let url: string | null = `${baseOf(conn)}/installation/repositories?per_page=100`;
  while (url) {
    const res: HttpResponse<{ repositories?: { id?: unknown }[] }> = await call(conn, { url });
    if (res.body?.repositories?.some((r) => String(r.id) === nativeId)) return true;
    const next = parseLinkHeader(res.headers.get("link")).next;
    url = next ? sameOriginTarget(conn, next) : null;
  }
  return false;
}

export const githubAdapter: TrackerAdapter = {
  provider: "github",

  connectorParams: (r) => ({
    installation_id: String(r.installation_id),
    repo_id: String(r.repo_id),
    owner: String(r.owner),
    repo: String(r.name),
    api_base_url: String(r.api_base_url),
  }),

  async listWorkspaces(conn) {
    const cred = appCredential(conn);
    const res = await httpFor(conn).request<GhInstallation>(GITHUB_RULES, {
      url: `${baseOf(conn)}/app/installations/${encodeURIComponent(cred.installation_id)}`,
      headers: { ...GITHUB_HEADERS, authorization: `Bearer ${appJwt(cred)}` },
    });
    return [toWorkspace(res.body, hostOf(baseOf(conn)))];
  },

  async *discover(conn, workspace) {
    const base = baseOf(conn);
    let url: string | null = `${base}/installation/repositories?per_page=100`;
    while (url) {
      const res: HttpResponse<{ repositories?: unknown; repository_selection?: string }> = await call(conn, {
        url,
      });
      const repos = res.body?.repositories;
      if (!Array.isArray(repos)) throw malformed("GET /installation/repositories");
      const selection = res.body.repository_selection ?? null;
      yield { resources: repos.map((r) => toResource(r, workspace, base, selection)) };
      const next = parseLinkHeader(res.headers.get("link")).next;
      url = next ? sameOriginTarget(conn, next) : null;
      if (next && !url) throw malformed("link header (next page on another origin)");
    }
  },

  async getResource(conn, workspace, nativeId) {
    if (!/^\d{1,15}$/.test(nativeId)) return null;
    const base = baseOf(conn);
    const res = await call<GhRepository>(conn, {
      url: `${base}/repositories/${nativeId}`,
      okStatuses: [404],
    });
    if (res.status === 404) return null;
    // Public repositories of other accounts are readable too; only the installation's account counts.
    const accountId = workspace.details.account_id;
    const accountLogin = workspace.details.account_login ?? workspace.name;
    const owner = res.body?.owner;
    const ours =
      accountId !== null && accountId !== undefined
        ? String(owner?.id) === String(accountId)
        : owner?.login?.toLowerCase() === String(accountLogin).toLowerCase();
    if (!ours) return null;
    // A `selected` installation reaches only the repositories it was given, though it reads any public one.
    if (workspace.details.repository_selection === "selected" && !(await granted(conn, nativeId)))
      return null;
    return toResource(res.body, workspace, base, null);
  },

  async listIssues(conn, params, opts): Promise<IssuePage> {
    const { owner, repo, path } = repoParams(params);
    const c = opts.cursor ? decodeCursor(opts.cursor) : { p: 1, n: perPage(opts.limit) };
    const res = await call<unknown>(conn, {
      url: `${baseOf(conn)}${path}/issues?state=all&per_page=${c.n}&page=${c.p}`,
    });
    const next = parseLinkHeader(res.headers.get("link")).next;
    const nextPage = next ? Number(new URL(next, baseOf(conn)).searchParams.get("page")) : Number.NaN;
    return {
      issues: issuesOnly(res.body).map((i) => toIssue(i, owner, repo)),
      next_cursor:
        Number.isInteger(nextPage) && nextPage > c.p ? encodeCursor({ p: nextPage, n: c.n }) : null,
    };
  },

  async searchIssues(conn, params, query): Promise<NormalizedIssue[]> {
    const { owner, repo } = repoParams(params);
    if (query.key) {
      const n = issueNumber(params, query.key);
      const hit = n === null ? null : await fetchIssue(conn, params, n);
      if (hit) return [toIssue(hit, owner, repo)];
      if (!query.text) return [];
    }
    const words = searchWords(query.text ?? "");
    if (!words) return [];
    const q = `${words} repo:${owner}/${repo} is:issue`;
    const res = await call<{ items?: unknown; incomplete_results?: unknown }>(conn, {
      url: `${baseOf(conn)}/search/issues?q=${encodeURIComponent(q)}&per_page=${perPage(query.limit)}`,
    });
    if (res.body?.incomplete_results === true) query.onIncomplete?.();
    return issuesOnly(res.body?.items)
      .slice(0, query.limit)
      .map((i) => toIssue(i, owner, repo));
  },

  async getIssue(conn, params, idOrKey) {
    const { owner, repo } = repoParams(params);
    const n = issueNumber(params, idOrKey);
    const issue = n === null ? null : await fetchIssue(conn, params, n);
    return issue ? toIssue(issue, owner, repo) : null;
  },

  async createIssue(conn, params, draft: IssueDraft) {
    const { owner, repo, path } = repoParams(params);
    const status = draft.status ?? "todo";
    const res = await call<GhIssue>(conn, {
      method: "POST",
      url: `${baseOf(conn)}${path}/issues`,
      json: {
        title: draft.title,
        body: bodyWithMarker(draft.body, draft.marker),
        labels: labelsWithStatus(draft.labels ?? [], status),
      },
    });
    // An issue is always created open; a closed status needs a second call.
    const { state, state_reason } = stateFor(status);
    if (state === "closed") return patchIssue(conn, params, res.body.number, { state, state_reason });
    return toIssue(res.body, owner, repo);
  },

  /** The issues list (newest first) sees an issue at once; the search API's index lags behind. */
  async findByMarker(conn, params, marker) {
    const { owner, repo, path } = repoParams(params);
    const res = await call<unknown>(conn, {
      url: `${baseOf(conn)}${path}/issues?state=all&sort=created&direction=desc&per_page=50`,
    });
    const hit = issuesOnly(res.body).find((i) => carriesMarker(i.body, marker));
    return hit ? toIssue(hit, owner, repo) : null;
  },

  async updateIssue(conn, params, idOrKey, patch: IssuePatch) {
    const n = issueNumber(params, idOrKey);
    const current = n === null ? null : await fetchIssue(conn, params, n);
    if (n === null || !current) {
      throw new TrackerError("not_found", "github", "github issue not found in this repository", {
        status: 404,
      });
    }
    const body: Record<string, unknown> = {};
    if (patch.title !== undefined) body.title = patch.title;
    if (patch.body !== undefined) body.body = patch.body;
    if (patch.labels !== undefined || patch.status !== undefined) {
      // `labels` replaces the whole set: keep the status label unless the status changes.
      body.labels = labelsWithStatus(patch.labels ?? labelNames(current), patch.status ?? statusOf(current));
    }
    if (patch.status !== undefined) {
      const { state, state_reason } = stateFor(patch.status);
      body.state = state;
      if (state_reason) body.state_reason = state_reason;
      else if (current.state === "closed") body.state_reason = "reopened";
    }
    return patchIssue(conn, params, n, body);
  },
};
