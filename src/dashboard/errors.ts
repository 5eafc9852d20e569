import { ERROR_CODES, httpStatusOf } from "../host/errors/codes.ts";
import { DomainError } from "../host/errors/domain-error.ts";

/**
 * The HTML surface of the error family: what a page (dashboard, CLI sign-in, connect callback) shows for
 * an error. Domain errors show their own sentence under the code's page title; Fastify's own 4xx a
 * generic sentence; anything else is `unexpected` (500, logged, the message never shown).
 */
export interface PageProblem {
  status: number;
  /** The registry's page title for the code, if it has one; each page family picks its own otherwise. */
  title?: string;
  message: string;
  code?: string;
  unexpected: boolean;
}

export function pageProblem(err: unknown): PageProblem {
  if (err instanceof DomainError) {
    const status = httpStatusOf(err.code);
    const { title } = ERROR_CODES[err.code];
    return { status, title, message: err.message, code: err.wireCode, unexpected: false };
  }
  const fe = err as { statusCode?: number };
  const status = typeof fe?.statusCode === "number" ? fe.statusCode : 500;
  if (status < 400 || status >= 500)
    return { status: 500, message: "The request could not be processed.", unexpected: true };
  const message =
    status === 415
      ? "This form was sent in a format the dashboard does not accept."
      : status === 413
        ? "The form was too large."
        : "The request could not be processed.";
  return { status, title: "Request refused", message, unexpected: false };
}

/** A domain refusal the user can correct (4xx), as opposed to a failure: forms show it beside the input. */
export const isRefusal = (err: DomainError) => httpStatusOf(err.code) < 500;

export const statusOf = (err: DomainError) => httpStatusOf(err.code);
