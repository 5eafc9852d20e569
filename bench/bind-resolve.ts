import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../src/app/compose.ts";
import { authenticate } from "../src/host/http/auth.ts";
import { fmt, load, startBenchApp } from "./support.ts";

/**
 * Issue 5 benchmark: bind-resolve for a team with 4 installations and 20,000 resources at concurrency
 * 16, on PGlite and on PostgreSQL, against a route in the same server that answers a precomputed body
 * of the same size behind the same authentication (target: ≥ 50% of the baseline's throughput).
 * The 4 installations are 4 GitLab instances of 5,000 projects each, so every resolve (provider gitlab)
 * weighs all 20,000: `service-NNNNN` on the first, `api-`, `web-` and `worker-NNNNN` on the others.
 */
const PROVIDER = "gitlab";
const identity = (n: number, slug: string) => ({
  uuid: `b7f3c2a0-0000-4000-8000-00000000000${n}`,
  slug,
  node_id: "a1b2c3d4e5f6",
  repo_slug: null,
  build_id: null,
});
/**
 * A project named like one repository (the common case), one whose name is part of ten repository names
 * on one instance, and one whose name is part of one repository name on each of the four.
 */
const IDENTITIES = {
  exact: identity(1, "service-00123"),
  ambiguous: identity(2, "service-0123"),
  "across installations": identity(3, "00123"),
};

async function one(driver: "pglite" | "postgres", perInstallation: number, total: number) {
  const bodies: Record<string, string> = {};
  // Behind the same authentication as the real route: the comparison is resolution against a ready answer.
  const baseline: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
    app.addHook("onRequest", authenticate(services));
    app.post("/bench/precomputed/:kind", async (req, reply) =>
      reply.type("application/json").send(bodies[(req.params as { kind: string }).kind]),
    );
  };
  const b = await startBenchApp({
    driver,
    providers: [PROVIDER],
    more: ["api", "web", "worker"].map((generatedPrefix) => ({ provider: PROVIDER, generatedPrefix })),
    generatedResources: perInstallation,
    plugins: [baseline],
  });
  try {
    const count = (await b.app.services.inventory.snapshot(b.team.id, PROVIDER)).rows.length;
    const rows: string[] = [];
    for (const [kind, identity] of Object.entries(IDENTITIES)) {
      const payload = JSON.stringify({ provider: PROVIDER, project_identity: identity });
      const real = {
        url: `${b.baseUrl}/api/v1/tracker/bind-resolve/`,
        method: "POST",
        headers: b.headers,
        body: payload,
      };
      bodies[kind] = await (await fetch(real.url, real)).text();
      const sample = JSON.parse(bodies[kind]);
      const base = { ...real, url: `${b.baseUrl}/bench/precomputed/${kind}` };
      await load(real, { concurrency: 16, total: 64 });
      await load(base, { concurrency: 16, total: 64 });
      const realRun = await load(real, { concurrency: 16, total });
      const baseRun = await load(base, { concurrency: 16, total });
      const afterBinding = await b.firstRequestAfter("binding", real);
      const afterInventory = await b.firstRequestAfter("inventory", real);
      rows.push(
        `| ${driver} | ${count} | ${kind}: ${sample.match_type} (${sample.candidates.length} candidates) | ${fmt(baseRun.rps, 0)} | ${fmt(realRun.rps, 0)} | ${fmt((100 * realRun.rps) / baseRun.rps, 0)}% | ${fmt(baseRun.p99_ms)} | ${fmt(realRun.p99_ms)} | ${fmt(afterBinding)} | ${fmt(afterInventory)} |`,
      );
    }
    return rows;
  } finally {
    await b.close();
  }
}

export async function run(
  opts: { perInstallation?: number; requests?: number; drivers?: ("pglite" | "postgres")[] } = {},
) {
  const rows: string[] = [];
  for (const d of opts.drivers ?? ["pglite", "postgres"])
    rows.push(...(await one(d, opts.perInstallation ?? 5_000, opts.requests ?? 1_000)));
  return [
    "#### bind-resolve, 4 installations, concurrency 16",
    "",
    "| driver | bindable resources | answer (candidates) | baseline req/s | bind-resolve req/s | share of baseline | baseline p99 ms | bind-resolve p99 ms | first after a binding change (ms) | first after an inventory change (ms) |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
