import type { FastifyReply, FastifyRequest } from "fastify";
import { DomainError, TooManyRequestsError, UnauthorizedError } from "../errors/domain-error.ts";
import type { OAuthService } from "../oauth/service.ts";
import type { AuthContext } from "../teams/access.ts";
import { adminRequired, missingTeamHeader, teamAccessDenied } from "../teams/errors.ts";
import type { TeamsService } from "../teams/service.ts";
import type { TokensService } from "../tokens/service.ts";
import { type RateLimits, tooManyAttempts } from "./rate-limits.ts";

/** What authentication reads: the two kinds of bearer token, team membership and the failure counter. */
export interface AuthDeps {
  limits: Pick<RateLimits, "apiTokenFailures">;
  oauth: Pick<OAuthService, "isAccessToken" | "authenticateAccessToken">;
  tokens: Pick<TokensService, "authenticate">;
  teams: Pick<TeamsService, "findTeam" | "roleOf">;
}

declare module "fastify" {
  interface FastifyRequest {
    auth: AuthContext;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

const tokenGuessing = (seconds: number) =>
  new TooManyRequestsError(tooManyAttempts("failed API token attempts", seconds));

/**
 * Personal API tokens and CLI access tokens (from `POST /oauth/token`) authenticate alike. Failures
 * (unknown, revoked or expired tokens, but not a CLI access token's routine expiry) count per client
 * address on the shared store; an address over the limit is refused whatever it
 * presents, valid tokens included (otherwise a 200 among the 429s would still confirm a guess). The
 * check before the lookup costs no query: it uses what this process learnt when the address went over.
 */
async function bearer(services: AuthDeps, request: FastifyRequest, secret: string) {
  const failures = services.limits.apiTokenFailures;
  const known = failures.knownRetryAfter(request.ip);
  if (known) throw tokenGuessing(known);
  try {
    return await (services.oauth.isAccessToken(secret)
      ? services.oauth.authenticateAccessToken(secret)
      : services.tokens.authenticate(secret));
  } catch (err) {
    if (!(err instanceof DomainError && err.code === "unauthorized")) throw err;
    const wait = await failures.note(request.ip);
    throw wait ? tokenGuessing(wait) : err;
  }
}

/**
 * Bearer token first (401), then the team header (400), then membership (403). A team that does not
 * exist and a team the caller is not in answer the same, so ids of other teams reveal nothing.
 */
export function authenticate(services: AuthDeps) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? BEARER.exec(header) : null;
    if (!match) throw new UnauthorizedError();
    const token = await bearer(services, request, match[1]);

    const teamRef = request.headers["x-team-slug"];
    if (typeof teamRef !== "string" || teamRef.trim() === "") throw missingTeamHeader();
    const team = await services.teams.findTeam(teamRef.trim());
    const role = team ? await services.teams.roleOf(team.id, token.user.id) : undefined;
    if (!team || !role) throw teamAccessDenied();

    request.auth = {
      user: token.user,
      team: {
        id: team.id,
        slug: team.slug,
        name: team.name,
        versions: { inventory: team.inventoryVersion, binding: team.bindingVersion },
      },
      role,
      tokenId: token.tokenId,
      scope: "scope" in token ? token.scope : undefined,
    };
  };
}

/** Identity only (no team), for `/api/v1/me` where the caller learns which teams exist. */
export function authenticateUser(services: AuthDeps) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? BEARER.exec(header) : null;
    if (!match) throw new UnauthorizedError();
    const token = await bearer(services, request, match[1]);
    request.auth = {
      user: token.user,
      tokenId: token.tokenId,
      scope: "scope" in token ? token.scope : undefined,
    } as AuthContext;
  };
}

/** A preHandler; async because Fastify waits for a callback from sync hooks. */
export async function requireAdmin(request: FastifyRequest) {
  if (request.auth.role !== "admin") throw adminRequired();
}
