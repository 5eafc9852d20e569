import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { adapterFor, type ProviderId, runDiscovery } from "../src/tracker/index.ts";
import { fmt, startBenchApp } from "./support.ts";

/**
 * Memory of an inventory pass (issue 13 item 6). A GitLab group of N projects (simulator in-process,
 * pages of 100), first synced; then, each in the same fresh process with `--expose-gc`:
 * (a) baseline: discovery alone over the installation's connection, `onPage` keeping only a count;
 * (b) a refresh of the unchanged inventory (every key seen, nothing written);
 * (c) a refresh after 1% of the projects were deleted upstream (the pass finds them missing).
 * Live heap = sampled after a forced GC every 500 ms and every 25th page: what the pass retains, the
 * simulator's store included in the start value. Ratios: peak live heap over (a)'s in the same process; N = 10,000 and
 * 100,000 shows whether a pass grows with the inventory.
 */

interface PassMemory {
  pass: string;
  seen: number;
  missing: number;
  heapBeforeMb: number;
  peakLiveHeapGrowthMb: number;
  heapAfterMb: number;
  rssBeforeMb: number;
  peakRssGrowthMb: number;
  ms: number;
}

const mb = (bytes: number) => Number(fmt(bytes / 1024 / 1024, 1));

/** Runs `fn` while sampling the live heap (forced GC) on a timer and whenever `sample` is called. */
async function measured(
  pass: string,
  fn: (sample: () => void) => Promise<{ seen: number; missing: number }>,
): Promise<PassMemory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  gc();
  const before = process.memoryUsage();
  let peakHeap = before.heapUsed;
  let peakRss = before.rss;
  let calls = 0;
  const sample = () => {
    gc();
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  };
  const timer = setInterval(sample, 500);
  const everyPages = () => {
    if (++calls % 25 === 0) sample();
  };
  const t0 = performance.now();
  try {
    const counts = await fn(everyPages);
    const ms = performance.now() - t0;
    clearInterval(timer);
    sample();
    gc();
    return {
      pass,
      ...counts,
      heapBeforeMb: mb(before.heapUsed),
      peakLiveHeapGrowthMb: mb(peakHeap - before.heapUsed),
      heapAfterMb: mb(process.memoryUsage().heapUsed),
      rssBeforeMb: mb(before.rss),
      peakRssGrowthMb: mb(peakRss - before.rss),
      ms,
    };
  } finally {
    clearInterval(timer);
  }
}

async function measureInChild(driver: "pglite" | "postgres", n: number): Promise<PassMemory[]> {
  const b = await startBenchApp({ driver, providers: ["gitlab"], generatedResources: n });
  try {
    const s = b.app.services;
    const id = b.installations.gitlab;
    const inst = await s.installations.byId(id);
    if (!inst) throw new Error("no installation");
    const adapter = adapterFor(inst.provider as ProviderId);
    const conn = await s.installations.connectionFor(inst);
    const ws = s.installations.workspaceOf(inst);
    await runDiscovery(adapter, conn, ws, () => {}); // warm-up: JIT, sockets
    const results: PassMemory[] = [];
    results.push(
      await measured("discovery alone (baseline)", async (sample) => {
        let seen = 0;
        await runDiscovery(adapter, conn, ws, (page) => {
          seen += page.length;
          sample();
        });
        return { seen, missing: 0 };
      }),
    );
    const refresh = (name: string) =>
      measured(name, async (sample) => {
        // Outside the job queue: progress samples the heap; no lease to keep.
        const r = await s.inventory.refresh(id, {
          progress: async () => sample(),
          attemptId: `bench_${Date.now()}`,
          assertLease: async () => {},
        });
        return { seen: r.seen, missing: r.missing };
      });
    results.push(await refresh("refresh, nothing changed"));
    const sim = b.sims.gitlab;
    const generated = [...sim.store.resources.values()].filter((r) => r.name.startsWith("service-"));
    for (const r of generated.slice(0, Math.floor(n / 100))) sim.store.deleteResource(r.id);
    results.push(await refresh("refresh, 1% deleted upstream"));
    return results;
  } finally {
    await b.close();
  }
}

function inChild(driver: string, n: number): Promise<PassMemory[]> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, "--expose-gc", "--max-old-space-size=4096", self, "--child", driver, String(n)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) reject(new Error(`memory child ${driver} ${n} exited ${code}`));
      else resolve(JSON.parse(line) as PassMemory[]);
    });
  });
}

export async function run(
  opts: { sizes?: number[]; drivers?: ("pglite" | "postgres")[] } = {},
): Promise<string> {
  const rows: string[] = [];
  for (const driver of opts.drivers ?? ["pglite", "postgres"]) {
    for (const n of opts.sizes ?? [10_000, 100_000]) {
      const results = await inChild(driver, n);
      const peak = (r: PassMemory) => r.heapBeforeMb + r.peakLiveHeapGrowthMb;
      const base = peak(results[0]);
      for (const r of results)
        rows.push(
          `| ${driver} | ${n} | ${r.pass} | ${r.seen} | ${r.missing} | ${r.heapBeforeMb} | ${r.peakLiveHeapGrowthMb} | ${fmt(peak(r) / base, 2)} | ${r.heapAfterMb} | ${r.rssBeforeMb} | ${r.peakRssGrowthMb} | ${fmt(r.ms, 0)} |`,
        );
    }
  }
  return [
    "#### Memory of an inventory pass (GitLab group, pages of 100; fresh process per driver and size)",
    "",
    "| driver | projects | pass | seen | missing | heap before (MB) | peak live heap growth (MB) | peak live heap ÷ discovery alone's | heap after (MB) | RSS before (MB) | peak RSS growth (MB) | time (ms) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "Live heap: after a forced GC every 500 ms and every 25th page (time includes those GCs); the start value holds the simulator's store",
    "(same process) and, on PGlite, not the database (WASM memory counts in RSS only). Ratio: the pass's peak",
    "live heap over that of discovery alone (`onPage` keeping a count) in the same process.",
  ].join("\n");
}

const direct = import.meta.url === `file://${process.argv[1]}`;
if (direct) {
  const i = process.argv.indexOf("--child");
  if (i > 0) {
    const driver = process.argv[i + 1] as "pglite" | "postgres";
    console.log(JSON.stringify(await measureInChild(driver, Number(process.argv[i + 2]))));
    process.exit(0);
  } else console.log(await run());
}
