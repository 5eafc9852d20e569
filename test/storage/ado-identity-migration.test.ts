import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR } from "../../src/storage/database.ts";
import { createPostgresDatabase, testDriver } from "../support/database.ts";

/**
 * Migration 0012 on a database that already holds Azure DevOps rows keyed by the organization name:
 * every binding_ref stays, and keys, workspace ids and routing metadata move to the instance id.
 */
const TAG = "0012_ado_organization_identity";
const ORG_ID = "5d1c2f0e-7a3b-4c8d-9e21-6f4a0b3c9d10";
const GUID = "0a1b2c3d-0000-4000-a000-000000000001";
const HOST = "dev.azure.com";
const oldKey = `azure_devops:${HOST}:acme:project:${GUID}`;

/** The migrations folder as it was before 0012. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), "skt-migrations-"));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8"));
  const at = journal.entries.findIndex((e: { tag: string }) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

interface Db {
  query(text: string): Promise<any[]>;
  migrate(folder: string): Promise<void>;
  close(): Promise<void>;
}

async function openDb(): Promise<Db> {
  if (testDriver() === "pglite") {
    const client = new PGlite({ extensions: { pg_trgm } });
    const db = drizzlePglite(client);
    const { migrate } = await import("drizzle-orm/pglite/migrator");
    return {
      query: async (text) => ((await client.exec(text)).at(-1)?.rows ?? []) as any[],
      migrate: (folder) => migrate(db, { migrationsFolder: folder }),
      close: () => client.close(),
    };
  }
  const created = await createPostgresDatabase();
  if (!created) throw new Error("PostgreSQL is unreachable");
  const pool = new pg.Pool({ connectionString: created.url, max: 2 });
  const db = drizzleNodePg(pool);
  const { migrate } = await import("drizzle-orm/node-postgres/migrator");
  return {
    query: async (text) => (await pool.query(text)).rows,
    migrate: (folder) => migrate(db, { migrationsFolder: folder }),
    async close() {
      await pool.end();
      await created.drop();
    },
  };
}

let db: Db;
let before: string;
beforeAll(async () => {
  db = await openDb();
  before = migrationsBefore(TAG);
  await db.migrate(before);
  const routing = JSON.stringify({
    provider: "azure_devops",
    version: 1,
    organization: "acme",
    project_id: GUID,
    project_name: "Payments",
    url: `https://${HOST}/acme/Payments`,
  });
  const params = JSON.stringify({ organization: "acme", project_id: GUID, project_name: "Payments" });
  await db.query(`
    insert into teams (id, slug, name) values ('team_1', 'acme', 'Acme');
    insert into installations (id, team_id, provider, base_url, host, workspace_id, workspace_name,
      workspace_details, display_name, auth_kind, credentials_ciphertext)
    values
      ('inst_ado', 'team_1', 'azure_devops', 'https://${HOST}', '${HOST}', 'acme', 'acme',
       '{"organization":"acme","instance_id":"${ORG_ID.toUpperCase()}"}', 'acme', 'pat', 'x'),
      ('inst_old', 'team_1', 'azure_devops', 'https://ado.corp', 'ado.corp', 'legacy', 'legacy',
       '{"organization":"legacy"}', 'legacy', 'pat', 'x');
    insert into resources (id, team_id, installation_id, provider, resource_key, resource_type, native_id,
      label, name, context, connector_params, routing_metadata, search_text, fingerprint)
    values
      ('res_1', 'team_1', 'inst_ado', 'azure_devops', '${oldKey}', 'project', '${GUID}', 'Payments',
       'Payments', '{}', '${params}', '${routing}', 'payments', 'f'),
      ('res_2', 'team_1', 'inst_old', 'azure_devops', 'azure_devops:ado.corp:legacy:project:${GUID}',
       'project', '${GUID}', 'Old', 'Old', '{}', '${params}', '${routing}', 'old', 'f');
    insert into projects (id, team_id, slug, name) values ('proj_1', 'team_1', 'payments', 'Payments');
    insert into mappings (binding_ref, team_id, project_id, installation_id, resource_id, resource_key,
      provider, routing_metadata, routing_version, display_label, provider_context, created_via)
    values ('srm_1', 'team_1', 'proj_1', 'inst_ado', 'res_1', '${oldKey}', 'azure_devops', '${routing}', 1,
      'Payments', '{}', 'cli');
    insert into inventory_staging (pass_id, installation_id, resource_key, row)
    values ('pass_1', 'inst_ado', '${oldKey}', '{}');
  `);
  await db.migrate(MIGRATIONS_DIR);
});
afterAll(async () => {
  await db?.close();
  if (before) rmSync(before, { recursive: true, force: true });
});

describe("migration 0012: Azure DevOps organizations keyed by instance id", () => {
  const newKey = `azure_devops:${HOST}:${ORG_ID}:project:${GUID}`;

  it("moves the installation, its resources and its mappings to the instance id, keeping the binding_ref", async () => {
    const [inst] = await db.query(`select workspace_id from installations where id = 'inst_ado'`);
    expect(inst.workspace_id).toBe(ORG_ID);
    const [res] = await db.query(
      `select resource_key, connector_params, routing_metadata from resources where id = 'res_1'`,
    );
    expect(res.resource_key).toBe(newKey);
    expect(res.connector_params).toMatchObject({ organization: "acme", organization_id: ORG_ID });
    expect(res.routing_metadata).toMatchObject({ organization: "acme", organization_id: ORG_ID });
    const maps = await db.query(
      `select binding_ref, resource_id, resource_key, routing_metadata from mappings`,
    );
    expect(maps).toEqual([
      {
        binding_ref: "srm_1",
        resource_id: "res_1",
        resource_key: newKey,
        routing_metadata: expect.objectContaining({ organization_id: ORG_ID, project_id: GUID }),
      },
    ]);
    expect(await db.query(`select * from inventory_staging`)).toEqual([]);
  });

  it("leaves an installation without a recorded instance id as it was", async () => {
    const [inst] = await db.query(`select workspace_id from installations where id = 'inst_old'`);
    expect(inst.workspace_id).toBe("legacy");
    const [res] = await db.query(`select resource_key from resources where id = 'res_2'`);
    expect(res.resource_key).toBe(`azure_devops:ado.corp:legacy:project:${GUID}`);
  });

  it("is recorded once: opening the database again applies nothing more", async () => {
    await db.migrate(MIGRATIONS_DIR);
    const rows = await db.query(`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, "meta", "_journal.json"), "utf8"));
    expect(rows[0].n).toBe(journal.entries.length);
  });
});
