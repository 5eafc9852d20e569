import type { Static } from "typebox";
import type { JobRow } from "./repository.ts";
import type { Operation } from "./schemas.ts";

/**
 * The operation shape clients poll (CLI contract §7). The wire keeps `pending|running|completed|failed`:
 * a `dead` job is `failed` with its last error, `dead: true` and the attempts it used.
 */
export function operationView(job: JobRow): Static<typeof Operation> {
  const dead = job.status === "dead";
  const status = job.status === "dead" ? "failed" : job.status;
  return {
    operation_id: job.id,
    status,
    kind: job.kind,
    progress: job.progress ?? null,
    result: job.status === "completed" ? ((job.result as Record<string, unknown> | null) ?? {}) : null,
    error:
      job.status === "failed" || dead
        ? { ...(job.error as object), ...(dead ? { dead: true, attempts: job.attempts } : {}) }
        : null,
    attempts: job.attempts,
    created_at: job.createdAt.toISOString(),
    updated_at: job.updatedAt.toISOString(),
  };
}
