import type { ErrorObject } from "ajv";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, httpStatusOf } from "../errors/codes.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import { toEnvelope } from "../errors/envelope.ts";
import { explain } from "./validation-errors.ts";

/**
 * The API surface of the error family: a domain error answers its code's status with the envelope
 * (cli-wire-contract §10). Fastify's own errors are turned into domain errors first.
 */

/** Fastify's own error codes for body parsing, mapped to what a client can act on. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "unsupported_media_type",
    message: "Send the body as JSON with `Content-Type: application/json`.",
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: "payload_too_large",
    message: "The request body is larger than the documented limit.",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: "invalid_json",
    message: "The body is empty but `Content-Type: application/json` was sent. Send a JSON object.",
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: "invalid_json",
    message: "The body is not valid JSON.",
  },
};

/** A field as the message names it: a header by its usual spelling (`the Idempotency-Key header`). */
const shown = (field: string) =>
  field.startsWith("headers.")
    ? `the ${field
        .slice("headers.".length)
        .split("-")
        .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
        .join("-")} header`
    : field;

function fromValidation(err: FastifyError): ValidationError {
  const fields = explain(err.validationContext ?? "body", (err.validation ?? []) as ErrorObject[]);
  const summary = fields.map((f) => `${shown(f.field)} ${f.problem}`).join("; ");
  return new ValidationError(`Invalid request: ${summary || "the input does not match the schema"}.`, fields);
}

/**
 * A refusal as the API answers it. `status` is the code's own, except for a Fastify 4xx this layer has
 * no code for (`bad_request`), which keeps the status Fastify chose.
 */
export interface ApiRefusal {
  status: number;
  error: DomainError;
}

const refusal = (error: DomainError): ApiRefusal => ({ status: httpStatusOf(error.code), error });

export function toApiRefusal(err: unknown): ApiRefusal {
  if (err instanceof DomainError) return refusal(err);
  const fe = err as FastifyError;
  if (fe?.validation) return refusal(fromValidation(fe));
  const known = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return refusal(new DomainError(known.code, known.message));
  if (err instanceof SyntaxError && (fe as any).statusCode === 400) {
    return refusal(new DomainError("invalid_json", "The body is not valid JSON."));
  }
  const status = typeof fe?.statusCode === "number" ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return {
      status,
      error: new DomainError("bad_request", fe.message || "The request could not be processed."),
    };
  }
  return refusal(
    new DomainError("internal_error", "Internal error. Quote the request id when reporting it.", {
      retryable: true,
      effectCertainty: "unknown",
    }),
  );
}

/** Response headers a refusal carries: the Bearer challenge on 401, the wait on a local 429. */
export function refusalHeaders(err: DomainError): Record<string, string> {
  if (err.wireCode === "unauthorized") return { "www-authenticate": "Bearer" };
  if (err.code === "too_many_requests" && err.retryAfterSeconds !== null)
    return { "retry-after": String(err.retryAfterSeconds) };
  return {};
}

export function sendError(request: FastifyRequest, reply: FastifyReply, { status, error }: ApiRefusal) {
  const key = request.headers["idempotency-key"];
  return reply
    .code(status)
    .headers(refusalHeaders(error))
    .type("application/json; charset=utf-8")
    .send(
      toEnvelope(error, { requestId: request.id, idempotencyKey: typeof key === "string" ? key : undefined }),
    );
}

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`): a path whose
 * percent-encoding is not UTF-8 (how a lone surrogate arrives, `%ED%A0%80`) or an over-long parameter.
 * Without this they answer Fastify's own JSON, not the envelope.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const refused =
    err.code === "FST_ERR_BAD_URL"
      ? refusal(
          new ValidationError(
            "Invalid request: the path is not valid percent-encoded UTF-8 (a lone surrogate or a broken escape); encode each path segment as UTF-8.",
            [{ field: "path", problem: "is not valid percent-encoded UTF-8" }],
          ),
        )
      : err.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? refusal(new DomainError("uri_too_long", "A path segment is longer than the service accepts."))
        : toApiRefusal(err);
  request.log.info({ error_code: refused.error.wireCode, status: refused.status }, "request refused");
  return sendError(request, reply, refused);
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err, request, reply) => {
    const refused = toApiRefusal(err);
    if (refused.status >= 500) request.log.error({ err }, "request failed");
    else request.log.info({ error_code: refused.error.wireCode, status: refused.status }, "request refused");
    return sendError(request, reply, refused);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      refusal(
        new DomainError(
          "not_found",
          `No route ${request.method} ${request.url.split("?")[0]}. The API is described at /api/docs.`,
        ),
      ),
    ),
  );
}
