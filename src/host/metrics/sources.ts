import { sql } from "drizzle-orm";
import type { Database } from "../../storage/database.ts";
import type { JobsService } from "../jobs/service.ts";
import type { MetricSources } from "./registry.ts";

const rowsOf = (r: unknown) =>
  ((r as { rows?: unknown[] }).rows ?? (r as unknown[])) as Record<string, unknown>[];

/** The database reads behind the queue and inventory gauges: the whole deployment's, not this process's. */
export function metricSources(db: Database, jobs: Pick<JobsService, "summary">): MetricSources {
  return {
    queue: () => jobs.summary(),
    async inventorySize() {
      const rows = rowsOf(
        await db.execute(
          sql`select provider, count(*)::int as n from resources where missing_since is null group by provider`,
        ),
      );
      return rows.map((r) => ({ provider: String(r.provider), resources: Number(r.n) }));
    },
  };
}
