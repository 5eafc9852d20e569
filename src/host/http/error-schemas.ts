import type { FastifyInstance, RouteOptions } from "fastify";
import { Type } from "typebox";
import { ERROR_CODES, type ErrorCode, httpStatusOf } from "../errors/codes.ts";
import { isReadRequest } from "../tokens/scope.ts";
import { requireAdmin } from "./auth.ts";

declare module "fastify" {
  interface FastifySchema {
    /**
     * Error codes the route answers besides those its shape implies (a body or parameters: validation;
     * an `installation_id` in the path: `installation_not_found`; authentication; `requireAdmin`; an
     * `Idempotency-Key` header): each is listed under its status in the OpenAPI document, with its meaning.
     */
    errors?: readonly ErrorCode[];
  }
}

const ENVELOPE_REF = "ErrorEnvelope#";

const envelope = (description: string) => Type.Unsafe<unknown>({ $ref: ENVELOPE_REF, description });

/** Codes a routed CLI call can answer when its `binding_ref` (or project slug) does not lead to a live mapping. */
export const ROUTING_ERRORS = [
  "invalid_routing",
  "binding_not_found",
  "no_mapping",
  "mapping_disabled",
  "project_mismatch",
  "binding_installation_disconnected",
  "installation_revoked",
  "installation_suspended",
] as const satisfies readonly ErrorCode[];

/** Codes of a call that reaches the provider: its refusals and outages, classified (http/provider-errors.ts). */
export const PROVIDER_ERRORS = [
  "provider_auth_expired",
  "provider_auth_revoked",
  "provider_forbidden",
  "rate_limited",
  "upstream_rejected",
  "upstream_unavailable",
  "upstream_malformed",
  "upstream_tls_failed",
] as const satisfies readonly ErrorCode[];

/** What a path parameter names, and the code when it names nothing of the caller's team. */
const NOT_FOUND_BY_PARAM: Record<string, ErrorCode> = {
  installation_id: "installation_not_found",
  binding_ref: "mapping_not_found",
  token_id: "token_not_found",
  operation_id: "operation_not_found",
};

/** The team routes' authentication (http/auth.ts): bearer token, then `X-Team-Slug`, then membership. */
const TEAM_AUTH: readonly ErrorCode[] = [
  "unauthorized",
  "too_many_requests",
  "missing_team",
  "team_access_denied",
];
const BEARER_AUTH: readonly ErrorCode[] = ["unauthorized", "too_many_requests"];

/** The rarer statuses, documented by range: a client handles them by class. */
const RANGES = {
  "4xx": envelope(
    "Any other refusal, in the same envelope: `error_code` says which (e.g. 414 `uri_too_long`). " +
      "Retry only when `retryable` is true.",
  ),
  "5xx": envelope(
    "The service or the provider failed (500 `internal_error`, 502 `upstream_*`, 503 `not_ready`): " +
      "`effect_certainty` says whether anything happened; quote `request_id` when reporting it.",
  ),
} as const;

const isErrorStatus = (status: string) => /^[45]/.test(status) || status === "default";
const isEnvelope = (schema: unknown) => (schema as { $ref?: unknown } | null)?.$ref === ENVELOPE_REF;

type Schema = NonNullable<RouteOptions["schema"]> & {
  hide?: boolean;
  response?: Record<string, unknown>;
  security?: Record<string, string[]>[];
};

/** The codes each documented route answers with, gathered by the hooks below (which may run twice). */
const declared = new WeakMap<object, Set<ErrorCode>>();

/** One status's description: each code with what it means. */
const describe = (codes: ErrorCode[]) => codes.map((c) => `\`${c}\`: ${ERROR_CODES[c].meaning}`).join("\n\n");

function declare(schema: Schema, codes: readonly ErrorCode[]) {
  const all = declared.get(schema) ?? new Set<ErrorCode>(["internal_error"]);
  for (const c of codes) all.add(c);
  declared.set(schema, all);
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of all) byStatus.set(httpStatusOf(c), [...(byStatus.get(httpStatusOf(c)) ?? []), c]);
  const errors = Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [String(status), envelope(describe(list))]),
  );
  const success = Object.fromEntries(
    Object.entries(schema.response ?? {}).filter(([status]) => !isErrorStatus(status)),
  );
  schema.response = { ...success, ...errors, ...RANGES };
}

/** A route documented with the envelope: has a response schema, is not hidden, declares no other error shape. */
function envelopeRoute(schema: Schema | undefined): boolean {
  if (!schema?.response || schema.hide) return false;
  return Object.entries(schema.response)
    .filter(([status]) => isErrorStatus(status))
    .every(([, s]) => isEnvelope(s));
}

const hasPart = (schema: unknown) => schema !== undefined && schema !== null;

/** What a route's shape implies it can answer. */
function impliedCodes(route: RouteOptions, schema: Schema): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if ([schema.body, schema.querystring, schema.params, schema.headers].some(hasPart))
    codes.push("validation_error");
  if (hasPart(schema.body)) codes.push("invalid_json", "payload_too_large", "unsupported_media_type");
  const params = Object.keys((schema.params as { properties?: object } | undefined)?.properties ?? {});
  for (const p of params) if (NOT_FOUND_BY_PARAM[p]) codes.push(NOT_FOUND_BY_PARAM[p]);
  const preHandlers = [route.preHandler].flat();
  if (preHandlers.includes(requireAdmin)) codes.push("admin_required");
  const headers = Object.keys((schema.headers as { properties?: object } | undefined)?.properties ?? {});
  if (headers.includes("idempotency-key")) codes.push("idempotency_key_in_flight", "idempotency_key_reused");
  if (schema.security?.some((s) => "bearer" in s)) codes.push(...BEARER_AUTH);
  return [...codes, ...(schema.errors ?? [])];
}

/**
 * Documents the error responses of every documented route (one with a response schema and not
 * hidden) as the envelope: each status the route can answer, with the codes that answer it and what
 * they mean, plus the `4xx` / `5xx` ranges; the same schemas serialise the refusals. A route that
 * declares errors of another shape (OAuth's RFC 6749 bodies, sync admission's refusals) speaks its own
 * dialect and is left as it is.
 */
export function addErrorSchemas(app: FastifyInstance) {
  app.addHook("onRoute", (route) => {
    const schema = route.schema as Schema | undefined;
    if (schema && envelopeRoute(schema)) declare(schema, impliedCodes(route, schema));
    else if (schema?.response && !schema.hide) describeDialect(schema);
  });
}

/**
 * A route with its own error shape: each error status is described by the codes of that dialect (RFC 6749
 * `error` values for OAuth, the contract's `error_category` values for sync admission) that answer it.
 */
function describeDialect(schema: Schema) {
  const response = schema.response ?? {};
  for (const [status, s] of Object.entries(response)) {
    if (!isErrorStatus(status) || (s as { description?: string }).description) continue;
    const props = Object.keys((s as { properties?: object }).properties ?? {});
    const flag = props.includes("error_category") ? "admission" : props.includes("error") ? "oauth" : null;
    const codes = (Object.keys(ERROR_CODES) as ErrorCode[]).filter(
      (c) => flag && ERROR_CODES[c][flag] && String(httpStatusOf(c)) === status,
    );
    const description = codes.length
      ? describe(codes)
      : status === "500"
        ? "Internal error: quote the request id when reporting it."
        : `Refused (${status}).`;
    response[status] = { ...(s as object), description };
  }
}

/**
 * For the routes behind `authenticate` (http/auth.ts), registered in their plugin: documents the bearer
 * token and `X-Team-Slug` they read (the `bearer` and `team` security schemes) and the refusals of both.
 */
export function documentTeamAuth(app: FastifyInstance) {
  app.addHook("onRoute", (route) => {
    const schema = route.schema as Schema | undefined;
    if (!schema || !envelopeRoute(schema)) return;
    schema.security ??= [{ bearer: [], team: [] }];
    declare(schema, TEAM_AUTH);
    // A write refuses read-only API tokens (tokens/scope.ts).
    if ([route.method].flat().some((m) => !isReadRequest(m, route.url))) declare(schema, ["token_read_only"]);
  });
}
