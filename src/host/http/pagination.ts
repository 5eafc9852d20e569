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
