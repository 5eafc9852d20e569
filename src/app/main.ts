import { type Config, loadConfig } from "../host/config.ts";
import { createLogger } from "../host/logger.ts";
import { DataDirInUseError } from "../storage/data-dir-lock.ts";
import { shutdownOnSignals, startService } from "./start.ts";

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  console.error((err as Error).message); // names the variable; a stack trace would only bury it
  process.exit(1);
}
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
