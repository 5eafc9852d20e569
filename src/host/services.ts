import type { Database } from "../storage/database.ts";
import { auditService } from "./audit/service.ts";
import { teamsService } from "./teams/service.ts";
import { tokensService } from "./tokens/service.ts";

/** The domain services, built once per process over one database handle. Routes and pages use only these. */
export function createServices(db: Database) {
  const audit = auditService(db);
  return {
    audit,
    teams: teamsService(db),
    tokens: tokensService(db, audit),
  };
}

export type Services = ReturnType<typeof createServices>;
