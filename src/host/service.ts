import { join } from "node:path";
import type { Logger } from "pino";
import { openDatabase } from "../storage/database.ts";
import { buildApp } from "./app.ts";
import type { Config } from "./config.ts";
import { type ProviderSettings, providerSettingsFromEnv } from "./installations/settings.ts";
import { createLogger } from "./logger.ts";
import { vaultFromConfig } from "./secrets/vault.ts";

/** Opens the database (migrating it), builds the app and listens. Used by `npm start` and the demo. */
export async function startService(
  config: Config,
  logger: Logger = createLogger({ level: config.logLevel }),
  /** Provider locations and app registrations; the environment's when absent (the demo passes its simulators'). */
  settings: ProviderSettings = providerSettingsFromEnv(),
) {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const vault = vaultFromConfig({
    keys: config.credentialsKeys,
    keyFile: join(config.dataDir, "credentials.key"),
  });
  const app = await buildApp({
    database,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    vault,
    settings,
    publicUrl: config.publicUrl,
    refreshIntervalMinutes: config.refreshIntervalMinutes,
    trustProxy: config.trustProxy,
    outbound: config.outbound,
    jobs: config.jobs,
    jobRetentionDays: config.jobRetentionDays,
  });
  await app.server.listen({ host: config.host, port: config.port });
  const address = app.server.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const baseUrl = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  logger.info({ base_url: baseUrl, driver: database.driver }, "service listening");
  return {
    ...app,
    database,
    baseUrl,
    async close() {
      await app.server.close();
      await database.close();
    },
  };
}
