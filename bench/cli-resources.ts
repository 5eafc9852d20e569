import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../src/app/compose.ts";
import { authenticate } from "../src/host/http/auth.ts";
import { CliResources } from "../src/host/inventory/schemas.ts";
import { fmt, load, median, startBenchApp } from "./support.ts";

/**
 * Issue 4 benchmark. (1) `GET /api/v1/tracker/resources/?provider=github` over 10,000 discovered
 * resources against a route in the same server, behind the same authentication, that serialises the
 * same response from memory
 * (target ≤ 2×). (2) A refresh of 10,000 unchanged resources: rows written (target 0) and its time.
 */
async function one(driver: "pglite" | "postgres", resources: number, rounds: number) {
  let precomputed: unknown = null;
  const baseline: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
    app.addHook("onRequest", authenticate(services));
    app.get(
      "/bench/resources-from-memory",
      { schema: { response: { 200: CliResources } } },
      async () => precomputed,
    );
  };
  const b = await startBenchApp({
    driver,
    providers: ["github"],
    generatedResources: resources,
    plugins: [baseline],
  });
  try {
    const real = { url: `${b.baseUrl}/api/v1/tracker/resources/?provider=github`, headers: b.headers };
    precomputed = await (await fetch(real.url, { headers: b.headers })).json();
    const count = (precomputed as { resources: unknown[] }).resources.length;
    const mem = { url: `${b.baseUrl}/bench/resources-from-memory`, headers: b.headers };
    await load(real, { concurrency: 1, total: 3 });
    await load(mem, { concurrency: 1, total: 3 });
    const realMs: number[] = [];
    const memMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      realMs.push((await load(real, { concurrency: 1, total: 5 })).p50_ms);
      memMs.push((await load(mem, { concurrency: 1, total: 5 })).p50_ms);
    }
    const afterBinding = await b.firstRequestAfter("binding", real);
    const afterInventory = await b.firstRequestAfter("inventory", real);
    const t0 = performance.now();
    const again = await b.app.services.inventory.refresh(b.installations.github);
    const refreshMs = performance.now() - t0;
    return {
      row: `| ${driver} | ${count} | ${fmt(median(memMs))} | ${fmt(median(realMs))} | ${fmt(median(realMs) / median(memMs), 2)} | ${fmt(afterBinding)} | ${fmt(afterInventory)} |`,
      refresh: `| ${driver} | ${again.seen} | ${again.pages} | ${again.rows_written} | ${again.unchanged} | ${fmt(refreshMs, 0)} |`,
    };
  } finally {
    await b.close();
  }
}

export async function run(
  opts: { resources?: number; rounds?: number; drivers?: ("pglite" | "postgres")[] } = {},
) {
  const results = [];
  for (const d of opts.drivers ?? ["pglite", "postgres"])
    results.push(await one(d, opts.resources ?? 10_000, opts.rounds ?? 5));
  return [
    `#### GET /api/v1/tracker/resources/?provider=github (median of ${opts.rounds ?? 5} rounds of 5 sequential requests)`,
    "",
    "| driver | resources | baseline: same response from memory (ms) | tracker/resources/ (ms) | ratio | first after a binding change (ms) | first after an inventory change (ms) |",
    "|---|---|---|---|---|---|---|",
    ...results.map((r) => r.row),
    "",
    "#### Refresh of an unchanged inventory",
    "",
    "| driver | resources seen | pages | inventory rows written | unchanged | time (ms) |",
    "|---|---|---|---|---|---|",
    ...results.map((r) => r.refresh),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
