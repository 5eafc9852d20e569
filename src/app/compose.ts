import type { Logger } from "pino";
import { admissionService } from "../host/admission/service.ts";
import { auditService } from "../host/audit/service.ts";
import { authService } from "../host/auth/service.ts";
import { candidateTokens } from "../host/binding/candidate-token.ts";
import { bindingService } from "../host/binding/service.ts";
import { readCurationRules } from "../host/curation/repository.ts";
import { curationService } from "../host/curation/service.ts";
import type { Domain } from "../host/domain.ts";
import { flashService } from "../host/flash/service.ts";
import { type OutboundPolicy, outboundPolicy } from "../host/http/outbound.ts";
import { rateLimits } from "../host/http/rate-limits.ts";
import { idempotencyService } from "../host/idempotency/service.ts";
import { connectFlows } from "../host/installations/connect.ts";
import { installationsService } from "../host/installations/service.ts";
import { configuredProviderUrls, type ProviderSettings } from "../host/installations/settings.ts";
import { inventoryService } from "../host/inventory/service.ts";
import { invitationsService } from "../host/invitations/service.ts";
import { type JobQueueOptions, jobsService } from "../host/jobs/service.ts";
import { linksService } from "../host/links/service.ts";
import { type Mailer, unsentMailer } from "../host/mail/mailer.ts";
import { mappingAdminService } from "../host/mappings/admin-service.ts";
import { mappingsService } from "../host/mappings/service.ts";
import { createMetrics, type Metrics } from "../host/metrics/registry.ts";
import { metricSources } from "../host/metrics/sources.ts";
import { type OAuthOptions, oauthService } from "../host/oauth/service.ts";
import { originsService } from "../host/origins/service.ts";
import { projectsService } from "../host/projects/service.ts";
import { runtimeService } from "../host/runtime/service.ts";
import { runtimeTargets } from "../host/runtime/target.ts";
import { searchService } from "../host/search/service.ts";
import type { Vault } from "../host/secrets/vault.ts";
import { sessionsService } from "../host/sessions/service.ts";
import { statusService } from "../host/status/service.ts";
import { membersService } from "../host/teams/members.ts";
import { teamsService } from "../host/teams/service.ts";
import { tokensService } from "../host/tokens/service.ts";
import { webhooksService } from "../host/webhooks/service.ts";
import type { Database } from "../storage/database.ts";
import type { HttpClient } from "../tracker/index.ts";

export interface ServiceDeps {
  vault: Vault;
  settings: ProviderSettings;
  /** Outbound URL policy for admin-supplied provider URLs (default: public addresses only). */
  outbound?: OutboundPolicy;
  http: HttpClient;
  logger: Logger;
  jobPollMs?: number;
  /** The job worker's lease, heartbeat, concurrency and retry settings. */
  jobs?: JobQueueOptions;
  /** Public origin of the service, for OAuth redirect URIs. */
  publicUrl: () => string;
  /** CLI sign-in lifetimes (tests shorten them). */
  oauth?: OAuthOptions;
  /** Where invitation emails go (the demo: its log; tests: memory). */
  mailer?: Mailer;
  /** The process's metrics registry (the app's scrape listener serves it); a private one when absent. */
  metrics?: Metrics;
  /** Memory for teams' inventory snapshots (see inventory/snapshot.ts); default 160 MB. */
  snapshotCacheBytes?: number;
  /** Disk for cold teams' encoded listings (see inventory/listing-files.ts). */
  listingCache?: { bytes?: number; dir?: string };
}

/**
 * The composition root of the domain: every service built once per process over one database handle,
 * each given only the services it calls. Routes and pages receive these, never a repository.
 */
export function createServices(db: Database, deps: ServiceDeps): Domain {
  const audit = auditService(db);
  const limits = rateLimits(db);
  const metrics = deps.metrics ?? createMetrics();
  const jobs = jobsService(
    db,
    deps.logger,
    { ...(deps.jobPollMs ? { pollMs: deps.jobPollMs } : {}), ...deps.jobs },
    metrics.jobs,
  );
  metrics.readFrom(metricSources(db, jobs));
  const teams = teamsService(db);
  const projects = projectsService(db);
  const candidates = candidateTokens(deps.vault.deriveKey("candidate-token"));
  const installations = installationsService(db, {
    vault: deps.vault,
    settings: deps.settings,
    outbound: deps.outbound ?? outboundPolicy({}, configuredProviderUrls(deps.settings)),
    http: deps.http,
    audit,
    teams,
    jobs,
  });
  const mappings = mappingsService(db, { audit, projects });
  const inventory = inventoryService(db, {
    installations,
    jobs,
    audit,
    candidates,
    mappings,
    metrics,
    curationRules: readCurationRules,
    snapshotCacheBytes: deps.snapshotCacheBytes,
    listingCache: deps.listingCache,
  });
  const binding = bindingService({ installations, inventory, mappings, projects, candidates });
  // Runtime (pull, push, run, search, origin links): every call routes its mapping through `binding`.
  const links = linksService(db, { mappings });
  const targets = runtimeTargets({ binding, installations, mappings });
  const tokens = tokensService(db, audit);
  const oauth = oauthService(db, {
    publicUrl: deps.publicUrl,
    logger: deps.logger,
    options: deps.oauth,
    limits,
  });
  return {
    audit,
    teams,
    jobs,
    tokens,
    limits,
    sessions: sessionsService(db, { teams, limits }),
    oauth,
    admission: admissionService(db, { teams }),
    installations,
    inventory,
    mappings,
    projects,
    binding,
    mappingAdmin: mappingAdminService({ mappings, projects, inventory, installations, candidates }),
    status: statusService({ binding, installations, mappings }),
    idempotency: idempotencyService(db),
    candidates,
    connect: connectFlows(db, {
      installations,
      settings: deps.settings,
      http: deps.http,
      publicUrl: deps.publicUrl,
    }),
    settings: deps.settings,
    links,
    runtime: runtimeService({ targets, links, jobs }),
    search: searchService({ targets }),
    origins: originsService(db, { targets }),
    members: membersService(db, { audit }),
    invitations: invitationsService(db, {
      audit,
      teams,
      mailer: deps.mailer ?? unsentMailer(deps.logger),
      publicUrl: deps.publicUrl,
    }),
    flash: flashService(db, { vault: deps.vault }),
    auth: authService(db, { tokens, oauth }),
    metrics,
    curation: curationService(db, { installations, inventory, audit }),
    webhooks: webhooksService(db, {
      vault: deps.vault,
      settings: deps.settings,
      publicUrl: deps.publicUrl,
      logger: deps.logger,
      installations,
      inventory,
      jobs,
      audit,
    }),
  };
}

/** Everything the composition root built (tests and benchmarks reach for any of it). */
export type Services = Domain;
