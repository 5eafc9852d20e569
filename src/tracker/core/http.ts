import { type NetworkFailure, TrackerError, type TrackerErrorKind } from "./errors.ts";
import { type DestinationGuard, guardedFetch } from "./guarded-fetch.ts";

/**
 * Provider HTTP with timeouts, bounded retries (exponential backoff with full jitter) on 429, 5xx and
 * network errors, and each provider's rate-limit signals. Error messages name method, path and status
 * only: never headers, query strings or bodies, so credentials cannot leak through them.
 *
 * A request that may change something upstream (POST, PATCH, DELETE) is repeated only when the provider
 * provably did not act on it: the connection was never made, or it answered "slow down" (a rate limit,
 * or 503 with Retry-After). A timed-out or 502'd create may have happened; repeating it blindly makes
 * duplicates, and repeating a refresh-token exchange burns a rotating refresh token.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff in ms; doubles per retry, full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A provider asking us to wait longer than this fails fast as rate_limited instead of sleeping. */
  maxRetryAfterMs: number;
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
  timeoutMs: 15_000,
};

export interface ProviderHttpRules {
  provider: string;
  /**
   * Seconds the provider asks us to wait, read from its own signals (Retry-After, x-ratelimit-reset,
   * RateLimit-Reset, ...). Null when the response carries none.
   */
  retryAfterSeconds?(res: Response, body: unknown): number | null;
  /**
   * Classify a non-2xx response (or a 200 carrying an error, as GraphQL does). Return null for success.
   * Called with the parsed JSON body when there was one.
   */
  classify?(res: Response, body: unknown): TrackerErrorKind | null;
  /** Scopes a refused call needs, from the provider's own answer (e.g. GitLab's `insufficient_scope`). */
  requiredScopes?(res: Response, body: unknown): string[] | null;
  /**
   * The provider's own words for a refused request (a validation message), shown to the user. The client
   * removes the request's own credentials and anything token-shaped from it and shortens it
   * (`redactReason`): adapters never strip secrets themselves.
   */
  reason?(res: Response, body: unknown): string | null;
}

export interface HttpRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  /** JSON body. */
  json?: unknown;
  /** Raw form body. */
  form?: Record<string, string>;
  /** Statuses that are not errors for this call (e.g. 404 on a lookup returns null upstream). */
  okStatuses?: number[];
  /**
   * Whether repeating the request is harmless. Defaults to the method's semantics (GET, HEAD, OPTIONS,
   * PUT); reads sent as POST (GraphQL queries, JQL and WIQL searches) say so here.
   */
  idempotent?: boolean;
}

const REPEATABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT"]);

/** Failures that happen before a request reaches the provider: nothing can have been done upstream. */
const neverSent = (n: NetworkFailure) =>
  n.cause === "dns" ||
  n.cause === "refused" ||
  n.cause === "unreachable" ||
  n.code === "UND_ERR_CONNECT_TIMEOUT";

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface CallOptions {
  /**
   * Overrides the policy's `maxRetryAfterMs` for this call: a provider asking to wait longer than this
   * fails at once (rate_limited, or upstream_unavailable for a 503), with the wait in `retryAfterSeconds`.
   */
  maxRetryAfterMs?: number;
}

export interface HttpClient {
  request<T = unknown>(
    rules: ProviderHttpRules,
    req: HttpRequest,
    call?: CallOptions,
  ): Promise<HttpResponse<T>>;
}

/**
 * The same client, but it never sleeps on a provider's "slow down" (Retry-After, rate-limit resets):
 * the caller gets the wait in the error and decides (a request that must answer soon hands its work to
 * the job queue instead of holding the request open).
 */
export function impatient(http: HttpClient): HttpClient {
  return { request: (rules, req, call) => http.request(rules, req, { ...call, maxRetryAfterMs: 0 }) };
}

export interface HttpClientOptions {
  retry?: Partial<RetryPolicy>;
  /** Replaceable for tests that must not sleep for real. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /**
   * Checks every new connection's resolved addresses (the host's outbound URL policy). Without it,
   * the platform `fetch` connects anywhere.
   */
  guard?: DestinationGuard;
  /** Observes each attempt (benchmarks, metrics). */
  onAttempt?: (info: {
    provider: string;
    method: string;
    path: string;
    status: number | null;
    attempt: number;
    /** Time from sending the request to its answer's headers (or the failure). */
    durationMs: number;
  }) => void;
  /** Observes each wait before a repeat: `rate_limit` when the provider asked us to slow down, else `backoff`. */
  onWait?: (info: { provider: string; ms: number; reason: "rate_limit" | "backoff" }) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function parseRetryAfterHeader(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}

function defaultClassify(status: number): TrackerErrorKind {
  if (status === 401) return "auth_expired";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "upstream_unavailable";
  return "invalid_request";
}

/** Node's connection error codes (on the error or its `cause`, as `fetch` wraps them), in people's words. */
const NETWORK_CODES: Record<string, [NetworkFailure["cause"], string]> = {
  ENOTFOUND: ["dns", "the name does not resolve"],
  EAI_AGAIN: ["dns", "the name could not be resolved right now"],
  EAI_NONAME: ["dns", "the name does not resolve"],
  EAI_FAIL: ["dns", "the name could not be resolved"],
  ECONNREFUSED: ["refused", "the connection was refused"],
  ETIMEDOUT: ["timeout", "the connection timed out"],
  UND_ERR_CONNECT_TIMEOUT: ["timeout", "the connection timed out"],
  ECONNRESET: ["reset", "the connection was closed before an answer"],
  EPIPE: ["reset", "the connection was closed before an answer"],
  UND_ERR_SOCKET: ["reset", "the connection was closed before an answer"],
  EHOSTUNREACH: ["unreachable", "there is no route to the host"],
  ENETUNREACH: ["unreachable", "the network is unreachable"],
  DEPTH_ZERO_SELF_SIGNED_CERT: ["tls", "the certificate is self-signed"],
  SELF_SIGNED_CERT_IN_CHAIN: ["tls", "the certificate chain ends in a self-signed certificate"],
  CERT_HAS_EXPIRED: ["tls", "the certificate has expired"],
  CERT_NOT_YET_VALID: ["tls", "the certificate is not valid yet"],
  ERR_TLS_CERT_ALTNAME_INVALID: ["tls", "the certificate is for another host name"],
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ["tls", "the certificate is not signed by a trusted authority"],
  UNABLE_TO_GET_ISSUER_CERT: ["tls", "the certificate is not signed by a trusted authority"],
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: ["tls", "the certificate is not signed by a trusted authority"],
  CERT_REVOKED: ["tls", "the certificate was revoked"],
  ERR_SSL_WRONG_VERSION_NUMBER: ["tls", "the server does not speak TLS on this port"],
};

function errorChain(err: unknown): { code?: string; name?: string }[] {
  const out: { code?: string; name?: string }[] = [];
  for (let e = err as { code?: string; name?: string; cause?: unknown } | undefined; e && out.length < 5; ) {
    out.push(e);
    e = e.cause as typeof e;
  }
  return out;
}

export function networkFailure(err: unknown, url: string): NetworkFailure {
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return "(invalid url)";
    }
  })();
  const chain = errorChain(err);
  if (chain.some((e) => e.name === "TimeoutError"))
    return { cause: "timeout", code: null, detail: "no answer in time", host };
  for (const e of chain) {
    const code = typeof e.code === "string" ? e.code : null;
    if (!code) continue;
    const known = NETWORK_CODES[code];
    if (known) return { cause: known[0], code, detail: known[1], host };
    if (/^(CERT_|ERR_TLS_|ERR_SSL_)/.test(code))
      return { cause: "tls", code, detail: "the TLS handshake failed", host };
  }
  const code = chain.find((e) => typeof e.code === "string")?.code ?? null;
  return { cause: "other", code, detail: "the connection failed", host };
}

const refusal = (err: unknown) =>
  errorChain(err).find((e) => e.code === "ERR_DESTINATION_REFUSED") as { reason?: string } | undefined;

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "(invalid url)";
  }
}

/** What of a request's credential headers a provider could echo: each value, its token, a Basic pair's password. */
function credentialValues(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!/^(authorization|private-token|x-api-key)$/i.test(name)) continue;
    out.push(value, ...value.split(/\s+/).slice(1));
    const basic = /^basic\s+(\S+)$/i.exec(value);
    if (basic) {
      const pair = Buffer.from(basic[1], "base64").toString("utf8");
      out.push(pair, pair.slice(pair.indexOf(":") + 1));
    }
  }
  return out.filter((v) => v.length >= 8);
}

const MAX_REASON = 500;

/**
 * The one way a provider's own words become a reason people may read (every provider's `reason` hook goes
 * through it): the request's credential values and `secrets` removed, anything token-shaped removed
 * (Atlassian, GitHub and GitLab tokens, JWTs, long opaque strings), one line, bounded.
 */
export function redactReason(reason: string | null, secrets: string[] = []): string | null {
  if (!reason) return null;
  let text = reason.replace(/\s+/g, " ").trim();
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    if (secret.length >= 4) text = text.split(secret).join("[redacted]");
  text = text.replace(
    /\b(ATATT|ATCTT|ATOA|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-)[A-Za-z0-9_=-]+/g,
    "[redacted]",
  );
  text = text.replace(/\b[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g, "[redacted]");
  // Long opaque strings; a UUID (an id a provider names in its message) stays.
  text = text.replace(
    /\b(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{32,}={0,2}/g,
    (m) => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(m) ? m : "[redacted]"),
  );
  if (text.length > MAX_REASON) text = `${text.slice(0, MAX_REASON - 1)}…`;
  return text || null;
}

export function createHttpClient(opts: HttpClientOptions = {}): HttpClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const sleep = opts.sleep ?? defaultSleep;
  const doFetch = opts.fetch ?? (opts.guard ? guardedFetch(opts.guard) : fetch);

  const backoff = (attempt: number) =>
    Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);

  async function request<T>(
    rules: ProviderHttpRules,
    req: HttpRequest,
    call: CallOptions = {},
  ): Promise<HttpResponse<T>> {
    const patience = call.maxRetryAfterMs ?? policy.maxRetryAfterMs;
    const method = req.method ?? "GET";
    const repeatable = req.idempotent ?? REPEATABLE_METHODS.has(method);
    const path = safePath(req.url);
    const label = `${rules.provider} ${method} ${path}`;
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    let body: string | undefined;
    if (req.json !== undefined) {
      headers["content-type"] ??= "application/json";
      body = JSON.stringify(req.json);
    } else if (req.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(req.form).toString();
    }

    const pause = (ms: number, reason: "rate_limit" | "backoff") => {
      opts.onWait?.({ provider: rules.provider, ms, reason });
      return sleep(ms);
    };
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      const sent = performance.now();
      try {
        res = await doFetch(req.url, {
          method,
          headers,
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(policy.timeoutMs),
        });
      } catch (err) {
        const durationMs = performance.now() - sent;
        opts.onAttempt?.({ provider: rules.provider, method, path, status: null, attempt, durationMs });
        const refused = refusal(err);
        if (refused)
          throw new TrackerError("destination_refused", rules.provider, `${label}: ${refused.reason}`);
        const network = networkFailure(err, req.url);
        // A certificate or a name that does not exist is not fixed by waiting.
        const hopeless = network.cause === "tls" || network.code === "ENOTFOUND";
        if (!hopeless && (repeatable || neverSent(network)) && attempt < policy.maxRetries) {
          await pause(backoff(attempt), "backoff");
          continue;
        }
        const what = network.cause === "timeout" ? `no answer within ${policy.timeoutMs} ms` : network.detail;
        throw new TrackerError("upstream_unavailable", rules.provider, `${label}: ${what}`, {
          network,
          effectUnknown: !repeatable && !neverSent(network),
        });
      }
      const durationMs = performance.now() - sent;
      opts.onAttempt?.({ provider: rules.provider, method, path, status: res.status, attempt, durationMs });

      let parsed: unknown = null;
      let malformed = false;
      const text = await res.text().catch(() => {
        malformed = true;
        return "";
      });
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          malformed = true;
        }
      }

      const is2xx = res.status >= 200 && res.status < 300;
      // A status the caller expects (e.g. 404 on a lookup) is an answer, whatever classify would say.
      const expected = !is2xx && Boolean(req.okStatuses?.includes(res.status));
      const kind = expected
        ? null
        : is2xx
          ? (rules.classify?.(res, parsed) ?? null)
          : (rules.classify?.(res, parsed) ?? defaultClassify(res.status));

      if (kind === null) {
        if (malformed && is2xx && text.length > 0) {
          throw new TrackerError(
            "malformed_response",
            rules.provider,
            `${label}: response body is not valid JSON`,
            {
              status: res.status,
            },
          );
        }
        return { status: res.status, headers: res.headers, body: parsed as T };
      }

      const retryAfter =
        rules.retryAfterSeconds?.(res, parsed) ?? parseRetryAfterHeader(res.headers.get("retry-after"));
      // A rate limit means "not done"; for other failures only a repeatable request, or a 503 that says
      // when to come back, is tried again.
      const retryable =
        kind === "rate_limited" ||
        (kind === "upstream_unavailable" && (repeatable || (res.status === 503 && retryAfter !== null)));
      if (retryable && attempt < policy.maxRetries) {
        // Our own backoff is bounded by the policy; a wait the provider names, by the caller's patience.
        const waitMs = retryAfter !== null ? retryAfter * 1000 : backoff(attempt);
        if (waitMs <= (retryAfter !== null ? patience : policy.maxRetryAfterMs)) {
          await pause(waitMs, kind === "rate_limited" || retryAfter !== null ? "rate_limit" : "backoff");
          continue;
        }
      }
      const slowDown = kind === "rate_limited" || (kind === "upstream_unavailable" && res.status === 503);
      throw new TrackerError(kind, rules.provider, `${label} answered ${res.status}`, {
        status: res.status,
        // A 503 that names when to come back was refused, not half-done.
        effectUnknown:
          kind === "upstream_unavailable" && !repeatable && !(res.status === 503 && retryAfter !== null),
        retryAfterSeconds: slowDown ? (retryAfter ?? null) : null,
        requiredScopes: rules.requiredScopes?.(res, parsed) ?? null,
        reason: redactReason(rules.reason?.(res, parsed) ?? null, credentialValues(headers)),
      });
    }
  }

  return { request };
}

let shared: HttpClient | null = null;

/** The process-wide client with the default retry policy, for connections that bring none. */
export function defaultHttpClient(): HttpClient {
  shared ??= createHttpClient();
  return shared;
}

/** The client a connection asks for, or the shared default. */
export const httpFor = (conn: { http?: HttpClient }): HttpClient => conn.http ?? defaultHttpClient();
