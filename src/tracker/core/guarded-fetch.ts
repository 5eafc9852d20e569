import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import net from "node:net";

/**
 * A `fetch` whose every new connection is checked by the caller's guard against the addresses it is
 * about to use. The check sits in the socket's own DNS lookup, so the addresses checked are the ones
 * connected to: a name that resolves differently the second time (DNS rebinding) cannot slip past a
 * check made earlier. Literal IP hosts skip DNS and are checked before the request.
 */

export interface Destination {
  /** The URL's host name (IPv6 without brackets). */
  hostname: string;
  port: number;
  /** Every address the name resolved to (or the literal IP). */
  addresses: string[];
}

/** Returns why the destination is refused, or null to let the connection proceed. */
export type DestinationGuard = (dest: Destination) => string | null;

export class DestinationRefused extends Error {
  readonly code = "ERR_DESTINATION_REFUSED";
  constructor(
    readonly hostname: string,
    readonly reason: string,
  ) {
    super(`${hostname}: ${reason}`);
    this.name = "DestinationRefused";
  }
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, "");

function guardedLookup(guard: DestinationGuard, port: number): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, found) => {
      if (err) return callback(err, "", 0);
      const list = found as dns.LookupAddress[];
      const reason = guard({ hostname, port, addresses: list.map((a) => a.address) });
      if (reason) return callback(new DestinationRefused(hostname, reason), "", 0);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return headers;
}

const NO_BODY = new Set([101, 204, 205, 304]);

export function guardedFetch(guard: DestinationGuard): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const secure = url.protocol === "https:";
    if (!secure && url.protocol !== "http:") throw new DestinationRefused(url.hostname, "not http(s)");
    const port = Number(url.port || (secure ? 443 : 80));
    const hostname = bare(url.hostname);
    if (net.isIP(hostname)) {
      const reason = guard({ hostname, port, addresses: [hostname] });
      if (reason) throw new DestinationRefused(hostname, reason);
    }
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const body = typeof init.body === "string" ? init.body : undefined;
      const headers = { ...(init.headers as Record<string, string>) };
      // As fetch does: a sized body, not chunked transfer encoding.
      if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
      const req = (secure ? https : http).request(url, {
        method: init.method ?? "GET",
        headers,
        agent: secure ? agents.https : agents.http,
        lookup: guardedLookup(guard, port),
      });
      const onAbort = () => {
        req.destroy();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      req.on("error", (err) => {
        done();
        reject(err);
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (err) => {
          done();
          reject(err);
        });
        res.on("end", () => {
          done();
          const status = res.statusCode ?? 502;
          const body = NO_BODY.has(status) ? null : Buffer.concat(chunks);
          resolve(
            new Response(body, { status, statusText: res.statusMessage, headers: headersOf(res.rawHeaders) }),
          );
        });
      });
      req.end(body);
    });
  }) as typeof fetch;
}
