import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../host/config.ts";
import { providerSettingsFromEnv } from "../host/installations/settings.ts";
import { createLogger } from "../host/logger.ts";
import { createBackup, restoreBackup } from "../host/operator/backup.ts";
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

/** A backup of DATA_DIR taken by this process, which holds its lock (no service runs on it). */
export async function backupHere(config: Config, lock: DataDirLock): Promise<Buffer> {
  const database = await openDatabase({ dataDir: config.dataDir, lock });
  try {
    return await createBackup(database, config.dataDir);
  } finally {
    await database.close();
  }
}

/** Restores `file` into DATA_DIR, whose lock this process holds; the caller releases it. */
export async function restoreHere(config: Config, lock: DataDirLock, file: string) {
  return restoreBackup(readFileSync(file), config.dataDir, lock);
}
