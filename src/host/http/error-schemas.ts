import type { FastifyInstance } from "fastify";
import { Type } from "typebox";

const ENVELOPE_REF = "ErrorEnvelope#";

const envelope = (description: string) => Type.Unsafe<unknown>({ $ref: ENVELOPE_REF, description });

/**
 * What every documented route may answer besides its success: the error envelope (contract §10), by
 * status, with the `4xx` / `5xx` ranges for the rarer ones (413, 415, 424, 502, 503, 504).
 */
export const ERROR_RESPONSES = {
  400: envelope(
    "Invalid request: `validation_error` (with `fields`), `invalid_json`, `invalid_candidate_token`...",
  ),
  401: envelope("Missing, invalid or expired credentials."),
  403: envelope(
    "Not allowed: `mapping_disabled`, `project_mismatch`, `no_installation`, a member's limits...",
  ),
  404: envelope("Not found: `binding_not_found`, `no_mapping`, `resource_missing`, `operation_not_found`..."),
  409: envelope("Conflict: `already_bound`, `origin_conflict`, `idempotency_key_in_flight`..."),
  422: envelope("Understood but refused: `idempotency_key_reused`, `invalid_query`..."),
  429: envelope("Rate limited (by the service or the provider): retry after `retry_after_seconds`."),
  500: envelope("Internal error: quote `request_id` when reporting it."),
  "4xx": envelope(
    "Other refusals, e.g. 413 body too large, 415 not JSON, 424 provider credentials rejected.",
  ),
  "5xx": envelope("The provider or the service is unavailable (502, 503, 504)."),
} as const;

const isErrorStatus = (status: string) => /^[45]/.test(status) || status === "default";
const isEnvelope = (schema: unknown) => (schema as { $ref?: unknown } | null)?.$ref === ENVELOPE_REF;

/**
 * Adds the envelope to the error responses of every documented route (one with a response schema and
 * not hidden), so the OpenAPI document shows them and they are serialized by the same schema. A
 * route's own error responses win; a route that declares errors of another shape (OAuth's RFC 6749
 * bodies, sync admission's refusals) speaks its own dialect and is left as it is.
 */
export function addErrorSchemas(app: FastifyInstance) {
  app.addHook("onRoute", (route) => {
    const schema = route.schema as { hide?: boolean; response?: Record<string, unknown> } | undefined;
    if (!schema?.response || schema.hide) return;
    const own = Object.entries(schema.response).filter(([status]) => isErrorStatus(status));
    if (own.some(([, s]) => !isEnvelope(s))) return;
    schema.response = { ...ERROR_RESPONSES, ...schema.response };
  });
}
