import type { Database } from "../../storage/database.ts";
import { decodeTextCursor, toPage } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { type AuditEventView, describeAuditEvent, redactSecrets, sentenceText } from "./describe.ts";
import { type AuditFilter, auditRepository } from "./repository.ts";

export type { AuditFilter } from "./repository.ts";

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

type Row = Awaited<ReturnType<ReturnType<typeof auditRepository>["page"]>>[number];

const view = (e: Row): AuditEventView => ({
  id: e.id,
  action: e.action,
  target_type: e.targetType,
  target_id: e.targetId,
  actor_user_id: e.actorUserId,
  before: redactSecrets(e.before),
  after: redactSecrets(e.after),
  request_id: e.requestId,
  created_at: e.createdAt.toISOString(),
});

/** An event with its actor's email and its sentence, for the dashboard and exports. */
export type ReadableAuditEvent = AuditEventView & { actor_email: string | null; summary: string };

const readable = (r: { event: Row; actorEmail: string | null }): ReadableAuditEvent => {
  const v = view(r.event);
  const actor = r.event.actorUserId ? (r.actorEmail ?? r.event.actorUserId) : null;
  return { ...v, actor_email: actor, summary: sentenceText(describeAuditEvent(v, actor)) };
};

/** At most this many events go into one export (a filter narrows a larger log). */
export const EXPORT_LIMIT = 100_000;

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
      return toPage(rows, limit, view, (e) => e.id);
    },

    /** A numbered page of the filtered log with the total, for people (the dashboard). */
    async numbered(
      teamId: string,
      filter: AuditFilter,
      o: { page: number; size: number; oldestFirst?: boolean },
    ) {
      const [rows, total] = await Promise.all([
        repo.numbered(teamId, filter, {
          offset: (o.page - 1) * o.size,
          limit: o.size,
          oldestFirst: o.oldestFirst ?? false,
        }),
        repo.count(teamId, filter),
      ]);
      return { items: rows.map(readable), total };
    },

    /** The filtered log, oldest first, secrets redacted, at most EXPORT_LIMIT events. */
    async export(teamId: string, filter: AuditFilter): Promise<ReadableAuditEvent[]> {
      const out: ReadableAuditEvent[] = [];
      let after: string | null = null;
      while (out.length < EXPORT_LIMIT) {
        const rows = await repo.batch(teamId, filter, after, Math.min(1000, EXPORT_LIMIT - out.length));
        out.push(...rows.map(readable));
        if (rows.length < 1000) break;
        after = rows[rows.length - 1].event.id;
      }
      return out;
    },

    /** Former members of the team (removed), who may appear as actors. */
    removedMembers: (teamId: string) => repo.removedMembers(teamId),
  };
}

export type AuditService = ReturnType<typeof auditService>;
