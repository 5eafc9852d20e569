import { fmt, load, startBenchApp } from "./support.ts";

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
    return `| ${driver} | ${resources} | ${trials} | ${fmt(pct(visible, 0.5), 0)} | ${fmt(pct(visible, 0.95), 0)} | ${fmt(visible.at(-1) ?? 0, 0)} | ${burst} | ${fmt(burstMs, 0)} | ${fmt((cpu.user + cpu.system) / 1000 / burst, 1)} | ${fmt(r.p50_ms, 0)} | ${fmt(r.p99_ms, 0)} |`;
  } finally {
    await b.close();
  }
}

export async function run() {
  const sizes = (process.env.BENCH_WEBHOOK_SIZES ?? "1000,10000").split(",").map(Number);
  const rows = [
    "| driver | repositories | renames | visible p50 (ms) | visible p95 (ms) | max (ms) | burst events | burst applied (ms) | CPU per event (ms) | read p50 during burst (ms) | read p99 during burst (ms) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const driver of ["pglite", "postgres"] as const)
    for (const n of sizes) rows.push(await one(driver, n, 40, 200));
  return rows.join("\n");
}
