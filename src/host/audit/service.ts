import type { Database } from "../../storage/database.ts";
import { decodeTextCursor, toPage } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { auditRepository } from "./repository.ts";

export interface AuditEntry {
  teamId: string;
  actorUserId?: string | null;
  action: string;
  targetType: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
  requestId?: string;
}

/** Who did what to which thing, with before and after. Secrets are never passed in here. */
export function auditService(db: Database) {
  const repo = auditRepository(db);
  return {
    /** Pass a transaction handle as `db` to record inside the same transaction as the change. */
    async record(entry: AuditEntry, tx?: Database) {
      await (tx ? auditRepository(tx) : repo).insert({
        id: newId("aud"),
        teamId: entry.teamId,
        actorUserId: entry.actorUserId ?? null,
        action: entry.action,
        targetType: entry.targetType,
        targetId: entry.targetId,
        before: entry.before ?? null,
        after: entry.after ?? null,
        requestId: entry.requestId ?? null,
      });
    },
    latest: repo.latest,
    async page(teamId: string, cursor: string | undefined, limit: number, action?: string) {
      const rows = await repo.page(teamId, decodeTextCursor(cursor), limit, action);
      return toPage(
        rows,
        limit,
        (e) => ({
          id: e.id,
          action: e.action,
          target_type: e.targetType,
          target_id: e.targetId,
          actor_user_id: e.actorUserId,
          before: e.before,
          after: e.after,
          request_id: e.requestId,
          created_at: e.createdAt.toISOString(),
        }),
        (e) => e.id,
      );
    },
  };
}

export type AuditService = ReturnType<typeof auditService>;
