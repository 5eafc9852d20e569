import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
/** The driver-neutral database handle every repository receives. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  driver: "pglite" | "postgres";
  /** True when migrations are applied and the database answers. */
  ready(): Promise<boolean>;
  /** Closes the database, then releases the data directory's lock (embedded, on disk). */
  close(): Promise<void>;
  /** The data directory's lock: held while this handle is open (embedded, on disk). */
  lock?: DataDirLock;
  /**
   * Embedded only: a gzipped tarball of the database files, consistent while the service runs (taken
   * between transactions, after a checkpoint; on restore PostgreSQL replays the WAL it holds).
   */
  dump?(): Promise<Uint8Array>;
}

export interface OpenOptions {
  /** postgres:// URL of a PostgreSQL server. When absent the embedded PGlite is used. */
  databaseUrl?: string;
  /** Directory for PGlite files. Absent → in-memory (tests). */
  dataDir?: string;
  /** Connections in the node-postgres pool. */
  poolSize?: number;
  /**
   * The lock on dataDir, already taken by the caller (who needed it before opening, e.g. the demo);
   * the handle releases it on close. Absent → taken here before PGlite opens the directory.
   */
  lock?: DataDirLock;
  /** Names the holder in the lock file when it is taken here (default `this process`). */
  program?: string;
}

/**
 * Runs a hot statement as a named prepared statement on PostgreSQL, so each connection plans it once and
 * reuses the plan: for statements whose planning costs more than running them (bind-resolve's cold
 * lookups plan in ~2 ms over the many partial indexes of `resources`, and run in ~0.3 ms). The name is
 * derived from the text, so every distinct text is its own statement. Elsewhere (PGlite, or inside a
 * transaction handle) an ordinary query. Returns the rows.
 */
export async function executePrepared(db: Database, query: SQL): Promise<Record<string, unknown>[]> {
  const client = (db as unknown as { $client?: unknown }).$client;
  if (client instanceof pg.Pool) {
    const dialect = (db as unknown as { dialect: { sqlToQuery(q: SQL): { sql: string; params: unknown[] } } })
      .dialect;
    const { sql: text, params } = dialect.sqlToQuery(query);
    const name = `skt_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    return (await client.query({ name, text, values: params })).rows;
  }
  const result = (await db.execute(query)) as unknown as { rows?: Record<string, unknown>[] };
  return result.rows ?? (result as unknown as Record<string, unknown>[]);
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "migrations");

const MIGRATION_LOCK = 727_274_001; // advisory lock id: several app processes may start at once

/** The embedded database's code, loaded only when it is opened: a PostgreSQL process saves ~40 MB. */
async function embedded() {
  const [{ PGlite }, { pg_trgm }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite/contrib/pg_trgm"),
  ]);
  return {
    open: (dir?: string, more: { loadDataDir?: Blob } = {}) =>
      dir === undefined
        ? new PGlite({ extensions: { pg_trgm }, ...more })
        : new PGlite(dir, { extensions: { pg_trgm }, ...more }),
  };
}

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 10);
  const pglite = await embedded();
  if (!opts.dataDir) return openPglite(pglite.open());
  const lock = opts.lock ?? lockDataDir(opts.dataDir, { program: opts.program ?? "this process" });
  try {
    const dir = resolve(opts.dataDir, "pglite");
    mkdirSync(dir, { recursive: true });
    return await openPglite(pglite.open(dir), lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/**
 * Creates the embedded database of `dataDir` from a `dump()` tarball. The directory must hold no
 * database yet, and its lock must be held by the caller (restore never writes under a running service).
 */
export async function restorePglite(dataDir: string, tarball: Uint8Array, lock: DataDirLock): Promise<void> {
  if (lock.dataDir !== resolve(dataDir)) throw new Error(`the lock held is not the lock of ${dataDir}`);
  const dir = resolve(dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const client = (await embedded()).open(dir, {
    loadDataDir: new Blob([tarball as Uint8Array<ArrayBuffer>], { type: "application/x-gzip" }),
  });
  await client.waitReady;
  await client.close();
}

async function openPglite(client: PGlite, lock?: DataDirLock): Promise<DatabaseHandle> {
  const { drizzle: drizzlePglite } = await import("drizzle-orm/pglite");
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  try {
    await migrate(db as never, { migrationsFolder: MIGRATIONS_DIR });
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  return {
    db,
    driver: "pglite",
    ready: () => ping(db),
    lock,
    async dump() {
      await client.exec("CHECKPOINT");
      // Holds PGlite's transaction lock: no statement or transaction of the service is half done meanwhile.
      const tarball = await client._runExclusiveTransaction(() => client.dumpDataDir("gzip"));
      return new Uint8Array(await tarball.arrayBuffer());
    },
    async close() {
      try {
        if (!client.closed) await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

async function openPostgres(url: string, max: number): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString: url, max });
  const db = drizzleNodePg(pool, { schema }) as unknown as Database;
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  const conn = await pool.connect();
  try {
    await conn.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await migrate(drizzleNodePg(conn, { schema }) as never, { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await conn.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    conn.release();
  }
  return { db, driver: "postgres", ready: () => ping(db), close: () => pool.end() };
}

async function ping(db: Database): Promise<boolean> {
  try {
    const rows = await db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    return Number((rows as any).rows?.[0]?.n ?? (rows as any)[0]?.n ?? 0) > 0;
  } catch {
    return false;
  }
}
