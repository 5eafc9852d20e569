import { sql } from "drizzle-orm";
import type { Database } from "../../src/storage/database.ts";

const rowsOf = (result: unknown): any[] => (result as any).rows ?? (result as any[]);

/** Bookkeeping of authentication itself (once a minute per token), not a write of the request. */
const BOOKKEEPING: Record<string, string[]> = { api_tokens: ["last_used_at"] };

/**
 * Row count and a digest of the contents of every application table: equal snapshots mean nothing was
 * inserted, updated or deleted in between.
 */
export async function tableSnapshot(db: Database): Promise<Record<string, string>> {
  const tables = rowsOf(
    await db.execute(sql`select tablename from pg_tables where schemaname = 'public' order by tablename`),
  ).map((r) => String(r.tablename));
  const out: Record<string, string> = {};
  for (const table of tables) {
    const [row] = rowsOf(
      await db.execute(
        sql.raw(
          `select count(*)::int as n, md5(coalesce(string_agg(r, '|' order by r), '')) as digest
           from (select (to_jsonb(t) - array[${(BOOKKEEPING[table] ?? []).map((c) => `'${c}'`).join(",")}]::text[])::text as r from "${table}" t) rows`,
        ),
      ),
    );
    out[table] = `${row.n} rows, ${row.digest}`;
  }
  return out;
}
