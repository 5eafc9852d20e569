/**
 * Linear's request and complexity budgets per credential, with the headers Linear sends on every
 * response (reset times in UTC epoch milliseconds). Linear describes a leaky bucket; the simulator
 * uses a fixed one-hour window, which yields the same headers and the same RATELIMITED answers.
 * `searchIssues` carries its own endpoint budget (30 requests per minute), as the schema documents.
 */

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export const REQUESTS_PER_HOUR = 5_000;
export const COMPLEXITY_PER_HOUR = 3_000_000;
export const SEARCH_PER_MINUTE = 30;

interface Budget {
  limit: number;
  remaining: number;
  resetAt: number;
}

interface Bucket {
  requests: Budget;
  complexity: Budget;
  search: Budget;
}

export type LimitVerdict =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; headers: Record<string, string>; message: string };

export class RateLimiter {
  private buckets = new Map<string, Bucket>();

  private bucket(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = {
        requests: { limit: REQUESTS_PER_HOUR, remaining: REQUESTS_PER_HOUR, resetAt: now + HOUR_MS },
        complexity: { limit: COMPLEXITY_PER_HOUR, remaining: COMPLEXITY_PER_HOUR, resetAt: now + HOUR_MS },
        search: { limit: SEARCH_PER_MINUTE, remaining: SEARCH_PER_MINUTE, resetAt: now + MINUTE_MS },
      };
      this.buckets.set(key, b);
    }
    const refill = (budget: Budget, windowMs: number) => {
      if (now >= budget.resetAt) {
        budget.remaining = budget.limit;
        budget.resetAt = now + windowMs;
      }
    };
    refill(b.requests, HOUR_MS);
    refill(b.complexity, HOUR_MS);
    refill(b.search, MINUTE_MS);
    return b;
  }

  /** Headers for a response, without spending anything (auth failures, parse errors). */
  headers(key: string, complexity?: number, endpoint?: string): Record<string, string> {
    const b = this.bucket(key, Date.now());
    const h: Record<string, string> = {
      "x-ratelimit-requests-limit": String(b.requests.limit),
      "x-ratelimit-requests-remaining": String(Math.max(0, b.requests.remaining)),
      "x-ratelimit-requests-reset": String(b.requests.resetAt),
      "x-ratelimit-complexity-limit": String(b.complexity.limit),
      "x-ratelimit-complexity-remaining": String(Math.max(0, Math.floor(b.complexity.remaining))),
      "x-ratelimit-complexity-reset": String(b.complexity.resetAt),
    };
    if (complexity !== undefined) h["x-complexity"] = String(Math.ceil(complexity));
    if (endpoint === "searchIssues") {
      h["x-ratelimit-endpoint-name"] = "searchIssues";
      h["x-ratelimit-endpoint-requests-limit"] = String(b.search.limit);
      h["x-ratelimit-endpoint-requests-remaining"] = String(Math.max(0, b.search.remaining));
      h["x-ratelimit-endpoint-requests-reset"] = String(b.search.resetAt);
    }
    return h;
  }

  /** Spends one request and `complexity` points, or says which budget is exhausted. */
  spend(key: string, complexity: number, endpoint?: string): LimitVerdict {
    const b = this.bucket(key, Date.now());
    if (b.requests.remaining <= 0) {
      return { ok: false, headers: this.headers(key, complexity, endpoint), message: "Rate limit exceeded" };
    }
    if (b.complexity.remaining < complexity) {
      return {
        ok: false,
        headers: this.headers(key, complexity, endpoint),
        message: "Complexity rate limit exceeded",
      };
    }
    if (endpoint === "searchIssues" && b.search.remaining <= 0) {
      return {
        ok: false,
        headers: this.headers(key, complexity, endpoint),
        message: "Rate limit exceeded for searchIssues",
      };
    }
    b.requests.remaining--;
    b.complexity.remaining -= complexity;
    if (endpoint === "searchIssues") b.search.remaining--;
    return { ok: true, headers: this.headers(key, complexity, endpoint) };
  }

  /** Control API: set what is left and when the window resets (tests of the RATELIMITED path). */
  set(key: string, p: { requests_remaining?: number; complexity_remaining?: number; reset_in_ms?: number }) {
    const now = Date.now();
    const b = this.bucket(key, now);
    if (p.requests_remaining !== undefined) b.requests.remaining = p.requests_remaining;
    if (p.complexity_remaining !== undefined) b.complexity.remaining = p.complexity_remaining;
    if (p.reset_in_ms !== undefined) {
      b.requests.resetAt = now + p.reset_in_ms;
      b.complexity.resetAt = now + p.reset_in_ms;
    }
    return this.headers(key);
  }

  reset() {
    this.buckets.clear();
  }
}
