import type { FastifyReply, FastifyRequest } from "fastify";
import type { AuthService } from "../auth/service.ts";
import { DomainError, TooManyRequestsError, UnauthorizedError } from "../errors/domain-error.ts";
import type { OAuthService } from "../oauth/service.ts";
import type { AuthContext } from "../teams/access.ts";
import { adminRequired } from "../teams/errors.ts";
import type { TokensService } from "../tokens/service.ts";
import { type RateLimits, tooManyAttempts } from "./rate-limits.ts";

/** What authentication reads: the two kinds of bearer token, the caller in a team and the failure counter. */
export interface AuthDeps {
  limits: Pick<RateLimits, "apiTokenFailures">;
  oauth: Pick<OAuthService, "isAccessToken" | "authenticateAccessToken">;
  tokens: Pick<TokensService, "authenticate">;
  auth: Pick<AuthService, "resolve">;
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
async function counted<T>(services: AuthDeps, request: FastifyRequest, lookUp: () => Promise<T>) {
  const failures = services.limits.apiTokenFailures;
  const known = failures.knownRetryAfter(request.ip);
  if (known) throw tokenGuessing(known);
  try {
    return await lookUp();
  } catch (err) {
    if (!(err instanceof DomainError && err.code === "unauthorized")) throw err;
    const wait = await failures.note(request.ip);
    throw wait ? tokenGuessing(wait) : err;
  }
}

const bearer = (services: AuthDeps, request: FastifyRequest, secret: string) =>
  counted(services, request, () =>
    services.oauth.isAccessToken(secret)
      ? services.oauth.authenticateAccessToken(secret)
      : services.tokens.authenticate(secret),
  );

/**
 * Bearer token first (401), then the team header (400), then membership (403), resolved together by
 * `auth.resolve` (one statement, or none while a cached authentication is current). A team that does not
 * exist and a team the caller is not in answer the same, so ids of other teams reveal nothing.
 */
export function authenticate(services: AuthDeps) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? BEARER.exec(header) : null;
    if (!match) throw new UnauthorizedError();
    const secret = match[1];
    const teamRef = request.headers["x-team-slug"];
    const ref = typeof teamRef === "string" && teamRef.trim() !== "" ? teamRef.trim() : null;
    request.auth = await counted(services, request, () =>
      services.auth.resolve(secret, services.oauth.isAccessToken(secret), ref),
    );
  };
}

/** Identity only (no team), for `/api/v1/me` where the caller learns which teams exist. */
export function authenticateUser(services: AuthDeps) {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? BEARER.exec(header) : null;
    if (!match) throw new UnauthorizedError();
    const token = await bearer(services, request, match[1]);
    request.auth = { user: token.user, tokenId: token.tokenId } as AuthContext;
  };
}

/** A preHandler; async because Fastify waits for a callback from sync hooks. */
export async function requireAdmin(request: FastifyRequest) {
  if (request.auth.role !== "admin") throw adminRequired();
}
