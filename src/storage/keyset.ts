import { type AnyColumn, and, asc, eq, gt, or, type SQL } from "drizzle-orm";

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
