/** Classified provider failures. Messages never contain credentials (they are built from status and path only). */

export type TrackerErrorKind =
  | "auth_expired"
  | "auth_revoked"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "upstream_unavailable"
  | "malformed_response"
  | "invalid_request"
  /** The server at the URL does not answer like the provider's API (a web page, another service). */
  | "not_provider"
  /** The caller's destination guard refused the address (outbound URL policy). */
  | "destination_refused";

/** Why no HTTP answer came back: what a person checks next differs for each. */
export type NetworkCause = "dns" | "refused" | "timeout" | "reset" | "unreachable" | "tls" | "other";

export interface NetworkFailure {
  cause: NetworkCause;
  /** Node's error code (ENOTFOUND, ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, ...), when there was one. */
  code: string | null;
  /** A short phrase for people, e.g. "the certificate is self-signed". */
  detail: string;
  host: string;
}

export class TrackerError extends Error {
  readonly kind: TrackerErrorKind;
  readonly provider: string;
  readonly status: number | null;
  /** Seconds until the provider accepts requests again (rate_limited, or a 503), when it said so. */
  readonly retryAfterSeconds: number | null;
  /** Set when no HTTP answer came back. */
  readonly network: NetworkFailure | null;
  /** Scopes the provider said the call needs (any one of them), when it said so. */
  readonly requiredScopes: string[] | null;
  /** A state-changing request failed in a way that may still have been applied upstream (a timeout, a 502). */
  readonly effectUnknown: boolean;
  /** The provider's own words for a refusal (secrets stripped by the adapter), shown to the user. */
  readonly reason: string | null;

  constructor(
    kind: TrackerErrorKind,
    provider: string,
    message: string,
    opts: {
      status?: number | null;
      retryAfterSeconds?: number | null;
      cause?: unknown;
      network?: NetworkFailure | null;
      requiredScopes?: string[] | null;
      effectUnknown?: boolean;
      reason?: string | null;
    } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "TrackerError";
    this.kind = kind;
    this.provider = provider;
    this.status = opts.status ?? null;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? null;
    this.network = opts.network ?? null;
    this.requiredScopes = opts.requiredScopes ?? null;
    this.effectUnknown = opts.effectUnknown ?? false;
    this.reason = opts.reason ?? null;
  }

  get retryable(): boolean {
    if (this.network?.cause === "tls") return false; // waiting does not fix a certificate
    return this.kind === "rate_limited" || this.kind === "upstream_unavailable";
  }
}

/**
 * Runs a call that every server of `provider` answers (the connect probe): a 404 there means another
 * kind of server at the URL, not a missing resource. (An unreadable answer stays malformed_response:
 * the caller decides whether that, too, means another server.)
 */
export async function probing<T>(provider: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TrackerError && err.kind === "not_found")
      throw new TrackerError("not_provider", provider, err.message, { status: err.status, cause: err });
    throw err;
  }
}
