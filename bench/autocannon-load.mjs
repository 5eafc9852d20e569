// autocannon's programmatic API for `loadMeasured()` in support.ts, in its own process, with `workers`
// threads (0: none), reporting this process's CPU (all its threads) over the run beside autocannon's
// result. "window" and "end" are printed as the run starts and ends.
import autocannon from "autocannon";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const spec = JSON.parse(input);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
process.stdout.write("window\n");
const r = await autocannon({
  url: spec.url,
  method: spec.method,
  headers: spec.headers,
  body: spec.body,
  connections: spec.concurrency,
  duration: spec.seconds,
  ...(spec.workers ? { workers: spec.workers } : {}),
});
const cpu = process.cpuUsage(cpu0);
process.stdout.write("end\n");
process.stdout.write(
  `${JSON.stringify({
    requests: r.requests.total,
    rate_ms: r.duration * 1000,
    wall_ms: performance.now() - t0,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    bytes: r.throughput.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    cpu_ms: (cpu.user + cpu.system) / 1000,
  })}\n`,
  () => process.exit(0),
);
