import type { Static } from "typebox";
import type { Database } from "../../storage/database.ts";
import type { NormalizedIssue } from "../../tracker/index.ts";
import { storableText } from "../http/storable-text.ts";
import { newId } from "../ids.ts";
import type { TeamWorkPackageLink, WorkPackageLink } from "../mappings/schemas.ts";
import type { JoinedMapping, MappingsService } from "../mappings/service.ts";
import { linksRepository, type WorkPackageLinkRow } from "./repository.ts";

/** The rows this feature hands to others (its repository stays private). */
export type { WorkPackageLinkRow } from "./repository.ts";

/** A work-package ↔ issue link as `GET /tracker/mappings/` lists it (contract §3). */
export function linkRow(l: WorkPackageLinkRow): Static<typeof WorkPackageLink> {
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

/** How long a create claim holds: longer than any provider create call with its retries. */
const CREATE_LEASE_MS = 5 * 60_000;
/** How long a push waits for a concurrent push creating the same work package's issue. */
const CREATE_WAIT_MS = 15_000;

/** Another push is still creating this work package's issue; retrying later finds its link. */
export class CreateInProgress extends Error {
  constructor(readonly wpId: string) {
    super(`Another push is creating the issue of work package ${wpId}; push again in a few seconds.`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Work-package ↔ issue links: written by push, read by the mappings listing. Always per mapping. */
export function linksService(db: Database, deps: { mappings: Pick<MappingsService, "liveForProvider"> }) {
  const repo = linksRepository(db);
  return {
    get: (m: JoinedMapping, wpId: string) => repo.get(m.mapping.bindingRef, wpId),

    /** Provider text is made storable: a NUL in an issue URL must not lose the link to a created issue. */
    record(m: JoinedMapping, wpId: string, issue: NormalizedIssue) {
      const text = (s: string | null | undefined) => (s == null ? null : storableText(s));
      return repo.upsert({
        id: newId("wpl"),
        teamId: m.mapping.teamId,
        bindingRef: m.mapping.bindingRef,
        projectId: m.mapping.projectId,
        provider: m.mapping.provider,
        wpId,
        workspace: text(issue.ref.workspace),
        externalId: storableText(issue.ref.id),
        externalKey: text(issue.ref.key),
        externalUrl: text(issue.ref.url),
      });
    },

    /**
     * Creates a work package's issue once, however many pushes of it run at once (in any process): the
     * push holding the create claim calls `create` and records the link; the others wait for that link
     * and get it back instead (then they update that issue rather than create another). A link to
     * `deletedIssueId` (an issue found deleted upstream) counts as no link.
     */
    async createOnce(
      m: JoinedMapping,
      wpId: string,
      create: () => Promise<NormalizedIssue>,
      deletedIssueId?: string,
      opts: {
        /**
         * Finds the issue an earlier attempt may have created (by its marker). Asked before creating
         * when the claim was taken over from an attempt that never released it.
         */
        recover?: () => Promise<NormalizedIssue | null>;
        /** A create failure that may still have created the issue (a timeout): the claim is kept for `recover`. */
        uncertain?: (err: unknown) => boolean;
      } = {},
    ): Promise<{ created: NormalizedIssue } | { linked: WorkPackageLinkRow }> {
      const ref = m.mapping.bindingRef;
      const current = async () => {
        const link = await repo.get(ref, wpId);
        return link && link.externalId !== deletedIssueId ? link : undefined;
      };
      const deadline = Date.now() + CREATE_WAIT_MS;
      for (;;) {
        const claim = await repo.claimCreate(ref, wpId, CREATE_LEASE_MS);
        if (claim) {
          let keep = false;
          try {
            // A push that held the claim a moment ago may have linked it since this one looked.
            const linked = await current();
            if (linked) return { linked };
            const recovered = claim === "taken_over" && opts.recover ? await opts.recover() : null;
            let created: NormalizedIssue;
            try {
              created = recovered ?? (await create());
            } catch (err) {
              if (opts.uncertain?.(err)) {
                keep = true;
                await repo.expireCreate(ref, wpId);
              }
              throw err;
            }
            // The issue exists upstream: its link is the very next write, in its own commit (tried twice).
            keep = true;
            await this.record(m, wpId, created).catch(() => this.record(m, wpId, created));
            keep = false;
            return { created };
          } finally {
            // A created issue whose link could not be written keeps the claim until its lease ends, so a
            // retry answers create_in_progress instead of creating a second issue.
            if (!keep) await repo.releaseCreate(ref, wpId);
          }
        }
        const linked = await current();
        if (linked) return { linked };
        if (Date.now() > deadline) throw new CreateInProgress(wpId);
        await sleep(100);
      }
    },

    /** The bound form: links of the routed mapping. */
    async listForMapping(m: JoinedMapping): Promise<Static<typeof WorkPackageLink>[]> {
      return (await repo.forMapping(m.mapping.teamId, m.mapping.bindingRef)).map(linkRow);
    },

    /** The provider-only form: links of every live mapping the team has for the provider. */
    async listForProvider(teamId: string, provider: string): Promise<Static<typeof TeamWorkPackageLink>[]> {
      const live = await deps.mappings.liveForProvider(teamId, provider);
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
