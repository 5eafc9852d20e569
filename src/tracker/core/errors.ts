/** Classified provider failures. Messages never contain credentials (they are built from status and path only). */

export type TrackerErrorKind =
  | "auth_expired"
  | "auth_revoked"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "upstream_unavailable"
  | "malformed_response"
  | "invalid_request";

export class TrackerError extends Error {
  readonly kind: TrackerErrorKind;
  readonly provider: string;
  readonly status: number | null;
  /** Seconds until the provider accepts requests again (rate_limited), when it said so. */
  readonly retryAfterSeconds: number | null;

  constructor(
    kind: TrackerErrorKind,
    provider: string,
    message: string,
    opts: { status?: number | null; retryAfterSeconds?: number | null; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "TrackerError";
    this.kind = kind;
    this.provider = provider;
    this.status = opts.status ?? null;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? null;
  }

  get retryable(): boolean {
    return this.kind === "rate_limited" || this.kind === "upstream_unavailable";
  }
}
