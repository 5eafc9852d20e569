import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildApp } from "../src/app/server.ts";
import { connectSimulated, providerSettingsFor } from "../src/demo/simulated.ts";
import { createLogger } from "../src/host/logger.ts";
import { randomVault, vaultFromConfig } from "../src/host/secrets/vault.ts";
import { type ProviderSimulator, SIMULATORS, type SimProvider } from "../src/simulators/index.ts";
import { openDatabase } from "../src/storage/database.ts";
import { createHttpClient } from "../src/tracker/index.ts";
import { createPostgresDatabase } from "../test/support/database.ts";

/** The real service on a real port over simulators, with team `acme`, an admin and an API token. */
export async function startBenchApp(opts: {
  driver: "pglite" | "postgres";
  providers: SimProvider[];
  generatedResources: number;
  /** More installations of a provider, each its own simulator (a separate instance or organisation). */
  more?: { provider: SimProvider; generatedPrefix: string }[];
  plugins?: import("fastify").FastifyPluginAsync<{ services: import("../src/app/compose.ts").Services }>[];
  /** Run the job worker in the server (webhook events are applied by jobs); default off. */
  worker?: boolean;
  /** A PostgreSQL database the caller created and drops (instead of a fresh one dropped on close). */
  databaseUrl?: string;
  /** `CREDENTIALS_KEYS` of the vault (another process on the same database needs the same); default random. */
  credentialsKeys?: string;
}) {
  const sims = {} as Record<SimProvider, ProviderSimulator>;
  for (const p of opts.providers)
    sims[p] = await SIMULATORS[p]({ generatedResources: opts.generatedResources });
  const pg = opts.driver === "postgres" && !opts.databaseUrl ? await createPostgresDatabase() : null;
  if (opts.driver === "postgres" && !pg && !opts.databaseUrl)
    throw new Error("PostgreSQL is not reachable at 127.0.0.1:5432");
  const database = await openDatabase({ databaseUrl: opts.databaseUrl ?? pg?.url, poolSize: 16 });
  const app = await buildApp({
    database,
    logger: createLogger({ level: "warn" }),
    vault: opts.credentialsKeys
      ? vaultFromConfig({ keys: opts.credentialsKeys, keyFile: "/nonexistent" })
      : randomVault(),
    settings: providerSettingsFor(sims),
    http: createHttpClient(),
    outbound: { allow: ["127.0.0.1"] }, // the simulators listen on loopback
    worker: opts.worker ?? false,
    jobPollMs: 50,
    plugins: opts.plugins,
  });
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const s = app.services;
  const team = await s.teams.createTeam({ slug: "acme", name: "Acme" });
  const user = await s.teams.createUser({ email: "bench@acme.test" });
  await s.teams.setMembership(team.id, user.id, "admin");
  const { token } = await s.tokens.create({ userId: user.id, name: "bench" });
  const auth = {
    user: { id: user.id, email: "bench@acme.test", name: "bench" },
    team: { id: team.id, slug: team.slug, name: team.name },
    role: "admin" as const,
    tokenId: "bench",
  };
  const installations: Record<string, string> = {};
  for (const p of opts.providers) {
    const { installation } = await connectSimulated(
      s,
      auth,
      sims[p],
      `${baseUrl}/api/v1/installations/callback/github/`,
    );
    await s.inventory.refresh(installation.id);
    installations[p] = installation.id;
  }
  const extraSims: ProviderSimulator[] = [];
  for (const m of opts.more ?? []) {
    const sim = await SIMULATORS[m.provider]({
      generatedResources: opts.generatedResources,
      generatedPrefix: m.generatedPrefix,
    });
    extraSims.push(sim);
    const { installation } = await connectSimulated(
      s,
      auth,
      sim,
      `${baseUrl}/api/v1/installations/callback/github/`,
    );
    await s.inventory.refresh(installation.id);
    installations[`${m.provider}:${m.generatedPrefix}`] = installation.id;
  }
  return {
    app,
    database,
    sims,
    baseUrl,
    /** The PostgreSQL database's URL (undefined on PGlite), for service processes of its own. */
    databaseUrl: opts.databaseUrl ?? pg?.url,
    team,
    installations,
    /**
     * A real change: `binding` creates a project (the next read re-reads installations, projects and
     * mappings); `inventory` archives or restores a repository upstream and refreshes (the next read
     * re-reads the whole inventory).
     */
    async change(kind: "binding" | "inventory") {
      const uuid = randomUUID();
      if (kind === "inventory") {
        const first = opts.providers[0];
        const sim = sims[first];
        const r = [...sim.store.resources.values()].find((x) => x.name.endsWith("-00005"));
        if (!r) throw new Error("no generated resource to change");
        sim.store.updateResource(r.id, { archived: !r.archived });
        await s.inventory.refresh(installations[first]);
        return;
      }
      await s.projects.ensure(team.id, {
        uuid,
        slug: `bench-${uuid.slice(0, 8)}`,
        node_id: "a1b2c3d4e5f6",
        repo_slug: null,
        build_id: null,
      });
    },
    /** Median time of the first request after a change of that kind (the snapshot is rebuilt). */
    async firstRequestAfter(kind: "binding" | "inventory", req: Parameters<typeof load>[0]) {
      const ms: number[] = [];
      for (let i = 0; i < 3; i++) {
        await this.change(kind);
        ms.push(await once(req));
      }
      return median(ms);
    },
    headers: { authorization: `Bearer ${token}`, "x-team-slug": "acme", "content-type": "application/json" },
    async close() {
      await app.server.close();
      await database.close();
      await pg?.drop();
      await Promise.all([...Object.values(sims), ...extraSims].map((x) => x.close()));
    },
  };
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

type Req = { url: string; method?: string; headers?: Record<string, string>; body?: string };

const AUTOCANNON = fileURLToPath(new URL("../node_modules/autocannon/autocannon.js", import.meta.url));

/**
 * Load from a separate process: autocannon (its CLI, as a child process) keeps `concurrency`
 * connections busy for `seconds` (or until `total` requests), so the client's work never runs on the
 * server's event loop. Any non-2xx answer or socket error fails the run.
 */
export async function load(
  req: Req,
  opts: { concurrency: number; total?: number; seconds?: number },
): Promise<LoadResult> {
  const args = [AUTOCANNON, "--json", "-c", String(opts.concurrency), "-m", req.method ?? "GET"];
  if (opts.total) args.push("-a", String(opts.total));
  else args.push("-d", String(opts.seconds ?? BENCH_SECONDS));
  for (const [k, v] of Object.entries(req.headers ?? {})) args.push("-H", `${k}=${v}`);
  if (req.body !== undefined) args.push("-b", req.body);
  args.push(req.url);
  const r = await autocannonRun(args);
  return summarise(r, req, true);
}

export interface LoadFailures {
  non2xx: number;
  errors: number;
  timeouts: number;
}

const VARIED = fileURLToPath(new URL("./varied-load.mjs", import.meta.url));

/**
 * `load()` with headers chosen per request from `headerSets` (at random: e.g. a random team's token and
 * slug), from autocannon's programmatic API in a separate process (bench/varied-load.mjs). Failures are
 * counted, not thrown, so a workload that collapses still reports what it did.
 */
export async function loadVaried(
  req: Req,
  headerSets: Record<string, string>[],
  opts: { concurrency: number; seconds?: number; timeoutSeconds?: number },
): Promise<LoadResult & LoadFailures> {
  const spec = {
    url: req.url,
    method: req.method ?? "GET",
    headers: req.headers ?? {},
    body: req.body,
    headerSets,
    concurrency: opts.concurrency,
    seconds: opts.seconds ?? BENCH_SECONDS,
    timeoutSeconds: opts.timeoutSeconds ?? 30,
  };
  return summarise(await autocannonRun([VARIED], JSON.stringify(spec)), req, false);
}

type AutocannonJson = {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
};

async function autocannonRun(args: string[], stdin?: string): Promise<AutocannonJson> {
  const child = spawn(process.execPath, args, {
    stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`autocannon exited ${code}: ${err}`);
  return JSON.parse(out) as AutocannonJson;
}

function summarise(r: AutocannonJson, req: Req, strict: boolean): LoadResult & LoadFailures {
  if (strict && (r.non2xx || r.errors || r.timeouts))
    throw new Error(
      `${req.method ?? "GET"} ${req.url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
    );
  return {
    requests: r.requests.total,
    rps: r.requests.total / r.duration,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

/** The drivers to measure (`BENCH_DRIVERS=pglite,postgres`, the default). */
export const drivers = () =>
  (process.env.BENCH_DRIVERS ?? "pglite,postgres").split(",") as ("pglite" | "postgres")[];

/** Seconds per measured load (`BENCH_SECONDS`, default 5). */
export const BENCH_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

/** One request's latency, sent from this process (for single requests the client's cost is negligible). */
export async function once(req: Req): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(req.url, { method: req.method ?? "GET", headers: req.headers, body: req.body });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${req.method ?? "GET"} ${req.url} → ${res.status}`);
  return performance.now() - t0;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** A CLI project identity naming `slug` (bind-resolve's body), with a fixed uuid per caller. */
export const cliIdentity = (slug: string, uuid = "b7f3c2a0-0000-4000-8000-000000000001") => ({
  uuid,
  slug,
  node_id: "a1b2c3d4e5f6",
  repo_slug: null,
  build_id: null,
});

/** The CLI's bind-resolve of `slug` against a bench app, as a request for `load` or `once`. */
export const bindResolveRequest = (
  b: { baseUrl: string; headers: Record<string, string> },
  slug: string,
  uuid?: string,
) => ({
  url: `${b.baseUrl}/api/v1/tracker/bind-resolve/`,
  method: "POST",
  headers: b.headers,
  body: JSON.stringify({ provider: "github", project_identity: cliIdentity(slug, uuid) }),
});

/** Which load generator `loadMeasured()` runs: lean (bench/lean-load.mjs) or autocannon with `workers`. */
export type Generator = { kind: "lean" } | { kind: "autocannon"; workers: number };

/** CPU over a measured window, in cores (1 = one core busy the whole window). */
export interface CpuShares {
  generator: number;
  service: number;
  /** The PostgreSQL backends of the service's database (0 on PGlite, which runs inside the service). */
  database: number;
  /** The kernel's softirq time, machine-wide (mostly the loopback traffic's receive side). */
  softirq: number;
  /** Everything else on the machine (other work sharing it), from /proc/stat. */
  other: number;
}

export interface MeasuredLoad extends LoadResult {
  bytesPerResponse: number;
  cpu: CpuShares;
}

const RUNNERS = {
  lean: fileURLToPath(new URL("./lean-load.mjs", import.meta.url)),
  autocannon: fileURLToPath(new URL("./autocannon-load.mjs", import.meta.url)),
};
const TICK_MS = 10; // /proc counts CPU in clock ticks of 10 ms (USER_HZ = 100)

/** utime + stime of a process from /proc/<pid>/stat, in ms (0 once it is gone). */
function procCpuMs(pid: number | "self") {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/**
 * CPU of the PostgreSQL backends serving database `name` (their process title names it: "postgres:
 * 15/main: <user> <database> <client> …"), in ms; other databases' work on the same server is not counted.
 */
function postgresCpuMs(name: string | undefined) {
  if (!name) return 0;
  let ms = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") continue;
      const title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (title.split(/\s+/).includes(name)) ms += procCpuMs(Number(pid));
    } catch {}
  }
  return ms;
}

/**
 * The machine's busy CPU (everything but idle, iowait and steal) and its softirq part, from /proc/stat,
 * in ms. Softirq time is not charged to any process.
 */
function machineCpuMs() {
  const [, user, nice, system, , , irq, softirq] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]
    .trim()
    .split(/\s+/)
    .map(Number);
  return { busy: (user + nice + system + irq + softirq) * TICK_MS, softirq: softirq * TICK_MS };
}

const sample = (database: string | undefined) => ({
  service: process.cpuUsage(),
  database: postgresCpuMs(database),
  machine: machineCpuMs(),
  at: performance.now(),
});

/**
 * `load()` from a chosen generator, with who used the CPU during the measured window: the generator
 * process (all its threads), this process (the service: bench apps run in the bench's process), the
 * service database's PostgreSQL backends, the kernel's softirq and the rest of the machine. Any non-2xx
 * answer or socket error fails the run.
 */
export async function loadMeasured(
  req: Req,
  opts: {
    concurrency: number;
    seconds?: number;
    generator: Generator;
    /** The service's PostgreSQL database URL, whose backends' CPU is counted. */
    databaseUrl?: string;
  },
): Promise<MeasuredLoad> {
  const database = opts.databaseUrl ? new URL(opts.databaseUrl).pathname.slice(1) : undefined;
  const g = opts.generator;
  const spec = {
    url: req.url,
    method: req.method ?? "GET",
    headers: req.headers ?? {},
    body: req.body,
    concurrency: opts.concurrency,
    seconds: opts.seconds ?? BENCH_SECONDS,
    workers: g.kind === "autocannon" ? g.workers : 0,
  };
  const child = spawn(process.execPath, [RUNNERS[g.kind]], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin.end(JSON.stringify(spec));
  let out = "";
  let err = "";
  let start: ReturnType<typeof sample> | undefined;
  let end: ReturnType<typeof sample> | undefined;
  child.stdout.on("data", (d) => {
    out += d;
    if (!start && out.startsWith("window\n")) start = sample(database);
    if (start && !end && out.startsWith("window\nend\n")) end = sample(database);
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0 || !start || !end) throw new Error(`load generator exited ${code}: ${err}`);
  const r = JSON.parse(out.slice("window\nend\n".length)) as {
    requests: number;
    rate_ms: number;
    wall_ms: number;
    p50_ms: number;
    p99_ms: number;
    bytes: number;
    non2xx: number;
    errors: number;
    cpu_ms: number;
  };
  if (r.non2xx || r.errors)
    throw new Error(`${spec.method} ${req.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  const windowMs = end.at - start.at;
  const serviceMs =
    (end.service.user + end.service.system - start.service.user - start.service.system) / 1000;
  const databaseMs = end.database - start.database;
  const machineMs = end.machine.busy - start.machine.busy;
  const softirqMs = end.machine.softirq - start.machine.softirq;
  return {
    requests: r.requests,
    rps: r.requests / (r.rate_ms / 1000),
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    bytesPerResponse: r.requests ? r.bytes / r.requests : 0,
    cpu: {
      generator: r.cpu_ms / r.wall_ms,
      service: serviceMs / windowMs,
      database: databaseMs / windowMs,
      softirq: softirqMs / windowMs,
      other: Math.max(0, (machineMs - softirqMs - serviceMs - databaseMs - r.cpu_ms) / windowMs),
    },
  };
}
