import type { JobsService } from "../jobs/service.ts";

/** The job kind of an inventory pass; inventory/service.ts registers its handler. */
export const REFRESH_JOB = "inventory.refresh";

/** One pass at a time per installation: the dedupe key its refresh jobs hold. */
export const refreshKey = (installationId: string) => `${REFRESH_JOB}:${installationId}`;

/** What a refresh job carries; `due_before` marks a scheduled one (see the handler in service.ts). */
export interface RefreshPayload {
  installation_id: string;
  /** Scheduled: the installation was found not synced since this instant (ISO). */
  due_before?: string;
}

/**
 * The concurrency key of everything that writes an installation's inventory from the provider: its
 * passes and its webhook events run one at a time across all processes, so a pass's older read never
 * lands after an event's newer one, and two events never interleave their read and write.
 */
export const installationWorkKey = (installationId: string) => `installation:${installationId}`;

/**
 * Queues a pass; a second request while one is pending or running gets the same operation. A leaf of
 * its own so that connecting (installations) can queue the first pass without depending on inventory.
 */
export function requestRefresh(
  jobs: Pick<JobsService, "enqueue">,
  teamId: string,
  installationId: string,
  userId: string | null,
  dueBefore?: Date,
) {
  const payload: RefreshPayload = { installation_id: installationId };
  if (dueBefore) payload.due_before = dueBefore.toISOString();
  return jobs.enqueue({
    teamId,
    kind: REFRESH_JOB,
    payload,
    dedupeKey: refreshKey(installationId),
    concurrencyKey: installationWorkKey(installationId),
    createdBy: userId,
  });
}
