import type { PGlite } from "@electric-sql/pglite";
import type { Database } from "./database.ts";

/** A team's versions as they now stand, or `deleted`. */
export type TeamVersionNotice =
  | { teamId: string; deleted?: false; inventory: number; binding: number; auth: number }
  | { teamId: string; deleted: true };

const CHANNEL = "team_versions";

export function parseTeamVersionNotice(payload: string): TeamVersionNotice {
  const [teamId, inventory, binding, auth] = payload.split(" ");
  if (inventory === undefined) return { teamId, deleted: true };
  return { teamId, inventory: Number(inventory), binding: Number(binding), auth: Number(auth) };
}

/**
 * On the embedded database, subscribes `listener` to every change of a team's versions (migration
 * 0013's `team_versions` notices). PGlite is one process with one session, and hands a commit's notices
 * to their listeners before the committing statement's promise settles, so a process that listens knows
 * every committed version before any later request of its own reads them: no statement per request.
 * Resolves false on PostgreSQL, where notices reach other processes only some time after the commit,
 * and the versions must be read.
 */
export async function listenToTeamVersions(
  db: Database,
  listener: (notice: TeamVersionNotice) => void,
): Promise<boolean> {
  const client = (db as unknown as { $client?: unknown }).$client;
  // Told apart by shape, not `instanceof`: a PostgreSQL process never loads PGlite (~40 MB).
  const pglite = client as PGlite;
  if (typeof pglite?.listen !== "function" || typeof pglite.dumpDataDir !== "function") return false;
  await pglite.query("select set_config('spec_kitty.team_version_notices', 'on', false)");
  await pglite.listen(CHANNEL, (payload) => listener(parseTeamVersionNotice(payload)));
  return true;
}
