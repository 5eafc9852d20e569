import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Small real servers on loopback for what no provider simulator is: a web page, a TLS failure, a closed port. */
export interface LocalServer {
  url: string;
  /** `127.0.0.1:port`, for the outbound allow-list. */
  host: string;
  /** Requests that reached the server. */
  hits: number;
  close(): Promise<void>;
}

async function listen(server: http.Server, scheme: "http" | "https"): Promise<LocalServer> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const out: LocalServer = {
    url: `${scheme}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    hits: 0,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  server.on("request", () => out.hits++);
  return out;
}

/** A web site that answers every path with an HTML page (what a wrong URL usually reaches). */
export function htmlSite(status = 200): Promise<LocalServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { "content-type": "text/html" });
    res.end("<!doctype html><title>Welcome</title><h1>Welcome to nginx!</h1>");
  });
  return listen(server, "http");
}

/** HTTPS with a self-signed certificate made by `openssl` for this run. */
export function selfSignedSite(): Promise<LocalServer> {
  const dir = mkdtempSync(join(tmpdir(), "self-signed-"));
  try {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1"],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
      ],
      { stdio: "ignore" },
    );
    const server = https.createServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      },
    );
    return listen(server, "https");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Accepts connections and requests but never answers (a server stuck behind a firewall or overloaded). */
export function silentSite(): Promise<LocalServer> {
  return listen(
    http.createServer(() => {}),
    "http",
  );
}

/** A loopback port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<{ url: string; host: string }> {
  const s = await htmlSite();
  await s.close();
  return { url: s.url, host: s.host };
}
