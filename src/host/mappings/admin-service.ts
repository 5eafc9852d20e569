import type { Database } from "../../storage/database.ts";
import { adapterFor, type ProviderId } from "../../tracker/index.ts";
import type { CandidateTokens } from "../binding/candidate-token.ts";
import { DomainError } from "../errors/domain-error.ts";
import { callProvider } from "../http/provider-errors.ts";
import type { InstallationsService } from "../installations/service.ts";
import { type InventoryService, resourceView } from "../inventory/service.ts";
import type { ProjectIdentity, ProjectRow, ProjectsService } from "../projects/service.ts";
import type { AuthContext } from "../teams/access.ts";
import { type MappingDraft, mappingDrafts } from "./draft.ts";
import { mappingNotFound } from "./errors.ts";
import { type CreatedVia, type MappingsService, mappingView } from "./service.ts";

/**
 * Admin mapping operations for the API and dashboard: create by picking a discovered resource,
 * move a project to another resource, disable, enable, delete, and the repair path that looks a
 * typed provider id up with the provider before it can be picked.
 */
export function mappingAdminService(deps: {
  mappings: Pick<MappingsService, "bind" | "byRef" | "liveForProject" | "liveForResource" | "setStatus">;
  projects: Pick<ProjectsService, "byId" | "bySlug" | "create" | "ensure">;
  inventory: Pick<InventoryService, "resource" | "upsertOne">;
  installations: Pick<
    InstallationsService,
    "connectionFor" | "findConnected" | "getConnected" | "workspaceOf"
  >;
  candidates: Pick<CandidateTokens, "verify">;
}) {
  async function view(teamId: string, ref: string) {
    const j = await deps.mappings.byRef(teamId, ref);
    if (!j) throw mappingNotFound(ref);
    return mappingView(j);
  }

  const drafts = mappingDrafts(deps);

  /** Checks a draft the way a form would, then refuses with its first problem (the API's answer). */
  async function bindableResource(teamId: string, draft: MappingDraft) {
    const { problems, resource } = await drafts.check(teamId, draft);
    // Without a problem the resource was found and may be bound.
    if (problems.length || !resource) throw problems[0].error;
    return resource;
  }

  /** By CLI identity, by existing slug, or a new dashboard project that the first CLI bind adopts. */
  function projectResolver(
    teamId: string,
    input: { project_slug?: string; project_identity?: ProjectIdentity },
  ) {
    if (input.project_identity)
      return (tx: Database) => deps.projects.ensure(teamId, input.project_identity!, tx);
    const slug = input.project_slug!;
    return async (tx: Database): Promise<ProjectRow> =>
      (await deps.projects.bySlug(teamId, slug, tx)) ?? deps.projects.create(teamId, { slug }, tx);
  }

  return {
    view,
    /** The checks of a save, each on its field, for a form to show before it saves (see draft.ts). */
    checkDraft: drafts.check,

    async create(
      auth: AuthContext,
      input: {
        resource_id?: string;
        candidate_token?: string;
        project_slug?: string;
        project_identity?: ProjectIdentity;
      },
      via: CreatedVia,
      requestId?: string,
    ) {
      const resource = await bindableResource(auth.team.id, {
        resourceId: input.resource_id,
        candidateToken: input.candidate_token,
        project: input.project_identity ? undefined : { slug: input.project_slug ?? "" },
      });
      const { mapping, created } = await deps.mappings.bind({
        teamId: auth.team.id,
        resource,
        via,
        by: auth.user.id,
        requestId,
        project: projectResolver(auth.team.id, input),
      });
      return { created, mapping: await view(auth.team.id, mapping.bindingRef) };
    },

    /** Moving a project to another resource makes a new mapping; the old ref then answers as deleted. */
    async change(
      auth: AuthContext,
      ref: string,
      input: { status?: "active" | "disabled"; resource_id?: string },
      requestId?: string,
    ) {
      const current = await deps.mappings.byRef(auth.team.id, ref);
      if (!current || current.mapping.deletedAt) throw mappingNotFound(ref);
      if (input.resource_id && input.resource_id !== current.mapping.resourceId) {
        const projectId = current.mapping.projectId;
        const resource = await bindableResource(auth.team.id, {
          resourceId: input.resource_id,
          moving: {
            provider: current.mapping.provider,
            projectId,
            resourceId: current.mapping.resourceId,
          },
        });
        const { mapping } = await deps.mappings.bind({
          teamId: auth.team.id,
          resource,
          via: "dashboard",
          by: auth.user.id,
          requestId,
          project: async (tx) => (await deps.projects.byId(auth.team.id, projectId, tx))!,
        });
        return view(auth.team.id, mapping.bindingRef);
      }
      if (input.status) {
        await deps.mappings.setStatus(
          auth.team.id,
          ref,
          input.status === "disabled" ? "disable" : "enable",
          auth.user.id,
          requestId,
        );
      }
      return view(auth.team.id, ref);
    },

    async remove(auth: AuthContext, ref: string, requestId?: string) {
      const done = await deps.mappings.setStatus(auth.team.id, ref, "delete", auth.user.id, requestId);
      if (!done) throw mappingNotFound(ref);
      return view(auth.team.id, ref);
    },

    /** Repair path: the provider says what a typed id is; the result joins the inventory so it can be picked. */
    async repairLookup(auth: AuthContext, input: { installation_id: string; native_id: string }) {
      const inst = await deps.installations.getConnected(auth.team.id, input.installation_id);
      const conn = await deps.installations.connectionFor(inst);
      const adapter = adapterFor(inst.provider as ProviderId);
      const found = await callProvider(() =>
        adapter.getResource(conn, deps.installations.workspaceOf(inst), input.native_id.trim()),
      );
      if (!found) {
        throw new DomainError(
          "provider_not_found",
          `${inst.provider} has no resource with id '${input.native_id}' that this installation can see. Check the id, or the installation's access.`,
        );
      }
      const row = await deps.inventory.upsertOne(inst, found);
      return resourceView(row, null);
    },
  };
}

export type MappingAdminService = ReturnType<typeof mappingAdminService>;
