import type { JoinedMapping, MappingRow } from "./repository.ts";
import type { MappingState } from "./states.ts";

/**
 * Mapping health, classified here only, in the order the CLI meets the problems: routing refuses a
 * deleted mapping (`binding_not_found`), then a disabled one (`mapping_disabled`); past routing, the
 * first of `SYNC_CHECKS` that holds is the status route's `sync_state` (contract: docs/runtime.md).
 * The API, the status route and every dashboard page read the same answer.
 */

export type { MappingState };

export function mappingState(m: MappingRow): MappingState {
  return m.deletedAt ? "deleted" : m.status;
}

type Facts = Pick<
  JoinedMapping,
  "installationDisconnectedAt" | "resourceMissingSince" | "installationStatus"
>;

/** What stands between a routable mapping and the provider, most fundamental first. */
const SYNC_CHECKS = [
  ["installation_disconnected", (m: Facts) => Boolean(m.installationDisconnectedAt)],
  ["resource_missing", (m: Facts) => Boolean(m.resourceMissingSince)],
  ["installation_revoked", (m: Facts) => m.installationStatus === "revoked"],
  ["installation_suspended", (m: Facts) => m.installationStatus === "suspended"],
  ["installation_error", (m: Facts) => m.installationStatus === "error"],
] as const;

export type SyncState = (typeof SYNC_CHECKS)[number][0] | "idle";

/** Every `sync_state`, usable first, then in the order they are checked. */
export const SYNC_STATES: readonly SyncState[] = ["idle", ...SYNC_CHECKS.map(([state]) => state)];

/** Whether the CLI can use the mapping now, and if not, what is in the way (contract `sync_state`). */
export function mappingSyncState(m: Facts): SyncState {
  return SYNC_CHECKS.find(([, holds]) => holds(m))?.[0] ?? "idle";
}

/** The one answer to "is this mapping usable, and if not why": its own state first, then `sync_state`. */
export type MappingHealth = Exclude<MappingState, "active"> | Exclude<SyncState, "idle"> | "healthy";

/** From a mapping as the API shows it (`status` and `sync_state`), so pages classify what they list. */
export function mappingHealth(m: { status: MappingState; sync_state: SyncState }): MappingHealth {
  if (m.status !== "active") return m.status;
  return m.sync_state === "idle" ? "healthy" : m.sync_state;
}
