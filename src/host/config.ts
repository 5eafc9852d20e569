import type { OutboundConfig } from "./http/outbound.ts";

/** Service configuration from the environment, with the embedded defaults. */
export interface Config {
  host: string;
  port: number;
  /** Set → a PostgreSQL server; unset → embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: string;
  /** Largest accepted request body (documented in the OpenAPI description). */
  bodyLimitBytes: number;
  /** `id:base64key,...`, newest first. Unset → a key file in DATA_DIR (embedded default). */
  credentialsKeys: string | undefined;
  /** Public origin of this service, for OAuth redirect URIs. */
  publicUrl: string | undefined;
  /** Minutes between scheduled inventory refreshes per installation (0 = off). */
  refreshIntervalMinutes: number;
  /** Fastify's `trustProxy`: which proxies' `X-Forwarded-For` names the client address (rate limits). */
  trustProxy: TrustProxy;
  /** Where admin-supplied provider URLs may point (default: public addresses only). */
  outbound: OutboundConfig;
}

/** false (default: the socket's peer is the client), true (every peer is a proxy), or proxy addresses/CIDRs. */
export type TrustProxy = boolean | string[];

/**
 * `TRUST_PROXY`: unset/`false`, `true`, or comma-separated addresses or CIDRs of the proxies. A hop
 * count is refused: Fastify 5.12 disabled it (it cannot tell a proxy from a direct client that sends
 * its own `X-Forwarded-For`), and silently trusting nobody would put every client behind one counter.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = value?.trim() ?? "";
  if (v === "" || v === "false") return false;
  if (v === "true") return true;
  if (/^\d+$/.test(v))
    throw new Error(
      `TRUST_PROXY=${v}: hop counts are not supported. List the proxies' addresses or CIDRs (e.g. TRUST_PROXY=10.0.0.0/8), or set true when only the proxy can reach the service.`,
    );
  return v
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean);
}

export const DEFAULT_BODY_LIMIT = 1_048_576;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    host: env.HOST ?? "127.0.0.1",
    port: Number(env.PORT ?? 8080),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR ?? ".data/default",
    logLevel: env.LOG_LEVEL ?? "info",
    bodyLimitBytes: Number(env.BODY_LIMIT_BYTES ?? DEFAULT_BODY_LIMIT),
    credentialsKeys: env.CREDENTIALS_KEYS || undefined,
    publicUrl: env.PUBLIC_URL || undefined,
    refreshIntervalMinutes: Number(env.REFRESH_INTERVAL_MINUTES ?? 60),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    outbound: {
      allowPrivateNetworks: env.OUTBOUND_ALLOW_PRIVATE_NETWORKS === "true",
      allow: (env.OUTBOUND_ALLOW ?? "")
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    },
  };
}
