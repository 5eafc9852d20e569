import { sql } from "drizzle-orm";
import type { Database } from "../../src/storage/database.ts";

let copies = 0;

/**
 * `n` new resources of `from`'s installation in one statement, each a copy of it with its own id, key,
 * native id and name (`<name>-copy<k>-<i>`): how tests grow an inventory past what a simulator pages.
 */
export function copyResource(db: Database, from: string, n = 1) {
  const tag = `copy${++copies}`;
  return db.execute(sql`
    insert into resources (id, team_id, installation_id, provider, resource_key, resource_type, native_id,
      label, key, name, full_path, web_url, context, connector_params, routing_metadata, search_text, fingerprint)
    select 'res_' || ${tag} || '_' || n, team_id, installation_id, provider, resource_key || '-' || ${tag} || '-' || n,
      resource_type, native_id || ${tag} || n, label || '-' || ${tag} || '-' || n, key, name || '-' || ${tag} || '-' || n,
      full_path || '-' || ${tag} || '-' || n, web_url, context, connector_params, routing_metadata, search_text, fingerprint
    from resources, generate_series(1, ${n}) n where id = ${from}`);
}
