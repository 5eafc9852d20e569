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
  /** Where admin-supplied provider URLs may point (default: public addresses only). */
  outbound: OutboundConfig;
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
    outbound: {
      allowPrivateNetworks: env.OUTBOUND_ALLOW_PRIVATE_NETWORKS === "true",
      allow: (env.OUTBOUND_ALLOW ?? "")
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    },
  };
}
