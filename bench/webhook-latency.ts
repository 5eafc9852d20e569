import { bindResolveRequest, drivers, fmt, load, startBenchApp } from "./support.ts";

/**
 * Issue 17 benchmark: an upstream change (a GitHub repository renamed in the simulator, which delivers a
 * signed `repository.renamed` webhook to the listening service) → visible in the CLI's next
 * `GET /api/v1/tracker/resources/`, with no refresh pass (target p95 ≤ 1 s). Then a burst of renames:
 * CPU per event of the whole process (service and simulator share it) and the CLI read latency while the
 * events flow. The renamed repository takes a name that sorts first, so a one-item page shows it.
 */
async function one(driver: "pglite" | "postgres", resources: number, trials: number, burst: number) {
  const b = await startBenchApp({
    driver,
    providers: ["github"],
    generatedResources: resources,
    worker: true,
  });
  try {
    const sim = b.sims.github;
    await fetch(`${sim.url}/_sim/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: `${b.baseUrl}/api/v1/webhooks/github/`, secret: sim.demo.webhook_secret }),
    });
    const repos = [...sim.store.resources.values()].filter(
      // Generated repositories only: live, issues on, given to the installation (some seeded ones are not).
      (r) => r.workspace_id === sim.demo.installation_id && r.name.startsWith("service-"),
    );
    const read = async () => {
      const res = await fetch(`${b.baseUrl}/api/v1/tracker/resources/?provider=github&limit=1`, {
        headers: b.headers,
      });
      if (!res.ok) throw new Error(`resources → ${res.status}`);
      return ((await res.json()) as { resources: { display_label: string }[] }).resources[0]?.display_label;
    };
    await read();
    const visible: number[] = [];
    for (let i = 0; i < trials; i++) {
      const r = repos[(i * 7919) % repos.length];
      const name = `000-${String(trials - i).padStart(4, "0")}-${i}`;
      const t0 = performance.now();
      sim.store.updateResource(r.id, { name });
      for (;;) {
        const label = await read();
        if (label?.endsWith(name)) break;
        if (performance.now() - t0 > 30_000) throw new Error(`rename ${name} never became visible`);
        await new Promise((res) => setTimeout(res, 5));
      }
      visible.push(performance.now() - t0);
    }
    visible.sort((a, c) => a - c);
    const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

    // The burst: `burst` renames at once, reads at concurrency 4 while the events are applied.
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    for (let i = 0; i < burst; i++) {
      const r = repos[(i * 104_729 + 13) % repos.length];
      sim.store.updateResource(r.id, { name: `zz-burst-${i}-${r.id}` });
    }
    const reads = load(
      { url: `${b.baseUrl}/api/v1/tracker/resources/?provider=github&limit=50`, headers: b.headers },
      { concurrency: 4, total: 200 },
    );
    const last = `zz-burst-${burst - 1}-`;
    const q = `${b.baseUrl}/api/v1/inventory/?installation_id=${b.installations.github}&q=${encodeURIComponent(last)}&limit=5`;
    for (;;) {
      const res = await fetch(q, { headers: b.headers });
      const items = ((await res.json()) as { items: unknown[] }).items;
      if (items.length > 0) break;
      if (performance.now() - w0 > 120_000) throw new Error("burst never applied");
      await new Promise((res) => setTimeout(res, 20));
    }
    const burstMs = performance.now() - w0;
    const cpu = process.cpuUsage(cpu0);
    const r = await reads;
    steadyRows.push(await steady(b, driver, resources, repos));
    return `| ${driver} | ${resources} | ${trials} | ${fmt(pct(visible, 0.5), 0)} | ${fmt(pct(visible, 0.95), 0)} | ${fmt(visible.at(-1) ?? 0, 0)} | ${burst} | ${fmt(burstMs, 0)} | ${fmt((cpu.user + cpu.system) / 1000 / burst, 1)} | ${fmt(r.p50_ms, 0)} | ${fmt(r.p99_ms, 0)} |`;
  } finally {
    await b.close();
  }
}

/** Rows of the steady-rate table, filled by `one`. */
const steadyRows: string[] = [];
const RATE = Number(process.env.BENCH_EVENTS_PER_MINUTE ?? 1000);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 20);

/** Snapshot builds of this process by kind (`skt_inventory_snapshot_builds_total`). */
async function builds(b: Awaited<ReturnType<typeof startBenchApp>>) {
  const metric = b.app.services.metrics.registry.getSingleMetric("skt_inventory_snapshot_builds_total");
  const out: Record<string, number> = { inventory: 0, patch: 0, bindings: 0 };
  for (const v of (await metric?.get())?.values ?? []) out[String(v.labels.part)] = v.value;
  return out;
}

/**
 * Issue 17's load target: renames at `RATE` per minute for `STEADY_SECONDS`, each a signed webhook the
 * service applies, while the CLI reads (bind-resolve of a repository that does not change, concurrency
 * 4, from autocannon). Baseline in the same run: the same reads with no events. Reported: the CPU of the
 * whole process per event with no reads running (service and simulator share it), the read latency
 * with and without events, and how the snapshot was brought up to date (rebuilds vs patches).
 */
async function steady(
  b: Awaited<ReturnType<typeof startBenchApp>>,
  driver: string,
  resources: number,
  repos: { id: string; name: string }[],
) {
  const sim = b.sims.github;
  const stable = repos[repos.length - 1];
  const read = bindResolveRequest(b, stable.name, "b7f3c2a0-0000-4000-8000-000000000003");

  const events = async (tag: string) => {
    const n = Math.round((RATE * STEADY_SECONDS) / 60);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const wait = t0 + (i * 60_000) / RATE - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      const r = repos[(i * 7919 + 1) % (repos.length - 1)];
      sim.store.updateResource(r.id, { name: `st-${tag}-${i}-${r.id}` });
    }
    // Applied: the last rename is in the inventory.
    const q = `${b.baseUrl}/api/v1/inventory/?installation_id=${b.installations.github}&q=${encodeURIComponent(`st-${tag}-${n - 1}-`)}&limit=1`;
    for (;;) {
      const items = ((await (await fetch(q, { headers: b.headers })).json()) as { items: unknown[] }).items;
      if (items.length > 0) break;
      if (performance.now() - t0 > STEADY_SECONDS * 1000 + 300_000) throw new Error("events never applied");
      await new Promise((res) => setTimeout(res, 50));
    }
    return { n, lagMs: performance.now() - t0 - STEADY_SECONDS * 1000 };
  };
  const quiet = await load(read, { concurrency: 4, seconds: STEADY_SECONDS });
  const before = await builds(b);
  const cpu0 = process.cpuUsage();
  const alone = await events("alone");
  const cpu = process.cpuUsage(cpu0);
  const [during, flowing] = await Promise.all([
    load(read, { concurrency: 4, seconds: STEADY_SECONDS }),
    events("reads"),
  ]);
  const after = await builds(b);
  const perEvent = (cpu.user + cpu.system) / 1000 / alone.n;
  return `| ${driver} | ${resources} | ${alone.n + flowing.n} | ${fmt(perEvent, 1)} | ${fmt(Math.max(0, alone.lagMs), 0)} | ${fmt(quiet.p50_ms, 0)} / ${fmt(quiet.p99_ms, 0)} | ${fmt(during.p50_ms, 0)} / ${fmt(during.p99_ms, 0)} | ${fmt(during.rps / quiet.rps, 2)}× | ${after.inventory - before.inventory} | ${after.patch - before.patch} |`;
}

export async function run() {
  const sizes = (process.env.BENCH_WEBHOOK_SIZES ?? "1000,10000").split(",").map(Number);
  const rows = [
    "| driver | repositories | renames | visible p50 (ms) | visible p95 (ms) | max (ms) | burst events | burst applied (ms) | CPU per event (ms) | read p50 during burst (ms) | read p99 during burst (ms) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const driver of drivers())
    for (const n of sizes) rows.push(await one(driver, n, Number(process.env.BENCH_TRIALS ?? 40), 200));
  return `${rows.join("\n")}\n\nSteady events (${RATE} per minute, ${STEADY_SECONDS} s per phase):\n\n${[
    "| driver | repositories | events | CPU per event, no reads (ms) | applied after the last (ms) | reads alone p50 / p99 (ms) | reads during events p50 / p99 (ms) | read rate during / alone | snapshot rebuilds | snapshot patches |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...steadyRows,
  ].join("\n")}`;
}
