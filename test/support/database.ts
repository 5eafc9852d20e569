import { randomBytes } from "node:crypto";
import pg from "pg";
import { type DatabaseHandle, openDatabase } from "../../src/storage/database.ts";

/**
 * Test databases on either driver. `TEST_DB_DRIVER=postgres` runs database-backed suites against the
 * PostgreSQL server (TEST_PG_URL, default the machine's local server), each suite in a fresh database
 * that is dropped afterwards; otherwise an in-memory PGlite.
 */
export const PG_URL = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const testDriver = (): "postgres" | "pglite" =>
  process.env.TEST_DB_DRIVER === "postgres" ? "postgres" : "pglite";

function urlFor(database: string) {
  const u = new URL(PG_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh PostgreSQL database. Fails loudly under CI when the server is unreachable. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: PG_URL });
  try {
    await admin.connect();
  } catch (err) {
    if (process.env.CI)
      throw new Error(`PostgreSQL at ${PG_URL} is unreachable under CI: ${(err as Error).message}`);
    return null;
  }
  const name = `skt_test_${randomBytes(6).toString("hex")}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  return {
    url: urlFor(name),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      // A closed pool resolves before its sockets are gone: let them go rather than kill them (a killed
      // connection reports 57P01 as an unhandled error in the process that just closed it).
      for (let i = 0; i < 40; i++) {
        const { rows } = await c.query("select count(*)::int as n from pg_stat_activity where datname = $1", [
          name,
        ]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function openTestDatabase(
  opts: { driver?: "postgres" | "pglite"; poolSize?: number } = {},
): Promise<DatabaseHandle> {
  const driver = opts.driver ?? testDriver();
  if (driver === "pglite") return openDatabase({});
  const created = await createPostgresDatabase();
  if (!created)
    throw new Error(`PostgreSQL at ${PG_URL} is unreachable; unset TEST_DB_DRIVER to use PGlite.`);
  const handle = await openDatabase({ databaseUrl: created.url, poolSize: opts.poolSize });
  return {
    ...handle,
    async close() {
      await handle.close();
      await created.drop();
    },
  };
}
