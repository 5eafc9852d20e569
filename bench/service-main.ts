import cluster from "node:cluster";
import { runWorkers } from "../src/app/cluster.ts";
import { shutdownOnSignals, startService } from "../src/app/start.ts";
import { loadConfig } from "../src/host/config.ts";
import { providerSettingsFromEnv } from "../src/host/installations/settings.ts";
import { createLogger } from "../src/host/logger.ts";
import { floorRoutes } from "./cli-reads.ts";

/**
 * The service as `src/app/main.ts` starts it (the same configuration, `WORKERS` included), plus the
 * benchmark's floor routes answering `BENCH_BODY`, for `npm run bench -- processes`. It prints the
 * `service listening` line itself, so that LOG_LEVEL=warn keeps request logs out of the measurement.
 */
const config = loadConfig();
const logger = createLogger({ level: config.logLevel });
const announce = (baseUrl: string) =>
  console.log(JSON.stringify({ msg: "service listening", base_url: baseUrl }));
const body = process.env.BENCH_BODY ?? "{}";

if (config.workers > 1 && cluster.isPrimary) runWorkers(config.workers, logger, announce);
else {
  const shutdown = shutdownOnSignals(logger);
  const service = await startService(config, logger, providerSettingsFromEnv(), {
    plugins: [floorRoutes(() => body)],
  });
  shutdown.stopWith(() => service.close());
  if (cluster.isPrimary) announce(service.baseUrl);
}
