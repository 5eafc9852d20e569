import { and, eq } from "drizzle-orm";
import type { AnyPgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Database } from "./database.ts";

type TeamOwned = PgTable & { id: AnyPgColumn; teamId: AnyPgColumn };

/** A row of a team-owned table by id: another team's id finds nothing, as if it did not exist. */
export async function teamRowById<T extends TeamOwned>(
  db: Database,
  table: T,
  teamId: string,
  id: string,
): Promise<T["$inferSelect"] | undefined> {
  const [row] = await db
    .select()
    .from(table as PgTable)
    .where(and(eq(table.id, id), eq(table.teamId, teamId)))
    .limit(1);
  return row as T["$inferSelect"] | undefined;
}
