import { DataDirInUseError } from "../storage/data-dir-lock.ts";
import { loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { shutdownOnSignals, startService } from "./service.ts";

const config = loadConfig();
const logger = createLogger({ level: config.logLevel });
const shutdown = shutdownOnSignals(logger);
try {
  const service = await startService(config, logger);
  shutdown.stopWith(() => service.close());
} catch (err) {
  if (!(err instanceof DataDirInUseError)) throw err;
  console.error(err.message);
  process.exit(1);
}
