import type { Logger } from "pino";
import type { Database } from "../storage/database.ts";
import type { HttpClient } from "../tracker/index.ts";
import { auditService } from "./audit/service.ts";
import { candidateTokens } from "./binding/candidate-token.ts";
import { bindingService } from "./binding/service.ts";
import { idempotencyService } from "./idempotency/service.ts";
import { connectFlows } from "./installations/connect.ts";
import { installationsService } from "./installations/service.ts";
import type { ProviderSettings } from "./installations/settings.ts";
import { inventoryService } from "./inventory/service.ts";
import { jobsService } from "./jobs/service.ts";
import { mappingAdminService } from "./mappings/admin-service.ts";
import { mappingsRepository } from "./mappings/repository.ts";
import { mappingsService } from "./mappings/service.ts";
import { projectsService } from "./projects/service.ts";
import type { Vault } from "./secrets/vault.ts";
import { statusService } from "./status/service.ts";
import { teamsService } from "./teams/service.ts";
import { tokensService } from "./tokens/service.ts";

export interface ServiceDeps {
  vault: Vault;
  settings: ProviderSettings;
  http: HttpClient;
  logger: Logger;
  jobPollMs?: number;
  /** Public origin of the service, for OAuth redirect URIs. */
  publicUrl: () => string;
}

/** The domain services, built once per process over one database handle. Routes and pages use only these. */
export function createServices(db: Database, deps: ServiceDeps) {
  const audit = auditService(db);
  const jobs = jobsService(db, deps.logger, { pollMs: deps.jobPollMs });
  const candidates = candidateTokens(deps.vault.deriveKey("candidate-token"));
  const installations = installationsService(db, {
    vault: deps.vault,
    settings: deps.settings,
    http: deps.http,
    audit,
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
  const binding = bindingService(db, { installations, inventory, mappings, projects, candidates });
  return {
    audit,
    jobs,
    teams: teamsService(db),
    tokens: tokensService(db, audit),
    installations,
    inventory,
    mappings,
    projects,
    binding,
    mappingAdmin: mappingAdminService(db, { mappings, projects, inventory, installations, candidates }),
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
  };
}

export type Services = ReturnType<typeof createServices>;
