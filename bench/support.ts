import { randomUUID } from "node:crypto";
import { buildApp } from "../src/app/server.ts";
import { connectSimulated, providerSettingsFor } from "../src/demo/simulated.ts";
import { createLogger } from "../src/host/logger.ts";
import { randomVault } from "../src/host/secrets/vault.ts";
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
}) {
  const sims = {} as Record<SimProvider, ProviderSimulator>;
  for (const p of opts.providers)
    sims[p] = await SIMULATORS[p]({ generatedResources: opts.generatedResources });
  const pg = opts.driver === "postgres" ? await createPostgresDatabase() : null;
  if (opts.driver === "postgres" && !pg) throw new Error("PostgreSQL is not reachable at 127.0.0.1:5432");
  const database = await openDatabase({ databaseUrl: pg?.url, poolSize: 16 });
  const app = await buildApp({
    database,
    logger: createLogger({ level: "warn" }),
    vault: randomVault(),
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
        ms.push((await load(req, { concurrency: 1, total: 1 })).p50_ms);
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

/** A closed-loop load: `concurrency` workers send `total` requests in all; latency per request. */
export async function load(
  req: { url: string; method?: string; headers?: Record<string, string>; body?: string },
  opts: { concurrency: number; total: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let sent = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (sent < opts.total) {
        sent++;
        const t0 = performance.now();
        const res = await fetch(req.url, {
          method: req.method ?? "GET",
          headers: req.headers,
          body: req.body,
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${req.method ?? "GET"} ${req.url} → ${res.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { requests: latencies.length, rps: latencies.length / seconds, p50_ms: pct(0.5), p99_ms: pct(0.99) };
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const fmt = (n: number, digits = 1) => n.toFixed(digits);
