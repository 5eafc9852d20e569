import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A tiny HTTP framework shared by the provider simulators: routing with path params, JSON bodies,
 * a fault injector and the `/_sim/` control surface. Simulators are test infrastructure only;
 * runtime code never imports them (enforced by the architecture test).
 */

export interface SimRequest {
  method: string;
  path: string;
  url: URL;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** Parsed JSON, or the form fields of an urlencoded body, or null. */
  body: any;
  rawBody: string;
}

export interface SimReply {
  status?: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless `raw` is given. */
  json?: unknown;
  raw?: string;
}

export type SimHandler = (req: SimRequest) => SimReply | Promise<SimReply>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: SimHandler;
}

export interface Fault {
  method?: string;
  /** Requests whose path starts with this match. Default: every non-control request. */
  path_prefix?: string;
  /** Only requests whose raw body contains this text match (e.g. one item's title, a GraphQL mutation). */
  body_includes?: string;
  status?: number;
  /** Sent as `Retry-After` (seconds). */
  retry_after?: number;
  /** Extra headers on the fault response (e.g. rate-limit headers). */
  headers?: Record<string, string>;
  /** Delay before answering (also applies when only latency is injected). */
  latency_ms?: number;
  /**
   * Handle the request first (the write happens), then wait this long before answering: a client that
   * gives up sooner never learns the request succeeded (a create that timed out but was applied).
   */
  respond_after_ms?: number;
  /** Answer 200 with a body that is not JSON. */
  malformed?: boolean;
  /** Destroy the socket without answering. */
  drop?: boolean;
  /** Body for the fault response (default: a provider-neutral error). */
  body?: unknown;
  /** How many matching requests this fault applies to. */
  count: number;
  /** Skip this many matching requests before the fault starts (e.g. fail page 3). */
  after?: number;
}

export class SimRouter {
  private routes: Route[] = [];

  on(method: string, path: string, handler: SimHandler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      "^" +
        path
          .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
          .replace(/:(\w+)(\*)?/g, (_m, key: string, star?: string) => {
            keys.push(key);
            return star ? "(.+)" : "([^/]+)";
          }) +
        "/?$",
    );
    this.routes.push({ method: method.toUpperCase(), pattern, keys, handler });
    return this;
  }

  match(method: string, path: string): { handler: SimHandler; params: Record<string, string> } | null {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1]);
      });
      return { handler: r.handler, params };
    }
    return null;
  }
}

export interface SimServer {
  name: string;
  server: Server;
  url: string;
  router: SimRouter;
  /** Requests seen, for tests that count calls (method + path). */
  log: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export interface SimOptions {
  name: string;
  router: SimRouter;
  port?: number;
  host?: string;
  /** Body used for injected faults when the fault gives none. */
  faultBody?: (status: number) => unknown;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, reply: SimReply) {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = "";
  if (reply.raw !== undefined) payload = reply.raw;
  else if (reply.json !== undefined) {
    payload = JSON.stringify(reply.json);
    headers["content-type"] ??= "application/json; charset=utf-8";
  }
  res.writeHead(reply.status ?? 200, headers);
  res.end(payload);
}

export async function startSimServer(opts: SimOptions): Promise<SimServer> {
  const faults: Fault[] = [];
  const log: SimServer["log"] = [];
  const router = opts.router;

  router.on("POST", "/_sim/faults", (req) => {
    const fault = req.body as Fault;
    if (!fault || typeof fault.count !== "number" || fault.count < 1) {
      return { status: 400, json: { error: "fault needs a positive count" } };
    }
    faults.push({ ...fault });
    return { status: 201, json: { queued: faults.length } };
  });
  router.on("DELETE", "/_sim/faults", () => {
    faults.length = 0;
    return { status: 204 };
  });
  router.on("GET", "/_sim/requests", () => ({ json: { requests: log } }));
  router.on("DELETE", "/_sim/requests", () => {
    log.length = 0;
    return { status: 204 };
  });

  const takeFault = (method: string, path: string, rawBody: string): Fault | null => {
    for (let i = 0; i < faults.length; i++) {
      const f = faults[i];
      if (f.method && f.method.toUpperCase() !== method) continue;
      if (f.path_prefix && !path.startsWith(f.path_prefix)) continue;
      if (f.body_includes && !rawBody.includes(f.body_includes)) continue;
      if (f.after && f.after > 0) {
        f.after--;
        return null;
      }
      f.count--;
      if (f.count <= 0) faults.splice(i, 1);
      return f;
    }
    return null;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://sim.local");
    const method = (req.method ?? "GET").toUpperCase();
    const path = url.pathname;
    try {
      const rawBody = await readBody(req);
      const isControl = path.startsWith("/_sim/");
      const fault = isControl ? null : takeFault(method, path, rawBody);
      if (fault?.latency_ms) await new Promise((r) => setTimeout(r, fault.latency_ms));
      if (fault?.drop) {
        log.push({ method, path, status: 0 });
        req.socket.destroy();
        return;
      }
      if (fault?.malformed) {
        log.push({ method, path, status: 200 });
        return send(res, {
          status: 200,
          headers: { "content-type": "application/json" },
          raw: "{not json<html>",
        });
      }
      if (fault?.status) {
        const headers: Record<string, string> = { ...fault.headers };
        if (fault.retry_after !== undefined) headers["retry-after"] = String(fault.retry_after);
        log.push({ method, path, status: fault.status });
        return send(res, {
          status: fault.status,
          headers,
          json: fault.body ?? opts.faultBody?.(fault.status) ?? { message: `simulated ${fault.status}` },
        });
      }

      const found = router.match(method, path);
      if (!found) {
        log.push({ method, path, status: 404 });
        return send(res, { status: 404, json: { message: "Not Found" } });
      }
      let body: any = null;
      const ctype = String(req.headers["content-type"] ?? "");
      if (rawBody) {
        if (ctype.includes("application/x-www-form-urlencoded"))
          body = Object.fromEntries(new URLSearchParams(rawBody));
        else {
          try {
            body = JSON.parse(rawBody);
          } catch {
            log.push({ method, path, status: 400 });
            return send(res, { status: 400, json: { message: "Problems parsing JSON" } });
          }
        }
      }
      const reply = await found.handler({
        method,
        path,
        url,
        params: found.params,
        query: url.searchParams,
        headers: req.headers,
        body,
        rawBody,
      });
      log.push({ method, path, status: reply.status ?? 200 });
      if (fault?.respond_after_ms) await new Promise((r) => setTimeout(r, fault.respond_after_ms));
      send(res, reply);
    } catch (err) {
      log.push({ method, path, status: 500 });
      send(res, { status: 500, json: { message: `simulator error: ${(err as Error).message}` } });
    }
  });

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const addr = server.address() as AddressInfo;
  return {
    name: opts.name,
    server,
    url: `http://127.0.0.1:${addr.port}`,
    router,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
