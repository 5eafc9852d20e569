import type { Connection } from "./adapter.ts";

/**
 * Remembers a read for the life of one connection (one host request, one job or one pass) and key, so
 * facts that change rarely (a project's process, a team's labels) are read once per batch, not per item.
 * A failed read is not remembered: the next call asks again.
 */
export function connectionCache<T>() {
  const cache = new WeakMap<Connection, Map<string, Promise<T>>>();
  return (conn: Connection, key: string, read: () => Promise<T>): Promise<T> => {
    const perConn = cache.get(conn) ?? new Map<string, Promise<T>>();
    cache.set(conn, perConn);
    let hit = perConn.get(key);
    if (!hit) {
      hit = read();
      perConn.set(key, hit);
      hit.catch(() => perConn.delete(key));
    }
    return hit;
  };
}
