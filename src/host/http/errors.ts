/**
 * The one error family of the host. Every non-2xx under /api/ is one of these rendered by
 * `toEnvelope` into the CLI contract's envelope (cli-wire-contract §10).
 */

export type EffectCertainty = "no_effect" | "unknown" | "applied";

export interface AppErrorOptions {
  retryable?: boolean;
  userActionRequired?: boolean;
  source?: "saas" | "provider";
  retryAfterSeconds?: number | null;
  /** Default `no_effect`: most errors are raised before anything is written. */
  effectCertainty?: EffectCertainty;
  /** Extra fields merged into the envelope (e.g. `fields`, `reason`, `guidance`). */
  details?: Record<string, unknown>;
  /**
   * Sets `error_category` to the code. The CLI prefers `error_category` over `error_code`, so it is
   * only ever the identical value (contract §10.1).
   */
  withCategory?: boolean;
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly opts: AppErrorOptions;

  constructor(status: number, code: string, message: string, opts: AppErrorOptions = {}) {
    super(message);
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.opts = opts;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, fields: { field: string; problem: string }[] = []) {
    super(400, "validation_error", message, { userActionRequired: true, details: { fields } });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Missing or invalid API token. Send `Authorization: Bearer <token>`.") {
    super(401, "unauthorized", message, {
      userActionRequired: true,
      headers: { "www-authenticate": "Bearer" },
    });
  }
}

export class ForbiddenError extends AppError {
  constructor(code: string, message: string, opts: AppErrorOptions = {}) {
    super(403, code, message, { userActionRequired: true, ...opts });
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string, opts: AppErrorOptions = {}) {
    super(404, code, message, opts);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, opts: AppErrorOptions = {}) {
    super(409, code, message, opts);
  }
}

/** 429 with `Retry-After`: see `tooManyAttempts` in rate-limits.ts for the wording. */
export class TooManyRequestsError extends AppError {
  constructor(refusal: { message: string; retryAfterSeconds: number; headers: Record<string, string> }) {
    super(429, "too_many_requests", refusal.message, {
      retryable: true,
      retryAfterSeconds: refusal.retryAfterSeconds,
      headers: refusal.headers,
    });
  }
}

export interface ErrorEnvelope {
  error_code: string;
  error_category?: string;
  message: string;
  retryable: boolean;
  user_action_required: boolean;
  source: "saas" | "provider";
  retry_after_seconds: number | null;
  effect_certainty: EffectCertainty;
  request_id?: string;
  idempotency_key?: string;
  [extra: string]: unknown;
}

export function toEnvelope(
  err: AppError,
  ctx: { requestId?: string; idempotencyKey?: string } = {},
): ErrorEnvelope {
  const o = err.opts;
  const envelope: ErrorEnvelope = {
    error_code: err.code,
    message: err.message,
    retryable: o.retryable ?? false,
    user_action_required: o.userActionRequired ?? false,
    source: o.source ?? "saas",
    retry_after_seconds: o.retryAfterSeconds ?? null,
    effect_certainty: o.effectCertainty ?? "no_effect",
    ...o.details,
  };
  if (o.withCategory) envelope.error_category = err.code;
  if (ctx.requestId) envelope.request_id = ctx.requestId;
  if (ctx.idempotencyKey) envelope.idempotency_key = ctx.idempotencyKey;
  return envelope;
}
