import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../src/app/compose.ts";
import { authenticate } from "../src/host/http/auth.ts";
import {
  BENCH_SECONDS,
  cliIdentity,
  drivers,
  fmt,
  type LoadResult,
  load,
  median,
  startBenchApp,
} from "./support.ts";

/**
 * Issue 18 benchmark: every CLI read as a share of the framework floor, measured in one run with load
 * from a separate process (autocannon, concurrency 16). The floor is an unauthenticated route that
 * answers a precomputed body (the bind-resolve answer): what Fastify and the socket cost with no work.
 * Then the same body behind the service's authentication (what authentication costs), bind-resolve of an
 * exact match with a warm snapshot, and `tracker/resources/` of the whole inventory (the CLI reads it
 * all). Floor and workload alternate in rounds; the share is the median ratio of a round's pair. One team, one GitHub
 * installation of `resources` repositories, on PGlite and PostgreSQL.
 */
const CONCURRENCY = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** Field-wise medians of several runs. */
const medianOf = (runs: LoadResult[]): LoadResult => ({
  requests: median(runs.map((r) => r.requests)),
  rps: median(runs.map((r) => r.rps)),
  p50_ms: median(runs.map((r) => r.p50_ms)),
  p99_ms: median(runs.map((r) => r.p99_ms)),
});

const identity = cliIdentity("service-00123");

export interface ReadsResult {
  driver: string;
  resources: number;
  floor: LoadResult;
  rows: { name: string; result: LoadResult; share: number }[];
}

/** The floor and the authenticated precomputed body, for any bench app. */
export function floorRoutes(body: () => string): FastifyPluginAsync<{ services: Services }> {
  return async (app, { services }) => {
    app.get("/bench/floor", async (_req, reply) => reply.type("application/json").send(body()));
    app.register(async (scoped) => {
      scoped.addHook("onRequest", authenticate(services));
      scoped.get("/bench/authenticated", async (_req, reply) => reply.type("application/json").send(body()));
    });
  };
}

async function one(driver: "pglite" | "postgres", resources: number): Promise<ReadsResult> {
  let body = "";
  const b = await startBenchApp({
    driver,
    providers: ["github"],
    generatedResources: resources,
    plugins: [floorRoutes(() => body)],
  });
  try {
    const bind = {
      url: `${b.baseUrl}/api/v1/tracker/bind-resolve/`,
      method: "POST",
      headers: b.headers,
      body: JSON.stringify({ provider: "github", project_identity: identity }),
    };
    body = await (await fetch(bind.url, bind)).text();
    const floor = { url: `${b.baseUrl}/bench/floor` };
    const reads = [
      {
        name: "precomputed body behind authentication",
        req: { url: `${b.baseUrl}/bench/authenticated`, headers: b.headers },
      },
      { name: "bind-resolve, warm snapshot", req: bind },
      {
        name: `tracker/resources/ (${resources} resources)`,
        req: { url: `${b.baseUrl}/api/v1/tracker/resources/?provider=github`, headers: b.headers },
      },
      {
        // What the CLI's httpx sends by default: the cached gzipped body.
        name: `tracker/resources/ (${resources} resources, gzip)`,
        req: {
          url: `${b.baseUrl}/api/v1/tracker/resources/?provider=github`,
          headers: { ...b.headers, "accept-encoding": "gzip, deflate" },
        },
      },
    ];
    for (const r of [{ req: floor }, ...reads]) await load(r.req, { concurrency: CONCURRENCY, seconds: 1 });
    // Floor and workload alternate, ROUNDS times each: a pair runs under the same background load, and
    // the share is the median of the pairs' ratios.
    const floors: LoadResult[] = [];
    const rows = [];
    for (const r of reads) {
      const pairs: { floor: LoadResult; result: LoadResult }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const f = await load(floor, { concurrency: CONCURRENCY });
        pairs.push({ floor: f, result: await load(r.req, { concurrency: CONCURRENCY }) });
        floors.push(f);
      }
      rows.push({
        name: r.name,
        result: medianOf(pairs.map((p) => p.result)),
        share: median(pairs.map((p) => p.result.rps / p.floor.rps)),
      });
    }
    return { driver, resources, floor: medianOf(floors), rows };
  } finally {
    await b.close();
  }
}

export function table(results: ReadsResult[]) {
  const lines = [
    `#### CLI reads as a share of the framework floor (autocannon, ${CONCURRENCY} connections; ${ROUNDS} rounds of ${BENCH_SECONDS} s floor, ${BENCH_SECONDS} s workload; medians)`,
    "",
    "| driver | workload | req/s | p50 ms | p99 ms | share of the floor |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.driver} | floor: unauthenticated precomputed body | ${fmt(r.floor.rps, 0)} | ${fmt(r.floor.p50_ms)} | ${fmt(r.floor.p99_ms)} | 1.00× |`,
    );
    for (const row of r.rows)
      lines.push(
        `| ${r.driver} | ${row.name} | ${fmt(row.result.rps, 0)} | ${fmt(row.result.p50_ms)} | ${fmt(row.result.p99_ms)} | ${fmt(row.share, 2)}× |`,
      );
  }
  return lines.join("\n");
}

export async function run(opts: { resources?: number; drivers?: ("pglite" | "postgres")[] } = {}) {
  const results = [];
  for (const d of opts.drivers ?? drivers()) results.push(await one(d, opts.resources ?? 2_000));
  return table(results);
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
