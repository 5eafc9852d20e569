import type { FastifyReply, FastifyRequest } from "fastify";
import type { AuthContext } from "../host/http/auth.ts";
import type { Session } from "../host/sessions/service.ts";
import { PageError } from "./errors.ts";

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

export type Form = Record<string, string | undefined>;

export const formOf = (req: FastifyRequest): Form =>
  req.body && typeof req.body === "object" ? (req.body as Form) : {};

export const str = (v: unknown): string => (typeof v === "string" ? v.trim() : "");

/** Server-side role check: members can look, only admins change. */
export function requireAdmin(req: FastifyRequest) {
  if (!req.dash.isAdmin)
    throw new PageError(403, "Admins only", "Only team admins can change this. Ask an admin of the team.");
}

export function sendHtml(reply: FastifyReply, body: { value: string }, status = 200) {
  return reply.code(status).type("text/html; charset=utf-8").send(body.value);
}

/** After a successful POST: back to a page, with a fixed notice code (never free text from the query). */
export function seeOther(reply: FastifyReply, url: string) {
  return reply.redirect(url, 303);
}
