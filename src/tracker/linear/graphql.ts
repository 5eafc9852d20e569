import type { Connection, Credential } from "../core/adapter.ts";
import { TrackerError, type TrackerErrorKind } from "../core/errors.ts";
import { httpFor, type ProviderHttpRules, parseRetryAfterHeader } from "../core/http.ts";

/**
 * Linear's one GraphQL endpoint, its header auth, and its failure signals. Linear reports failures as
 * GraphQL errors whose `extensions.code` / `extensions.type` say what happened (RATELIMITED,
 * AUTHENTICATION_ERROR, FORBIDDEN, INVALID_INPUT...), under HTTP 200, 400 (rate limiting, invalid
 * queries), 401 or 403, so the body decides, not the status.
 */

export const PROVIDER = "linear";

interface LinearGraphQLError {
  message?: string;
  path?: unknown[];
  extensions?: { code?: string; type?: string; userPresentableMessage?: string };
}

interface GraphQLBody<T> {
  data?: T | null;
  errors?: LinearGraphQLError[];
}

export const graphqlUrl = (conn: Connection) => `${conn.base_url.replace(/\/+$/, "")}/graphql`;

/** Personal API keys go in `Authorization` as they are; OAuth tokens as `Bearer` (Linear rejects the other form). */
export function authorization(credential: Credential): string {
  if (credential.kind === "api_key") return credential.api_key;
  if (credential.kind === "oauth") return `Bearer ${credential.access_token}`;
  throw new TrackerError(
    "invalid_request",
    PROVIDER,
    `linear accepts api_key or oauth credentials, not ${credential.kind}`,
  );
}

function errorsOf(body: unknown): LinearGraphQLError[] {
  const errors = (body as GraphQLBody<unknown> | null)?.errors;
  return Array.isArray(errors) ? errors : [];
}

const codeOf = (e: LinearGraphQLError) => String(e.extensions?.code ?? "").toUpperCase();
const typeOf = (e: LinearGraphQLError) => String(e.extensions?.type ?? "").toLowerCase();

/** Linear answers a lookup of an unknown or invisible id with "Entity not found" (type invalid input). */
export function isEntityNotFound(e: LinearGraphQLError): boolean {
  return (
    /^entity not found/i.test(e.message ?? "") ||
    /could not find referenced/i.test(e.extensions?.userPresentableMessage ?? "")
  );
}

const isRateLimited = (e: LinearGraphQLError) => codeOf(e) === "RATELIMITED" || typeOf(e) === "ratelimited";

function kindOf(e: LinearGraphQLError): TrackerErrorKind {
  const code = codeOf(e);
  const type = typeOf(e);
  if (isRateLimited(e)) return "rate_limited";
  if (code === "AUTHENTICATION_ERROR" || type === "authentication error") {
    // One code for every rejected credential; only an expired OAuth access token is renewable.
    return /expired/i.test(e.message ?? "") ? "auth_expired" : "auth_revoked";
  }
  if (code === "FORBIDDEN" || type === "forbidden" || type === "feature not accessible") return "forbidden";
  if (isEntityNotFound(e)) return "not_found";
  if (
    code === "INTERNAL_SERVER_ERROR" ||
    ["internal error", "lock timeout", "network error", "bootstrap error"].includes(type)
  ) {
    return "upstream_unavailable";
  }
  return "invalid_request";
}

/** When several errors come back, the one that decides what the caller does first wins. */
const PRECEDENCE: TrackerErrorKind[] = [
  "rate_limited",
  "auth_revoked",
  "auth_expired",
  "forbidden",
  "upstream_unavailable",
  "not_found",
  "invalid_request",
];

/** Seconds until the exhausted budget refills, from Linear's `X-RateLimit-*-Reset` headers (epoch ms). */
function secondsUntilReset(headers: Headers): number | null {
  const budgets = ["x-ratelimit-requests", "x-ratelimit-complexity", "x-ratelimit-endpoint-requests"]
    .map((p) => ({
      reset: Number(headers.get(`${p}-reset`) ?? Number.NaN),
      remaining: Number(headers.get(`${p}-remaining`) ?? Number.NaN),
    }))
    .filter((b) => Number.isFinite(b.reset) && b.reset > 0);
  if (budgets.length === 0) return null;
  const exhausted = budgets.filter((b) => b.remaining <= 0);
  const reset = Math.max(...(exhausted.length > 0 ? exhausted : budgets).map((b) => b.reset));
  const resetMs = reset < 1e12 ? reset * 1000 : reset; // tolerate epoch seconds
  return Math.max(0, (resetMs - Date.now()) / 1000);
}

export function linearRules(opts: { nullIfNotFound?: boolean } = {}): ProviderHttpRules {
  return {
    provider: PROVIDER,
    classify(res, body) {
      const errors = errorsOf(body);
      if (errors.length > 0) {
        if (opts.nullIfNotFound && errors.every(isEntityNotFound)) return null;
        const kinds = errors.map(kindOf);
        return PRECEDENCE.find((k) => kinds.includes(k)) ?? "invalid_request";
      }
      if (res.status === 429) return "rate_limited";
      if (res.status < 200 || res.status >= 300) return null; // the core's status mapping applies
      const data = (body as GraphQLBody<unknown> | null)?.data;
      return data && typeof data === "object" ? null : "malformed_response";
    },
    retryAfterSeconds(res, body) {
      const retryAfter = parseRetryAfterHeader(res.headers.get("retry-after"));
      if (retryAfter !== null) return retryAfter;
      // The reset headers ride on every response; they only mean "wait" on a rate-limited one.
      const limited = res.status === 429 || errorsOf(body).some(isRateLimited);
      return limited ? secondsUntilReset(res.headers) : null;
    },
  };
}

/**
 * Runs one operation and returns its `data`. With `nullIfNotFound`, an "Entity not found" answer
 * yields null instead of a not_found error (lookups by id).
 */
export async function gql<T>(
  conn: Connection,
  query: string,
  variables: Record<string, unknown>,
  opts: { nullIfNotFound?: boolean } = {},
): Promise<T | null> {
  const res = await httpFor(conn).request<GraphQLBody<T>>(linearRules(opts), {
    method: "POST",
    url: graphqlUrl(conn),
    headers: { authorization: authorization(conn.credential) },
    json: { query, variables },
    // A GraphQL query reads; only mutations change anything.
    idempotent: !/^\s*mutation\b/.test(query),
  });
  if (errorsOf(res.body).length > 0) return null;
  return (res.body?.data ?? null) as T | null;
}

/** A field the caller relies on, or malformed_response naming the field (never the payload). */
/**
 * The node a by-id query answers under `field`, checked with `ok`; null when there is none (Linear's
 * not-found error or a null node), so a vanished team or issue reads as absent, not as a failure.
 */
export async function gqlNode<T>(
  conn: Connection,
  query: string,
  id: string,
  field: string,
  ok: (v: T) => boolean,
): Promise<T | null> {
  const data = await gql<Record<string, T | null>>(conn, query, { id }, { nullIfNotFound: true });
  const node = data?.[field];
  return node ? need(node, field, ok) : null;
}

export function need<T>(value: T | null | undefined, what: string, ok: (v: T) => boolean = () => true): T {
  if (value === null || value === undefined || !ok(value)) {
    throw new TrackerError(
      "malformed_response",
      PROVIDER,
      `linear POST /graphql: unexpected response shape (${what})`,
    );
  }
  return value;
}
