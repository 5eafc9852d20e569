import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startGithubSimulator } from "../src/simulators/github/index.ts";
import type { Connection } from "../src/tracker/core/adapter.ts";
import type { Workspace } from "../src/tracker/core/descriptor.ts";
import { parseLinkHeader, runDiscovery } from "../src/tracker/core/discovery.ts";
import { createHttpClient } from "../src/tracker/core/http.ts";
import { githubAdapter } from "../src/tracker/github/adapter.ts";
import { GITHUB_HEADERS, installationToken } from "../src/tracker/github/auth.ts";

/**
 * GitHub discovery over the simulator: (a) a baseline that fetches and JSON-parses the same pages
 * with plain `fetch`, following the `link` headers; (b) `githubAdapter.discover` through
 * `runDiscovery` (descriptors built, retry client, token cache). Alternating rounds after a warm-up;
 * median wall times and their ratio (target ≤ 1.3×). Then peak heap/RSS growth of a pass over 2,500
 * and 10,000 repositories, each in a fresh process, with an `onPage` that only counts.
 */

const NAMED = (
  JSON.parse(readFileSync(new URL("../src/simulators/github/seed.json", import.meta.url), "utf8")) as {
    workspaces: { resources?: unknown[] }[];
  }
).workspaces[0].resources!.length;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, digits = 1) => n.toFixed(digits);
const mb = (bytes: number) => fmt(bytes / 1024 / 1024, 1);

async function withSimulator<T>(repos: number, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const sim = await startGithubSimulator({ generatedResources: repos - NAMED });
  const conn: Connection = {
    base_url: sim.demo.api_url,
    http: createHttpClient(),
    credential: {
      kind: "github_app",
      app_id: sim.demo.app_id,
      private_key_pem: sim.demo.private_key_pem,
      installation_id: sim.demo.installation_id,
    },
  };
  try {
    return await fn(conn);
  } finally {
    await sim.close();
  }
}

/** Plain fetch + JSON.parse of every page, following `link` rel=next. */
async function baseline(conn: Connection): Promise<number> {
  const { token } = await installationToken(conn);
  const headers = { ...GITHUB_HEADERS, authorization: `Bearer ${token}` };
  let url: string | undefined = `${conn.base_url}/installation/repositories?per_page=100`;
  let count = 0;
  while (url) {
    const res: Response = await fetch(url, { headers });
    const body = JSON.parse(await res.text()) as { repositories: unknown[] };
    count += body.repositories.length;
    url = parseLinkHeader(res.headers.get("link")).next;
  }
  return count;
}

/** The host hands discovery a stored workspace, so listing workspaces is not part of the pass. */
async function viaAdapter(conn: Connection, ws: Workspace): Promise<number> {
  let count = 0;
  const outcome = await runDiscovery(githubAdapter, conn, ws, (page) => {
    count += page.length;
  });
  if (!outcome.complete) throw new Error(`discovery stopped: ${outcome.truncated?.message}`);
  return count;
}

/** Wall time, plus process CPU time (client and in-process simulator), which other load on the machine disturbs less. */
async function timed(fn: () => Promise<number>): Promise<{ ms: number; cpuMs: number; count: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const count = await fn();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, count };
}

interface MemoryResult {
  repos: number;
  pages: number;
  liveHeapMb: number;
  heapMb: number;
  rssMb: number;
}

/**
 * In this (fresh) process, growth over the post-GC start of: the live heap (a GC before sampling at
 * every page: what the pass retains), the heap as it is (garbage included) and RSS. Two passes, so the
 * forced GCs do not disturb the unforced sample.
 */
async function measureMemory(repos: number): Promise<MemoryResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  return withSimulator(repos, async (conn) => {
    const [ws] = await githubAdapter.listWorkspaces(conn);
    await runDiscovery(githubAdapter, conn, ws, () => {}); // warm-up: JIT, token, sockets
    gc?.();
    const start = process.memoryUsage();
    let peakLive = start.heapUsed;
    let count = 0;
    await runDiscovery(githubAdapter, conn, ws, (page) => {
      count += page.length;
      gc?.();
      peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
    });
    gc?.();
    const again = process.memoryUsage();
    let peakHeap = again.heapUsed;
    let peakRss = again.rss;
    const outcome = await runDiscovery(githubAdapter, conn, ws, (page) => {
      count += page.length;
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    });
    if (count !== 2 * repos) throw new Error(`saw ${count / 2} of ${repos} repositories`);
    return {
      repos,
      pages: outcome.pages,
      liveHeapMb: Number(mb(peakLive - start.heapUsed)),
      heapMb: Number(mb(peakHeap - again.heapUsed)),
      rssMb: Number(mb(peakRss - again.rss)),
    };
  });
}

function memoryInChild(repos: number): Promise<MemoryResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, "--expose-gc", self, "--memory", String(repos)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) reject(new Error(`memory child for ${repos} exited ${code}`));
      else resolve(JSON.parse(line) as MemoryResult);
    });
  });
}

export async function run(opts: { repos?: number; rounds?: number } = {}): Promise<string> {
  const repos = opts.repos ?? 10_000;
  const rounds = opts.rounds ?? 5;
  const timing = await withSimulator(repos, async (conn) => {
    const [ws] = await githubAdapter.listWorkspaces(conn);
    await timed(() => baseline(conn));
    await timed(() => viaAdapter(conn, ws));
    const base: number[] = [];
    const adapter: number[] = [];
    const baseCpu: number[] = [];
    const adapterCpu: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const b = await timed(() => baseline(conn));
      const a = await timed(() => viaAdapter(conn, ws));
      if (b.count !== repos || a.count !== repos)
        throw new Error(`counts ${b.count}/${a.count}, want ${repos}`);
      base.push(b.ms);
      adapter.push(a.ms);
      baseCpu.push(b.cpuMs);
      adapterCpu.push(a.cpuMs);
    }
    return {
      base: median(base),
      adapter: median(adapter),
      baseCpu: median(baseCpu),
      adapterCpu: median(adapterCpu),
    };
  });
  const small = await memoryInChild(2_500);
  const large = await memoryInChild(repos);
  const pages = Math.ceil(repos / 100);
  return [
    `#### GitHub discovery of ${repos} repositories (${pages} pages of 100, simulator in-process, median of ${rounds} rounds)`,
    "",
    "| pass | median wall time (ms) | ratio | median CPU time (ms) | CPU ratio |",
    "|---|---|---|---|---|",
    `| plain fetch + JSON.parse following link headers (baseline) | ${fmt(timing.base)} | 1.00 | ${fmt(timing.baseCpu)} | 1.00 |`,
    `| githubAdapter.discover via runDiscovery | ${fmt(timing.adapter)} | ${fmt(timing.adapter / timing.base, 2)} | ${fmt(timing.adapterCpu)} | ${fmt(timing.adapterCpu / timing.baseCpu, 2)} |`,
    "",
    "| repositories | pages | peak live heap growth (MB) | peak heap growth, garbage included (MB) | peak RSS growth (MB) |",
    "|---|---|---|---|---|",
    ...[small, large].map((m) => `| ${m.repos} | ${m.pages} | ${m.liveHeapMb} | ${m.heapMb} | ${m.rssMb} |`),
    "",
    "Memory: fresh process per size, after a warm-up pass and a forced GC; `onPage` keeps only a count.",
    "Live heap = sampled after a forced GC at every page (what a pass retains); the simulator shares the process.",
  ].join("\n");
}

const direct = import.meta.url === `file://${process.argv[1]}`;
if (direct) {
  const i = process.argv.indexOf("--memory");
  if (i > 0) console.log(JSON.stringify(await measureMemory(Number(process.argv[i + 1]))));
  else console.log(await run());
}
