import type { Role } from "./repository.ts";

export type { Role };

/** The team's inventory and binding versions as read at authentication, so snapshots know they are current. */
export interface TeamVersions {
  inventory: number;
  binding: number;
}

/** The team a domain operation acts in: all that routing a mapping needs. */
export interface TeamScope {
  team: { id: string; versions?: TeamVersions };
}

/** A signed-in caller (an API token, a CLI access token or a dashboard session), set by authentication. */
export interface AuthContext extends TeamScope {
  user: { id: string; email: string; name: string };
  team: { id: string; slug: string; name: string; versions?: TeamVersions };
  role: Role;
  tokenId: string;
  /** A read-only API token (`read`) is refused on writes (tokens/scope.ts); absent means read_write. */
  scope?: "read" | "read_write";
}

/** Who a write is recorded against: a team and the user acting in it (a request, or a connect the user started). */
export interface Actor extends TeamScope {
  user: { id: string };
}

/**
 * Background work (a queued push or run) acting in a team with no request behind it. It names the
 * user who queued it, when there was one, but carries no token, role or session to be mistaken for one.
 */
export interface SystemContext extends TeamScope {
  system: true;
  queuedBy: string | null;
}

export const systemContext = (teamId: string, queuedBy: string | null): SystemContext => ({
  system: true,
  team: { id: teamId },
  queuedBy,
});
