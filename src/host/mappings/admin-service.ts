import type { Database } from "../../storage/database.ts";
import { adapterFor, type ProviderId } from "../../tracker/index.ts";
import type { CandidateTokens } from "../binding/candidate-token.ts";
import { DomainError, ValidationError } from "../errors/domain-error.ts";
import type { AuthContext } from "../http/auth.ts";
import { callProvider } from "../http/provider-errors.ts";
import type { InstallationsService } from "../installations/service.ts";
import { type InventoryService, resourceView } from "../inventory/service.ts";
import type { ProjectRow } from "../projects/repository.ts";
import { projectsRepository } from "../projects/repository.ts";
import type { ProjectIdentity, ProjectsService } from "../projects/service.ts";
import { mappingNotFound, resourceNotFound } from "./errors.ts";
import { type CreatedVia, type MappingsService, mappingView } from "./service.ts";

/**
 * Admin mapping operations for the API and dashboard: create by picking a discovered resource,
 * move a project to another resource, disable, enable, delete, and the repair path that looks a
 * typed provider id up with the provider before it can be picked.
 */
export function mappingAdminService(
  _db: Database,
  deps: {
    mappings: MappingsService;
    projects: ProjectsService;
    inventory: InventoryService;
    installations: InstallationsService;
    candidates: CandidateTokens;
  },
) {
  async function view(teamId: string, ref: string) {
    const j = await deps.mappings.repo.byRef(teamId, ref);
    if (!j) throw mappingNotFound(ref);
    return mappingView(j);
  }

  async function resourceFor(teamId: string, pick: { resource_id?: string; candidate_token?: string }) {
    let id = pick.resource_id;
    if (!id && pick.candidate_token)
      id = (
        await deps.candidates.verify(pick.candidate_token, { teamId }, (r) =>
          deps.inventory.repo.get(teamId, r),
        )
      ).resourceId;
    if (!id)
      throw new ValidationError("Pick a resource: send `resource_id` (or `candidate_token`).", [
        { field: "body.resource_id", problem: "is required" },
      ]);
    const resource = await deps.inventory.repo.get(teamId, id);
    if (!resource) throw resourceNotFound(id);
    return resource;
  }

  /** By CLI identity, by existing slug, or a new dashboard project that the first CLI bind adopts. */
  function projectResolver(
    teamId: string,
    input: { project_slug?: string; project_identity?: ProjectIdentity },
  ) {
    if (input.project_identity)
      return (tx: Database) => deps.projects.ensure(teamId, input.project_identity!, tx);
    const slug = input.project_slug;
    if (!slug)
      throw new ValidationError("Pick or name a project: send `project_slug`.", [
        { field: "body.project_slug", problem: "is required" },
      ]);
    return async (tx: Database): Promise<ProjectRow> =>
      (await projectsRepository(tx).bySlug(teamId, slug)) ?? deps.projects.create(teamId, { slug }, tx);
  }

  return {
    view,

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
      const resource = await resourceFor(auth.team.id, input);
      const installation = await deps.installations.repo.get(auth.team.id, resource.installationId);
      if (!installation) throw resourceNotFound(resource.id);
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
      const current = await deps.mappings.repo.byRef(auth.team.id, ref);
      if (!current || current.mapping.deletedAt) throw mappingNotFound(ref);
      if (input.resource_id && input.resource_id !== current.mapping.resourceId) {
        const resource = await resourceFor(auth.team.id, { resource_id: input.resource_id });
        if (resource.provider !== current.mapping.provider) {
          throw new ValidationError(`Pick a ${current.mapping.provider} resource.`, [
            { field: "body.resource_id", problem: `is a ${resource.provider} resource` },
          ]);
        }
        const projectId = current.mapping.projectId;
        const { mapping } = await deps.mappings.bind({
          teamId: auth.team.id,
          resource,
          via: "dashboard",
          by: auth.user.id,
          requestId,
          project: async (tx) => (await projectsRepository(tx).byId(auth.team.id, projectId))!,
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
