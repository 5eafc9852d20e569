import type { AdmissionService } from "./admission/service.ts";
import type { AuditService } from "./audit/service.ts";
import type { AuthService } from "./auth/service.ts";
import type { CandidateTokens } from "./binding/candidate-token.ts";
import type { BindingService } from "./binding/service.ts";
import type { CurationService } from "./curation/service.ts";
import type { FlashService } from "./flash/service.ts";
import type { RateLimits } from "./http/rate-limits.ts";
import type { IdempotencyService } from "./idempotency/service.ts";
import type { ConnectFlows } from "./installations/connect.ts";
import type { InstallationsService } from "./installations/service.ts";
import type { ProviderSettings } from "./installations/settings.ts";
import type { InventoryService } from "./inventory/service.ts";
import type { InvitationsService } from "./invitations/service.ts";
import type { JobsService } from "./jobs/service.ts";
import type { LinksService } from "./links/service.ts";
import type { MappingAdminService } from "./mappings/admin-service.ts";
import type { MappingsService } from "./mappings/service.ts";
import type { Metrics } from "./metrics/registry.ts";
import type { OAuthService } from "./oauth/service.ts";
import type { OriginsService } from "./origins/service.ts";
import type { ProjectsService } from "./projects/service.ts";
import type { RuntimeService } from "./runtime/service.ts";
import type { SearchService } from "./search/service.ts";
import type { SessionsService } from "./sessions/service.ts";
import type { StatusService } from "./status/service.ts";
import type { MembersService } from "./teams/members.ts";
import type { TeamsService } from "./teams/service.ts";
import type { TokensService } from "./tokens/service.ts";
import type { WebhooksService } from "./webhooks/service.ts";

/**
 * The domain operations by feature, as types only: the composition root (src/app/compose.ts) builds
 * them; each route plugin and dashboard page names the few it calls with `Pick<Domain, ...>`, so no
 * plugin can reach a service it did not declare. No repository is part of it.
 */
export interface Domain {
  admission: AdmissionService;
  audit: AuditService;
  binding: BindingService;
  candidates: CandidateTokens;
  connect: ConnectFlows;
  curation: CurationService;
  idempotency: IdempotencyService;
  installations: InstallationsService;
  inventory: InventoryService;
  jobs: JobsService;
  limits: RateLimits;
  links: LinksService;
  mappingAdmin: MappingAdminService;
  mappings: MappingsService;
  oauth: OAuthService;
  origins: OriginsService;
  projects: ProjectsService;
  runtime: RuntimeService;
  search: SearchService;
  sessions: SessionsService;
  settings: ProviderSettings;
  status: StatusService;
  teams: TeamsService;
  tokens: TokensService;
  members: MembersService;
  invitations: InvitationsService;
  flash: FlashService;
  auth: AuthService;
  /** Prometheus counters and histograms (metrics/registry.ts); features record, the listener serves. */
  metrics: Metrics;
  webhooks: WebhooksService;
}
