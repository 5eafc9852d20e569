import { DomainError } from "../errors/domain-error.ts";
import type { OriginLinkRow } from "./repository.ts";

export const originConflict = (missionId: string, existing: OriginLinkRow) =>
  new DomainError(
    "origin_conflict",
    `Mission ${missionId} already has origin ${existing.provider} issue ${existing.externalIssueKey ?? existing.externalIssueId}; a mission has one origin.`,
    {
      userActionRequired: true,
      details: {
        existing_origin: {
          provider: existing.provider,
          external_issue_id: existing.externalIssueId,
          external_issue_key: existing.externalIssueKey,
          external_issue_url: existing.externalIssueUrl,
        },
      },
    },
  );

export const issueNotInResource = (ref: string, label: string) =>
  new DomainError(
    "issue_not_found",
    `Issue ${ref} is not an issue of ${label}, the resource this project is bound to.`,
    { userActionRequired: true },
  );
