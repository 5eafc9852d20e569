// A lean HTTP/1.1 load generator for `loadMeasured()` in support.ts, in its own process: `connections`
// keep-alive sockets, each sending the same prebuilt request as soon as the previous answer is complete.
// It reads a response's status line and headers and then only counts the body's bytes (by Content-Length):
// its cost per response is a few chunks, not the body's size. autocannon decodes and concatenates every
// body into a string (~2 ms of CPU per 890 KB answer, ~1.7 ms per 87 KB gzipped one, measured here),
// which bounds heavy-body workloads on two shared cores before the service is busy.
// The spec arrives on stdin; "window" and "end" are printed as the measured window starts and ends, then
// the result as JSON: responses completed in the window, latencies, bytes, and this process's CPU over the window.
import net from "node:net";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const spec = JSON.parse(input);
const url = new URL(spec.url);
const body = spec.body === undefined ? null : Buffer.from(spec.body);
const head = [`${spec.method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
for (const [k, v] of Object.entries(spec.headers ?? {})) head.push(`${k}: ${v}`);
if (body) head.push(`content-length: ${body.length}`);
const request = Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), body ?? Buffer.alloc(0)]);

const CRLF2 = Buffer.from("\r\n\r\n");
const stats = { responses: 0, non2xx: 0, errors: 0, bytes: 0, latencies: [] };
let measuring = false;
let stopping = false;

/** One keep-alive connection: send, read the head, skip the body, send again. */
function connection() {
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    let headBuf = null; // the part of a head received so far, while the head is incomplete
    let remaining = -1; // body bytes still to come; -1 while reading the head
    let status = 0;
    let sentAt = 0;
    let size = 0;
    const send = () => {
      if (stopping) return socket.end();
      sentAt = performance.now();
      size = 0;
      socket.write(request);
    };
    const complete = () => {
      if (measuring) {
        stats.responses++;
        stats.bytes += size;
        stats.latencies.push(performance.now() - sentAt);
        if (status < 200 || status > 299) stats.non2xx++;
      }
      remaining = -1;
      send();
    };
    socket.on("connect", send);
    socket.on("data", (chunk) => {
      size += chunk.length;
      let at = 0;
      if (remaining < 0) {
        const buf = headBuf ? Buffer.concat([headBuf, chunk]) : chunk;
        const end = buf.indexOf(CRLF2);
        if (end < 0) {
          headBuf = buf;
          return;
        }
        headBuf = null;
        const lines = buf.toString("latin1", 0, end).split("\r\n");
        status = Number(lines[0].split(" ")[1]);
        const length = lines.find((l) => l.toLowerCase().startsWith("content-length:"));
        if (!length) {
          stats.errors++;
          socket.destroy(new Error("a response without Content-Length (chunked is not supported)"));
          return;
        }
        remaining = Number(length.slice(15).trim());
        at = end + 4 - (buf.length - chunk.length); // where the body starts in this chunk
      }
      remaining -= chunk.length - at;
      if (remaining === 0) complete();
      else if (remaining < 0) socket.destroy(new Error("more bytes than Content-Length"));
    });
    socket.on("error", () => {
      stats.errors++;
    });
    socket.on("close", resolve);
  });
}

const all = Array.from({ length: spec.concurrency }, connection);
// Connections open and the first answers arrive before the window starts.
await new Promise((r) => setTimeout(r, spec.warmupMs ?? 250));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
measuring = true;
process.stdout.write("window\n");
await new Promise((r) => setTimeout(r, spec.seconds * 1000));
measuring = false;
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - t0;
process.stdout.write("end\n");
stopping = true;
// In-flight answers finish; a connection still open after 5 s is not waited for.
await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 5000))]);
const sorted = Float64Array.from(stats.latencies).sort();
const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0);
process.stdout.write(
  `${JSON.stringify({
    requests: stats.responses,
    rate_ms: wallMs,
    wall_ms: wallMs,
    p50_ms: pct(0.5),
    p99_ms: pct(0.99),
    bytes: stats.bytes,
    non2xx: stats.non2xx,
    errors: stats.errors,
    cpu_ms: (cpu.user + cpu.system) / 1000,
  })}\n`,
  () => process.exit(0),
);
