import { availableParallelism } from "node:os";
import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../src/app/compose.ts";
import { authenticate } from "../src/host/http/auth.ts";
import {
  BENCH_SECONDS,
  cliIdentity,
  drivers,
  fmt,
  type Generator,
  loadMeasured,
  type MeasuredLoad,
  median,
  startBenchApp,
} from "./support.ts";

/**
 * Issue 18 benchmark: every CLI read as a share of the framework floor, measured in one run with load
 * from a separate process (concurrency 16; `BENCH_GENERATOR`: `lean`, the default, bench/lean-load.mjs,
 * which skips bodies by Content-Length; or `autocannon` / `autocannon:<workers>`), the same generator
 * for the floor and every row. Each row reports the CPU, in cores, of the generator, the service, the
 * PostgreSQL server and the rest of the machine over its window, so a reader sees who was saturated. The floor is an unauthenticated route that
 * answers a precomputed body (the bind-resolve answer): what Fastify and the socket cost with no work.
 * Then the same body behind the service's authentication (what authentication costs), bind-resolve of an
 * exact match with a warm snapshot, and `tracker/resources/` of the whole inventory (the CLI reads it
 * all). Floor and workload alternate in rounds; the share is the median ratio of a round's pair. One team, one GitHub
 * installation of `resources` repositories, on PGlite and PostgreSQL.
 */
const CONCURRENCY = 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** `BENCH_GENERATOR`: `lean` (default), `autocannon` or `autocannon:<worker threads>`. */
export function generatorFromEnv(value = process.env.BENCH_GENERATOR ?? "lean"): Generator {
  if (value === "lean") return { kind: "lean" };
  const m = /^autocannon(?::(\d+))?$/.exec(value);
  if (!m) throw new Error(`BENCH_GENERATOR=${value}: expected lean, autocannon or autocannon:<workers>`);
  return { kind: "autocannon", workers: Number(m[1] ?? 0) };
}
const GENERATOR = generatorFromEnv();
const generatorName = (g: Generator) =>
  g.kind === "lean" ? "lean generator" : `autocannon, ${g.workers || "no"} worker threads`;

/** Field-wise medians of several runs. */
const medianOf = (runs: MeasuredLoad[]): MeasuredLoad => {
  const m = (f: (r: MeasuredLoad) => number) => median(runs.map(f));
  return {
    requests: m((r) => r.requests),
    rps: m((r) => r.rps),
    p50_ms: m((r) => r.p50_ms),
    p99_ms: m((r) => r.p99_ms),
    bytesPerResponse: m((r) => r.bytesPerResponse),
    cpu: {
      generator: m((r) => r.cpu.generator),
      service: m((r) => r.cpu.service),
      database: m((r) => r.cpu.database),
      softirq: m((r) => r.cpu.softirq),
      other: m((r) => r.cpu.other),
    },
  };
};

/**
 * Who ran out of CPU in a window: a single-threaded process at ≥ 0.9 of a core (the service's
 * JavaScript is one thread; the generator has `workers` threads), or the whole machine at ≥ 90%.
 */
function saturated(r: MeasuredLoad, g: Generator) {
  const cores = availableParallelism();
  const genThreads = g.kind === "autocannon" && g.workers ? Math.min(g.workers, cores) : 1;
  const who = [];
  if (r.cpu.generator >= 0.9 * genThreads) who.push("generator");
  if (r.cpu.service >= 0.9) who.push("service");
  const total = r.cpu.generator + r.cpu.service + r.cpu.database + r.cpu.softirq + r.cpu.other;
  if (total >= 0.9 * cores) who.push("machine");
  return who.join(", ") || "none";
}

const identity = cliIdentity("service-00123");

export interface ReadsResult {
  driver: string;
  resources: number;
  generator: Generator;
  floor: MeasuredLoad;
  rows: { name: string; result: MeasuredLoad; share: number }[];
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
    const opts = { concurrency: CONCURRENCY, generator: GENERATOR, databaseUrl: b.databaseUrl };
    for (const r of [{ req: floor }, ...reads]) await loadMeasured(r.req, { ...opts, seconds: 1 });
    // Floor and workload alternate, ROUNDS times each: a pair runs under the same background load, and
    // the share is the median of the pairs' ratios.
    const floors: MeasuredLoad[] = [];
    const rows = [];
    for (const r of reads) {
      const pairs: { floor: MeasuredLoad; result: MeasuredLoad }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const f = await loadMeasured(floor, opts);
        pairs.push({ floor: f, result: await loadMeasured(r.req, opts) });
        floors.push(f);
      }
      rows.push({
        name: r.name,
        result: medianOf(pairs.map((p) => p.result)),
        share: median(pairs.map((p) => p.result.rps / p.floor.rps)),
      });
    }
    return { driver, resources, generator: GENERATOR, floor: medianOf(floors), rows };
  } finally {
    await b.close();
  }
}

export function table(results: ReadsResult[]) {
  const g = results[0]?.generator ?? GENERATOR;
  const lines = [
    `#### CLI reads as a share of the framework floor (${generatorName(g)}, ${CONCURRENCY} connections; ${ROUNDS} rounds of ${BENCH_SECONDS} s floor, ${BENCH_SECONDS} s workload; medians; CPU in cores of ${availableParallelism()})`,
    "",
    "| driver | workload | KB per response | req/s | p50 ms | p99 ms | share of the floor | CPU cores: generator / service / PostgreSQL / softirq / rest | CPU ms per request: generator / service + PostgreSQL | saturated |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const perRequest = (cores: number, r: MeasuredLoad) => fmt((cores * 1000) / r.rps, 3);
  const row = (driver: string, name: string, r: MeasuredLoad, share: number) => {
    const c = r.cpu;
    const cores = [c.generator, c.service, c.database, c.softirq, c.other].map((x) => fmt(x, 2)).join(" / ");
    const ms = `${perRequest(c.generator, r)} / ${perRequest(c.service + c.database, r)}`;
    return `| ${driver} | ${name} | ${fmt(r.bytesPerResponse / 1024)} | ${fmt(r.rps, 0)} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${fmt(share, 2)}× | ${cores} | ${ms} | ${saturated(r, g)} |`;
  };
  for (const r of results) {
    lines.push(row(r.driver, "floor: unauthenticated precomputed body", r.floor, 1));
    for (const x of r.rows) lines.push(row(r.driver, x.name, x.result, x.share));
  }
  return lines.join("\n");
}

export async function run(opts: { resources?: number; drivers?: ("pglite" | "postgres")[] } = {}) {
  const results = [];
  for (const d of opts.drivers ?? drivers()) results.push(await one(d, opts.resources ?? 2_000));
  return table(results);
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
