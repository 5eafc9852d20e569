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

/** A table's insertable columns (generated ones are computed by the database). */
async function columnsOf(db: Database, table: string, overrides: Record<string, string>) {
  const { rows } = (await db.execute(
    sql`select column_name from information_schema.columns where table_schema = 'public' and table_name = ${table} and is_generated = 'NEVER' order by ordinal_position`,
  )) as unknown as { rows: { column_name: string }[] };
  const names = rows.map((r) => r.column_name);
  return {
    list: names.map((n) => `"${n}"`).join(", "),
    values: names.map((n) => overrides[n] ?? `src."${n}"`).join(", "),
  };
}

/**
 * `n` new teams (`<prefix>-1` …), each holding a copy of `installationId` and all its resources: how
 * tests get many teams with real inventories without connecting each one. Returns their ids.
 */
export async function cloneTeams(db: Database, installationId: string, n: number, prefix = "clone") {
  const teams = Array.from({ length: n }, (_, i) => ({
    id: `team_${prefix}_${i + 1}`,
    slug: `${prefix}-${i + 1}`,
    installation: `inst_${prefix}_${i + 1}`,
  }));
  const values = teams.map((t) => `('${t.id}', '${t.slug}', '${t.installation}')`).join(", ");
  const clones = `(values ${values}) as t(id, slug, installation)`;
  await db.execute(
    sql.raw(`insert into teams (id, slug, name) select t.id, t.slug, 'Clone ' || t.slug from ${clones}`),
  );
  const inst = await columnsOf(db, "installations", {
    id: "t.installation",
    team_id: "t.id",
    workspace_id: "src.workspace_id || '-' || t.slug",
  });
  await db.execute(
    sql.raw(
      `insert into installations (${inst.list}) select ${inst.values} from installations src cross join ${clones} where src.id = '${installationId}'`,
    ),
  );
  const res = await columnsOf(db, "resources", {
    id: "src.id || '_' || t.slug",
    team_id: "t.id",
    installation_id: "t.installation",
  });
  await db.execute(
    sql.raw(
      `insert into resources (${res.list}) select ${res.values} from resources src cross join ${clones} where src.installation_id = '${installationId}'`,
    ),
  );
  return teams.map((t) => t.id);
}
