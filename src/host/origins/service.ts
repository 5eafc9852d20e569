import type { Static } from "typebox";
import type { Database } from "../../storage/database.ts";
import type { NormalizedIssue, ProviderId } from "../../tracker/index.ts";
import { newId } from "../ids.ts";
import type { RuntimeTarget, RuntimeTargets } from "../runtime/target.ts";
import { statusName } from "../search/candidates.ts";
import { enrichment } from "../status/service.ts";
import type { AuthContext } from "../teams/access.ts";
import { issueNotInResource, originConflict } from "./errors.ts";
import type { OriginLinkRow } from "./repository.ts";
import { originsRepository } from "./repository.ts";
import type { OriginLink } from "./schemas.ts";

export interface OriginBindInput {
  provider: ProviderId;
  binding_ref?: string;
  project_slug?: string;
  mission_id: string;
  mission_slug?: string | null;
  external_issue_id: string;
  external_issue_key: string;
  external_issue_url: string;
  external_title: string;
  external_status: string;
}

const same = (a: string | null | undefined, b: string | null | undefined) =>
  Boolean(a && b && a.toLowerCase() === b.toLowerCase());

function view(row: OriginLinkRow, alreadyBound: boolean) {
  return {
    origin_link_id: row.id,
    bound_at: row.boundAt.toISOString(),
    already_bound: alreadyBound,
    mission_id: row.missionId,
    mission_slug: row.missionSlug,
    provider: row.provider,
    external_issue_id: row.externalIssueId,
    external_issue_key: row.externalIssueKey,
    external_issue_url: row.externalIssueUrl,
    title: row.title,
    status: row.status,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
  };
}

/** Mission-origin links (contract §8.3): one origin issue per mission, from the mapped resource only. */
export function originsService(db: Database, deps: { targets: Pick<RuntimeTargets, "route"> }) {
  const repo = originsRepository(db);

  /** The issue, read from the mapped resource, whose id or key is the one the client named. */
  async function verifiedIssue(t: RuntimeTarget, input: OriginBindInput): Promise<NormalizedIssue> {
    const named = (i: NormalizedIssue | null) =>
      i && (i.ref.id === input.external_issue_id || same(i.ref.key, input.external_issue_key)) ? i : null;
    const get = (idOrKey: string) => t.call(() => t.adapter.getIssue(t.conn, t.params, idOrKey));
    const byKey = named(await get(input.external_issue_key));
    if (byKey) return byKey;
    const byId =
      input.external_issue_id !== input.external_issue_key ? named(await get(input.external_issue_id)) : null;
    if (byId) return byId;
    throw issueNotInResource(input.external_issue_key, t.mapping.mapping.displayLabel);
  }

  return {
    async bind(
      auth: AuthContext,
      input: OriginBindInput,
    ): Promise<{ status: 200; body: Static<typeof OriginLink> }> {
      const t = await deps.targets.route(auth, input);
      const m = t.mapping.mapping;
      const frame = { ...enrichment(t.mapping) };
      const existing = await repo.forMission(m.projectId, input.mission_id);
      const isSame = (row: OriginLinkRow, issue: { id: string; key: string | null }) =>
        row.provider === t.provider &&
        (row.externalIssueId === issue.id || same(row.externalIssueKey, issue.key));

      // Settled from the stored link when possible: a replayed bind needs no provider call.
      if (
        existing &&
        existing.provider === t.provider &&
        existing.externalIssueId === input.external_issue_id
      )
        return { status: 200, body: { ...view(existing, true), ...frame } };

      const issue = await verifiedIssue(t, input);
      if (existing) {
        if (isSame(existing, issue.ref)) return { status: 200, body: { ...view(existing, true), ...frame } };
        throw originConflict(input.mission_id, existing);
      }
      const { row, created } = await repo.insertOrGet({
        id: newId("mol"),
        teamId: m.teamId,
        projectId: m.projectId,
        bindingRef: m.bindingRef,
        provider: t.provider,
        missionId: input.mission_id,
        missionSlug: input.mission_slug || null,
        externalIssueId: issue.ref.id,
        externalIssueKey: issue.ref.key,
        externalIssueUrl: issue.ref.url ?? (input.external_issue_url || null),
        title: issue.title,
        status: statusName(issue),
        resourceType: t.resource.resource_type,
        resourceId: t.resource.resource_id,
        createdBy: auth.user.id,
      });
      if (!created && !isSame(row, issue.ref)) throw originConflict(input.mission_id, row);
      return { status: 200, body: { ...view(row, !created), ...frame } };
    },
  };
}

export type OriginsService = ReturnType<typeof originsService>;
