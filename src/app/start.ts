import cluster from "node:cluster";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../host/config.ts";
import { type ProviderSettings, providerSettingsFromEnv } from "../host/installations/settings.ts";
import { createLogger } from "../host/logger.ts";
import type { Mailer } from "../host/mail/mailer.ts";
import { type MetricsListener, startMetricsListener } from "../host/metrics/listener.ts";
import { createMetrics } from "../host/metrics/registry.ts";
import { createBackup } from "../host/operator/backup.ts";
import { type OperatorChannel, startOperatorChannel } from "../host/operator/channel.ts";
import { vaultFromConfig } from "../host/secrets/vault.ts";
import { type DataDirLock, describeHolder, lockDataDir } from "../storage/data-dir-lock.ts";
import { openDatabase } from "../storage/database.ts";
import { type AppOptions, buildApp } from "./server.ts";

export interface ServiceOwner {
  /** The data directory's lock, when the caller took it first (the demo, before its simulators). */
  lock?: DataDirLock;
  /** Names this process in the lock file (default `npm start`). */
  program?: string;
  /** Where invitation emails go (the demo: its log); default none configured. */
  mailer?: Mailer;
  /** Extra routes (bench/service-main.ts adds its baseline routes). */
  plugins?: AppOptions["plugins"];
}

/**
 * Opens the database (migrating it), builds the app and listens. Used by `npm start` and the demo.
 * On the embedded default it owns DATA_DIR: it takes the directory's lock before PGlite opens it and
 * serves `npm run admin` on the operator channel named in the lock file.
 */
export async function startService(
  config: Config,
  logger: Logger = createLogger({ level: config.logLevel }),
  /** Provider locations and app registrations; the environment's when absent (the demo passes its simulators'). */
  settings: ProviderSettings = providerSettingsFromEnv(),
  owner: ServiceOwner = {},
) {
  const lock = config.databaseUrl
    ? undefined
    : (owner.lock ?? takeDataDir(config.dataDir, owner.program ?? "npm start", logger));
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, lock });
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let channel: OperatorChannel | undefined;
  let scrape: MetricsListener | undefined;
  const metrics = createMetrics();
  try {
    const vault = vaultFromConfig({
      keys: config.credentialsKeys,
      keyFile: join(config.dataDir, "credentials.key"),
    });
    app = await buildApp({
      database,
      logger,
      bodyLimitBytes: config.bodyLimitBytes,
      vault,
      settings,
      publicUrl: config.publicUrl,
      refreshIntervalMinutes: config.refreshIntervalMinutes,
      housekeepingSeconds: config.housekeepingSeconds,
      snapshotCacheBytes: config.snapshotCacheBytes,
      listingCache: { bytes: config.listingCacheBytes },
      trustProxy: config.trustProxy,
      outbound: config.outbound,
      jobs: config.jobs,
      jobRetentionDays: config.jobRetentionDays,
      mailer: owner.mailer,
      plugins: owner.plugins,
      worker: config.jobWorker,
      metrics,
    });
    await app.server.listen({ host: config.host, port: config.port });
    if (config.metrics) {
      scrape = await startMetricsListener(metrics, config.metrics);
      logger.info({ metrics_url: scrape.url }, "metrics listening");
    }
    if (lock) {
      const db = database;
      channel = await startOperatorChannel(app.services, logger, () => createBackup(db, config.dataDir));
    }
  } catch (err) {
    await scrape?.close();
    await app?.server.close();
    await database.close();
    throw err;
  }
  const address = app.server.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const baseUrl = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  if (channel) lock?.publish({ base_url: baseUrl, operator: channel.address });
  // A worker of WORKERS=N says so; the primary says "service listening" once all of them listen.
  if (cluster.isWorker) logger.info({ base_url: baseUrl, worker_pid: process.pid }, "worker listening");
  else logger.info({ base_url: baseUrl, driver: database.driver }, "service listening");
  const server = app.server;
  return {
    ...app,
    database,
    baseUrl,
    /**
     * Graceful stop: stops accepting connections and answers the requests in flight (Fastify's close,
     * new requests on kept-alive connections get 503), stops the job worker (running jobs get
     * JOB_SHUTDOWN_GRACE_SECONDS to finish, then go back to the queue for another process), stops the
     * operator channel and the metrics listener, closes the database and releases DATA_DIR.
     */
    async close() {
      logger.info("draining: no new connections; finishing requests and jobs in flight");
      // A kept-alive connection whose request finishes during the drain would hold the close until its
      // keep-alive timeout: close connections as they fall idle.
      const sweep = setInterval(() => server.server.closeIdleConnections(), 100);
      try {
        await Promise.all([server.close(), channel?.close()]);
      } finally {
        clearInterval(sweep);
      }
      await scrape?.close();
      await database.close();
      logger.info("stopped");
    },
  };
}

/** Takes DATA_DIR's lock; a lock left by a process that is gone is taken over, with a log line. */
export function takeDataDir(dataDir: string, program: string, logger: Logger): DataDirLock {
  return lockDataDir(dataDir, {
    program,
    onStaleTakeover: (stale) =>
      logger.warn(`took over the data directory lock of ${describeHolder(stale)}: that process is gone`),
  });
}

/**
 * SIGINT/SIGTERM stop the process cleanly: the stop function runs once (a repeated signal waits for
 * it rather than killing PGlite mid-close), then the process exits 0. Installed before startup, so a
 * signal during startup stops the service as soon as `stopWith` names how.
 */
export function shutdownOnSignals(logger: Logger) {
  let stop: (() => Promise<void>) | null = null;
  let signalled = false;
  const run = () =>
    stop?.().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "stopping failed");
        process.exit(1);
      },
    );
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (signalled) return logger.warn({ signal }, "already stopping: waiting for the database to close");
      signalled = true;
      logger.info({ signal }, stop ? "stopping" : "stopping once startup has finished");
      run();
    });
  }
  return {
    stopWith(fn: () => Promise<void>) {
      stop = fn;
      if (signalled) run();
    },
  };
}
