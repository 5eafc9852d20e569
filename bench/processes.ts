import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { startAppProcess } from "../test/support/app-process.ts";
import { BENCH_SECONDS, cliIdentity, fmt, type LoadResult, load, median, startBenchApp } from "./support.ts";

/**
 * Issue 18: throughput of 1, 2 and 4 service processes on one PostgreSQL database. Each service runs
 * as its own child process (bench/service-main.ts: the real startup plus the floor routes), `WORKERS=N`
 * forking N processes that share the port through node:cluster (1: a plain process, no cluster). Load
 * from autocannon, another process. A round measures, for each process count in turn, the floor
 * (unauthenticated precomputed body), the same body behind authentication, and bind-resolve of an
 * exact match with a warm snapshot; a workload's share of the floor is the median of its rounds'
 * ratios, its scaling the median of its rounds' req/s over the same workload's at 1 process. One team,
 * one GitHub installation of 2,000 repositories.
 */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COUNTS = (process.env.BENCH_PROCESSES ?? "1,2,4").split(",").map(Number);

const identity = cliIdentity("service-00123");

interface Row {
  processes: number;
  name: string;
  result: LoadResult;
  share: number;
  /** Median over rounds of this req/s ÷ the same workload's at the first count, same round. */
  scaling: number;
  /** Median CPU time of the service's processes per request (ms). */
  cpuMs: number;
}

type Measured = { result: LoadResult; ratio: number; cpuMs: number };

/** The service's processes: the started one and, with WORKERS > 1, its forked workers. */
const processTree = (pid: number) => [
  pid,
  // ps exits 1 when there are none (WORKERS=1).
  ...spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => Number(l.trim()))
    .filter(Boolean),
];

/** CPU time (user + system, ms) the processes have used: /proc/<pid>/stat fields 14 and 15, in 1/100 s. */
const cpuMs = (pids: number[]) =>
  pids.reduce((sum, pid) => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return sum + (Number(fields[11]) + Number(fields[12])) * 10;
  }, 0);

/** One load, with the service's CPU time per request (load-independent, unlike req/s on a shared machine). */
async function measured(req: Parameters<typeof load>[0], pids: number[]) {
  const before = cpuMs(pids);
  const result = await load(req, { concurrency: CONCURRENCY });
  return { result, cpuMs: (cpuMs(pids) - before) / result.requests };
}

export async function run() {
  const credentialsKeys = `k1:${randomBytes(32).toString("base64")}`;
  // Seeds the database (team, token, an installation of 2,000 repositories, its first pass), then
  // serves nothing under load: the measured service is the child process.
  const seed = await startBenchApp({
    driver: "postgres",
    providers: ["github"],
    generatedResources: 2_000,
    credentialsKeys,
  });
  const rows: Row[] = [];
  try {
    const bindBody = JSON.stringify({ provider: "github", project_identity: identity });
    const body = await (
      await fetch(`${seed.baseUrl}/api/v1/tracker/bind-resolve/`, {
        method: "POST",
        headers: seed.headers,
        body: bindBody,
      })
    ).text();
    // Every process count runs at once (idle ones cost a queue poll every 500 ms), and the rounds
    // alternate between them: each round meets the same background load at 1, 2 and 4 processes.
    const services = [];
    try {
      for (const processes of COUNTS)
        services.push(
          await startAppProcess(
            seed.databaseUrl!,
            {
              WORKERS: String(processes),
              CREDENTIALS_KEYS: credentialsKeys,
              LOG_LEVEL: "warn",
              BENCH_BODY: body,
            },
            "bench/service-main.ts",
          ),
        );
      const workloads = services.map((service) => ({
        floor: { url: `${service.baseUrl}/bench/floor` },
        reads: [
          {
            name: "precomputed body behind authentication",
            req: { url: `${service.baseUrl}/bench/authenticated`, headers: seed.headers },
          },
          {
            name: "bind-resolve, warm snapshot",
            req: {
              url: `${service.baseUrl}/api/v1/tracker/bind-resolve/`,
              method: "POST",
              headers: seed.headers,
              body: bindBody,
            },
          },
        ],
      }));
      // Warm every process: its auth cache, snapshot and JIT (connections spread over all of them).
      for (const w of workloads)
        for (const r of [{ req: w.floor }, ...w.reads])
          await load(r.req, { concurrency: CONCURRENCY, seconds: 2 });
      const rounds = COUNTS.map(() => ({
        floors: [] as LoadResult[],
        floorCpu: [] as number[],
        reads: [[], []] as Measured[][],
      }));
      for (let i = 0; i < ROUNDS; i++)
        for (const [n, w] of workloads.entries()) {
          const pids = processTree(services[n].pid);
          const f = await measured(w.floor, pids);
          rounds[n].floors.push(f.result);
          rounds[n].floorCpu.push(f.cpuMs);
          for (const [k, r] of w.reads.entries()) {
            const m = await measured(r.req, pids);
            rounds[n].reads[k].push({ ...m, ratio: m.result.rps / f.result.rps });
          }
        }
      for (const [n, processes] of COUNTS.entries()) {
        const scale = (runs: LoadResult[], base: LoadResult[]) =>
          median(runs.map((r, i) => r.rps / base[i].rps));
        rows.push({
          processes,
          name: "floor: unauthenticated precomputed body",
          result: medianOf(rounds[n].floors),
          share: 1,
          scaling: scale(rounds[n].floors, rounds[0].floors),
          cpuMs: median(rounds[n].floorCpu),
        });
        for (const [k, r] of workloads[n].reads.entries()) {
          const runs = rounds[n].reads[k].map((x) => x.result);
          rows.push({
            processes,
            name: r.name,
            result: medianOf(runs),
            share: median(rounds[n].reads[k].map((x) => x.ratio)),
            cpuMs: median(rounds[n].reads[k].map((x) => x.cpuMs)),
            scaling: scale(
              runs,
              rounds[0].reads[k].map((x) => x.result),
            ),
          });
        }
      }
    } finally {
      await Promise.all(services.map((s) => s.stop()));
    }
  } finally {
    await seed.close();
  }
  return table(rows);
}

const medianOf = (runs: LoadResult[]): LoadResult => ({
  requests: median(runs.map((r) => r.requests)),
  rps: median(runs.map((r) => r.rps)),
  p50_ms: median(runs.map((r) => r.p50_ms)),
  p99_ms: median(runs.map((r) => r.p99_ms)),
});

function table(rows: Row[]) {
  const lines = [
    `#### Throughput by service processes on one PostgreSQL (WORKERS=N, autocannon ${CONCURRENCY} connections; ${ROUNDS} rounds of ${BENCH_SECONDS} s per workload, process counts alternating; medians)`,
    "",
    `| processes | workload | req/s | p50 ms | p99 ms | share of the floor | req/s vs ${COUNTS[0]} process | service CPU ms per request |`,
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows)
    lines.push(
      `| ${r.processes} | ${r.name} | ${fmt(r.result.rps, 0)} | ${fmt(r.result.p50_ms)} | ${fmt(r.result.p99_ms)} | ${fmt(r.share, 2)}× | ${fmt(r.scaling, 2)}× | ${fmt(r.cpuMs, 3)} |`,
    );
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
