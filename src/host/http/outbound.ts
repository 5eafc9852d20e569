import dns from "node:dns/promises";
import net from "node:net";
import type { Destination, DestinationGuard } from "../../tracker/index.ts";
import { ValidationError } from "../errors/domain-error.ts";

/**
 * Outbound URL policy: where this server may send provider calls. A URL an admin types (`base_url`) is
 * checked before the first call, and every connection is checked again by the HTTP client's guard on
 * the addresses it actually connects to (so DNS rebinding cannot bypass the first check). Only public
 * addresses are allowed unless the operator allows more; the provider URLs the operator configured
 * (GITLAB_URL, ...) are trusted as given.
 */

export interface OutboundConfig {
  /** Loopback, private (RFC 1918, fc00::/7) and shared (100.64/10) addresses. Never link-local or unspecified. */
  allowPrivateNetworks?: boolean;
  /** `host`, `host:port`, `ip`, `ip:port`, `[ipv6]:port` or a CIDR such as `10.20.0.0/16`. */
  allow?: string[];
}

export interface OutboundPolicy {
  /** For the HTTP client: why a connection is refused, or null. */
  guard: DestinationGuard;
  /** Why a URL is refused (scheme, credentials, resolved addresses), or null. */
  problemWith(url: string): Promise<string | null>;
}

type Category = "unspecified" | "loopback" | "private" | "shared" | "link-local" | "multicast" | "reserved";

const DESCRIBE: Record<Category, string> = {
  unspecified: "an unspecified address",
  loopback: "a loopback address (this machine)",
  private: "a private network address",
  shared: "a carrier-grade NAT (shared) address",
  "link-local": "a link-local address (where cloud metadata services answer)",
  multicast: "a multicast address",
  reserved: "a reserved address",
};

/** What OUTBOUND_ALLOW_PRIVATE_NETWORKS opens; metadata (link-local) needs an explicit entry. */
const PRIVATE_SWITCH = new Set<Category>(["loopback", "private", "shared"]);

const RANGES: [Category, string, number][] = [
  ["unspecified", "0.0.0.0", 8],
  ["private", "10.0.0.0", 8],
  ["shared", "100.64.0.0", 10],
  ["loopback", "127.0.0.0", 8],
  ["link-local", "169.254.0.0", 16],
  ["private", "172.16.0.0", 12],
  ["reserved", "192.0.0.0", 24],
  ["reserved", "192.0.2.0", 24],
  ["private", "192.168.0.0", 16],
  ["reserved", "198.18.0.0", 15],
  ["reserved", "198.51.100.0", 24],
  ["reserved", "203.0.113.0", 24],
  ["multicast", "224.0.0.0", 4],
  ["reserved", "240.0.0.0", 4],
  ["unspecified", "::", 128],
  ["loopback", "::1", 128],
  ["reserved", "100::", 64],
  ["reserved", "2001:db8::", 32],
  ["private", "fc00::", 7],
  ["link-local", "fe80::", 10],
  ["multicast", "ff00::", 8],
];

const familyOf = (ip: string) => (net.isIPv4(ip) ? "ipv4" : "ipv6");

const LISTS = (() => {
  const lists = new Map<Category, net.BlockList>();
  for (const [cat, address, prefix] of RANGES) {
    if (!lists.has(cat)) lists.set(cat, new net.BlockList());
    lists.get(cat)!.addSubnet(address, prefix, familyOf(address));
  }
  return lists;
})();

/** The 8 groups of an IPv6 address (with an embedded dotted quad, if any). */
function v6Groups(ip: string): number[] {
  let s = ip;
  const quad = s.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    s = `${s.slice(0, -quad[0].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail === undefined ? [] : tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.map((g) => Number.parseInt(g, 16));
}

const quadOf = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** IPv4 carried inside IPv6: NAT64 (64:ff9b::/96), IPv4-compatible (::/96) and 6to4 (2002::/16). Mapped forms are BlockList's. */
function embeddedV4(ip: string): string | null {
  const g = v6Groups(ip);
  if (g.length !== 8) return null;
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return quadOf(g[6], g[7]);
  if (g.slice(0, 6).every((x) => x === 0)) return quadOf(g[6], g[7]);
  if (g[0] === 0x2002) return quadOf(g[1], g[2]);
  return null;
}

/** The non-public category of an address, or null when it is public. */
export function addressCategory(address: string): Category | null {
  const ip = address.replace(/%.*$/, "");
  if (!net.isIP(ip)) return "reserved";
  for (const [cat, list] of LISTS) if (list.check(ip, familyOf(ip))) return cat;
  const inner = net.isIPv6(ip) ? embeddedV4(ip) : null;
  return inner ? addressCategory(inner) : null;
}

type AllowEntry =
  | { kind: "name"; host: string; port: number | null }
  | { kind: "net"; list: net.BlockList; port: number | null };

function parseEntry(raw: string): AllowEntry {
  const text = raw.trim().toLowerCase();
  const bad = () => new Error(`OUTBOUND_ALLOW: '${raw}' is not a host, host:port, IP, IP:port or CIDR`);
  const list = new net.BlockList();
  const cidr = text.match(/^([0-9a-f.:]+)\/(\d{1,3})$/);
  if (cidr) {
    if (!net.isIP(cidr[1])) throw bad();
    list.addSubnet(cidr[1], Number(cidr[2]), familyOf(cidr[1]));
    return { kind: "net", list, port: null };
  }
  const hostPort = text.match(/^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/) ?? text.match(/^([^:]+):(\d{1,5})$/);
  const host = net.isIP(text) ? text : hostPort?.[1];
  const port = hostPort?.[2] ? Number(hostPort[2]) : null;
  if (!host) {
    if (!/^[a-z0-9.-]+$/.test(text)) throw bad();
    return { kind: "name", host: text, port: null };
  }
  if (!net.isIP(host)) return { kind: "name", host, port };
  list.addAddress(host, familyOf(host));
  return { kind: "net", list, port };
}

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, "").toLowerCase();

const portOf = (url: URL) => Number(url.port || (url.protocol === "https:" ? 443 : 80));

export function outboundPolicy(config: OutboundConfig = {}, trustedUrls: string[] = []): OutboundPolicy {
  const entries = (config.allow ?? []).filter((e) => e.trim()).map(parseEntry);
  for (const u of trustedUrls) {
    const url = new URL(u);
    entries.push({ kind: "name", host: bare(url.hostname), port: portOf(url) });
  }
  const portMatches = (e: AllowEntry, port: number) => e.port === null || e.port === port;

  const guard: DestinationGuard = (dest: Destination) => {
    const name = bare(dest.hostname);
    if (entries.some((e) => e.kind === "name" && e.host === name && portMatches(e, dest.port))) return null;
    for (const address of dest.addresses) {
      const cat = addressCategory(address);
      if (!cat || (config.allowPrivateNetworks && PRIVATE_SWITCH.has(cat))) continue;
      const listed = entries.some(
        (e) => e.kind === "net" && portMatches(e, dest.port) && e.list.check(address, familyOf(address)),
      );
      if (listed) continue;
      return name === address
        ? `${address} is ${DESCRIBE[cat]}`
        : `${name} resolves to ${address}, ${DESCRIBE[cat]}`;
    }
    return null;
  };

  return {
    guard,
    async problemWith(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return "is not a URL";
      }
      if (url.protocol !== "http:" && url.protocol !== "https:")
        return `must start with http:// or https:// (not ${url.protocol})`;
      if (url.username || url.password) return "must not contain a user name or password";
      const hostname = bare(url.hostname);
      let addresses = [hostname];
      if (!net.isIP(hostname)) {
        try {
          addresses = (await dns.lookup(hostname, { all: true })).map((a) => a.address);
        } catch {
          return null; // an unknown name is reported by the connection itself ("could not reach")
        }
      }
      const reason = guard({ hostname, port: portOf(url), addresses });
      return reason ? `is refused: ${reason}` : null;
    },
  };
}

/** A refused admin-supplied URL as the 400 that says why and what an operator can change. */
export async function assertOutboundUrl(policy: OutboundPolicy, url: string, field: string): Promise<void> {
  const problem = await policy.problemWith(url);
  if (!problem) return;
  const hint = problem.startsWith("is refused")
    ? " This server connects only to public addresses; an operator can allow others with OUTBOUND_ALLOW."
    : "";
  throw new ValidationError(`${field.replace(/^body\./, "")} ${problem}.${hint}`, [{ field, problem }]);
}
