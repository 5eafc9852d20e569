import type { Static } from "typebox";
import type { ProviderId } from "../../tracker/index.ts";
import { hiddenNotice } from "../curation/rules.ts";
import type { InstallationsService } from "../installations/service.ts";
import type { InventoryService } from "../inventory/service.ts";
import type { BindableRow, BindableSnapshot } from "../inventory/snapshot.ts";
import {
  bindingNotFound,
  mappingDisabled,
  noMapping,
  projectMismatch,
  resourceNotFound,
  routingConflict,
} from "../mappings/errors.ts";
import { mappingState } from "../mappings/health.ts";
import type { JoinedMapping, MappingsService } from "../mappings/service.ts";
import { freeProjectSlug, type ProjectIdentity, type ProjectsService } from "../projects/service.ts";
import { installationDisconnected, installationRevoked } from "../runtime/errors.ts";
import type { AuthContext, TeamScope } from "../teams/access.ts";
import { type CandidateTokens, invalidCandidateToken } from "./candidate-token.ts";
import { coldResolve } from "./cold.ts";
import {
  compareCandidates,
  type Evidence,
  type Identity,
  identityOf,
  MAX_CANDIDATES,
  partsOf,
  rank,
} from "./ranking.ts";
import type { BindResolveResult, BindResult, BindValidateResult } from "./schemas.ts";

export { MAX_CANDIDATES };

export interface RoutingKeys {
  provider: ProviderId;
  binding_ref?: string;
  project_slug?: string;
}

type Ranked = { row: BindableRow; evidence: Evidence };

/**
 * The rows `rank` can rate, found through the snapshot's name lookups and text scans rather than by
 * ranking every row: equal names (high, or the repository name in another namespace), names containing
 * the slug or contained in it (medium), paths containing it (low). Single words of the slug are looked
 * for only when none of those exist: resources sharing a word are noise next to them. Scans stop after
 * MAX_CANDIDATES accepted rows in label order, which never changes the top MAX_CANDIDATES.
 *
 * Every `high` rating is an equality the name lookups find; with `settle`, exactly one of them is the
 * answer (an exact match, whatever else partly matches), so the text scans are skipped: at 100,000
 * resources they are most of a resolve's cost.
 */
function findCandidates(
  snap: BindableSnapshot,
  id: Identity,
  eligible: (i: number) => boolean,
  settle = false,
): Ranked[] {
  const found = new Set<number>();
  const add = (rows: number[]) => {
    for (const i of rows) if (eligible(i)) found.add(i);
  };
  const rankFound = () =>
    [...found]
      .map((i) => ({ row: snap.rows[i], evidence: rank(id, snap.rows[i], snap.rows[i].names) }))
      .filter((x): x is Ranked => x.evidence !== null);

  for (const name of [id.slug, id.repo, id.repoName]) if (name) add(snap.withName(name));
  if (settle) {
    const equal = rankFound();
    if (equal.filter((x) => x.evidence.confidence === "high").length === 1) return equal;
  }
  if (id.slug.length >= 3) {
    add(snap.nameContains(id.slug, eligible, MAX_CANDIDATES));
    for (const part of partsOf(id.slug)) add(snap.withName(part));
    add(snap.pathContains(id.slug, eligible, MAX_CANDIDATES));
  }
  const ranked = rankFound();
  if (ranked.length > 0) return ranked;
  for (const word of id.words) {
    add(snap.nameContains(word, eligible, MAX_CANDIDATES));
    add(snap.withName(word));
  }
  return rankFound();
}

/** Small inventory and no name evidence: everything, so the user can still pick. */
function fewEnoughToOffer(snap: BindableSnapshot, eligible: (i: number) => boolean): Ranked[] {
  const all: Ranked[] = [];
  for (const i of snap.order) {
    if (!eligible(i)) continue;
    if (all.length === MAX_CANDIDATES) return [];
    all.push({
      row: snap.rows[i],
      evidence: {
        confidence: "low",
        reason: "no name evidence; one of the few bindable resources",
        score: 0,
      },
    });
  }
  return all;
}

/** The project this CLI identity names: by uuid, else a not-yet-adopted project with its slug (as `ensure` adopts). */
function findProject(snap: BindableSnapshot, identity: ProjectIdentity) {
  const bySlug = snap.projectsBySlug.get(identity.slug);
  return snap.projectsByUuid.get(identity.uuid) ?? (bySlug && bySlug.uuid === null ? bySlug : undefined);
}

export function bindingService(deps: {
  installations: Pick<InstallationsService, "findConnected">;
  inventory: Pick<
    InventoryService,
    "bindLookups" | "coldBindings" | "isOffered" | "resource" | "snapshot" | "warmSnapshot"
  >;
  mappings: Pick<MappingsService, "bind" | "byRef" | "liveForProject">;
  projects: Pick<ProjectsService, "bySlug" | "ensure">;
  candidates: Pick<CandidateTokens, "mint" | "verify">;
}) {
  const mintFor = (teamId: string, provider: string, r: { installationId: string; id: string }) =>
    deps.candidates.mint({ teamId, provider, installationId: r.installationId, resourceId: r.id });

  /**
   * bind-resolve's answer from a snapshot (contract §9.2): the team's, or a partial one over the rows
   * indexed SQL found (cold.ts). `hidesAny`: whether curation may hide some rows (a full snapshot knows).
   */
  function answerFrom(
    snap: BindableSnapshot,
    teamId: string,
    provider: ProviderId,
    identity: ProjectIdentity,
    id: Identity,
    hidesAny = snap.offered.length !== snap.order.length,
  ): Static<typeof BindResolveResult> {
    const none = {
      match_type: "none" as const,
      candidate_token: null,
      binding_ref: null,
      display_label: null,
      project_slug: null,
      candidates: [],
      hidden_by_curation: 0,
      curation_notice: null,
    };
    const usable = new Set(snap.installations.filter((i) => i.status !== "revoked").map((i) => i.id));
    const project = findProject(snap, identity);
    const existing = project ? snap.mappingsByProject.get(project.id) : undefined;
    // The project is bound, but not through a usable installation: say so instead of offering others.
    if (existing && existing.status === "active" && !usable.has(existing.installationId))
      throw snap.installations.some((i) => i.id === existing.installationId)
        ? installationRevoked(provider, existing.displayLabel)
        : installationDisconnected(provider, existing.displayLabel);
    if (usable.size === 0) return none;

    if (existing && existing.status === "active") {
      return {
        match_type: "exact" as const,
        candidate_token: mintFor(teamId, provider, {
          installationId: existing.installationId,
          id: existing.resourceId,
        }),
        binding_ref: existing.bindingRef,
        display_label: existing.displayLabel,
        project_slug: existing.projectSlug,
        provider_context: existing.providerContext,
        candidates: [],
        // An existing mapping resolves even when curation hides its resource (it keeps working).
        hidden_by_curation: 0,
        curation_notice: null,
      };
    }

    const unbound = (i: number) => !snap.boundBy.has(i) && usable.has(snap.rows[i].installationId);
    const eligible = (i: number) => unbound(i) && snap.curationHidden[i] === 0;
    // Matches the team's curation rules hide, found as candidates are: counted for the user, never
    // named. Nothing hidden (no rules): no second search.
    const hiddenMatches = !hidesAny
      ? 0
      : findCandidates(snap, id, (i) => unbound(i) && snap.curationHidden[i] === 1).length;
    const curation = { hidden_by_curation: hiddenMatches, curation_notice: hiddenNotice(hiddenMatches) };
    let ranked = findCandidates(snap, id, eligible, true);
    if (ranked.length === 0) ranked = fewEnoughToOffer(snap, eligible);
    if (ranked.length === 0) return { ...none, ...curation };

    const sorted = ranked.map((x) => ({ ...x, label: x.row.label, id: x.row.id })).sort(compareCandidates);
    const highs = sorted.filter((x) => x.evidence.confidence === "high");
    if (highs.length === 1) {
      return {
        match_type: "exact" as const,
        candidate_token: mintFor(teamId, provider, highs[0].row),
        binding_ref: null,
        display_label: highs[0].row.label,
        // What bind-confirm will assign: a taken slug gets the alias confirm would give it.
        project_slug:
          project?.slug ??
          freeProjectSlug(identity, highs[0].row.fullPath, (slug) => snap.projectsBySlug.has(slug)),
        candidates: [],
        ...curation,
      };
    }
    return {
      match_type: "candidates" as const,
      candidate_token: null,
      binding_ref: null,
      display_label: null,
      project_slug: null,
      candidates: sorted.slice(0, MAX_CANDIDATES).map((x, i) => ({
        candidate_token: mintFor(teamId, provider, x.row),
        display_label: x.row.label,
        confidence: x.evidence.confidence,
        match_reason: x.evidence.reason,
        sort_position: i,
        provider_context: x.row.context,
      })),
      ...curation,
    };
  }

  return {
    /**
     * bind-resolve: an existing mapping, ranked candidates, or nothing (contract §9.2). Answered from
     * the team's bindable snapshot when this process keeps one (no query beyond authentication while the
     * inventory is unchanged), else from indexed SQL over the rows that can match (cold.ts), same answer.
     */
    async resolve(
      auth: AuthContext,
      provider: ProviderId,
      identity: ProjectIdentity,
    ): Promise<Static<typeof BindResolveResult>> {
      const team = auth.team;
      const id = identityOf({ slug: identity.slug, repoSlug: identity.repo_slug ?? null });
      const answer = (snap: BindableSnapshot, hidesAny?: boolean) =>
        answerFrom(snap, team.id, provider, identity, id, hidesAny);
      const versions = team.versions;
      if (!versions) return answer(await deps.inventory.snapshot(team.id, provider));
      const warm = await deps.inventory.warmSnapshot(team.id, provider, versions);
      // A team this process keeps no snapshot of: indexed SQL over the few rows that can match.
      if (!warm) return coldResolve(deps.inventory, { id: team.id, versions }, provider, id, answer);
      return answer(warm);
    },

    /** bind-confirm: creates (or returns) the mapping a candidate token names (contract §9.3). */
    async confirm(
      auth: AuthContext,
      input: { provider: ProviderId; candidate_token: string; project_identity: ProjectIdentity },
      via: "cli" | "dashboard" | "api",
      requestId?: string,
    ): Promise<{ created: boolean; body: Static<typeof BindResult> }> {
      const teamId = auth.team.id;
      let resource: Awaited<ReturnType<typeof deps.inventory.resource>> | undefined;
      const claims = await deps.candidates.verify(
        input.candidate_token,
        { teamId, provider: input.provider },
        async (id) => {
          resource = await deps.inventory.resource(teamId, id);
          return resource;
        },
      );
      const installation = await deps.installations.findConnected(teamId, claims.installationId);
      if (!resource || !installation)
        throw invalidCandidateToken("for a resource that is no longer available");
      // A token minted before an admin's curation rule hid the resource binds nothing new.
      if (!(await deps.inventory.isOffered(auth.team, input.provider, resource.id)))
        throw invalidCandidateToken("for a resource your team's curation rules now hide");
      const { mapping, created, project } = await deps.mappings.bind({
        teamId,
        resource,
        via,
        by: auth.user.id,
        requestId,
        project: (tx) => deps.projects.ensure(teamId, input.project_identity, tx, resource?.fullPath ?? null),
      });
      return {
        created,
        body: {
          binding_ref: mapping.bindingRef,
          display_label: mapping.displayLabel,
          provider: mapping.provider,
          provider_context: mapping.providerContext as Record<string, string>,
          bound_at: mapping.boundAt.toISOString(),
          project_slug: project.slug,
        },
      };
    },

    /** bind-validate: always an answer, never an error, for a stored ref (contract §9.4). */
    async validate(
      auth: AuthContext,
      input: { provider: ProviderId; binding_ref: string; project_identity: ProjectIdentity },
    ): Promise<Static<typeof BindValidateResult>> {
      const ref = input.binding_ref;
      const guidance = (what: string) =>
        `${what} Run \`spec-kitty tracker bind --provider ${input.provider}\` to rebind.`;
      const found = await deps.mappings.byRef(auth.team.id, ref);
      const invalid = (reason: Static<typeof BindValidateResult>["reason"], text: string) => ({
        valid: false,
        binding_ref: ref,
        reason,
        guidance: guidance(text),
      });
      if (!found || found.mapping.deletedAt)
        return invalid("mapping_deleted", "This tracker binding was deleted or replaced.");
      if (found.mapping.provider !== input.provider)
        return invalid(
          "project_mismatch",
          `This binding is for ${found.mapping.provider}, not ${input.provider}.`,
        );
      if (found.projectUuid && found.projectUuid !== input.project_identity.uuid)
        return invalid("project_mismatch", "This binding belongs to another project.");
      if (found.mapping.status === "disabled")
        return invalid("mapping_disabled", "A team admin disabled this tracker binding.");
      if (found.resourceMissingSince)
        return invalid(
          "resource_missing",
          `The bound resource ${found.mapping.displayLabel} no longer exists upstream.`,
        );
      return {
        valid: true,
        binding_ref: ref,
        display_label: found.mapping.displayLabel,
        provider: found.mapping.provider,
        provider_context: found.mapping.providerContext as Record<string, string>,
        project_slug: found.projectSlug,
      };
    },

    /**
     * The one routing step every project-scoped call shares (status, mappings, pull, push, run, search):
     * a stale ref answers binding_not_found / mapping_disabled / project_mismatch with no effect.
     */
    async route(scope: TeamScope, keys: RoutingKeys): Promise<JoinedMapping> {
      if (keys.binding_ref && keys.project_slug) throw routingConflict();
      const teamId = scope.team.id;
      if (keys.binding_ref) {
        const found = await deps.mappings.byRef(teamId, keys.binding_ref);
        if (!found || mappingState(found.mapping) === "deleted")
          throw bindingNotFound(keys.binding_ref, keys.provider);
        if (found.mapping.provider !== keys.provider)
          throw projectMismatch(
            keys.binding_ref,
            keys.provider,
            `is a ${found.mapping.provider} binding, not ${keys.provider}`,
          );
        if (found.mapping.status === "disabled") throw mappingDisabled(keys.binding_ref, keys.provider);
        return found;
      }
      if (!keys.project_slug) throw routingConflict();
      const project = await deps.projects.bySlug(teamId, keys.project_slug);
      const found = project
        ? await deps.mappings.liveForProject(teamId, project.id, keys.provider)
        : undefined;
      if (!found) throw noMapping(keys.project_slug, keys.provider);
      if (found.mapping.status === "disabled") throw mappingDisabled(found.mapping.bindingRef, keys.provider);
      return found;
    },

    resourceNotFound,
  };
}

export type BindingService = ReturnType<typeof bindingService>;
