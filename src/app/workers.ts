import type { Logger } from "pino";
import type { Domain } from "../host/domain.ts";

/** What runs in the background of a serving process: the job worker and the housekeeping tick (every minute by default). */
type WorkerDeps = Pick<Domain, "jobs" | "inventory" | "idempotency" | "oauth" | "limits" | "webhooks">;

export interface WorkerOptions {
  /** Minutes between scheduled inventory refreshes per installation (0 = off). */
  refreshIntervalMinutes?: number;
  /** Days finished operations are kept before the purge. */
  jobRetentionDays?: number;
  /** Seconds between housekeeping ticks (default 60). */
  housekeepingSeconds?: number;
}

/** Starts the job worker and the housekeeping tick; the returned function stops both. */
export function startWorkers(services: WorkerDeps, opts: WorkerOptions, logger: Logger) {
  services.jobs.start();
  const minutes = opts.refreshIntervalMinutes ?? 60;
  const tickMs = (opts.housekeepingSeconds ?? 60) * 1000;
  const housekeeping = setInterval(() => {
    if (minutes > 0)
      services.inventory
        .enqueueDue(minutes)
        .catch((err) => logger.error({ err }, "scheduled refresh failed"));
    services.idempotency.purgeExpired().catch((err) => logger.error({ err }, "idempotency purge failed"));
    services.oauth.purgeExpired().catch((err) => logger.error({ err }, "CLI sign-in purge failed"));
    services.limits.purgeExpired().catch((err) => logger.error({ err }, "rate limit purge failed"));
    services.webhooks.purge().catch((err) => logger.error({ err }, "webhook delivery purge failed"));
    services.jobs
      .purge(opts.jobRetentionDays ?? 7)
      .then((n) => {
        if (n.jobs + n.staging_rows + n.connect_states > 0) logger.info({ purged: n }, "retention purge");
      })
      .catch((err) => logger.error({ err }, "retention purge failed"));
    // Operators: the whole queue's depth and age, once a minute while anything is queued.
    services.jobs
      .summary()
      .then((kinds) => {
        if (kinds.some((k) => k.pending + k.running > 0)) logger.info({ kinds }, "job queue");
      })
      .catch((err) => logger.error({ err }, "job queue summary failed"));
  }, tickMs);
  housekeeping.unref();
  return async () => {
    clearInterval(housekeeping);
    await services.jobs.stop();
  };
}
