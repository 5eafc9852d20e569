import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./registry.ts";

export interface MetricsListener {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The scrape endpoint, `GET /metrics` in Prometheus' text format, on its own listener (METRICS_HOST,
 * METRICS_PORT): never on the public port, so the API's clients cannot read it and a scraper needs no
 * token. Anything else answers 404.
 */
export async function startMetricsListener(
  metrics: Pick<Metrics, "registry" | "scrape" | "withProcessMetrics">,
  opts: { host: string; port: number },
): Promise<MetricsListener> {
  metrics.withProcessMetrics();
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("GET /metrics\n");
      return;
    }
    metrics.scrape().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (err: Error) =>
        res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === "0.0.0.0" ? "127.0.0.1" : opts.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
