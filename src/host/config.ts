import type { OutboundConfig } from "./http/outbound.ts";
import type { JobQueueOptions } from "./jobs/service.ts";

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
  /** The job worker of this process (JOB_* variables; unset ones take the queue's defaults). */
  jobs: JobQueueOptions;
  /** Days finished operations are kept (JOB_RETENTION_DAYS, default 7, at least 1). */
  jobRetentionDays: number;
}

/** A positive number from the environment, or undefined when unset; anything else is refused. */
function positive(env: NodeJS.ProcessEnv, name: string, integer = false): number | undefined {
  const v = env[name]?.trim();
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`${name}=${v}: expected a positive ${integer ? "whole " : ""}number.`);
  return n;
}

/** JOB_CONCURRENCY, JOB_LEASE_SECONDS, JOB_HEARTBEAT_SECONDS, JOB_MAX_ATTEMPTS, JOB_RETRY_BASE_SECONDS, JOB_RETRY_MAX_SECONDS, JOB_POLL_MS. */
export function jobSettings(env: NodeJS.ProcessEnv): JobQueueOptions {
  const heartbeat = positive(env, "JOB_HEARTBEAT_SECONDS");
  const settings: JobQueueOptions = {
    concurrency: positive(env, "JOB_CONCURRENCY", true),
    leaseSeconds: positive(env, "JOB_LEASE_SECONDS"),
    heartbeatMs: heartbeat && heartbeat * 1000,
    maxAttempts: positive(env, "JOB_MAX_ATTEMPTS", true),
    retryBaseSeconds: positive(env, "JOB_RETRY_BASE_SECONDS"),
    retryMaxSeconds: positive(env, "JOB_RETRY_MAX_SECONDS"),
    pollMs: positive(env, "JOB_POLL_MS", true),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
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
    jobs: jobSettings(env),
    jobRetentionDays: positive(env, "JOB_RETENTION_DAYS") ?? 7,
    outbound: {
      allowPrivateNetworks: env.OUTBOUND_ALLOW_PRIVATE_NETWORKS === "true",
      allow: (env.OUTBOUND_ALLOW ?? "")
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    },
  };
}
