import cookie from "@fastify/cookie";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import { dashboardRoutes } from "../dashboard/index.ts";
import { cliAuthPages } from "../dashboard/pages/cli-auth.ts";
import { callbackProblemPage } from "../dashboard/pages/connect-problem.ts";
import { admissionRoutes } from "../host/admission/routes.ts";
import { auditRoutes } from "../host/audit/routes.ts";
import { bindingRoutes } from "../host/binding/routes.ts";
import { DEFAULT_BODY_LIMIT, type TrustProxy } from "../host/config.ts";
import { curationRoutes } from "../host/curation/routes.ts";
import { healthRoutes } from "../host/health/routes.ts";
import { registerApiDocs } from "../host/http/api-docs.ts";
import { authenticate } from "../host/http/auth.ts";
import { frameworkErrors, registerErrorHandling } from "../host/http/error-handler.ts";
import { addErrorSchemas, documentTeamAuth } from "../host/http/error-schemas.ts";
import { type OutboundConfig, outboundPolicy } from "../host/http/outbound.ts";
import { ErrorEnvelope } from "../host/http/schemas.ts";
import { rejectUnstorableText } from "../host/http/storable-text.ts";
import { validatorCompiler } from "../host/http/validation.ts";
import { ulid } from "../host/ids.ts";
import { connectCallbackRoutes, installationRoutes } from "../host/installations/routes.ts";
import { configuredProviderUrls, type ProviderSettings } from "../host/installations/settings.ts";
import { inventoryRoutes } from "../host/inventory/routes.ts";
import { operationRoutes } from "../host/jobs/routes.ts";
import type { JobQueueOptions } from "../host/jobs/service.ts";
import { createLogger } from "../host/logger.ts";
import type { Mailer } from "../host/mail/mailer.ts";
import { mappingAdminRoutes, mappingRoutes } from "../host/mappings/routes.ts";
import { recordRequests } from "../host/metrics/http.ts";
import { createMetrics, type Metrics } from "../host/metrics/registry.ts";
import { authorizePaths } from "../host/oauth/authorize-docs.ts";
import { oauthRoutes, sessionStatusRoutes } from "../host/oauth/routes.ts";
import type { OAuthOptions } from "../host/oauth/service.ts";
import { originRoutes } from "../host/origins/routes.ts";
import { projectRoutes } from "../host/projects/routes.ts";
import { runtimeRoutes } from "../host/runtime/routes.ts";
import { searchRoutes } from "../host/search/routes.ts";
import type { Vault } from "../host/secrets/vault.ts";
import { statusRoutes } from "../host/status/routes.ts";
import { memberRoutes } from "../host/teams/member-routes.ts";
import { meRoutes, teamRoutes } from "../host/teams/routes.ts";
import { tokenRoutes } from "../host/tokens/routes.ts";
import { refuseWritesOfReadOnlyTokens } from "../host/tokens/scope.ts";
import { webhookAdminRoutes, webhookReceiverRoutes } from "../host/webhooks/routes.ts";
import type { DatabaseHandle } from "../storage/database.ts";
import { createHttpClient, type HttpClient, type RetryPolicy } from "../tracker/index.ts";
import { createServices, type Services } from "./compose.ts";
import { startWorkers } from "./workers.ts";

export interface AppOptions {
  database: DatabaseHandle;
  logger?: Logger;
  bodyLimitBytes?: number;
  vault: Vault;
  settings: ProviderSettings;
  /** Where admin-supplied provider URLs may point; default: public addresses only. */
  outbound?: OutboundConfig;
  /** Retry policy of the provider HTTP client (tests shorten it). */
  retry?: Partial<RetryPolicy>;
  /** Replaces the provider HTTP client (and its connection-time outbound check). */
  http?: HttpClient;
  /** Run the job worker in this process (default true). */
  worker?: boolean;
  jobPollMs?: number;
  /** Job worker settings (lease, heartbeat, concurrency, retries); see config.ts `jobSettings`. */
  jobs?: JobQueueOptions;
  /** Days finished operations are kept before the purge (at least 1). */
  jobRetentionDays?: number;
  /** Minutes between scheduled inventory refreshes per installation (0 = off). */
  refreshIntervalMinutes?: number;
  /** Seconds between housekeeping ticks: scheduled-refresh check and purges (default 60). */
  housekeepingSeconds?: number;
  /** Public origin for OAuth redirect URIs; defaults to the address the server listens on. */
  publicUrl?: string;
  /** CLI sign-in lifetimes (access token, device code, refresh reuse window). */
  oauth?: OAuthOptions;
  /** Which proxies' `X-Forwarded-For` is believed for the client address (default: none). */
  trustProxy?: TrustProxy;
  /** Extra plugins registered before the server is sealed (benchmarks add their baseline routes here). */
  plugins?: FastifyPluginAsync<{ services: Services }>[];
  /** Memory for teams' inventory snapshots (SNAPSHOT_CACHE_MB); 0: every read from indexed SQL. */
  snapshotCacheBytes?: number;
  /** Disk for cold teams' encoded `tracker/resources/` answers (default 1 GiB) and its parent directory (os.tmpdir()). */
  listingCache?: { bytes?: number; dir?: string };
  /** Where invitation emails go; default: none configured (logged as not sent, without the link). */
  mailer?: Mailer;
  /** The metrics registry requests, provider calls and jobs record into (a new one when absent). */
  metrics?: Metrics;
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
  const listeningOrigin = () => {
    const a = server.server.address();
    return a && typeof a === "object" ? `http://127.0.0.1:${a.port}` : "http://127.0.0.1";
  };
  const logger = opts.logger ?? createLogger();
  const outbound = outboundPolicy(opts.outbound, configuredProviderUrls(opts.settings));
  const metrics = opts.metrics ?? createMetrics();
  const http =
    opts.http ??
    createHttpClient({
      retry: opts.retry,
      guard: outbound.guard,
      onAttempt: metrics.provider.attempt,
      onWait: metrics.provider.wait,
    });
  const services = createServices(opts.database.db, {
    vault: opts.vault,
    settings: opts.settings,
    outbound,
    http,
    metrics,
    logger,
    jobPollMs: opts.jobPollMs,
    jobs: opts.jobs,
    publicUrl: () => opts.publicUrl ?? listeningOrigin(),
    oauth: opts.oauth,
    mailer: opts.mailer,
    snapshotCacheBytes: opts.snapshotCacheBytes,
    listingCache: opts.listingCache,
  });
  const server = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: () => `req_${ulid()}`,
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: "request_id" }),
    bodyLimit: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    trustProxy: opts.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  server.setValidatorCompiler(validatorCompiler);
  // JSON only: a text/plain body must be refused (415), not validated as a string.
  server.removeContentTypeParser("text/plain");
  server.addSchema(ErrorEnvelope);
  addErrorSchemas(server);
  registerErrorHandling(server);
  rejectUnstorableText(server);
  recordRequests(server as unknown as FastifyInstance, metrics);
  server.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  // `request.cookies` and `reply.setCookie` for the dashboard, CLI sign-in and connect cookies (http/cookies.ts).
  await server.register(cookie);

  await registerApiDocs(server, { description: API_DESCRIPTION, paths: authorizePaths });

  await server.register(dashboardRoutes, { services });
  await server.register(healthRoutes, { ready: opts.database.ready });
  await server.register(meRoutes, { prefix: "/api/v1", services });
  // CLI sign-in: OAuth endpoints and consent pages at the origin root, session status and admission under /api/v1.
  await server.register(oauthRoutes, { services });
  await server.register(cliAuthPages, { services });
  await server.register(sessionStatusRoutes, { prefix: "/api/v1", services });
  await server.register(admissionRoutes, { prefix: "/api/v1", services });
  await server.register(connectCallbackRoutes, {
    prefix: "/api/v1",
    services,
    problemPage: callbackProblemPage,
  });
  // Provider webhooks: signed by the provider, no bearer token (docs/webhooks.md).
  await server.register(webhookReceiverRoutes, { prefix: "/api/v1", services });
  await server.register(
    async (api) => {
      api.addHook("onRequest", authenticate(services));
      api.addHook("onRequest", refuseWritesOfReadOnlyTokens);
      documentTeamAuth(api);
      await api.register(teamRoutes, { services });
      await api.register(tokenRoutes, { services });
      await api.register(auditRoutes, { services });
      await api.register(installationRoutes, { services });
      await api.register(inventoryRoutes, { services });
      await api.register(operationRoutes, { services });
      await api.register(bindingRoutes, { services });
      await api.register(statusRoutes, { services });
      await api.register(mappingRoutes, { services });
      await api.register(mappingAdminRoutes, { services });
      await api.register(projectRoutes, { services });
      await api.register(runtimeRoutes, { services });
      await api.register(searchRoutes, { services });
      await api.register(originRoutes, { services });
      await api.register(memberRoutes, { services });
      await api.register(curationRoutes, { services });
      await api.register(webhookAdminRoutes, { services });
    },
    { prefix: "/api/v1" },
  );

  for (const plugin of opts.plugins ?? []) await server.register(plugin, { services });

  // The listing files are this process's own: gone with it.
  server.addHook("onClose", async () => services.inventory.close());
  if (opts.worker !== false) {
    const stopWorkers = startWorkers(services, opts, logger);
    server.addHook("onClose", stopWorkers);
  }
  await server.ready();
  return { server: server as unknown as FastifyInstance, services };
}
