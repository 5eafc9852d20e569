import { bearerHeaders, type Connection } from "../core/adapter.ts";
import { TrackerError, type TrackerErrorKind } from "../core/errors.ts";
import {
  type HttpRequest,
  type HttpResponse,
  httpFor,
  type ProviderHttpRules,
  parseRetryAfterHeader,
} from "../core/http.ts";

/**
 * Jira transport for the three deployments, chosen by the credential:
 *   oauth       Cloud through the API gateway: `{base}/ex/jira/{cloudId}/rest/api/3/...`, Bearer token.
 *   basic       Cloud on the site URL with email + API token: `{site}/rest/api/3/...`.
 *   bearer_pat  Data Center with a personal access token: `{base}/rest/api/2/...`.
 * `conn.options.deployment` ("cloud" | "data_center") overrides the guess for Basic auth, which Data
 * Center also accepts.
 */

export type Deployment = "cloud" | "data_center";
export type Mode = "gateway" | "site" | "dc";

export const PROVIDER = "jira";

export function trimUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

export function modeOf(conn: Connection): Mode {
  const kind = conn.credential.kind;
  if (kind === "oauth") return "gateway";
  if (kind === "basic") return conn.options?.deployment === "data_center" ? "dc" : "site";
  if (kind === "bearer_pat") return "dc";
  throw new TrackerError("invalid_request", PROVIDER, `jira does not accept ${kind} credentials`);
}

export const deploymentOf = (mode: Mode): Deployment => (mode === "dc" ? "data_center" : "cloud");

/** REST major version: Cloud speaks v3 (ADF descriptions, enhanced search), Data Center v2. */
export const apiVersion = (mode: Mode) => (mode === "dc" ? "2" : "3");

/**
 * Where product calls go. The gateway needs the site's cloud id; site and Data Center calls go to the
 * connection's own base URL, so a credential is only ever sent where the admin pointed it.
 */
export function apiRoot(conn: Connection, cloudId: string | null | undefined): string {
  const base = trimUrl(conn.base_url);
  if (modeOf(conn) !== "gateway") return base;
  const id = cloudId || conn.options?.cloud_id;
  if (!id) throw new TrackerError("invalid_request", PROVIDER, "jira OAuth calls need the site's cloud id");
  return `${base}/ex/jira/${encodeURIComponent(id)}`;
}

/** `{root}/rest/api/{v}{path}` with query parameters (arrays repeat the parameter, as Jira expects). */
export function restUrl(
  conn: Connection,
  cloudId: string | null | undefined,
  path: string,
  query: Record<string, string | number | string[] | undefined> = {},
): string {
  const url = new URL(`${apiRoot(conn, cloudId)}/rest/api/${apiVersion(modeOf(conn))}${path}`);
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
  }
  return url.toString();
}

function authHeaders(conn: Connection): Record<string, string> {
  const c = conn.credential;
  const bearer = bearerHeaders(c);
  if (bearer) return bearer;
  if (c.kind === "basic")
    return { authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}` };
  throw new TrackerError("invalid_request", PROVIDER, `jira does not accept ${c.kind} credentials`);
}

interface JiraErrorBody {
  errorMessages?: unknown;
  errors?: unknown;
  message?: unknown;
  code?: unknown;
}

/** All human error strings of a Jira error body (`{errorMessages:[], errors:{field: msg}}` or the gateway's `{code, message}`). */
export function errorTexts(body: unknown): string[] {
  const b = (body ?? {}) as JiraErrorBody;
  const out: string[] = [];
  if (Array.isArray(b.errorMessages)) out.push(...b.errorMessages.map(String));
  if (b.errors && typeof b.errors === "object") out.push(...Object.values(b.errors).map(String));
  if (typeof b.message === "string") out.push(b.message);
  return out;
}

/**
 * Jira's own signals, per deployment:
 * - `X-Seraph-LoginReason: AUTHENTICATED_FAILED` means the site rejected the API token or PAT. It also rides
 *   on 200 answers of endpoints that allow anonymous access (serverInfo), so it is checked before the status.
 *   `AUTHENTICATION_DENIED` means Basic auth is locked behind a CAPTCHA until someone signs in through the
 *   browser: retrying cannot help, so it is an auth failure too.
 * - 401 on the OAuth gateway (`{"code":401,"message":"Unauthorized"}`) is what an expired 1-hour access token
 *   gets, and Jira answers a revoked grant the same way: auth_expired, so the host refreshes; a revoked grant
 *   then fails at the token endpoint with invalid_grant (auth_revoked). `Unauthorized; scope does not match`
 *   is a missing scope: forbidden.
 * - 401 on a site or Data Center: Jira does not say whether the API token / PAT expired or was revoked, and
 *   the service cannot renew either, so the installation needs a new token: auth_revoked.
 * - 400 "... does not exist for the field 'project'" from JQL: the mapped project is gone (not_found).
 * - 429 and 503 are retryable; the wait comes from `retryAfterSeconds`.
 */
export function classifyFor(mode: Mode) {
  return (res: Response, body: unknown): TrackerErrorKind | null => {
    const login = res.headers.get("x-seraph-loginreason") ?? "";
    const staticTokenFailed = /AUTHENTICATED_FAILED|AUTHENTICATION_DENIED/i.test(login);
    if (res.status >= 200 && res.status < 300) return staticTokenFailed ? "auth_revoked" : null;
    const texts = errorTexts(body);
    if (res.status === 401) {
      if (mode !== "gateway") return "auth_revoked";
      return texts.some((t) => /scope does not match/i.test(t)) ? "forbidden" : "auth_expired";
    }
    if (staticTokenFailed) return "auth_revoked";
    if (res.status === 400 && texts.some((t) => /does not exist for the field 'project'/i.test(t)))
      return "not_found";
    if (res.status === 410) return "invalid_request"; // an API Atlassian removed
    return null; // core defaults: 403 forbidden, 404 not_found, 429 rate_limited, 5xx upstream_unavailable
  };
}

/**
 * `Retry-After` (seconds) first; without it, `X-RateLimit-Reset` (an ISO-8601 instant such as
 * `2026-03-02T10:31Z`) on a 429 or 503. The reset header alone on a successful answer is not a wait.
 */
export function retryAfterSeconds(res: Response): number | null {
  const retryAfter = parseRetryAfterHeader(res.headers.get("retry-after"));
  if (retryAfter !== null) return retryAfter;
  if (res.status !== 429 && res.status !== 503) return null;
  const reset = res.headers.get("x-ratelimit-reset");
  if (!reset) return null;
  const at = Date.parse(reset);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Refusals whose body says why (field errors, workflow rules). */
const REFUSALS = [400, 409, 422];

export function rulesFor(mode: Mode): ProviderHttpRules {
  return {
    provider: PROVIDER,
    classify: classifyFor(mode),
    retryAfterSeconds,
    reason: (res, body) => (REFUSALS.includes(res.status) ? reasonOf(body) : null),
  };
}

/**
 * Jira's own reason for a refusal, `field: message` per entry of `errors` plus `errorMessages` (the core
 * client removes credentials and token-shaped text from it, as for every provider).
 */
export function reasonOf(body: unknown): string | null {
  const b = (body ?? {}) as JiraErrorBody;
  const parts: string[] = [];
  if (Array.isArray(b.errorMessages)) parts.push(...b.errorMessages.map(String));
  if (b.errors && typeof b.errors === "object")
    for (const [field, msg] of Object.entries(b.errors)) parts.push(`${field}: ${String(msg)}`);
  if (parts.length === 0 && typeof b.message === "string") parts.push(b.message);
  return parts.join("; ").trim() || null;
}

export async function jiraRequest<T>(
  conn: Connection,
  req: Omit<HttpRequest, "headers"> & { anonymous?: boolean },
): Promise<HttpResponse<T>> {
  const { anonymous, ...rest } = req;
  return httpFor(conn).request<T>(rulesFor(modeOf(conn)), {
    ...rest,
    // Jira rejects state-changing calls without this header as XSRF when cookies are involved; harmless otherwise.
    headers: { ...(anonymous ? {} : authHeaders(conn)), "x-atlassian-token": "no-check" },
  });
}

export function malformed(what: string): TrackerError {
  return new TrackerError("malformed_response", PROVIDER, `jira answered with an unexpected ${what}`);
}
