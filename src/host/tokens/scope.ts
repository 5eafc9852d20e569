import type { FastifyRequest } from "fastify";
import { DomainError } from "../errors/domain-error.ts";

/**
 * POST routes that only read (CLI wire contract §0: pull, issue-search, list-tickets, bind-resolve and
 * bind-validate are reads sent as POST). Every other method but GET/HEAD/OPTIONS is a write, so a route
 * added later is refused to read-only tokens until it is listed here on purpose.
 */
const READ_POSTS = new Set([
  "/api/v1/tracker/pull/",
  "/api/v1/tracker/issue-search/",
  "/api/v1/tracker/list-tickets/",
  "/api/v1/tracker/bind-resolve/",
  "/api/v1/tracker/bind-validate/",
]);

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request (its method and the route it matched) only reads. */
export function isReadRequest(method: string, routeUrl: string | undefined): boolean {
  if (READ_METHODS.has(method)) return true;
  if (method !== "POST" || !routeUrl) return false;
  return READ_POSTS.has(routeUrl.endsWith("/") ? routeUrl : `${routeUrl}/`);
}

export const tokenReadOnly = () =>
  new DomainError(
    "token_read_only",
    "This API token is read-only: it can read but not change anything. Use a read-write token for this request.",
  );

/**
 * An onRequest hook after authentication: a read-only token is refused on every write, whatever the
 * route. It reads only the scope authentication put on the request, however the token was looked up.
 */
export async function refuseWritesOfReadOnlyTokens(request: FastifyRequest) {
  if (request.auth?.scope !== "read") return;
  if (isReadRequest(request.method, request.routeOptions.url)) return;
  throw tokenReadOnly();
}
