/**
 * The cold bind-resolve lookups (binding/cold.ts) on PostgreSQL: one team of ROWS resources discovered
 * over the GitHub simulator, OTHER rows of other teams beside it, then EXPLAIN ANALYZE of each stage's
 * statement and the median round trip of each, and bind-resolve end to end on an instance with no
 * snapshot cache against one with the default. `npx tsx bench/cold-bind-explain.ts` (PostgreSQL at
 * TEST_PG_URL or 127.0.0.1:5432).
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { buildApp } from "../src/app/server.ts";
import { providerSettingsFor } from "../src/demo/simulated.ts";
import { identityOf, partsOf } from "../src/host/binding/ranking.ts";
import { type BindLookups, inventoryRepository } from "../src/host/inventory/repository.ts";
import { createLogger } from "../src/host/logger.ts";
import { randomVault } from "../src/host/secrets/vault.ts";
import type { Database } from "../src/storage/database.ts";
import { createHttpClient } from "../src/tracker/index.ts";
import { startBenchApp } from "./support.ts";

const ROWS = Number(process.env.ROWS ?? 4_000);
const OTHER = Number(process.env.OTHER ?? 200_000);
const ROUNDS = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

async function timed(fn: () => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return `median ${median(ms).toFixed(2)} ms, p90 ${p90(ms).toFixed(2)} ms`;
}

const t = await startBenchApp({ driver: "postgres", providers: ["github"], generatedResources: ROWS });
try {
  const installationId = t.installations.github;
  const db = t.database.db;
  // Other teams' rows around the team's (same installation row, other team ids: the index leads by team).
  await db.execute(sql`
    insert into resources (id, team_id, installation_id, provider, resource_key, resource_type, native_id, label,
      key, name, full_path, web_url, context, connector_params, routing_metadata, search_text, fingerprint)
    select r.id || '_o' || g, 'team_other_' || (g % 200), installation_id, provider, resource_key || '_o' || g,
      resource_type, native_id || '_o' || g, label, key, name, full_path, web_url, context, connector_params,
      routing_metadata, search_text, fingerprint
    from resources r, generate_series(1, ${Math.ceil(OTHER / ROWS)}) g where r.team_id = ${t.team.id}`);
  await db.execute(sql`vacuum analyze resources`);
  const [{ n }] = ((await db.execute(sql`select count(*)::int as n from resources`)) as any).rows;
  const names = (
    (await db.execute(
      sql`select name from resources where team_id = ${t.team.id} and missing_since is null order by label limit 3 offset 100`,
    )) as any
  ).rows;
  console.log(`team rows ${ROWS}, all rows ${n}; exact name "${names[0].name}"`);
  const sizes = (
    (await db.execute(
      sql`select indexrelname as name, pg_relation_size(indexrelid) as bytes from pg_stat_user_indexes
        where relname = 'resources' order by indexrelname`,
    )) as any
  ).rows;
  for (const i of sizes) console.log(`index ${i.name}: ${(Number(i.bytes) / Number(n)).toFixed(0)} B a row`);

  const repo = inventoryRepository(db);
  const offerable = { installationIds: [installationId], boundIds: [] };
  const limits = { equal: 1_000, names: 20, paths: 20, all: 21 };
  let plan: string[] = [];
  // The repository's statement, explained instead of answered.
  const explained = inventoryRepository({
    execute: async (q: ReturnType<typeof sql>) => {
      const r = (await db.execute(sql`explain (analyze, buffers, costs off) ${q}`)) as any;
      plan = r.rows.map((x: any) => x["QUERY PLAN"]);
      return { rows: [] };
    },
  } as unknown as Database);
  const stage = async (label: string, q: BindLookups) => {
    await explained.bindLookups(t.team.id, "github", offerable, q, limits);
    const rows = await repo.bindLookups(t.team.id, "github", offerable, q, limits);
    const trip = await timed(() => repo.bindLookups(t.team.id, "github", offerable, q, limits));
    console.log(`\n## ${label}: ${rows.rows.length} rows; round trip ${trip}`);
    console.log(plan.join("\n"));
  };
  const exact = identityOf({ slug: names[0].name, repoSlug: null });
  await stage("stage 0, exact name", { equal: [exact.slug], names: [], paths: [], all: false });
  const partial = identityOf({ slug: "service-platform", repoSlug: null });
  await stage("stage 1, parts + name/path contains (service-platform)", {
    equal: partsOf(partial.slug),
    names: [partial.slug],
    paths: [partial.slug],
    all: false,
  });
  const rare = identityOf({ slug: "zqxw-nothing-like-it", repoSlug: null });
  await stage("stage 1, nothing contains it (whole team slice scanned)", {
    equal: partsOf(rare.slug),
    names: [rare.slug],
    paths: [rare.slug],
    all: false,
  });
  await stage("stage 2, words + first rows", { equal: rare.words, names: rare.words, paths: [], all: true });

  // End to end: the same request to an instance with no snapshot cache and to the default one (warm).
  const { server: cold } = await buildApp({
    database: t.database,
    logger: createLogger({ level: "silent" }),
    vault: randomVault(),
    settings: providerSettingsFor(t.sims),
    http: createHttpClient(),
    worker: false,
    snapshotCacheBytes: 0,
  });
  const resolve = (server: typeof cold, slug: string) =>
    server.inject({
      method: "POST",
      url: "/api/v1/tracker/bind-resolve/",
      headers: t.headers,
      payload: {
        provider: "github",
        project_identity: { uuid: randomUUID(), slug, node_id: "a1b2c3d4e5f6" },
      },
    });
  for (const slug of [names[0].name, "service-platform", "zqxw-nothing-like-it"]) {
    console.log(`\ncold bind-resolve "${slug}": ${await timed(() => resolve(cold, slug))}`);
    console.log(`warm bind-resolve "${slug}": ${await timed(() => resolve(t.app.server, slug))}`);
  }
  await cold.close();
} finally {
  await t.close();
}
