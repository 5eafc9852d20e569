import type { Ajv } from "ajv";
import addFormats from "ajv-formats";
import envSchema from "env-schema";
import { type Static, type TObject, type TSchema, Type } from "typebox";
import { type OutboundConfig, outboundPolicy } from "./http/outbound.ts";
import type { JobQueueOptions } from "./jobs/service.ts";

export const DEFAULT_BODY_LIMIT = 1_048_576;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const positive = (description: string) => Type.Optional(Type.Number({ exclusiveMinimum: 0, description }));
const positiveWhole = (description: string) =>
  Type.Optional(Type.Integer({ exclusiveMinimum: 0, description }));

/** The job worker's variables; unset ones take the queue's defaults (jobs/service.ts `JOB_DEFAULTS`). */
const JobEnvironment = Type.Object({
  JOB_CONCURRENCY: positiveWhole("Jobs this process runs at once (2)."),
  JOB_LEASE_SECONDS: positive("Seconds a claim holds a job; a dead worker's job moves on after it (30)."),
  JOB_HEARTBEAT_SECONDS: positive("Seconds between a running job's heartbeats (a third of the lease)."),
  JOB_MAX_ATTEMPTS: positiveWhole("Attempts before a job that keeps failing retryably is dead (5)."),
  JOB_RETRY_BASE_SECONDS: positive("Backoff after the first failed attempt, doubling after each (5)."),
  JOB_RETRY_MAX_SECONDS: positive("Cap of the backoff between attempts (600)."),
  JOB_POLL_MS: positiveWhole("Milliseconds between the worker's looks for due jobs (500)."),
  JOB_SHUTDOWN_GRACE_SECONDS: Type.Optional(
    Type.Number({
      minimum: 0,
      description:
        "At SIGTERM, seconds running jobs may take to finish before they are handed back to the queue (10).",
    }),
  ),
});

/**
 * Every variable the service reads, with its type, default and meaning (the provider registrations,
 * `GITHUB_*`, `GITLAB_*`, ..., are read by installations/settings.ts). An empty variable counts as unset.
 */
export const Environment = Type.Object({
  HOST: Type.String({ default: "127.0.0.1", description: "Address the service listens on." }),
  PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 8080,
    description: "TCP port the service listens on (0: any free port).",
  }),
  DATABASE_URL: Type.Optional(
    Type.String({ description: "PostgreSQL connection string; unset: embedded PGlite under DATA_DIR." }),
  ),
  DATA_DIR: Type.String({
    default: ".data/default",
    description: "Directory of the embedded database, its lock and the default credentials key.",
  }),
  LOG_LEVEL: Type.Enum(LOG_LEVELS, { default: "info", description: "Least severe log level written." }),
  BODY_LIMIT_BYTES: Type.Integer({
    minimum: 1,
    default: DEFAULT_BODY_LIMIT,
    description: "Largest accepted request body in bytes (1 MiB).",
  }),
  CREDENTIALS_KEYS: Type.Optional(
    Type.String({
      description:
        "Keys that encrypt stored credentials, `id:base64 of 32 bytes`, comma-separated, newest first; unset: a key file in DATA_DIR.",
    }),
  ),
  PUBLIC_URL: Type.Optional(
    Type.String({
      format: "uri",
      pattern: "^https?://",
      description: "Public origin of this service, for OAuth redirect URIs; unset: the listening address.",
    }),
  ),
  REFRESH_INTERVAL_MINUTES: Type.Number({
    minimum: 0,
    default: 60,
    description: "Minutes between scheduled inventory refreshes per installation (0: off).",
  }),
  TRUST_PROXY: Type.String({
    default: "false",
    description:
      "Whose X-Forwarded-For names the client address: false, true, or comma-separated proxy addresses or CIDRs.",
  }),
  OUTBOUND_ALLOW_PRIVATE_NETWORKS: Type.Boolean({
    default: false,
    description: "Allow admin-supplied provider URLs on loopback, private and shared addresses.",
  }),
  OUTBOUND_ALLOW: Type.String({
    default: "",
    description: "Comma-separated host, host:port, IP, IP:port or CIDR that provider URLs may also reach.",
  }),
  HOUSEKEEPING_INTERVAL_SECONDS: Type.Number({
    exclusiveMinimum: 0,
    default: 60,
    description:
      "Seconds between housekeeping ticks: the scheduled-refresh check, retention purges and the queue log line.",
  }),
  SNAPSHOT_CACHE_MB: Type.Number({
    minimum: 0,
    default: 160,
    description:
      "Megabytes of memory per process for the teams' in-memory inventory snapshots (0: none; every read answered from indexed SQL).",
  }),
  LISTING_CACHE_MB: Type.Number({
    minimum: 0,
    default: 1024,
    description:
      "Megabytes of disk per process (under the system's temporary directory) for the encoded `tracker discover` lists of teams without an in-memory snapshot.",
  }),
  JOB_RETENTION_DAYS: Type.Number({
    exclusiveMinimum: 0,
    default: 7,
    description: "Days finished operations are kept.",
  }),
  JOB_WORKER: Type.Boolean({
    default: true,
    description:
      "Run the job worker and housekeeping in this process; false: serve HTTP only (needs DATABASE_URL and a worker elsewhere).",
  }),
  WORKERS: Type.Integer({
    minimum: 1,
    default: 1,
    description:
      "Service processes forked by this one (node:cluster) sharing PORT; more than 1 needs DATABASE_URL.",
  }),
  METRICS_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description: "TCP port of the Prometheus scrape listener (`GET /metrics`); unset: no metrics listener.",
    }),
  ),
  METRICS_HOST: Type.String({
    default: "127.0.0.1",
    description: "Address the metrics listener binds (0.0.0.0 in a container the scraper reaches).",
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Type.String({
      format: "uri",
      pattern: "^https?://",
      description: "OTLP/HTTP collector base URL (traces go to <url>/v1/traces); unset: tracing off.",
    }),
  ),
  OTEL_SERVICE_NAME: Type.String({
    default: "spec-kitty-tracker",
    description: "service.name of the traces this process exports.",
  }),
  ...JobEnvironment.properties,
});

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
  /** Whether this process runs the job worker and housekeeping (JOB_WORKER, default true). */
  jobWorker: boolean;
  /** Seconds between housekeeping ticks (HOUSEKEEPING_INTERVAL_SECONDS, default 60). */
  housekeepingSeconds: number;
  /** Service processes sharing the port (WORKERS, default 1: this process serves, no cluster). */
  workers: number;
  /** Bytes of the in-memory snapshot cache (SNAPSHOT_CACHE_MB, default 160). */
  snapshotCacheBytes: number;
  /** Bytes of disk for cold teams' encoded listings (LISTING_CACHE_MB, default 1024). */
  listingCacheBytes: number;
  /** The Prometheus scrape listener; undefined: none. */
  metrics: { host: string; port: number } | undefined;
  /** OpenTelemetry tracing; undefined: off. */
  tracing: { endpoint: string; serviceName: string } | undefined;
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

/** What a variable's schema takes, in words, for the error that names the variable. */
function expectation(schema: TSchema): string {
  const s = schema as { type?: string; enum?: string[]; format?: string } & Record<string, number>;
  if (s.enum) return `one of ${s.enum.join(", ")}`;
  if (s.type === "boolean") return "true or false";
  if (s.format === "uri") return "an http:// or https:// URL";
  const what = s.type === "integer" ? "whole number" : "number";
  if (s.exclusiveMinimum === 0) return `a positive ${what}`;
  if (s.maximum !== undefined) return `a ${what} from ${s.minimum} to ${s.maximum}`;
  return `a ${what} of at least ${s.minimum}`;
}

const withFormats = (ajv: Ajv) => {
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
};

/**
 * The variables `schema` names, from `env` (trimmed; empty means unset), typed and defaulted by
 * env-schema. Every refused value is reported in one error, each line naming its variable.
 */
function readEnvironment<T extends TObject>(schema: T, env: NodeJS.ProcessEnv): Static<T> {
  const data: Record<string, string> = {};
  for (const name of Object.keys(schema.properties)) {
    const value = env[name]?.trim();
    if (value) data[name] = value;
  }
  try {
    return envSchema<Static<T>>({ schema, data, env: false, ajv: { customOptions: withFormats } });
  } catch (err) {
    const refused = new Set(
      (err as { errors?: { instancePath: string }[] }).errors?.map((e) => e.instancePath.slice(1)),
    );
    const names = Object.keys(schema.properties).filter((name) => refused.has(name));
    if (names.length === 0) throw err;
    throw new Error(
      names
        .map((name) => `${name}=${data[name]}: expected ${expectation(schema.properties[name])}.`)
        .join("\n"),
    );
  }
}

function jobsFrom(v: Static<typeof JobEnvironment>): JobQueueOptions {
  const settings: JobQueueOptions = {
    concurrency: v.JOB_CONCURRENCY,
    leaseSeconds: v.JOB_LEASE_SECONDS,
    heartbeatMs: v.JOB_HEARTBEAT_SECONDS && v.JOB_HEARTBEAT_SECONDS * 1000,
    maxAttempts: v.JOB_MAX_ATTEMPTS,
    retryBaseSeconds: v.JOB_RETRY_BASE_SECONDS,
    retryMaxSeconds: v.JOB_RETRY_MAX_SECONDS,
    pollMs: v.JOB_POLL_MS,
    shutdownGraceMs:
      v.JOB_SHUTDOWN_GRACE_SECONDS === undefined ? undefined : v.JOB_SHUTDOWN_GRACE_SECONDS * 1000,
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/** The JOB_* variables alone (a worker process that serves no HTTP). */
export const jobSettings = (env: NodeJS.ProcessEnv): JobQueueOptions =>
  jobsFrom(readEnvironment(JobEnvironment, env));

const list = (value: string) =>
  value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);

/** The configuration, validated at start: a bad value stops the process with a message naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const v = readEnvironment(Environment, env);
  const outbound = { allowPrivateNetworks: v.OUTBOUND_ALLOW_PRIVATE_NETWORKS, allow: list(v.OUTBOUND_ALLOW) };
  outboundPolicy(outbound); // refuses an OUTBOUND_ALLOW entry now, not at the first connection
  if (!v.JOB_WORKER && !v.DATABASE_URL)
    throw new Error(
      "JOB_WORKER=false: the embedded database has one process, which must run the jobs. Unset JOB_WORKER, or set DATABASE_URL.",
    );
  if (v.WORKERS > 1 && !v.DATABASE_URL)
    throw new Error(
      `WORKERS=${v.WORKERS}: the embedded database is open in one process only. Unset WORKERS, or set DATABASE_URL.`,
    );
  if (v.WORKERS > 1 && v.METRICS_PORT !== undefined)
    throw new Error(
      `WORKERS=${v.WORKERS} with METRICS_PORT: the workers would share the metrics port and each scrape would reach one of them at random. Unset METRICS_PORT, or run one process per container (WORKERS=1) and scrape each.`,
    );
  return {
    host: v.HOST,
    port: v.PORT,
    databaseUrl: v.DATABASE_URL,
    dataDir: v.DATA_DIR,
    logLevel: v.LOG_LEVEL,
    bodyLimitBytes: v.BODY_LIMIT_BYTES,
    credentialsKeys: v.CREDENTIALS_KEYS,
    publicUrl: v.PUBLIC_URL,
    refreshIntervalMinutes: v.REFRESH_INTERVAL_MINUTES,
    trustProxy: parseTrustProxy(v.TRUST_PROXY),
    jobs: jobsFrom(v),
    jobRetentionDays: v.JOB_RETENTION_DAYS,
    outbound,
    jobWorker: v.JOB_WORKER,
    housekeepingSeconds: v.HOUSEKEEPING_INTERVAL_SECONDS,
    workers: v.WORKERS,
    snapshotCacheBytes: Math.round(v.SNAPSHOT_CACHE_MB * 1024 * 1024),
    listingCacheBytes: Math.round(v.LISTING_CACHE_MB * 1024 * 1024),
    metrics: v.METRICS_PORT === undefined ? undefined : { host: v.METRICS_HOST, port: v.METRICS_PORT },
    tracing: v.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { endpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: v.OTEL_SERVICE_NAME }
      : undefined,
  };
}
