import type { FastifyInstance, FastifyRequest } from "fastify";
import { ValidationError } from "../errors/domain-error.ts";

/**
 * Text PostgreSQL cannot store: `text` refuses U+0000, `jsonb` refuses `\u0000` and lone UTF-16
 * surrogates (and node-postgres silently turns a lone surrogate in `text` into U+FFFD). Such input is a
 * 400 at the edge, naming the field, before any route reads it.
 */

type Problem = "nul" | "surrogate";

const PROBLEMS: Record<Problem, string> = {
  nul: "contains a NUL character (U+0000), which cannot be stored; remove it",
  surrogate: "contains a lone UTF-16 surrogate (not valid Unicode), which cannot be stored; send valid text",
};

/** In a `u` regex a surrogate pair is one code point, so `\p{Cs}` matches lone surrogates only. */
const UNSTORABLE = /[\0\p{Cs}]/u;
const UNSTORABLE_ALL = /[\0\p{Cs}]/gu;

export function unstorable(s: string): Problem | null {
  if (!UNSTORABLE.test(s)) return null;
  return s.includes("\0") ? "nul" : "surrogate";
}

/** The same text made storable: NUL and lone surrogates become U+FFFD (for what providers send us). */
export function storableText(s: string): string {
  return UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, "\uFFFD") : s;
}

/** Every string in a JSON value made storable, keys included. */
export function storableJson<T>(value: T): T {
  if (typeof value === "string") return storableText(value) as T;
  if (Array.isArray(value)) return value.map(storableJson) as T;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[storableText(k)] = storableJson(v);
    return out as T;
  }
  return value;
}

const printable = (key: string) => storableText(key).replaceAll("\uFFFD", "?");

/**
 * The first unstorable string in a parsed value (keys included), as `part.path.to.field`. Walks with its
 * own stack: a deeply nested body must not overflow the call stack.
 */
function findUnstorable(part: string, root: unknown): { field: string; problem: Problem } | null {
  const stack: [string, unknown][] = [[part, root]];
  while (stack.length > 0) {
    const [path, value] = stack.pop()!;
    if (typeof value === "string") {
      const problem = unstorable(value);
      if (problem) return { field: path, problem };
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        const field = `${path}.${printable(k)}`;
        const problem = unstorable(k);
        if (problem) return { field, problem };
        stack.push([field, v]);
      }
    }
  }
  return null;
}

/**
 * The first name whose name or value is not percent-encoded UTF-8 (how a lone surrogate arrives in a URL
 * or a form, `%ED%A0%80`), else null. The query parser would keep such text literally and
 * `URLSearchParams` would silently turn it into U+FFFD.
 */
function badPercentEncoding(encoded: string): string | null {
  for (const pair of encoded.split("&")) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    for (const piece of [name, eq < 0 ? "" : pair.slice(eq + 1)]) {
      try {
        decodeURIComponent(piece.replaceAll("+", " "));
      } catch {
        return printable(safeDecode(name));
      }
    }
  }
  return null;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    return s;
  }
}

function refuse(field: string, problem: string): ValidationError {
  return new ValidationError(`Invalid request: ${field} ${problem}.`, [{ field, problem }]);
}

const BAD_ENCODING =
  "is not valid percent-encoded UTF-8 (a lone surrogate or a broken escape); encode the text as UTF-8";

/**
 * The fields of an `application/x-www-form-urlencoded` body, for the form parser (http/forms.ts):
 * a field that is not percent-encoded UTF-8 is refused here, naming it, instead of becoming U+FFFD.
 */
export function formFields(body: string): [string, string][] {
  const bad = badPercentEncoding(body);
  if (bad !== null) throw refuse(`body.${bad}`, BAD_ENCODING);
  return [...new URLSearchParams(body)];
}

function checkUrlAndHeaders(request: FastifyRequest) {
  if (request.is404) return; // no route: nothing reads it, the answer stays a 404
  const q = request.url.indexOf("?");
  const badQuery = q < 0 ? null : badPercentEncoding(request.url.slice(q + 1));
  if (badQuery !== null) throw refuse(`querystring.${badQuery}`, BAD_ENCODING);
  for (const [part, value] of [
    ["params", request.params],
    ["querystring", request.query],
    ["headers", request.headers],
  ] as const) {
    const found = findUnstorable(part, value);
    if (found) throw refuse(found.field, PROBLEMS[found.problem]);
  }
}

/**
 * The one edge check for unstorable text: URL, query and headers before anything reads them
 * (authentication reads headers in `onRequest`), bodies (JSON and forms) once parsed, before validation.
 * Errors go through the error handler of the route's scope: the envelope, a dashboard page, or an
 * OAuth error body.
 */
export function rejectUnstorableText(app: FastifyInstance) {
  app.addHook("onRequest", async (request) => checkUrlAndHeaders(request));
  app.addHook("preValidation", async (request) => {
    if (request.is404) return;
    const found = findUnstorable("body", request.body);
    if (found) throw refuse(found.field, PROBLEMS[found.problem]);
  });
}
