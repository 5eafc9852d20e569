import cluster from "node:cluster";
import { type Config, loadConfig } from "../host/config.ts";
import { createLogger } from "../host/logger.ts";
import type { Tracing } from "../host/telemetry/tracing.ts";
import { DataDirInUseError } from "../storage/data-dir-lock.ts";

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  console.error((err as Error).message); // names the variable; a stack trace would only bury it
  process.exit(1);
}

if (config.workers > 1 && cluster.isPrimary) {
  // WORKERS=N: this process only forks and watches N service processes sharing the port (cluster.ts).
  const { runWorkers } = await import("./cluster.ts");
  const logger = createLogger({ level: config.logLevel });
  runWorkers(config.workers, logger, (baseUrl) =>
    logger.info({ base_url: baseUrl, workers: config.workers, driver: "postgres" }, "service listening"),
  );
} else {
  await serve(config);
}

async function serve(config: Config) {
  // Tracing patches modules as they load, so it starts before the service's modules are imported.
  const tracing: Tracing | undefined = config.tracing
    ? (await import("../host/telemetry/tracing.ts")).startTracing(config.tracing)
    : undefined;
  const { shutdownOnSignals, startService } = await import("./start.ts");
  const logger = createLogger({ level: config.logLevel });
  if (config.tracing) logger.info({ otlp_endpoint: config.tracing.endpoint }, "tracing on");
  const shutdown = shutdownOnSignals(logger);
  try {
    const service = await startService(config, logger);
    shutdown.stopWith(async () => {
      await service.close();
      await tracing?.shutdown();
    });
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}
