import { TrackerError, type TrackerErrorKind } from "./errors.ts";

/**
 * Provider HTTP with timeouts, bounded retries (exponential backoff with full jitter) on 429, 5xx and
 * network errors, and each provider's rate-limit signals. Error messages name method, path and status
 * only: never headers, query strings or bodies, so credentials cannot leak through them.
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
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface HttpClient {
  request<T = unknown>(rules: ProviderHttpRules, req: HttpRequest): Promise<HttpResponse<T>>;
}

export interface HttpClientOptions {
  retry?: Partial<RetryPolicy>;
  /** Replaceable for tests that must not sleep for real. */
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  /** Observes each attempt (benchmarks, metrics). */
  onAttempt?: (info: {
    provider: string;
    method: string;
    path: string;
    status: number | null;
    attempt: number;
  }) => void;
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

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "(invalid url)";
  }
}

export function createHttpClient(opts: HttpClientOptions = {}): HttpClient {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const sleep = opts.sleep ?? defaultSleep;
  const doFetch = opts.fetch ?? fetch;

  const backoff = (attempt: number) =>
    Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);

  async function request<T>(rules: ProviderHttpRules, req: HttpRequest): Promise<HttpResponse<T>> {
    const method = req.method ?? "GET";
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

    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(req.url, {
          method,
          headers,
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(policy.timeoutMs),
        });
      } catch (err) {
        opts.onAttempt?.({ provider: rules.provider, method, path, status: null, attempt });
        const timedOut = (err as Error)?.name === "TimeoutError";
        if (attempt < policy.maxRetries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw new TrackerError(
          "upstream_unavailable",
          rules.provider,
          `${label}: ${timedOut ? `no answer within ${policy.timeoutMs} ms` : "connection failed"}`,
        );
      }
      opts.onAttempt?.({ provider: rules.provider, method, path, status: res.status, attempt });

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
      const retryable = kind === "rate_limited" || kind === "upstream_unavailable";
      if (retryable && attempt < policy.maxRetries) {
        const waitMs = retryAfter !== null ? retryAfter * 1000 : backoff(attempt);
        if (waitMs <= policy.maxRetryAfterMs) {
          await sleep(waitMs);
          continue;
        }
      }
      throw new TrackerError(kind, rules.provider, `${label} answered ${res.status}`, {
        status: res.status,
        retryAfterSeconds: kind === "rate_limited" ? (retryAfter ?? null) : null,
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
