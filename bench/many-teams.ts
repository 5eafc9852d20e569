import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { buildApp } from "../src/app/server.ts";
import { providerSettingsFor } from "../src/demo/simulated.ts";
import { loadConfig } from "../src/host/config.ts";
import { inventoryRepository } from "../src/host/inventory/repository.ts";
import { createLogger } from "../src/host/logger.ts";
import { randomVault } from "../src/host/secrets/vault.ts";
import { openDatabase } from "../src/storage/database.ts";
import { createHttpClient } from "../src/tracker/index.ts";
import { PG_URL } from "../test/support/database.ts";
import {
  BENCH_SECONDS,
  fmt,
  type LoadFailures,
  type LoadResult,
  loadVaried,
  median,
  startBenchApp,
} from "./support.ts";

/**
 * Issue 18 item 3: many teams on PostgreSQL. `BENCH_TEAMS` teams (default 1,000), team i holding a
 * GitHub installation of between `BENCH_TEAM_MIN` and `BENCH_TEAM_MAX` repositories (default 1,000 and
 * 10,000, spread evenly), each with its admin, API token and membership. bind-resolve and
 * `tracker/resources/` are loaded (autocannon in its own process, 16 connections) first as one team
 * (the warm case: the median-sized team, every request) and then as a random team per request; the
 * ratio random ÷ warm is the issue's measure (target ≥ 0.8×). The service runs in its own process, so
 * its RSS (VmRSS sampled every 200 ms, and the kernel's VmHWM peak) is the service's alone.
 *
 * Seeding: one real team is connected and refreshed through the service (the simulator's rows as a
 * discovery pass writes them), then copied in SQL to every team, one `INSERT … SELECT` per table, in
 * its own database (`skt_bench_many_teams`), dropped at the end. The service keeps as many teams'
 * snapshots as SNAPSHOT_CACHE_MB holds (default 160) and answers the others from indexed SQL.
 */
const TEAMS = Number(process.env.BENCH_TEAMS ?? 1_000);
const MIN = Number(process.env.BENCH_TEAM_MIN ?? 1_000);
const MAX = Number(process.env.BENCH_TEAM_MAX ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
/** Seconds of random-team load before the measured one (the first contact with each team is not the steady state). */
const RANDOM_WARMUP = Number(process.env.BENCH_RANDOM_WARMUP_SECONDS ?? 20);
/** Use the database a previous run kept (BENCH_KEEP_DATABASE=1), if it holds as many teams. */
const REUSE = process.env.BENCH_REUSE_DATABASE === "1";
const CONCURRENCY = 16;
/** Its own database, dropped at the end (`BENCH_DATABASE` to run two at once). */
const DATABASE = process.env.BENCH_DATABASE ?? "skt_bench_many_teams";

const urlFor = (database: string) => {
  const u = new URL(PG_URL);
  u.pathname = `/${database}`;
  return u.toString();
};

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

interface SeededTeam {
  g: number;
  id: string;
  installation: string;
  slug: string;
  token: string;
  size: number;
}

interface Seeded {
  teams: SeededTeam[];
  rows: number;
  seconds: { template: number; copy: number; indexes: number };
}

/**
 * Every column of `table` copied from `source` rows, with `overrides` (column → SQL expression) for
 * the ones that differ per team: the copy follows the schema instead of restating it.
 */
async function columnsOf(c: pg.Client, table: string, overrides: Record<string, string>) {
  const { rows } = await c.query<{ column_name: string }>(
    "select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 and is_generated = 'NEVER' order by ordinal_position",
    [table],
  );
  const names = rows.map((r) => r.column_name);
  return {
    list: names.map((n) => `"${n}"`).join(", "),
    values: names.map((n) => overrides[n] ?? `src."${n}"`).join(", "),
  };
}

async function seed(url: string): Promise<Seeded> {
  let t0 = performance.now();
  // The template: a real team, connected and refreshed through the service over the GitHub simulator.
  const template = await startBenchApp({
    driver: "postgres",
    databaseUrl: url,
    providers: ["github"],
    generatedResources: MAX,
  });
  const templateTeam = template.team.id;
  const templateInstallation = template.installations.github;
  await template.close();
  const templateSeconds = (performance.now() - t0) / 1000;

  t0 = performance.now();
  const salt = randomBytes(6).toString("hex");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // Bulk copy: no row triggers (foreign keys, version bumps) and no secondary indexes while writing;
    // the versions are set once below and the indexes rebuilt from their own definitions after.
    await c.query("set session_replication_role = replica");
    await c.query("set maintenance_work_mem = '512MB'");
    const { rows: indexes } = await c.query<{ indexname: string; indexdef: string }>(
      "select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = 'resources' and indexname <> 'resources_pkey'",
    );
    for (const i of indexes) await c.query(`drop index "${i.indexname}"`);
    await c.query(
      `create table bench_teams as
         select g, 'team_' || rpad('BENCH' || lpad(g::text, 5, '0'), 26, '0') as id, 'bench-' || g as slug,
                'inst_' || rpad('BENCH' || lpad(g::text, 5, '0'), 26, '0') as installation,
                'skt_bench_' || g || '_${salt}' as token,
                ${MIN} + ((${MAX - MIN})::bigint * (g - 1) / greatest(${TEAMS} - 1, 1))::int as size
         from generate_series(1, ${TEAMS}) g`,
    );
    await c.query(
      "insert into teams (id, slug, name, inventory_version, binding_version) select id, slug, 'Bench team ' || g, 1, 1 from bench_teams",
    );
    await c.query(
      "insert into users (id, email, name) select 'usr_bench_' || g, 'bench-' || g || '@teams.test', 'Bench ' || g from bench_teams",
    );
    await c.query(
      "insert into memberships (team_id, user_id, role) select id, 'usr_bench_' || g, 'admin' from bench_teams",
    );
    // As tokens/service.ts stores them: SHA-256 hex of the secret, and its first 10 characters.
    await c.query(
      `insert into api_tokens (id, user_id, name, token_hash, prefix)
         select 'tok_bench_' || g, 'usr_bench_' || g, 'bench', encode(sha256(convert_to(token, 'UTF8')), 'hex'), left(token, 10)
         from bench_teams`,
    );
    const inst = await columnsOf(c, "installations", {
      id: "t.installation",
      team_id: "t.id",
      // One GitHub installation belongs to one team (installations_github_owner_uq).
      workspace_id: "src.workspace_id || '-' || t.g",
      resource_count: "t.size",
    });
    await c.query(
      `insert into installations (${inst.list}) select ${inst.values} from installations src cross join bench_teams t where src.id = $1`,
      [templateInstallation],
    );
    const res = await columnsOf(c, "resources", {
      // As long as the service's ids (prefix + 26-character ULID): the snapshot's memory is mostly strings.
      id: "'res_' || rpad('BENCH' || lpad(t.g::text, 5, '0') || lpad(src.n::text, 6, '0'), 26, '0')",
      team_id: "t.id",
      installation_id: "t.installation",
    });
    await c.query(
      `insert into resources (${res.list})
         select ${res.values}
         from (select *, row_number() over (order by id) as n from resources where installation_id = $1) src
         join bench_teams t on src.n <= t.size
         -- A team's rows together, as its discovery pass writes them (not one row per page per team).
         order by t.g, src.n`,
      [templateInstallation],
    );
    const copySeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await c.query("set session_replication_role = origin");
    for (const i of indexes) await c.query(i.indexdef);
    await c.query("vacuum analyze");
    const teams = (
      await c.query<SeededTeam>("select g, id, installation, slug, token, size from bench_teams order by g")
    ).rows;
    const { rows: counted } = await c.query<{ n: number }>(
      "select count(*)::int as n from resources where team_id <> $1",
      [templateTeam],
    );
    return {
      teams,
      rows: counted[0].n,
      seconds: { template: templateSeconds, copy: copySeconds, indexes: (performance.now() - t0) / 1000 },
    };
  } finally {
    await c.end();
  }
}

/**
 * The teams a kept database (BENCH_KEEP_DATABASE=1 before) was seeded with, if it exists and has as many:
 * BENCH_REUSE_DATABASE=1 skips the minutes of seeding. The service migrates it on start as any upgrade would.
 */
async function seededBefore(url: string): Promise<Seeded | null> {
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
  } catch {
    return null;
  }
  try {
    const teams = (
      await c.query<SeededTeam>("select g, id, installation, slug, token, size from bench_teams order by g")
    ).rows;
    if (teams.length !== TEAMS) return null;
    const { rows } = await c.query<{ n: number }>(
      "select count(*)::int as n from resources r join bench_teams t on t.id = r.team_id",
    );
    return { teams, rows: rows[0].n, seconds: { template: 0, copy: 0, indexes: 0 } };
  } catch {
    return null;
  } finally {
    await c.end();
  }
}

/** The service alone in a child process (`--serve <url>`); resolves with its pid and base URL. */
function serve(url: string) {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      // BENCH_SERVICE_HEAP_MB caps V8's old space, as a container's operator might.
      ...(process.env.BENCH_SERVICE_HEAP_MB
        ? [`--max-old-space-size=${process.env.BENCH_SERVICE_HEAP_MB}`]
        : []),
      // BENCH_SERVICE_NODE_FLAGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": profile the service alone.
      ...(process.env.BENCH_SERVICE_NODE_FLAGS?.split(" ").filter(Boolean) ?? []),
      fileURLToPath(import.meta.url),
      "--serve",
      url,
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const ready = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("listening "));
      if (line) resolve(line.slice("listening ".length).trim());
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`many-teams server exited ${code}`)));
  });
  return {
    child,
    ready,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** Memory of a process from /proc: resident now (VmRSS) and the kernel's peak (VmHWM), in MB. */
function memoryOf(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** Samples RSS every 200 ms; `phase()` returns the peak since the last call and the current value. */
function rssSampler(pid: number) {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, 200);
  return {
    phase() {
      const now = memoryOf(pid).rss;
      const p = Math.max(peak, now);
      peak = 0;
      return { peakMb: p, endMb: now };
    },
    stop: () => clearInterval(timer),
    hwmMb: () => memoryOf(pid).hwm,
  };
}

type Measured = LoadResult & LoadFailures & { peakMb: number; endMb: number };

export async function run(): Promise<string> {
  const url = urlFor(DATABASE);
  const reused = REUSE && (await seededBefore(url));
  if (!reused) {
    await admin(`drop database if exists ${DATABASE} with (force)`);
    await admin(`create database ${DATABASE}`);
  }
  const server = { stop: async () => {} } as { stop(): Promise<void> };
  try {
    const seeded = reused || (await seed(url));
    const s = serve(url);
    server.stop = s.stop;
    const startedAt = performance.now();
    const baseUrl = await s.ready;
    const startSeconds = (performance.now() - startedAt) / 1000;
    const pid = s.child.pid as number;
    const rss = rssSampler(pid);
    const idleMb = memoryOf(pid).rss;
    const as = (t: Seeded["teams"][number]) => ({
      authorization: `Bearer ${t.token}`,
      "x-team-slug": t.slug,
    });
    const warmTeam = [...seeded.teams].sort((a, b) => a.size - b.size)[Math.floor(seeded.teams.length / 2)];
    const everyTeam = seeded.teams.map(as);
    const workloads: { name: string; req: Parameters<typeof loadVaried>[0]; warmup?: number }[] = [
      {
        name: "bind-resolve (exact match)",
        req: {
          url: `${baseUrl}/api/v1/tracker/bind-resolve/`,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            provider: "github",
            project_identity: {
              uuid: "b7f3c2a0-0000-4000-8000-000000000001",
              slug: "service-00123",
              node_id: "a1b2c3d4e5f6",
              repo_slug: null,
              build_id: null,
            },
          }),
        },
      },
      {
        name: "tracker/resources/ (the whole list, gzip as the CLI asks)",
        req: {
          url: `${baseUrl}/api/v1/tracker/resources/?provider=github`,
          headers: { "accept-encoding": "gzip" },
        },
        // A cold team's list is written once per token batch: every team's first list is the warm-up.
        warmup: Number(process.env.BENCH_LIST_WARMUP_SECONDS ?? 90),
      },
    ];
    const rows: string[] = [];
    const opts = { concurrency: CONCURRENCY };
    for (const w of workloads) {
      const pairs: { warm: Measured; random: Measured }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        await loadVaried(w.req, [as(warmTeam)], { ...opts, seconds: 2 });
        rss.phase();
        const warm = { ...(await loadVaried(w.req, [as(warmTeam)], opts)), ...rss.phase() };
        // The random load's steady state: teams kept, the others' bindings and cold lists at hand.
        await loadVaried(w.req, everyTeam, { ...opts, seconds: w.warmup ?? RANDOM_WARMUP });
        const random = { ...(await loadVaried(w.req, everyTeam, opts)), ...rss.phase() };
        pairs.push({ warm, random });
      }
      const pick = (k: "warm" | "random") => pairs.map((p) => p[k]);
      const ratio = median(pairs.map((p) => p.random.rps / p.warm.rps));
      const line = (label: string, m: Measured[], share: string) => {
        const r = (f: (x: Measured) => number) => median(m.map(f));
        const failed = r((x) => x.non2xx + x.errors + x.timeouts);
        rows.push(
          `| ${w.name} | ${label} | ${fmt(
            r((x) => x.rps),
            1,
          )} | ${fmt(
            r((x) => x.p50_ms),
            0,
          )} | ${fmt(
            r((x) => x.p99_ms),
            0,
          )} | ${failed} | ${share} | ${fmt(
            r((x) => x.peakMb),
            0,
          )} | ${fmt(
            r((x) => x.endMb),
            0,
          )} |`,
        );
      };
      line(`one warm team (${warmTeam.size} resources)`, pick("warm"), "1.00×");
      line(`random team of ${TEAMS}`, pick("random"), `${fmt(ratio, 2)}×`);
    }
    await new Promise((r) => setTimeout(r, 3_000));
    const after = memoryOf(pid).rss;
    const hwm = rss.hwmMb();
    rss.stop();
    await server.stop();
    server.stop = async () => {};
    // Teams spread over the sizes, ~100,000 rows in all (all kept: the memory child sets a 4 GB budget), plus one for warm-up.
    const measured: SeededTeam[] = [];
    let total = 0;
    const step = Math.max(1, Math.floor(seeded.teams.length / 40));
    for (let i = 0; i < seeded.teams.length && total < 100_000; i += step) {
      measured.push(seeded.teams[i]);
      total += seeded.teams[i].size;
    }
    measured.push(seeded.teams[seeded.teams.length - 1]);
    const mem = await rowMemoryInChild(url, measured);
    return [
      `#### ${TEAMS} teams of ${MIN}–${MAX} GitHub repositories (${seeded.rows} resources) on PostgreSQL, ${CONCURRENCY} connections, ${BENCH_SECONDS} s per load, ${ROUNDS} round(s)`,
      "",
      reused
        ? "Seeding: the database of an earlier run (BENCH_REUSE_DATABASE=1), migrated by the service on start."
        : `Seeding: template team ${fmt(seeded.seconds.template, 0)} s, copy ${fmt(seeded.seconds.copy, 0)} s, indexes + analyze ${fmt(seeded.seconds.indexes, 0)} s.`,
      "",
      "| workload | teams | req/s | p50 ms | p99 ms | failed | random ÷ warm | service peak RSS (MB) | service RSS at end (MB) |",
      "|---|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      `Service start, migrations included: ${fmt(startSeconds, 1)} s. Service RSS: ${fmt(idleMb, 0)} MB idle after start, ${fmt(after, 0)} MB 3 s after the last load, peak (VmHWM) ${fmt(hwm, 0)} MB.`,
      "",
      `#### Memory per cached row (${mem.teams} teams, ${mem.rows} rows; fresh process, live heap after forced GC)`,
      "",
      "| what is held | bytes per row |",
      "|---|---|",
      `| rows as the driver returns them (the snapshot query's result, for comparison) | ${mem.driverRows} |`,
      `| bindable snapshot (rows, name index, haystacks, id map, curation flags) | ${mem.snapshot} |`,
      `| + tracker/resources/ listing on the heap (candidate tokens, items, page) | ${mem.listingHeap} |`,
      `| + tracker/resources/ encoded body (outside the heap) | ${mem.listingExternal} |`,
      `| RSS growth, snapshot + listing | ${mem.rss} |`,
      "",
      `Cold snapshot build: ${fmt(mem.buildMs, 0)} ms per team (mean ${Math.round(mem.rows / mem.teams)} rows, one at a time); first tracker/resources/ on a built snapshot: ${fmt(mem.listingMs, 0)} ms.`,
    ].join("\n");
  } finally {
    await server.stop();
    // BENCH_KEEP_DATABASE=1 leaves the seeded database for SQL experiments or BENCH_REUSE_DATABASE=1.
    if (!process.env.BENCH_KEEP_DATABASE && !REUSE)
      await admin(`drop database if exists ${DATABASE} with (force)`);
  }
}

interface RowMemory {
  teams: number;
  rows: number;
  /** Heap bytes per row: the rows as the driver returns them, the snapshot, the listing on top. */
  driverRows: number;
  snapshot: number;
  listingHeap: number;
  listingExternal: number;
  rss: number;
  buildMs: number;
  listingMs: number;
}

/**
 * Where a cached team's memory goes, per row (`--memory <url>`, with --expose-gc, in a fresh process):
 * the live heap after a forced GC before and after (1) reading the teams' rows as the snapshot query
 * does, held in an array; (2) building their snapshots (\`inventory.snapshot\`, the LRU holding all of
 * them); (3) answering \`tracker/resources/\` for each (tokens, items and the encoded body, which is
 * outside the heap: \`external\`). The teams' rows stay under the LRU's bound, so nothing is evicted.
 */
async function rowMemory(url: string, teams: SeededTeam[]): Promise<RowMemory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  const database = await openDatabase({ databaseUrl: url, poolSize: 4 });
  const app = await buildApp({
    database,
    logger: createLogger({ level: "warn" }),
    vault: randomVault(),
    settings: providerSettingsFor({}),
    http: createHttpClient(),
    worker: false,
    // Every measured team kept: this measures what a kept row costs, not admission.
    snapshotCacheBytes: 4 * 1024 ** 3,
  });
  const headers = (t: SeededTeam) => ({ authorization: `Bearer ${t.token}`, "x-team-slug": t.slug });
  const list = (t: SeededTeam) =>
    app.server.inject({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=github",
      headers: headers(t),
    });
  // Warm-up outside the measured teams: JIT, pools, caches of the process.
  const spare = teams.pop() as SeededTeam;
  if ((await list(spare)).statusCode !== 200) throw new Error("tracker/resources/ refused the bench token");
  const repo = inventoryRepository(database.db);
  const sample = () => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const m0 = sample();
  const held: unknown[] = [];
  for (const t of teams) held.push(await repo.snapshotRows(t.id, [t.installation]));
  const m1 = sample();
  const rows = (held as unknown[][]).reduce((n, r) => n + r.length, 0);
  held.length = 0;
  const m2 = sample();
  let t0 = performance.now();
  for (const t of teams) await app.services.inventory.snapshot(t.id, "github");
  const buildMs = (performance.now() - t0) / teams.length;
  const m3 = sample();
  t0 = performance.now();
  for (const t of teams) if ((await list(t)).statusCode !== 200) throw new Error("tracker/resources/ failed");
  const listingMs = (performance.now() - t0) / teams.length;
  const m4 = sample();
  const perRow = (bytes: number) => Math.round(bytes / rows);
  await app.server.close();
  await database.close();
  return {
    teams: teams.length,
    rows,
    driverRows: perRow(m1.heapUsed - m0.heapUsed),
    snapshot: perRow(m3.heapUsed - m2.heapUsed),
    listingHeap: perRow(m4.heapUsed - m3.heapUsed),
    listingExternal: perRow(m4.external - m3.external),
    rss: perRow(m4.rss - m2.rss),
    buildMs,
    listingMs,
  };
}

function rowMemoryInChild(url: string, teams: SeededTeam[]): Promise<RowMemory> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, "--expose-gc", fileURLToPath(import.meta.url), "--memory", url],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  child.stdin.end(JSON.stringify(teams));
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`memory child exited ${code}`));
      else resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "") as RowMemory);
    });
  });
}

async function serveOnly(url: string) {
  const database = await openDatabase({ databaseUrl: url, poolSize: 16 });
  const app = await buildApp({
    database,
    logger: createLogger({ level: "warn" }),
    vault: randomVault(),
    settings: providerSettingsFor({}),
    http: createHttpClient(),
    worker: false,
    // As the service's configuration reads it (SNAPSHOT_CACHE_MB, default 160).
    snapshotCacheBytes: loadConfig().snapshotCacheBytes,
  });
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  const a = app.server.server.address();
  console.log(`listening http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`);
  // BENCH_TRACE_MEMORY=1: the service's heap beside its RSS every 5 s (on stderr), to tell live data from slack.
  if (process.env.BENCH_TRACE_MEMORY === "1")
    setInterval(() => {
      const m = process.memoryUsage();
      const mb = (n: number) => Math.round(n / 1048576);
      console.error(
        `memory rss=${mb(m.rss)} heapTotal=${mb(m.heapTotal)} heapUsed=${mb(m.heapUsed)} external=${mb(m.external)}`,
      );
    }, 5_000).unref();
  process.once("SIGTERM", async () => {
    await app.server.close();
    await database.close();
    process.exit(0);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf("--serve");
  const m = process.argv.indexOf("--memory");
  if (i > 0) await serveOnly(process.argv[i + 1]);
  else if (m > 0) {
    let input = "";
    for await (const chunk of process.stdin) input += chunk;
    console.log(JSON.stringify(await rowMemory(process.argv[m + 1], JSON.parse(input))));
    process.exit(0);
  } else console.log(await run());
}
