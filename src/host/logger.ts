import { context, trace } from "@opentelemetry/api";
import pino, { type DestinationStream, type Logger } from "pino";

/**
 * JSON logs with secrets redacted. Headers are not logged at all, but redaction still covers them
 * in case a future log call passes a header object or a provider credential.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "headers.cookie",
  "*.authorization",
  "*.password",
  "*.token",
  "*.api_token",
  "*.api_key",
  "*.access_token",
  "*.refresh_token",
  "*.client_secret",
  "*.private_key_pem",
  "*.credentials",
  "*.credential",
  "*.secret",
];

const SENSITIVE_QUERY =
  /([?&](?:code|state|token|access_token|refresh_token|api_key|password|client_secret)=)[^&]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SENSITIVE_QUERY, "$1[Redacted]");
}

export function createLogger(opts: { level?: string; stream?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
      // With tracing on (telemetry/tracing.ts), each line names the trace and span it was written in.
      mixin() {
        const span = trace.getSpan(context.active());
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
      serializers: {
        req: (req) => ({ method: req.method, url: redactUrl(req.url), remote_address: req.ip }),
        res: (res) => ({ status_code: res.statusCode }),
      },
    },
    opts.stream,
  );
}
