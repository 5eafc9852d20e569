import { Type } from "typebox";
import { ValidationError } from "../errors/domain-error.ts";

/** Opaque cursors: base64url JSON of the last row's sort key. Clients never parse them. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

const invalidCursor = () =>
  new ValidationError("The cursor is not valid. Start again without `cursor`.", [
    { field: "querystring.cursor", problem: "is not a cursor this server issued" },
  ]);

function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalidCursor();
  }
}

/**
 * A cursor whose sort key is these string fields (e.g. label and id). Anything else — a forged or
 * foreign cursor that still decodes — is a validation error, never a value handed to a query.
 */
export function decodeKeyCursor<K extends string>(
  cursor: string | undefined | null,
  keys: K[],
): Record<K, string> | null {
  if (!cursor) return null;
  const key = decodeCursor(cursor) as Record<K, unknown> | null;
  if (typeof key !== "object" || key === null || Array.isArray(key)) throw invalidCursor();
  if (!keys.every((k) => typeof key[k] === "string")) throw invalidCursor();
  return key as Record<K, string>;
}

/** A cursor whose sort key is one string (e.g. an id). */
export function decodeTextCursor(cursor: string | undefined | null): string | null {
  if (!cursor) return null;
  const key = decodeCursor(cursor);
  if (typeof key !== "string") throw invalidCursor();
  return key;
}

export const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50, description: "Page size (1-200)." }),
    cursor: Type.Optional(
      Type.String({ maxLength: 512, description: "`next_cursor` of the previous page." }),
    ),
  },
  { additionalProperties: false },
);

/**
 * A page of items. Documented from its item: "A page of …" with the item's description, and an example
 * page of the item's first example (items keep their own examples, so a page needs none of its own).
 */
export const pageOf = <T extends import("typebox").TSchema>(item: T) => {
  const { description, examples } = item as { description?: string; examples?: unknown[] };
  return Type.Object(
    {
      items: Type.Array(item),
      next_cursor: Type.Union([Type.String(), Type.Null()], {
        description: "Pass as `cursor` for the next page; null on the last page.",
      }),
    },
    {
      description: `A page (\`limit\` items at most; \`next_cursor\` for the next) of: ${description ?? "items"}`,
      ...(examples?.length
        ? { examples: [{ items: examples.slice(0, 1), next_cursor: "eyJpZCI6IjAxSkYzUSJ9" }] }
        : {}),
    },
  );
};

/** Splits a `limit + 1` row fetch into a page and its next cursor. */
export function toPage<R, O>(rows: R[], limit: number, map: (r: R) => O, keyOf: (r: R) => unknown) {
  const more = rows.length > limit;
  const items = rows.slice(0, limit);
  return { items: items.map(map), next_cursor: more ? encodeCursor(keyOf(items[items.length - 1])) : null };
}

/**
 * What a person asks of a list: a sort (one of the list's named sorts), a page size and, past the first
 * page, a cursor from `next_cursor` / `prev_cursor`. The cursor remembers its sort, its direction and
 * where its page starts, so a page can say "51–100 of 2,008".
 */
export interface ListRequest<S extends string = string> {
  sort: S;
  size: number;
  cursor?: string;
}

/** A list page with a total, its position (1-based, 0 when empty) and cursors both ways. */
export interface ListPage<T> {
  items: T[];
  total: number;
  first: number;
  last: number;
  next_cursor: string | null;
  prev_cursor: string | null;
}

export interface ListSeek {
  key: [string, string];
  backwards: boolean;
  at: number;
}

/** The cursor of `req`, checked: it must be this server's and carry this sort (else a validation error). */
export function decodeListCursor(req: ListRequest): ListSeek | null {
  if (!req.cursor) return null;
  const c = decodeCursor(req.cursor) as { s?: unknown; k?: unknown; b?: unknown; at?: unknown } | null;
  const ok =
    typeof c === "object" &&
    c !== null &&
    c.s === req.sort &&
    Array.isArray(c.k) &&
    c.k.length === 2 &&
    c.k.every((x) => typeof x === "string") &&
    typeof c.b === "boolean" &&
    Number.isSafeInteger(c.at) &&
    (c.at as number) >= 0;
  if (!ok) throw invalidCursor();
  return { key: c.k as [string, string], backwards: c.b as boolean, at: c.at as number };
}

/**
 * Turns a `size + 1` row fetch made by `keysetSeek` from `seek` into a page: rows put back in order,
 * the position from the cursor, and cursors to the pages before and after.
 */
export function toListPage<R, O>(
  rows: R[],
  req: ListRequest,
  seek: ListSeek | null,
  total: number,
  map: (r: R) => O,
  keyOf: (r: R) => [string, string],
): ListPage<O> {
  const more = rows.length > req.size;
  const items = rows.slice(0, req.size);
  if (seek?.backwards) items.reverse();
  // Going back and finding nothing further back means this is the first page, whatever the cursor said.
  const start = !seek || (seek.backwards && !more) ? 0 : Math.min(seek.at, Math.max(0, total - items.length));
  const hasNext = seek?.backwards ? items.length > 0 : more;
  const hasPrev = seek ? (seek.backwards ? more : true) : false;
  const cursor = (r: R, backwards: boolean, at: number) =>
    encodeCursor({ s: req.sort, k: keyOf(r), b: backwards, at });
  return {
    items: items.map(map),
    total,
    first: items.length ? start + 1 : 0,
    last: start + items.length,
    next_cursor:
      hasNext && items.length ? cursor(items[items.length - 1], false, start + items.length) : null,
    prev_cursor: hasPrev && items.length ? cursor(items[0], true, Math.max(0, start - req.size)) : null,
  };
}
