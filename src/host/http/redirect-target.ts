import { ValidationError } from "../errors/domain-error.ts";

/**
 * The one check for a redirect target that came from a user (`return_to`, `next`, ...): a path on this
 * origin and nothing else. Browsers read `/\evil.example` and `//evil.example` as another host, and the
 * URL parser drops tabs and newlines (so `/\n/evil.example` would become `//evil.example`), hence raw
 * backslashes and control characters are refused before anything is parsed.
 */

/** For JSON schemas (OpenAPI documents it): one leading slash, not followed by `/` or `\`, no `\`, no control characters. */
export const REDIRECT_PATH_PATTERN = "^/(?![/\\\\])[^\\\\\\p{Cc}]*$";
const SHAPE = new RegExp(REDIRECT_PATH_PATTERN, "u");

const PROBE_ORIGIN = "http://redirect-target.invalid";

/** Why `target` is not a same-origin path (under `under`, when given), or null when it is. */
export function redirectTargetProblem(target: unknown, under?: string): string | null {
  if (typeof target !== "string" || target.length === 0) return "must be a path on this site";
  if (target.length > 2048) return "is longer than 2048 characters";
  if (!SHAPE.test(target))
    return "must be a path on this site: it starts with one `/` and has no backslash or control character";
  const url = new URL(target, PROBE_ORIGIN);
  if (url.origin !== PROBE_ORIGIN) return "must stay on this site";
  if (under && !(url.pathname === under || url.pathname.startsWith(`${under}/`)))
    return `must be a path under ${under}`;
  return null;
}

/**
 * The target as a safe `Location` value (percent-encoded, so a non-ASCII path cannot fail the header
 * check with a 500), or a 400 naming the field.
 */
export function safeRedirectPath(target: unknown, field: string, under?: string): string {
  const problem = redirectTargetProblem(target, under);
  if (problem) throw new ValidationError(`${field} ${problem}.`, [{ field, problem }]);
  const url = new URL(target as string, PROBE_ORIGIN);
  return `${url.pathname}${url.search}${url.hash}`;
}
