import type { Logger } from "pino";
import type { Database } from "../storage/database.ts";
import type { HttpClient } from "../tracker/index.ts";
import { admissionService } from "./admission/service.ts";
import { auditService } from "./audit/service.ts";
import { candidateTokens } from "./binding/candidate-token.ts";
import { bindingService } from "./binding/service.ts";
import { type OutboundPolicy, outboundPolicy } from "./http/outbound.ts";
import { rateLimits } from "./http/rate-limits.ts";
import { idempotencyService } from "./idempotency/service.ts";
import { connectFlows } from "./installations/connect.ts";
import { installationsService } from "./installations/service.ts";
import { configuredProviderUrls, type ProviderSettings } from "./installations/settings.ts";
import { inventoryService } from "./inventory/service.ts";
import { type JobQueueOptions, jobsService } from "./jobs/service.ts";
import { linksService } from "./links/service.ts";
import { mappingAdminService } from "./mappings/admin-service.ts";
import { mappingsRepository } from "./mappings/repository.ts";
import { mappingsService } from "./mappings/service.ts";
import { type OAuthOptions, oauthService } from "./oauth/service.ts";
import { originsService } from "./origins/service.ts";
import { projectsService } from "./projects/service.ts";
import { runtimeService } from "./runtime/service.ts";
import { runtimeTargets } from "./runtime/target.ts";
import { searchService } from "./search/service.ts";
import type { Vault } from "./secrets/vault.ts";
import { sessionsService } from "./sessions/service.ts";
import { statusService } from "./status/service.ts";
import { teamsService } from "./teams/service.ts";
import { tokensService } from "./tokens/service.ts";

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
}

/** The domain services, built once per process over one database handle. Routes and pages use only these. */
export function createServices(db: Database, deps: ServiceDeps) {
  const audit = auditService(db);
  const limits = rateLimits(db);
  const jobs = jobsService(db, deps.logger, {
    ...(deps.jobPollMs ? { pollMs: deps.jobPollMs } : {}),
    ...deps.jobs,
  });
  const candidates = candidateTokens(deps.vault.deriveKey("candidate-token"));
  const installations = installationsService(db, {
    vault: deps.vault,
    settings: deps.settings,
    outbound: deps.outbound ?? outboundPolicy({}, configuredProviderUrls(deps.settings)),
    http: deps.http,
    audit,
    jobs,
  });
  const inventory = inventoryService(db, {
    installations,
    jobs,
    audit,
    candidates,
    mappings: mappingsRepository(db),
  });
  const mappings = mappingsService(db, { audit });
  const projects = projectsService(db);
  const binding = bindingService({ installations, inventory, mappings, projects, candidates });
  // Runtime (pull, push, run, search, origin links): every call routes its mapping through `binding`.
  const links = linksService(db, { mappings });
  const targets = runtimeTargets({ binding, installations, mappings });
  return {
    audit,
    jobs,
    teams: teamsService(db),
    tokens: tokensService(db, audit),
    limits,
    sessions: sessionsService(db, { limits }),
    oauth: oauthService(db, { publicUrl: deps.publicUrl, logger: deps.logger, options: deps.oauth, limits }),
    admission: admissionService(db),
    installations,
    inventory,
    mappings,
    projects,
    binding,
    mappingAdmin: mappingAdminService({ mappings, projects, inventory, installations, candidates }),
    status: statusService({ binding, installations, mappings }),
    idempotency: idempotencyService(db),
    candidates,
    connect: connectFlows({
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
  };
}

export type Services = ReturnType<typeof createServices>;
