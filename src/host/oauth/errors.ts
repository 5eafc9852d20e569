import { ERROR_CODES, httpStatusOf } from "../errors/codes.ts";
import { DomainError } from "../errors/domain-error.ts";
import { refusalHeaders, toApiRefusal } from "../http/error-handler.ts";

/**
 * The OAuth surface of the error family (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7009): the body is
 * `{"error", "error_description"}` plus the error's details (`interval`, `retry_after`) — the Spec Kitty
 * CLI reads only the `error` key — never the API error envelope. Codes the registry marks `oauth` are
 * rendered as they are; any other refusal is `invalid_request`, a failure `server_error`.
 */
export interface OAuthReply {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string; [extra: string]: unknown };
}

export function toOAuthReply(err: unknown): OAuthReply {
  if (err instanceof DomainError && ERROR_CODES[err.code].oauth)
    return {
      status: httpStatusOf(err.code),
      headers: refusalHeaders(err),
      body: { error: err.wireCode, error_description: err.message, ...err.details },
    };
  const { status, error } = toApiRefusal(err);
  if (status >= 500)
    return {
      status: 500,
      headers: {},
      body: { error: "server_error", error_description: "Internal error; try again." },
    };
  const description = (err as { validation?: unknown }).validation
    ? "A parameter is missing, repeated or malformed."
    : error.code === "unsupported_media_type"
      ? "Send the parameters as application/x-www-form-urlencoded."
      : error.message;
  return { status: 400, headers: {}, body: { error: "invalid_request", error_description: description } };
}

export const invalidRequest = (description: string) => new DomainError("invalid_request", description);
export const invalidGrant = (description: string) => new DomainError("invalid_grant", description);
export const invalidClient = () =>
  new DomainError("invalid_client", "Unknown client_id. The Spec Kitty CLI signs in as `cli_native`.");
