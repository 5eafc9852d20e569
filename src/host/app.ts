import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import { ulid } from "ulid";
import type { DatabaseHandle } from "../storage/database.ts";
import { auditRoutes } from "./audit/routes.ts";
import { DEFAULT_BODY_LIMIT } from "./config.ts";
import { healthRoutes } from "./health/routes.ts";
import { authenticate } from "./http/auth.ts";
import { registerErrorHandling } from "./http/error-handler.ts";
import { ErrorEnvelope } from "./http/schemas.ts";
import { validatorCompiler } from "./http/validation.ts";
import { createLogger } from "./logger.ts";
import { createServices, type Services } from "./services.ts";
import { meRoutes, teamRoutes } from "./teams/routes.ts";
import { tokenRoutes } from "./tokens/routes.ts";

export interface AppOptions {
  database: DatabaseHandle;
  logger?: Logger;
  bodyLimitBytes?: number;
}

export interface App {
  server: FastifyInstance;
  services: Services;
}

const API_DESCRIPTION = `Tracker control plane for the Spec Kitty CLI.

Authenticate with \`Authorization: Bearer <token>\` and name the team with \`X-Team-Slug\` (its slug or id).
Every path also answers without its trailing slash (never a redirect). Errors share one JSON envelope
(\`error_code\`, \`message\`, \`retryable\`, \`user_action_required\`, \`source\`, \`retry_after_seconds\`,
\`effect_certainty\`). Request bodies are JSON, at most 1 MiB by default; unknown fields are refused.`;

export async function buildApp(opts: AppOptions): Promise<App> {
  const services = createServices(opts.database.db);
  const server = Fastify({
    loggerInstance: (opts.logger ?? createLogger()) as FastifyBaseLogger,
    genReqId: () => `req_${ulid()}`,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: "request_id" }),
    bodyLimit: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();

  server.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body must be refused (415), not validated as a string.
  server.removeContentTypeParser("text/plain");
  server.addSchema(ErrorEnvelope);
  registerErrorHandling(server);
  server.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  await server.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Spec Kitty tracker control plane", version: "1", description: API_DESCRIPTION },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "Personal API token or CLI access token." },
          team: { type: "apiKey", in: "header", name: "X-Team-Slug", description: "Team slug or id." },
        },
      },
      security: [{ bearer: [], team: [] }],
    },
  });
  await server.register(swaggerUi, { routePrefix: "/api/docs" });
  server.get("/api/v1/openapi.json", { schema: { hide: true } }, () => server.swagger());

  server.get("/", { schema: { hide: true } }, () => ({
    service: "spec-kitty-saas-tracker",
    api: "/api/v1/",
    docs: "/api/docs",
    openapi: "/api/v1/openapi.json",
  }));
  await server.register(healthRoutes, { ready: opts.database.ready });
  await server.register(meRoutes, { prefix: "/api/v1", services });
  await server.register(
    async (api) => {
      api.addHook("onRequest", authenticate(services));
      await api.register(teamRoutes, { services });
      await api.register(tokenRoutes, { services });
      await api.register(auditRoutes, { services });
    },
    { prefix: "/api/v1" },
  );

  await server.ready();
  return { server: server as unknown as FastifyInstance, services };
}
