import { type AnyColumn, and, asc, desc, eq, gt, or, type SQL, sql } from "drizzle-orm";

/**
 * Keyset paging over a (sort, tie-break) column pair, both ascending: `after` is the cursor's key
 * (the last row's values), `where` keeps the rows past it and `orderBy` is the matching order.
 * The tie-break must be unique, so equal sort values neither repeat nor vanish between pages.
 */
export function keysetAfter(sort: AnyColumn, tieBreak: AnyColumn, after: [string, string] | null) {
  const where: SQL | undefined = after
    ? or(gt(sort, after[0]), and(eq(sort, after[0]), gt(tieBreak, after[1])))
    : undefined;
  return { where, orderBy: [asc(sort), asc(tieBreak)] as const };
}

/** One way a list can be ordered: a column (or expression), its direction, and how its cursor value reads. */
export interface SortSpec {
  by: AnyColumn | SQL;
  desc?: boolean;
  /** A timestamp: compared at millisecond precision, the precision a cursor carries. */
  time?: boolean;
}

/**
 * Keyset paging in either direction over a sort and a unique tie-break (which follows the sort's
 * direction). `from.key` is the cursor's [sort value, tie-break]; `backwards` seeks the rows before it,
 * in reverse order, so the caller reverses them back (see `toListPage` in host/http/pagination.ts).
 */
export function keysetSeek(
  spec: SortSpec,
  tieBreak: AnyColumn,
  from: { key: [string, string]; backwards: boolean } | null,
) {
  const expr = spec.time ? sql`date_trunc('milliseconds', ${spec.by})` : sql`${spec.by}`;
  const descending = Boolean(spec.desc) !== Boolean(from?.backwards);
  let where: SQL | undefined;
  if (from) {
    const v = spec.time ? sql`${from.key[0]}::timestamptz` : sql`${from.key[0]}`;
    const op = descending ? sql.raw("<") : sql.raw(">");
    where = sql`(${expr} ${op} ${v} or (${expr} = ${v} and ${tieBreak} ${op} ${from.key[1]}))`;
  }
  const dir = descending ? desc : asc;
  return { where, orderBy: [dir(expr), dir(tieBreak)] as const };
}
