import { isProvider, providerModule } from "../../tracker/index.ts";
import type { CandidateTokens } from "../binding/candidate-token.ts";
import { type DomainError, ValidationError } from "../errors/domain-error.ts";
import type { InstallationRow, InstallationsService } from "../installations/service.ts";
import type { ResourceRow } from "../inventory/rows.ts";
import type { InventoryService } from "../inventory/service.ts";
import {
  invalidProjectSlug,
  type ProjectRow,
  type ProjectsService,
  projectSlugTaken,
} from "../projects/service.ts";
import { alreadyBound, resourceNotFound } from "./errors.ts";
import { type MappingsService, notBindable } from "./service.ts";

/**
 * A mapping an admin is about to save. The API sends a resource and a project slug; the dashboard's form
 * also names the installation it searched and whether the project is new. Moving an existing mapping
 * names that mapping instead of a project.
 */
export interface MappingDraft {
  /** The installation the resource was picked from; when absent, the resource's own (connected) one. */
  installationId?: string;
  resourceId?: string;
  candidateToken?: string;
  /** By slug: `new` must not exist yet, `existing` must; without an intent, either (a new one is created). */
  project?: { slug: string; intent?: "new" | "existing" };
  moving?: { provider: string; projectId: string; resourceId: string };
}

export type DraftField = "installation_id" | "resource_id" | "project_slug";

/** One refusal, on the field it is about; the API answers the first, the dashboard shows each inline. */
export interface DraftProblem {
  field: DraftField;
  error: DomainError;
}

export interface CheckedDraft {
  problems: DraftProblem[];
  installation?: InstallationRow;
  resource?: ResourceRow;
  /** The project the save uses; `row` is null when the save creates it. */
  project?: { slug: string; row: ProjectRow | null };
  /** The project's current mapping for the provider, which the save replaces (its ref then answers as deleted). */
  replaces: { label: string; ref: string } | null;
}

/** The provider as admins know it ("GitLab"), for messages. */
const nameOf = (provider: string) => (isProvider(provider) ? providerModule(provider).displayName : provider);

const refusal = (field: DraftField, message: string, problem = "is required"): DraftProblem => ({
  field,
  error: new ValidationError(message, [{ field: `body.${field}`, problem }]),
});

/**
 * Every check a mapping save makes, made first and all at once, so a form can answer each field inline and
 * the API refuses with the same error. The save (`mappings.bind`) still decides races in its transaction.
 */
export function mappingDrafts(deps: {
  mappings: Pick<MappingsService, "liveForProject" | "liveForResource">;
  projects: Pick<ProjectsService, "byId" | "bySlug">;
  inventory: Pick<InventoryService, "resource">;
  installations: Pick<InstallationsService, "findConnected">;
  candidates: Pick<CandidateTokens, "verify">;
}) {
  /** The picked resource: by id, or by a candidate token (whose refusal is thrown: it is not a form field). */
  async function pickedResource(teamId: string, d: MappingDraft) {
    if (d.resourceId) return deps.inventory.resource(teamId, d.resourceId);
    const { resourceId } = await deps.candidates.verify(d.candidateToken!, { teamId }, (id) =>
      deps.inventory.resource(teamId, id),
    );
    return deps.inventory.resource(teamId, resourceId);
  }

  async function checkInstallation(teamId: string, d: MappingDraft, out: CheckedDraft) {
    if (d.installationId === undefined) return null;
    const installation = d.installationId
      ? await deps.installations.findConnected(teamId, d.installationId)
      : undefined;
    if (!installation) return refusal("installation_id", "Pick an installation.");
    if (d.moving && installation.provider !== d.moving.provider)
      return refusal(
        "installation_id",
        `Pick a ${nameOf(d.moving.provider)} installation.`,
        "is of another provider",
      );
    out.installation = installation;
    return null;
  }

  async function checkResource(teamId: string, d: MappingDraft, out: CheckedDraft) {
    const problem = (error: DomainError): DraftProblem => ({ field: "resource_id", error });
    if (!d.resourceId && !d.candidateToken)
      return refusal("resource_id", "Pick a resource: search the inventory, then pick one.");
    const resource = await pickedResource(teamId, d);
    if (!resource) return problem(resourceNotFound(d.resourceId ?? ""));
    if (d.installationId === undefined) {
      // Picked without an installation: its own, which must be connected.
      out.installation = await deps.installations.findConnected(teamId, resource.installationId);
      if (!out.installation) return problem(resourceNotFound(resource.id));
    } else if (out.installation && resource.installationId !== out.installation.id)
      return refusal(
        "resource_id",
        `${resource.label} is not in the inventory of the installation picked. Search again.`,
        "belongs to another installation",
      );
    if (d.moving && resource.provider !== d.moving.provider)
      return refusal(
        "resource_id",
        `Pick a ${nameOf(d.moving.provider)} resource.`,
        `is a ${resource.provider} resource`,
      );
    if (d.moving && resource.id === d.moving.resourceId)
      return refusal(
        "resource_id",
        "That is the resource the mapping already uses. Pick another one.",
        "is the mapping's resource",
      );
    const refused = notBindable(resource);
    if (refused) return problem(refused);
    out.resource = resource;
    return null;
  }

  async function checkProject(
    teamId: string,
    project: NonNullable<MappingDraft["project"]>,
    out: CheckedDraft,
  ) {
    const { slug, intent } = project;
    const problem = (error: DomainError): DraftProblem => ({ field: "project_slug", error });
    if (!slug) return refusal("project_slug", "Pick a project, or name a new one.");
    const row = (await deps.projects.bySlug(teamId, slug)) ?? null;
    if (row && intent === "new") return problem(projectSlugTaken(slug));
    if (!row && intent === "existing")
      return refusal("project_slug", `The project '${slug}' no longer exists. Pick another.`, "is unknown");
    const invalid = row ? null : invalidProjectSlug(slug);
    if (invalid) return problem(invalid);
    out.project = { slug, row };
    return null;
  }

  /** A live mapping of another project holds the resource (moving, the project is the mapping's). */
  async function checkHolder(teamId: string, d: MappingDraft, out: CheckedDraft) {
    const resource = out.resource;
    if (!resource || !(d.moving || out.project)) return null;
    const projectId = d.moving ? d.moving.projectId : out.project?.row?.id;
    const holder = await deps.mappings.liveForResource(resource.installationId, resource.resourceKey);
    if (!holder || holder.projectId === projectId) return null;
    const holderSlug = (await deps.projects.byId(teamId, holder.projectId))?.slug ?? "another project";
    return { field: "resource_id", error: alreadyBound(resource.label, holderSlug) } satisfies DraftProblem;
  }

  async function replaced(teamId: string, out: CheckedDraft) {
    const project = out.project?.row;
    if (!project || !out.resource) return null;
    const prev = await deps.mappings.liveForProject(teamId, project.id, out.resource.provider);
    return prev && prev.mapping.resourceId !== out.resource.id
      ? { label: prev.mapping.displayLabel, ref: prev.mapping.bindingRef }
      : null;
  }

  return {
    async check(teamId: string, d: MappingDraft): Promise<CheckedDraft> {
      const out: CheckedDraft = { problems: [], replaces: null };
      const found = [
        await checkInstallation(teamId, d, out),
        await checkResource(teamId, d, out),
        d.project && !d.moving ? await checkProject(teamId, d.project, out) : null,
        await checkHolder(teamId, d, out),
      ];
      out.problems = found.filter((p): p is DraftProblem => p !== null);
      out.replaces = out.problems.length ? null : await replaced(teamId, out);
      return out;
    },
  };
}

export type MappingDrafts = ReturnType<typeof mappingDrafts>;
