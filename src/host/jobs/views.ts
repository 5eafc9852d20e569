import type { JobRow } from "./repository.ts";

/** The operation shape clients poll (CLI contract §7). */
export function operationView(job: JobRow) {
  return {
    operation_id: job.id,
    status: job.status,
    kind: job.kind,
    progress: job.progress ?? null,
    result: job.status === "completed" ? (job.result ?? {}) : null,
    error: job.status === "failed" ? job.error : null,
    created_at: job.createdAt.toISOString(),
    updated_at: job.updatedAt.toISOString(),
  };
}
