import { createRequire } from "node:module";
import { FastifyOtelInstrumentation } from "@fastify/otel";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

export interface Tracing {
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingConfig {
  /** OTLP/HTTP base URL; spans are posted to `<endpoint>/v1/traces`. */
  endpoint: string;
  serviceName: string;
}

/**
 * OpenTelemetry tracing: the Node SDK's tracer with an OTLP/HTTP exporter, and instrumentation of
 * incoming HTTP (the server span), Fastify (a span per request named by its route, and its hooks),
 * PostgreSQL queries (`pg`) and outgoing `fetch` (undici: the provider calls). Must run before the
 * app's modules load: instrumentation patches modules as they are first required.
 *
 * The app is ES modules, and an ES `import` of a CommonJS package does not pass through `require`,
 * where the patching happens; requiring `pg` here first puts the patched module in the CommonJS cache,
 * which the later `import pg from "pg"` reuses. Fastify is traced through its own initialization
 * channel (`registerOnInitialization`), which needs no patching.
 */
export function startTracing(config: TracingConfig): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": config.serviceName }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: `${config.endpoint.replace(/\/+$/, "")}/v1/traces` }),
      ),
    ],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // The exporter's own posts would trace themselves.
        ignoreOutgoingRequestHook: (req) => String(req.path ?? "").startsWith("/v1/traces"),
      }),
      new UndiciInstrumentation(),
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      new FastifyOtelInstrumentation({ registerOnInitialization: true }),
    ],
  });
  const require = createRequire(import.meta.url);
  require("node:http");
  require("pg");
  return {
    async shutdown() {
      await provider.shutdown();
      unregister();
    },
  };
}
