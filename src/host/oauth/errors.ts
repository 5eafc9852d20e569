/**
 * OAuth 2.0 protocol errors (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7009). They are rendered as the RFC body
 * `{"error", "error_description"}` — the Spec Kitty CLI reads only the `error` key — never as the API
 * error envelope.
 */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "authorization_pending"
  | "slow_down"
  | "access_denied"
  | "expired_token"
  | "session_invalid"
  | "refresh_replay_benign_retry"
  | "unsupported_token_type"
  | "too_many_requests";

export class OAuthError extends Error {
  readonly status: number;
  readonly error: OAuthErrorCode;
  readonly extra: Record<string, unknown>;
  /** Response headers (e.g. Retry-After on 429). */
  readonly headers: Record<string, string>;

  constructor(
    error: OAuthErrorCode,
    description: string,
    opts: { status?: number; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(description);
    this.name = "OAuthError";
    this.error = error;
    this.status = opts.status ?? 400;
    this.extra = opts.extra ?? {};
    this.headers = opts.headers ?? {};
  }

  body() {
    return { error: this.error, error_description: this.message, ...this.extra };
  }
}

export const invalidRequest = (description: string) => new OAuthError("invalid_request", description);
export const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);
export const invalidClient = () =>
  new OAuthError("invalid_client", "Unknown client_id. The Spec Kitty CLI signs in as `cli_native`.");
