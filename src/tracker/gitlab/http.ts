import { bearerHeaders, type Connection } from "../core/adapter.ts";
import { parseLinkHeader } from "../core/discovery.ts";
import { TrackerError, type TrackerErrorKind } from "../core/errors.ts";
import { type HttpResponse, httpFor, type ProviderHttpRules, parseRetryAfterHeader } from "../core/http.ts";

/**
 * GitLab REST v4 transport: credential headers, failure classification from GitLab's own signals,
 * and offset/keyset paging by following the `Link` header (or `X-Next-Page`).
 */

/** The instance URL without a trailing slash; tolerates a base URL that already ends in `/api/v4`. */
export function instanceUrl(conn: Pick<Connection, "base_url">): string {
  return conn.base_url.replace(/\/+$/, "").replace(/\/api\/v4$/, "");
}

export function apiUrl(
  conn: Pick<Connection, "base_url">,
  path: string,
  query: Record<string, string | number | undefined> = {},
): string {
  const url = new URL(`${instanceUrl(conn)}/api/v4${path}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}

/** GitLab also takes personal/group access tokens as Bearer, besides its own `Private-Token` header. */
function authHeaders(conn: Connection): Record<string, string> {
  const c = conn.credential;
  const bearer = bearerHeaders(c);
  if (bearer) return bearer;
  if (c.kind === "private_token") return { "private-token": c.token };
  throw new TrackerError("invalid_request", "gitlab", `gitlab does not accept ${c.kind} credentials`);
}

/**
 * 401 bodies tell expired and revoked tokens apart (OAuth and personal access tokens alike):
 *   {"error":"invalid_token","error_description":"Token is expired. You can either do re-authorization or token refresh."}
 *   {"error":"invalid_token","error_description":"Token was revoked. You have to re-authorize from the user."}
 * A token GitLab has no record of (deleted, mistyped) gets a bare {"message":"401 Unauthorized"}: neither
 * waiting nor a refresh brings it back, so it counts as revoked.
 * Everything else falls through to the core defaults (403 forbidden, 404 not_found, 429, 5xx).
 */
function classify(res: Response, body: unknown): TrackerErrorKind | null {
  if (res.status !== 401) return null;
  const b = body as { error?: unknown; error_description?: unknown } | null;
  if (b?.error === "invalid_token" && /expired/i.test(String(b.error_description ?? "")))
    return "auth_expired";
  return "auth_revoked";
}

/**
 * `Retry-After` (seconds) on a throttled answer; otherwise the window end from `RateLimit-Reset` (epoch
 * seconds) or `RateLimit-ResetTime` (HTTP date). The reset headers ride on every response, so they only
 * count for a 429.
 */
function retryAfterSeconds(res: Response): number | null {
  const retryAfter = parseRetryAfterHeader(res.headers.get("retry-after"));
  if (retryAfter !== null || res.status !== 429) return retryAfter;
  const reset = Number(res.headers.get("ratelimit-reset"));
  if (res.headers.get("ratelimit-reset") && Number.isFinite(reset)) {
    return Math.max(0, Math.ceil(reset - Date.now() / 1000));
  }
  return parseRetryAfterHeader(res.headers.get("ratelimit-resettime"));
}

/**
 * A token without the scope a call needs answers 403
 * `{"error":"insufficient_scope","error_description":"...","scope":"api read_api"}`: `scope` lists the
 * scopes that would do (GitLab docs, REST API authentication).
 */
function requiredScopes(res: Response, body: unknown): string[] | null {
  const b = body as { error?: unknown; scope?: unknown } | null;
  if (res.status !== 403 || b?.error !== "insufficient_scope" || typeof b.scope !== "string") return null;
  const scopes = b.scope.split(/\s+/).filter(Boolean);
  return scopes.length > 0 ? scopes : null;
}

/** GitLab's 404 for a group or project it does not show: Grape's `{"message": "404 Group Not Found"}`. */
export function isGitlabNotFound(body: unknown): boolean {
  const m = (body as { message?: unknown } | null)?.message;
  return typeof m === "string" && /^404\b/.test(m);
}

/**
 * GitLab's refusal in its own words: `message` (a string, or an object of field → messages for a 400),
 * or `error` with `error_description` (https://docs.gitlab.com/api/rest/troubleshooting/#status-codes).
 */
function reason(res: Response, body: unknown): string | null {
  if (res.status < 400 || res.status >= 500) return null;
  const b = body as { message?: unknown; error?: unknown; error_description?: unknown } | null;
  if (typeof b?.message === "string") return b.message;
  if (b?.message && typeof b.message === "object")
    return Object.entries(b.message as Record<string, unknown>)
      .map(([field, v]) => `${field} ${Array.isArray(v) ? v.join(", ") : String(v)}`)
      .join("; ");
  if (typeof b?.error === "string")
    return typeof b.error_description === "string" ? `${b.error}: ${b.error_description}` : b.error;
  return null;
}

export const GITLAB_RULES: ProviderHttpRules = {
  provider: "gitlab",
  classify,
  retryAfterSeconds,
  requiredScopes,
  reason,
};

export function glRequest<T>(
  conn: Connection,
  req: { method?: string; url: string; json?: unknown; okStatuses?: number[] },
): Promise<HttpResponse<T>> {
  return httpFor(conn).request<T>(GITLAB_RULES, { ...req, headers: authHeaders(conn) });
}

export function malformed(what: string): TrackerError {
  return new TrackerError("malformed_response", "gitlab", `gitlab answered with an unexpected ${what}`);
}

/**
 * The next page's URL. `Link: rel="next"` serves both offset and keyset paging; offset answers also carry
 * `X-Next-Page` (empty on the last page). The link is re-anchored on the connection's origin so a
 * misconfigured `external_url` behind a proxy cannot send the credential elsewhere.
 */
export function nextPageUrl(conn: Connection, current: string, headers: Headers): string | null {
  const next = parseLinkHeader(headers.get("link")).next;
  if (next) {
    const link = new URL(next, current);
    const base = new URL(instanceUrl(conn));
    return new URL(`${link.pathname}${link.search}`, base.origin).toString();
  }
  const page = headers.get("x-next-page");
  if (!page) return null;
  const url = new URL(current);
  url.searchParams.set("page", page);
  return url.toString();
}

/** Streams the pages of a list endpoint. Each page must be a JSON array. */
export async function* glPages<T>(conn: Connection, firstUrl: string): AsyncGenerator<T[]> {
  let url: string | null = firstUrl;
  while (url) {
    const res: HttpResponse<unknown> = await glRequest<unknown>(conn, { url });
    if (!Array.isArray(res.body)) throw malformed(`body for ${new URL(url).pathname} (expected a list)`);
    yield res.body as T[];
    const next = nextPageUrl(conn, url, res.headers);
    url = next === url ? null : next;
  }
}
