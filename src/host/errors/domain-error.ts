import { ERROR_CODES, type ErrorCode } from "./codes.ts";

/**
 * The one error family of the host and the dashboard. An error names its code (codes.ts) and states
 * domain facts; it knows nothing of HTTP. Each surface maps it once: the API envelope
 * (http/error-handler.ts), the OAuth body (oauth/errors.ts), HTML pages (dashboard/errors.ts) and job
 * failures (jobs/service.ts).
 */

export type EffectCertainty = "no_effect" | "unknown" | "applied";

export interface ErrorFacts {
  retryable?: boolean;
  /** Defaults to the code's `userAction` in the registry. */
  userActionRequired?: boolean;
  source?: "saas" | "provider";
  retryAfterSeconds?: number | null;
  /** Default `no_effect`: most errors are raised before anything is written. */
  effectCertainty?: EffectCertainty;
  /** Facts a client acts on (e.g. `fields`, `workspaces`, `interval`), carried onto every surface's body. */
  details?: Record<string, unknown>;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly userActionRequired: boolean;
  readonly source: "saas" | "provider";
  readonly retryAfterSeconds: number | null;
  readonly effectCertainty: EffectCertainty;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, facts: ErrorFacts = {}) {
    super(message);
    this.name = "DomainError";
    this.code = code;
    this.retryable = facts.retryable ?? false;
    this.userActionRequired = facts.userActionRequired ?? ERROR_CODES[code].userAction ?? false;
    this.source = facts.source ?? "saas";
    this.retryAfterSeconds = facts.retryAfterSeconds ?? null;
    this.effectCertainty = facts.effectCertainty ?? "no_effect";
    this.details = facts.details ?? {};
  }

  /** The code on the wire (the registry may give two domain codes one wire code). */
  get wireCode(): string {
    return ERROR_CODES[this.code].wire ?? this.code;
  }
}

/** The input is invalid; `fields` say which parts and why. */
export class ValidationError extends DomainError {
  constructor(message: string, fields: { field: string; problem: string }[] = []) {
    super("validation_error", message, { details: { fields } });
  }
}

/** No valid credential was presented. */
export class UnauthorizedError extends DomainError {
  constructor(message = "Missing or invalid API token. Send `Authorization: Bearer <token>`.") {
    super("unauthorized", message);
  }
}

/** Too many failed attempts from one address: see `tooManyAttempts` in http/rate-limits.ts for the wording. */
export class TooManyRequestsError extends DomainError {
  constructor(refusal: { message: string; retryAfterSeconds: number }) {
    super("too_many_requests", refusal.message, {
      retryable: true,
      retryAfterSeconds: refusal.retryAfterSeconds,
    });
  }
}
