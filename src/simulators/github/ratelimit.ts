/**
 * GitHub's primary rate limits, per installation (or per app for JWT calls) and per resource:
 * `core` (an hour; 15,000 as for Enterprise Cloud installations, so long demo runs do not run dry)
 * and `search` (30 a minute). Every answer carries the `x-ratelimit-*` headers; a spent budget
 * answers 403 with `x-ratelimit-remaining: 0`, as GitHub does.
 */

export type RateResource = "core" | "search";

interface Window {
  used: number;
  resetAt: number;
}

export interface RateLimitSettings {
  core: number;
  search: number;
}

const WINDOW_MS: Record<RateResource, number> = { core: 3_600_000, search: 60_000 };
export const DEFAULT_LIMITS: RateLimitSettings = { core: 15_000, search: 30 };

export class RateLimiter {
  limits: RateLimitSettings = { ...DEFAULT_LIMITS };
  private windows = new Map<string, Window>();

  /** Counts one request; `exceeded` when the budget was already spent. */
  hit(key: string, resource: RateResource): { exceeded: boolean; headers: Record<string, string> } {
    const id = `${key}|${resource}`;
    const now = Date.now();
    let w = this.windows.get(id);
    if (!w || w.resetAt <= now) {
      w = { used: 0, resetAt: now + WINDOW_MS[resource] };
      this.windows.set(id, w);
    }
    const limit = this.limits[resource];
    const exceeded = w.used >= limit;
    if (!exceeded) w.used++;
    return {
      exceeded,
      headers: {
        "x-ratelimit-limit": String(limit),
        "x-ratelimit-remaining": String(Math.max(0, limit - w.used)),
        "x-ratelimit-used": String(w.used),
        "x-ratelimit-reset": String(Math.ceil(w.resetAt / 1000)),
        "x-ratelimit-resource": resource,
      },
    };
  }

  configure(next: Partial<RateLimitSettings>) {
    this.limits = { ...this.limits, ...next };
    this.windows.clear();
  }
}
