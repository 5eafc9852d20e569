import { and, eq, type SQL } from "drizzle-orm";
import type { AnyPgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Database } from "./database.ts";

/** The first row of `table` that `where` keeps, or undefined: a repository's lookup of one row. */
export async function findOne<T extends PgTable>(
  db: Database,
  table: T,
  where: SQL | undefined,
): Promise<T["$inferSelect"] | undefined> {
  const [row] = await db
    .select()
    .from(table as PgTable)
    .where(where)
    .limit(1);
  return row as T["$inferSelect"] | undefined;
}

type TeamOwned = PgTable & { id: AnyPgColumn; teamId: AnyPgColumn };

/** A row of a team-owned table by id: another team's id finds nothing, as if it did not exist. */
export const teamRowById = <T extends TeamOwned>(db: Database, table: T, teamId: string, id: string) =>
  findOne(db, table, and(eq(table.id, id), eq(table.teamId, teamId)));
