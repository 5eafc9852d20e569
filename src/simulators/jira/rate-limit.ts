/**
 * Jira Cloud's rate-limit answers, modelled as a fixed hourly budget per credential: every API answer
 * carries `X-RateLimit-Limit` / `X-RateLimit-Remaining` (and `X-RateLimit-NearLimit: true` under 20%
 * left); an exhausted budget answers 429 with `Retry-After` (seconds), `X-RateLimit-Reset` (ISO-8601 to
 * the minute, e.g. `2026-03-02T10:31Z`) and `RateLimit-Reason`. The default budget is large enough never to
 * bite; `PUT /_sim/rate-limit {limit_per_hour}` lowers it for a test.
 */

const HOUR_MS = 3_600_000;
const DEFAULT_LIMIT = 1_000_000;

interface Bucket {
  remaining: number;
  resetAt: number;
}

export type Verdict = { ok: boolean; headers: Record<string, string> };

export class RateLimiter {
  limit = DEFAULT_LIMIT;
  private buckets = new Map<string, Bucket>();

  configure(limit: number | null) {
    this.limit = limit ?? DEFAULT_LIMIT;
    this.buckets.clear();
  }

  spend(key: string, reason: string): Verdict {
    const now = Date.now();
    let b = this.buckets.get(key);
    if (!b || now >= b.resetAt) {
      b = { remaining: this.limit, resetAt: now + HOUR_MS };
      this.buckets.set(key, b);
    }
    const headers: Record<string, string> = { "x-ratelimit-limit": String(this.limit) };
    if (b.remaining <= 0) {
      const resetMinute = new Date(Math.ceil(b.resetAt / 60_000) * 60_000).toISOString().slice(0, 16);
      return {
        ok: false,
        headers: {
          ...headers,
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": `${resetMinute}Z`,
          "retry-after": String(Math.ceil((b.resetAt - now) / 1000)),
          "ratelimit-reason": reason,
        },
      };
    }
    b.remaining--;
    headers["x-ratelimit-remaining"] = String(b.remaining);
    if (b.remaining < this.limit * 0.2) headers["x-ratelimit-nearlimit"] = "true";
    return { ok: true, headers };
  }
}
