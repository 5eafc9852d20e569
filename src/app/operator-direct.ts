import { join } from "node:path";
import type { Config } from "../host/config.ts";
import { providerSettingsFromEnv } from "../host/installations/settings.ts";
import { createLogger } from "../host/logger.ts";
import { type CommandArgs, runOperatorCommand } from "../host/operator/commands.ts";
import { vaultFromConfig } from "../host/secrets/vault.ts";
import type { DataDirLock } from "../storage/data-dir-lock.ts";
import { openDatabase } from "../storage/database.ts";
import { createHttpClient } from "../tracker/index.ts";
import { createServices } from "./compose.ts";

/**
 * Runs an operator command in this process: opens the database (PGlite under DATA_DIR with its lock
 * already held, or DATABASE_URL), builds the domain services, runs it and closes the database.
 */
export async function runDirect(
  config: Config,
  lock: DataDirLock | undefined,
  command: string,
  args: CommandArgs,
) {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, lock });
  try {
    const services = createServices(database.db, {
      vault: vaultFromConfig({
        keys: config.credentialsKeys,
        keyFile: join(config.dataDir, "credentials.key"),
      }),
      settings: providerSettingsFromEnv(),
      http: createHttpClient(),
      logger: createLogger({ level: "warn" }),
      publicUrl: () => config.publicUrl ?? `http://${config.host}:${config.port}`,
    });
    return await runOperatorCommand(services, command, args);
  } finally {
    await database.close();
  }
}
