import type { Database } from "../../storage/database.ts";
import type { ProviderId } from "../../tracker/index.ts";
import type { AuthContext } from "../http/auth.ts";
import type { InstallationsService } from "../installations/service.ts";
import type { InventoryService } from "../inventory/service.ts";
import {
  bindingNotFound,
  mappingDisabled,
  noMapping,
  projectMismatch,
  resourceNotFound,
  routingConflict,
} from "../mappings/errors.ts";
import type { JoinedMapping } from "../mappings/repository.ts";
import { type MappingsService, mappingState } from "../mappings/service.ts";
import type { ProjectIdentity, ProjectsService } from "../projects/service.ts";
import { type CandidateTokens, invalidCandidateToken } from "./candidate-token.ts";
import { compareCandidates, type Evidence, identityNames, normalize, rank } from "./ranking.ts";

type PoolRow = Awaited<ReturnType<InventoryService["repo"]["candidatePool"]>>[number];

/** At most this many candidates per bind-resolve; beyond it the user browses with `tracker discover`. */
export const MAX_CANDIDATES = 20;
/** Rows one candidate query may fetch; ranking picks the best MAX_CANDIDATES of them. */
const POOL_LIMIT = 200;

export interface RoutingKeys {
  provider: ProviderId;
  binding_ref?: string;
  project_slug?: string;
}

export function bindingService(
  _db: Database,
  deps: {
    installations: InstallationsService;
    inventory: InventoryService;
    mappings: MappingsService;
    projects: ProjectsService;
    candidates: CandidateTokens;
  },
) {
  const mintFor = (teamId: string, provider: string, r: { installationId: string; id: string }) =>
    deps.candidates.mint({ teamId, provider, installationId: r.installationId, resourceId: r.id });

  /** `like` patterns for names, with each separator a resource may use (`my repo`, `my-repo`, `my_repo`). */
  function patterns(raw: (string | null | undefined)[]): string[] {
    const terms = raw.map((t) => normalize(t).replace(/-/g, " ").trim()).filter((t) => t.length >= 3);
    return [...new Set(terms.flatMap((t) => [t, t.replace(/ /g, "-"), t.replace(/ /g, "_")]))].slice(0, 12);
  }

  /** The whole slug or repository name: selective, and what medium evidence needs. */
  const wholeNameTerms = (identity: ProjectIdentity) =>
    patterns([identity.slug, identity.repo_slug?.split("/").pop()]);

  /** Single words of the slug: low evidence, searched only when nothing contains the whole name. */
  const wordTerms = (identity: ProjectIdentity) => patterns(normalize(identity.slug).split("-"));

  return {
    /** bind-resolve: an existing mapping, ranked candidates, or nothing (contract §9.2). */
    async resolve(auth: AuthContext, provider: ProviderId, identity: ProjectIdentity) {
      const none = {
        match_type: "none" as const,
        candidate_token: null,
        binding_ref: null,
        display_label: null,
        project_slug: null,
        candidates: [],
      };
      const teamId = auth.team.id;
      const installs = (await deps.installations.listForTeam(teamId, provider)).filter(
        (i) => i.status !== "revoked",
      );
      if (installs.length === 0) return none;

      const project = await deps.projects.find(teamId, identity);
      const existing = project
        ? await deps.mappings.repo.liveForProject(teamId, project.id, provider)
        : undefined;
      if (existing && existing.mapping.status === "active") {
        return {
          match_type: "exact" as const,
          candidate_token: mintFor(teamId, provider, {
            installationId: existing.mapping.installationId,
            id: existing.mapping.resourceId,
          }),
          binding_ref: existing.mapping.bindingRef,
          display_label: existing.mapping.displayLabel,
          project_slug: existing.projectSlug,
          provider_context: existing.mapping.providerContext as Record<string, string>,
          candidates: [],
        };
      }

      const ids = installs.map((i) => i.id);
      const rankInput = { slug: identity.slug, repoSlug: identity.repo_slug ?? null };
      const rankPool = (pool: PoolRow[]) =>
        pool
          .map((r) => ({ r, evidence: rank(rankInput, r) }))
          .filter((x): x is { r: PoolRow; evidence: Evidence } => x.evidence !== null);
      const projectSlug = project?.slug ?? identity.slug;
      const exactAnswer = (r: PoolRow) => ({
        match_type: "exact" as const,
        candidate_token: mintFor(teamId, provider, r),
        binding_ref: null,
        display_label: r.label,
        project_slug: projectSlug,
        candidates: [],
      });

      // The common case first: a project named like exactly one resource is one index lookup away.
      const exact = rankPool(
        await deps.inventory.repo.candidatePool(
          teamId,
          ids,
          { names: identityNames(rankInput) },
          MAX_CANDIDATES,
        ),
      ).filter((x) => x.evidence.confidence === "high");
      if (exact.length === 1) return exactAnswer(exact[0].r);

      let ranked = rankPool(
        await deps.inventory.repo.candidatePool(teamId, ids, { terms: wholeNameTerms(identity) }, POOL_LIMIT),
      );
      // Resources sharing only a word are noise next to ones containing the whole name: look for them
      // only when nothing contains it.
      if (ranked.length === 0) {
        ranked = rankPool(
          await deps.inventory.repo.candidatePool(teamId, ids, { terms: wordTerms(identity) }, POOL_LIMIT),
        );
      }
      if (ranked.length === 0 && (await deps.inventory.repo.countBindable(teamId, ids)) <= MAX_CANDIDATES) {
        // Small inventory and no name evidence: offer everything so the user can still pick.
        const everything = await deps.inventory.repo.candidatePool(teamId, ids, {}, MAX_CANDIDATES);
        ranked = everything.map((r) => ({
          r,
          evidence: {
            confidence: "low" as const,
            reason: "no name evidence; one of the few bindable resources",
            score: 0,
          },
        }));
      }
      if (ranked.length === 0) return none;

      const sorted = ranked.map((x) => ({ ...x, label: x.r.label, id: x.r.id })).sort(compareCandidates);
      const highs = sorted.filter((x) => x.evidence.confidence === "high");
      if (highs.length === 1) return exactAnswer(highs[0].r);
      return {
        match_type: "candidates" as const,
        candidate_token: null,
        binding_ref: null,
        display_label: null,
        project_slug: null,
        candidates: sorted.slice(0, MAX_CANDIDATES).map((x, i) => ({
          candidate_token: mintFor(teamId, provider, { installationId: x.r.installationId, id: x.r.id }),
          display_label: x.r.label,
          confidence: x.evidence.confidence,
          match_reason: x.evidence.reason,
          sort_position: i,
          provider_context: x.r.context as Record<string, string>,
        })),
      };
    },

    /** bind-confirm: creates (or returns) the mapping a candidate token names (contract §9.3). */
    async confirm(
      auth: AuthContext,
      input: { provider: ProviderId; candidate_token: string; project_identity: ProjectIdentity },
      via: "cli" | "dashboard" | "api",
      requestId?: string,
    ) {
      const teamId = auth.team.id;
      let resource: Awaited<ReturnType<typeof deps.inventory.repo.get>> | undefined;
      const claims = await deps.candidates.verify(
        input.candidate_token,
        { teamId, provider: input.provider },
        async (id) => {
          resource = await deps.inventory.repo.get(teamId, id);
          return resource;
        },
      );
      const installation = await deps.installations.repo.get(teamId, claims.installationId);
      if (!resource || !installation)
        throw invalidCandidateToken("for a resource that is no longer available");
      const { mapping, created, project } = await deps.mappings.bind({
        teamId,
        resource,
        via,
        by: auth.user.id,
        requestId,
        project: (tx) => deps.projects.ensure(teamId, input.project_identity, tx),
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
    ) {
      const ref = input.binding_ref;
      const guidance = (what: string) =>
        `${what} Run \`spec-kitty tracker bind --provider ${input.provider}\` to rebind.`;
      const found = await deps.mappings.repo.byRef(auth.team.id, ref);
      const invalid = (reason: string, text: string) => ({
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
    async route(auth: AuthContext, keys: RoutingKeys): Promise<JoinedMapping> {
      if (keys.binding_ref && keys.project_slug) throw routingConflict();
      const teamId = auth.team.id;
      if (keys.binding_ref) {
        const found = await deps.mappings.repo.byRef(teamId, keys.binding_ref);
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
      const project = await deps.projects.repo.bySlug(teamId, keys.project_slug);
      const found = project
        ? await deps.mappings.repo.liveForProject(teamId, project.id, keys.provider)
        : undefined;
      if (!found) throw noMapping(keys.project_slug, keys.provider);
      if (found.mapping.status === "disabled") throw mappingDisabled(found.mapping.bindingRef, keys.provider);
      return found;
    },

    resourceNotFound,
  };
}

export type BindingService = ReturnType<typeof bindingService>;
