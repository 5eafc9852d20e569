import type { Database } from "../../storage/database.ts";
import { isUniqueViolation } from "../../storage/errors.ts";
import type { AuditService } from "../audit/service.ts";
import {
  decodeKeyCursor,
  decodeListCursor,
  type ListRequest,
  toListPage,
  toPage,
} from "../http/pagination.ts";
import { newId } from "../ids.ts";
import type { ResourceRow } from "../inventory/rows.ts";
import type { ProjectRow, ProjectsService } from "../projects/service.ts";
import { alreadyBound, resourceNotBindable } from "./errors.ts";
import { mappingState, mappingSyncState } from "./health.ts";
import {
  type JoinedMapping,
  MAPPING_SORTS,
  type MappingFilter,
  type MappingRow,
  type MappingSort,
  mappingsRepository,
} from "./repository.ts";
import { validateRoutingMetadata } from "./routing-metadata.ts";

/** The rows this feature hands to others (its repository stays private). */
export type { JoinedMapping, MappingFilter, MappingRow, MappingSort } from "./repository.ts";

export type CreatedVia = "cli" | "dashboard" | "api";

/** Why a discovered resource cannot take a mapping, or null. */
export type Unbindable = "missing_upstream" | "archived" | "issues_disabled";

export function unbindable(r: {
  missingSince: Date | string | null;
  archived: boolean;
  issuesDisabled: boolean;
}): Unbindable | null {
  if (r.missingSince) return "missing_upstream";
  if (r.archived) return "archived";
  if (r.issuesDisabled) return "issues_disabled";
  return null;
}

const UNBINDABLE_BECAUSE: Record<Unbindable, string> = {
  missing_upstream: "it no longer exists upstream",
  archived: "it is archived",
  issues_disabled: "issues are disabled on it",
};

/** The refusal `bind` answers for an unbindable resource (drafts report it before the save). */
export function notBindable(r: ResourceRow) {
  const why = unbindable(r);
  return why ? resourceNotBindable(r.label, UNBINDABLE_BECAUSE[why]) : null;
}

export function mappingView(j: JoinedMapping) {
  const m = j.mapping;
  return {
    binding_ref: m.bindingRef,
    provider: m.provider,
    status: mappingState(m),
    display_label: m.displayLabel,
    provider_context: m.providerContext as Record<string, string>,
    project_id: m.projectId,
    project_slug: j.projectSlug,
    installation_id: m.installationId,
    resource_id: m.resourceId,
    resource_key: m.resourceKey,
    routing_metadata: m.routingMetadata as Record<string, unknown>,
    resource_missing_since: j.resourceMissingSince?.toISOString() ?? null,
    sync_state: mappingSyncState(j),
    created_via: m.createdVia,
    created_by: m.createdBy,
    bound_at: m.boundAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
    deleted_at: m.deletedAt?.toISOString() ?? null,
  };
}

function auditShape(m: MappingRow | null | undefined) {
  return m
    ? {
        binding_ref: m.bindingRef,
        project_id: m.projectId,
        resource_key: m.resourceKey,
        status: mappingState(m),
        display_label: m.displayLabel,
      }
    : null;
}

export function mappingsService(
  db: Database,
  deps: { audit: Pick<AuditService, "record">; projects: Pick<ProjectsService, "byId"> },
) {
  const repo = mappingsRepository(db);

  return {
    /** A mapping of the team by its binding_ref, deleted ones included (they answer as deleted). */
    byRef: (teamId: string, bindingRef: string) => repo.byRef(teamId, bindingRef),
    /** The project's live (not deleted) mapping for a provider. */
    liveForProject: (teamId: string, projectId: string, provider: string) =>
      repo.liveForProject(teamId, projectId, provider),
    /** The live mapping holding a resource, if any. */
    liveForResource: (installationId: string, resourceKey: string) =>
      repo.liveForResource(installationId, resourceKey),
    /** The team's live mappings for a provider, disabled ones included. */
    liveForProvider: (teamId: string, provider: string) => repo.liveForProvider(teamId, provider),
    /** After a discovery pass: mappings show their resources' current labels. */
    refreshLabels: (installationId: string) => repo.refreshLabels(installationId),

    /**
     * Binds a resource to a project in one transaction. Same project + resource → the existing mapping;
     * resource held by another project → 409 already_bound; the project's previous mapping for the
     * provider is replaced (its ref then answers as deleted). The unique indexes decide races.
     */
    async bind(input: {
      teamId: string;
      /** Resolved inside the transaction, so a failed bind creates no project either. */
      project: (tx: Database) => Promise<ProjectRow>;
      resource: ResourceRow;
      via: CreatedVia;
      by: string | null;
      requestId?: string;
    }) {
      const { resource } = input;
      const refused = notBindable(resource);
      if (refused) throw refused;
      const { version } = validateRoutingMetadata(resource.provider, resource.routingMetadata);

      try {
        return await db.transaction(async (txRaw) => {
          const tx = txRaw as unknown as Database;
          const project = await input.project(tx);
          const holder = await repo.liveForResource(resource.installationId, resource.resourceKey, tx);
          if (holder && holder.projectId === project.id) return { mapping: holder, created: false, project };
          if (holder)
            throw alreadyBound(
              resource.label,
              (await deps.projects.byId(input.teamId, holder.projectId, tx))?.slug ?? "another project",
            );

          const previous = await repo.liveForProjectRow(project.id, resource.provider, tx);
          if (previous)
            await repo.update(previous.bindingRef, { deletedAt: new Date(), deletedReason: "rebound" }, tx);

          const mapping = await repo.insert(
            {
              bindingRef: newId("srm"),
              teamId: input.teamId,
              projectId: project.id,
              installationId: resource.installationId,
              resourceId: resource.id,
              resourceKey: resource.resourceKey,
              provider: resource.provider,
              routingMetadata: resource.routingMetadata,
              routingVersion: version,
              displayLabel: resource.label,
              providerContext: resource.context,
              createdVia: input.via,
              createdBy: input.by,
            },
            tx,
          );
          await deps.audit.record(
            {
              teamId: input.teamId,
              actorUserId: input.by,
              action: previous ? "mapping.rebound" : "mapping.created",
              targetType: "mapping",
              targetId: mapping.bindingRef,
              before: auditShape(previous),
              after: auditShape(mapping),
              requestId: input.requestId,
            },
            tx,
          );
          return { mapping, created: true, project };
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Lost a race: whoever won decides the answer.
        const holder = await repo.liveForResource(resource.installationId, resource.resourceKey);
        const project = holder ? await deps.projects.byId(input.teamId, holder.projectId) : undefined;
        const mine = project
          ? await db.transaction((tx) => input.project(tx as unknown as Database)).catch(() => undefined)
          : undefined;
        if (holder && project && mine && mine.id === project.id)
          return { mapping: holder, created: false, project };
        throw alreadyBound(resource.label, project?.slug ?? "another project");
      }
    },

    async setStatus(
      teamId: string,
      ref: string,
      change: "disable" | "enable" | "delete",
      by: string | null,
      requestId?: string,
    ) {
      return db.transaction(async (txRaw) => {
        const tx = txRaw as unknown as Database;
        const before = await repo.byRefRow(teamId, ref, tx);
        if (!before || before.deletedAt) return null;
        const patch =
          change === "delete"
            ? { deletedAt: new Date(), deletedReason: "deleted" }
            : { status: change === "disable" ? ("disabled" as const) : ("active" as const) };
        const after = await repo.update(ref, patch, tx);
        await deps.audit.record(
          {
            teamId,
            actorUserId: by,
            action: `mapping.${change}d`,
            targetType: "mapping",
            targetId: ref,
            before: auditShape(before),
            after: auditShape(after),
            requestId,
          },
          tx,
        );
        return after;
      });
    },

    /** A person's list (the dashboard): a named sort, a page size, a total, pages both ways. */
    async list(f: MappingFilter, req: ListRequest<MappingSort>) {
      const seek = decodeListCursor(req);
      const [rows, total] = await Promise.all([repo.list(f, req.sort, seek, req.size), repo.count(f)]);
      return toListPage(rows, req, seek, total, mappingView, (r) => [
        MAPPING_SORTS[req.sort].key(r),
        r.mapping.bindingRef,
      ]);
    },

    async page(f: MappingFilter, cursor: string | undefined, limit: number) {
      const rows = await repo.page(f, decodeKeyCursor(cursor, ["label", "ref"]), limit);
      return toPage(rows, limit, mappingView, (r) => ({
        label: r.mapping.displayLabel,
        ref: r.mapping.bindingRef,
      }));
    },
  };
}

export type MappingsService = ReturnType<typeof mappingsService>;
