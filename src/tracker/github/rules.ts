import type { TrackerErrorKind } from "../core/errors.ts";
import { type ProviderHttpRules, parseRetryAfterHeader } from "../core/http.ts";

/**
 * GitHub's failure signals (docs: "Rate limits for the REST API", "Troubleshooting"):
 * - primary rate limit: 403 or 429 with `x-ratelimit-remaining: 0`; wait until `x-ratelimit-reset` (epoch s);
 * - secondary rate limit: 403 or 429 whose message says "secondary rate limit"; honour `retry-after`,
 *   otherwise wait for the reset when remaining is 0, otherwise at least a minute;
 * - 401 "Bad credentials": the installation token (or app JWT) was rejected;
 * - any other 403: the installation lacks the permission (or is suspended);
 * - 410 "Issues are disabled for this repo" / "This issue was deleted": treated as not_found.
 */

const SECONDARY_WAIT_SECONDS = 60;

function messageOf(body: unknown): string {
  const m = (body as { message?: unknown } | null)?.message;
  return typeof m === "string" ? m : "";
}

function isPrimaryLimit(res: Response): boolean {
  return (res.status === 403 || res.status === 429) && res.headers.get("x-ratelimit-remaining") === "0";
}

function isSecondaryLimit(res: Response, body: unknown): boolean {
  return (res.status === 403 || res.status === 429) && /secondary rate limit/i.test(messageOf(body));
}

function secondsUntilReset(res: Response): number | null {
  const reset = Number(res.headers.get("x-ratelimit-reset"));
  if (!res.headers.has("x-ratelimit-reset") || !Number.isFinite(reset)) return null;
  return Math.max(0, reset - Date.now() / 1000);
}

export function classifyGithub(res: Response, body: unknown): TrackerErrorKind | null {
  const s = res.status;
  if (s < 400) return null;
  if (isPrimaryLimit(res) || isSecondaryLimit(res, body) || s === 429) return "rate_limited";
  if (s === 401) return "auth_expired";
  if (s === 403) return "forbidden";
  if (s === 404 || s === 410) return "not_found";
  if (s >= 500) return "upstream_unavailable";
  return "invalid_request";
}

export function githubRetryAfter(res: Response, body: unknown): number | null {
  const retryAfter = parseRetryAfterHeader(res.headers.get("retry-after"));
  if (retryAfter !== null) return retryAfter;
  if (isPrimaryLimit(res)) return secondsUntilReset(res);
  if (isSecondaryLimit(res, body)) return secondsUntilReset(res) ?? SECONDARY_WAIT_SECONDS;
  return null;
}

/** Rules for every call made as the installation or as the app. */
/**
 * GitHub's refusal in its own words: `message`, and for 422 "Validation Failed" each `errors[]` entry's
 * `message`, or its `field` and `code` (https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api).
 */
export function githubReason(res: Response, body: unknown): string | null {
  if (res.status < 400 || res.status >= 500) return null;
  const b = body as { message?: unknown; errors?: unknown } | null;
  if (typeof b?.message !== "string") return null;
  const details = Array.isArray(b.errors)
    ? b.errors
        .map((e: { message?: unknown; field?: unknown; code?: unknown }) =>
          typeof e?.message === "string"
            ? e.message
            : [e?.field, e?.code].filter((x) => typeof x === "string").join(" "),
        )
        .filter(Boolean)
    : [];
  return details.length ? `${b.message}: ${details.join("; ")}` : b.message;
}

export const GITHUB_RULES: ProviderHttpRules = {
  provider: "github",
  classify: classifyGithub,
  retryAfterSeconds: githubRetryAfter,
  reason: githubReason,
};

/**
 * Minting an installation token: 404 means the app was uninstalled (the installation no longer exists)
 * → auth_revoked. 403 means a suspended installation (`This installation has been suspended`) →
 * forbidden, not revoked: an owner can unsuspend it on GitHub and the same installation works again,
 * whereas the host marks auth_revoked installations as needing a reconnect.
 */
export const MINT_RULES: ProviderHttpRules = {
  provider: "github",
  classify(res, body) {
    if (res.status === 404) return "auth_revoked";
    return classifyGithub(res, body);
  },
  retryAfterSeconds: githubRetryAfter,
};
