import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, toEnvelope, ValidationError } from "./errors.ts";

/** Fastify's own error codes for body parsing, mapped to what a client can act on. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: "unsupported_media_type",
    message: "Send the body as JSON with `Content-Type: application/json`.",
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: "payload_too_large",
    message: "The request body is larger than the documented limit.",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: "invalid_json",
    message: "The body is empty but `Content-Type: application/json` was sent. Send a JSON object.",
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: "invalid_json",
    message: "The body is not valid JSON.",
  },
};

function fromValidation(err: FastifyError): ValidationError {
  const part = err.validationContext ?? "body";
  const fields = (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    let field = v.instancePath.replace(/^\//, "").replace(/\//g, ".");
    if (params?.missingProperty) field = [field, params.missingProperty].filter(Boolean).join(".");
    if (params?.additionalProperty) field = [field, params.additionalProperty].filter(Boolean).join(".");
    const problem =
      v.keyword === "additionalProperties"
        ? "is not a known field"
        : (v.message ?? "is invalid").replace(/^must/, "must");
    return { field: `${part}${field ? `.${field}` : ""}`, problem };
  });
  const summary = fields.map((f) => `${f.field} ${f.problem}`).join("; ");
  return new ValidationError(`Invalid request: ${summary || "the input does not match the schema"}.`, fields);
}

export function asAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError;
  if (fe?.validation) return fromValidation(fe);
  const known = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return new AppError(known.status, known.code, known.message, { userActionRequired: true });
  if (err instanceof SyntaxError && (fe as any).statusCode === 400) {
    return new AppError(400, "invalid_json", "The body is not valid JSON.", { userActionRequired: true });
  }
  const status = typeof fe?.statusCode === "number" ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return new AppError(status, "bad_request", fe.message || "The request could not be processed.", {
      userActionRequired: true,
    });
  }
  return new AppError(500, "internal_error", "Internal error. Quote the request id when reporting it.", {
    retryable: true,
    effectCertainty: "unknown",
  });
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: AppError) {
  const key = request.headers["idempotency-key"];
  for (const [h, v] of Object.entries(err.opts.headers ?? {})) reply.header(h, v);
  return reply
    .code(err.status)
    .type("application/json; charset=utf-8")
    .send(
      toEnvelope(err, { requestId: request.id, idempotencyKey: typeof key === "string" ? key : undefined }),
    );
}

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`): a path whose
 * percent-encoding is not UTF-8 (how a lone surrogate arrives, `%ED%A0%80`) or an over-long parameter.
 * Without this they answer Fastify's own JSON, not the envelope.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const appErr =
    err.code === "FST_ERR_BAD_URL"
      ? new ValidationError(
          "Invalid request: the path is not valid percent-encoded UTF-8 (a lone surrogate or a broken escape); encode each path segment as UTF-8.",
          [{ field: "path", problem: "is not valid percent-encoded UTF-8" }],
        )
      : err.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? new AppError(414, "uri_too_long", "A path segment is longer than the service accepts.", {
            userActionRequired: true,
          })
        : asAppError(err);
  request.log.info({ error_code: appErr.code, status: appErr.status }, "request refused");
  return sendError(request, reply, appErr);
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((err, request, reply) => {
    const appErr = asAppError(err);
    if (appErr.status >= 500) request.log.error({ err }, "request failed");
    else request.log.info({ error_code: appErr.code, status: appErr.status }, "request refused");
    return sendError(request, reply, appErr);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new AppError(
        404,
        "not_found",
        `No route ${request.method} ${request.url.split("?")[0]}. The API is described at /api/docs.`,
      ),
    ),
  );
}
