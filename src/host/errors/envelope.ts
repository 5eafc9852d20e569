import { ERROR_CODES } from "./codes.ts";
import type { DomainError, EffectCertainty } from "./domain-error.ts";

/**
 * The CLI contract's error envelope (cli-wire-contract §10): the body of every non-2xx under /api/, and
 * the `error` of a failed operation (§7).
 */
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
  err: DomainError,
  ctx: { requestId?: string; idempotencyKey?: string } = {},
): ErrorEnvelope {
  const envelope: ErrorEnvelope = {
    error_code: err.wireCode,
    message: err.message,
    retryable: err.retryable,
    user_action_required: err.userActionRequired,
    source: err.source,
    retry_after_seconds: err.retryAfterSeconds,
    effect_certainty: err.effectCertainty,
    ...err.details,
  };
  // The CLI prefers `error_category` over `error_code`, so it is only ever the identical value (§10.1).
  if (ERROR_CODES[err.code].category) envelope.error_category = err.wireCode;
  if (ctx.requestId) envelope.request_id = ctx.requestId;
  if (ctx.idempotencyKey) envelope.idempotency_key = ctx.idempotencyKey;
  return envelope;
}
