import type { Database } from "./database.ts";

/**
 * Runs `fn` in one transaction and hands it a handle that repositories take like `db`, so a state
 * change and its audit event commit together or not at all. Inside `fn` use only `tx`: PGlite has one
 * connection, and a query on the outer handle would wait for this transaction forever.
 */
export function inTransaction<T>(db: Database, fn: (tx: Database) => Promise<T>): Promise<T> {
  return db.transaction((tx) => fn(tx as unknown as Database));
}
