import type { Database } from "../../storage/database.ts";
import type { NormalizedIssue } from "../../tracker/index.ts";
import { newId } from "../ids.ts";
import type { JoinedMapping } from "../mappings/repository.ts";
import type { MappingsService } from "../mappings/service.ts";
import { linksRepository, type WorkPackageLinkRow } from "./repository.ts";

/** A work-package ↔ issue link as `GET /tracker/mappings/` lists it (contract §3). */
export function linkRow(l: WorkPackageLinkRow) {
  return {
    wp_id: l.wpId,
    system: l.provider,
    workspace: l.workspace,
    external_id: l.externalId,
    external_key: l.externalKey,
    external_url: l.externalUrl,
    created_at: l.createdAt.toISOString(),
    updated_at: l.updatedAt.toISOString(),
  };
}

/** Work-package ↔ issue links: written by push, read by the mappings listing. Always per mapping. */
export function linksService(db: Database, deps: { mappings: MappingsService }) {
  const repo = linksRepository(db);
  return {
    repo,

    get: (m: JoinedMapping, wpId: string) => repo.get(m.mapping.bindingRef, wpId),

    record(m: JoinedMapping, wpId: string, issue: NormalizedIssue) {
      return repo.upsert({
        id: newId("wpl"),
        teamId: m.mapping.teamId,
        bindingRef: m.mapping.bindingRef,
        projectId: m.mapping.projectId,
        provider: m.mapping.provider,
        wpId,
        workspace: issue.ref.workspace ?? null,
        externalId: issue.ref.id,
        externalKey: issue.ref.key,
        externalUrl: issue.ref.url,
      });
    },

    /** The bound form: links of the routed mapping. */
    async listForMapping(m: JoinedMapping) {
      return (await repo.forMapping(m.mapping.teamId, m.mapping.bindingRef)).map(linkRow);
    },

    /** The provider-only form: links of every live mapping the team has for the provider. */
    async listForProvider(teamId: string, provider: string) {
      const live = await deps.mappings.repo.liveForProvider(teamId, provider);
      const rows = await repo.forMappings(
        teamId,
        live.map((m) => m.mapping.bindingRef),
      );
      return rows.map((r) => ({
        ...linkRow(r.link),
        binding_ref: r.link.bindingRef,
        display_label: r.displayLabel,
        project_slug: r.projectSlug,
      }));
    },
  };
}

export type LinksService = ReturnType<typeof linksService>;
