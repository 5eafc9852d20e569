import type { Static } from "typebox";
import type { NormalizedIssue } from "../../tracker/index.ts";
import type { ResourceRef } from "../runtime/target.ts";
import type { Candidate as CandidateSchema } from "./schemas.ts";

export type Candidate = Static<typeof CandidateSchema>;

const STATUS_NAMES: Record<NormalizedIssue["status"], string> = {
  todo: "To Do",
  in_progress: "In Progress",
  in_review: "In Review",
  blocked: "Blocked",
  done: "Done",
  canceled: "Canceled",
};

/** The provider's own status name when the adapter kept it, else the normalised status spelled out. */
export function statusName(issue: NormalizedIssue): string {
  const md = issue.provider_metadata ?? {};
  for (const k of ["status_name", "state_name", "status", "state"]) {
    const v = md[k];
    if (typeof v === "string" && v.trim()) return v;
    if (v && typeof v === "object" && typeof (v as { name?: unknown }).name === "string")
      return (v as { name: string }).name;
  }
  return STATUS_NAMES[issue.status] ?? issue.status;
}

/**
 * One issue as both CLI consumers read it (contract §8.1): the strict origin-search keys
 * (`external_issue_id`, `external_issue_key`, `title`, `status`, `url`) and the ticket-table keys
 * (`identifier`, `state.name`, `assignee`, ...), plus where it lives.
 */
export function candidateOf(
  issue: NormalizedIssue,
  where: ResourceRef & { binding_ref: string; team?: { key: string; name: string } | null },
  matchType: "exact" | "text",
): Candidate {
  const key = issue.ref.key ?? issue.ref.id;
  const status = statusName(issue);
  return {
    external_issue_id: issue.ref.id,
    external_issue_key: key,
    identifier: key,
    title: issue.title,
    status,
    state: { name: status },
    normalized_status: issue.status,
    url: issue.ref.url ?? "",
    match_type: matchType,
    body: issue.body,
    issue_type: issue.issue_type,
    priority: issue.priority,
    labels: issue.labels,
    assignee: issue.assignees.length > 0 ? { id: issue.assignees[0], name: null } : null,
    assignees: issue.assignees,
    ...(where.team ? { team: where.team } : {}),
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    resource_type: where.resource_type,
    resource_id: where.resource_id,
    binding_ref: where.binding_ref,
  };
}
