import type { FastifyReply, FastifyRequest } from "fastify";
import type { Domain } from "../host/domain.ts";
import { DomainError } from "../host/errors/domain-error.ts";
import type { Session } from "../host/sessions/service.ts";
import type { AuthContext } from "../host/teams/access.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "teams">;

export interface TeamChoice {
  id: string;
  slug: string;
  name: string;
  role: "admin" | "member";
  isPrivate: boolean;
}

/** What every signed-in page knows: who, which team (and role there), the CSRF token to echo. */
export interface DashContext {
  session: Session;
  auth: AuthContext;
  isAdmin: boolean;
  teams: TeamChoice[];
  csrf: string;
  path: string;
}

declare module "fastify" {
  interface FastifyRequest {
    dash: DashContext;
  }
}

/**
 * The page context for a signed-in session: the user's teams, and the session's current team (else the
 * first shared team, else the private teamspace). The caller decides whether to store a changed choice.
 */
export async function dashContextFor(
  teamsService: Deps["teams"],
  req: FastifyRequest,
  session: Session,
): Promise<DashContext> {
  const me = await teamsService.me(session.user.id);
  const teams: TeamChoice[] = me.teams.map((t) => ({
    id: t.id,
    slug: t.slug,
    name: t.name,
    role: t.role,
    isPrivate: t.is_private_teamspace,
  }));
  const team =
    teams.find((t) => t.id === session.currentTeamId) ?? teams.find((t) => !t.isPrivate) ?? teams[0];
  if (!team) throw new DomainError("no_team", "Your account is not a member of any team.");
  return {
    session,
    auth: {
      user: session.user,
      team: { id: team.id, slug: team.slug, name: team.name },
      role: team.role,
      tokenId: session.id,
    },
    isAdmin: team.role === "admin",
    teams,
    csrf: session.csrfToken,
    path: req.url,
  };
}

export type Form = Record<string, string | undefined>;

export const formOf = (req: FastifyRequest): Form =>
  req.body && typeof req.body === "object" ? (req.body as Form) : {};

export const str = (v: unknown): string => (typeof v === "string" ? v.trim() : "");

/** Server-side role check: members can look, only admins change. */
export function requireAdmin(req: FastifyRequest) {
  if (!req.dash.isAdmin)
    throw new DomainError("admins_only", "Only team admins can change this. Ask an admin of the team.");
}

/** A destructive POST must echo the `confirm` value its confirmation page carried. */
export function requireConfirmed(req: FastifyRequest, expected: string, what: string) {
  if (formOf(req).confirm !== expected)
    throw new DomainError("not_confirmed", `Confirm the ${what} on the confirmation page.`);
}

export function sendHtml(reply: FastifyReply, body: { value: string }, status = 200) {
  return reply.code(status).type("text/html; charset=utf-8").send(body.value);
}

/** After a successful POST: back to a page, with a fixed notice code (never free text from the query). */
export function seeOther(reply: FastifyReply, url: string) {
  return reply.redirect(url, 303);
}
