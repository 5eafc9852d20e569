import { Type } from "typebox";
import { ISSUE_STATUSES, ISSUE_TYPES } from "../../tracker/index.ts";
import { RoutedMapping } from "../binding/schemas.ts";
import { documented, Nullable, StringEnum } from "../http/schemas.ts";
import { ProviderName } from "../installations/schemas.ts";

const RoutingKey = Type.Optional(Type.String({ minLength: 1, maxLength: 128 }));

export const IssueSearchBody = Type.Object(
  {
    provider: ProviderName,
    binding_ref: RoutingKey,
    project_slug: RoutingKey,
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    query_key: Type.Optional(
      Type.Union([
        Type.String({ maxLength: 256, description: "An issue key; wins over query_text." }),
        Type.Null(),
      ]),
    ),
    query_text: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
  },
  {
    additionalProperties: false,
    description:
      "Without a routing key, searches the team's mapped resources for the provider (never unmapped ones).",
  },
);
documented(IssueSearchBody, {
  examples: [
    { provider: "jira", binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5", limit: 20, query_key: "PAY-12" },
  ],
});

export const ListTicketsBody = Type.Object(
  {
    provider: ProviderName,
    binding_ref: RoutingKey,
    project_slug: RoutingKey,
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
);
documented(ListTicketsBody, {
  examples: [{ provider: "jira", binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5", limit: 20 }],
});

// Responses (contract §8.1-§8.2): each candidate carries what both CLI consumers read.

/** One issue as a search candidate or a ticket. */
export const Candidate = Type.Object({
  external_issue_id: Type.String(),
  external_issue_key: Type.String({ description: "The key, or the id where the provider has no key." }),
  identifier: Type.String({ description: "Same as external_issue_key: what the ticket table shows." }),
  title: Type.String(),
  status: Type.String({ description: "The provider's status name." }),
  state: Type.Object({ name: Type.String() }),
  normalized_status: StringEnum(ISSUE_STATUSES),
  url: Type.String({ description: "Empty when the provider gives none." }),
  match_type: StringEnum(["exact", "text"]),
  body: Nullable(Type.String()),
  issue_type: StringEnum(ISSUE_TYPES),
  priority: Type.Integer(),
  labels: Type.Array(Type.String()),
  assignee: Nullable(Type.Object({ id: Type.String(), name: Type.Null() })),
  assignees: Type.Array(Type.String()),
  team: Type.Optional(Type.Object({ key: Type.String(), name: Type.String() }, { description: "Linear." })),
  created_at: Nullable(Type.String()),
  updated_at: Nullable(Type.String()),
  resource_type: Type.String(),
  resource_id: Type.String(),
  binding_ref: Type.String({ description: "The mapping whose resource holds the issue." }),
});

/** The routed form: the mapped resource searched, and its mapping. */
const RoutedFrame = {
  provider: Type.String(),
  resource_type: Type.String({ description: "E.g. `linear_team`, `jira_project`, `github_repo`." }),
  resource_id: Type.String(),
  ...RoutedMapping.properties,
};

/** The provider-only form: every active mapping of the provider searched, and which ones failed. */
const TeamFrame = {
  provider: Type.String(),
  resource_type: Type.String(),
  resource_id: Nullable(Type.String(), { description: "Set when the team has exactly one such mapping." }),
  resources: Type.Array(
    Type.Object({
      binding_ref: Type.String(),
      display_label: Type.String(),
      project_slug: Type.String(),
      resource_type: Type.String(),
      resource_id: Type.String(),
    }),
  ),
  resource_errors: Type.Array(
    Type.Object({ binding_ref: Type.String(), display_label: Type.String(), error_code: Type.String() }),
    { description: "Mapped resources that could not be searched; the others still answer." },
  ),
};

/** Present only when a provider stopped searching early (GitHub's `incomplete_results`). */
const PartialNotice = {
  incomplete_results: Type.Optional(Type.Literal(true)),
  warning: Type.Optional(Type.String({ description: "What to do about an incomplete search." })),
};

export const RoutedSearch = Type.Object({
  candidates: Type.Array(Candidate),
  ...RoutedFrame,
  ...PartialNotice,
});
export const TeamSearch = Type.Object({ candidates: Type.Array(Candidate), ...TeamFrame, ...PartialNotice });
export const IssueSearchResult = Type.Union([RoutedSearch, TeamSearch], {
  description: "Matches in the mapped resource (routed) or the team's mapped resources (provider only).",
});
const TICKET_EXAMPLE = {
  external_issue_id: "10042",
  external_issue_key: "PAY-12",
  identifier: "PAY-12",
  title: "Refunds over 500 EUR need a second approval",
  status: "In Progress",
  state: { name: "In Progress" },
  normalized_status: "in_progress",
  url: "https://acme.atlassian.net/browse/PAY-12",
  match_type: "exact",
  body: "Finance asks for a four-eyes check on large refunds.",
  issue_type: "story",
  priority: 2,
  labels: ["payments"],
  assignee: { id: "ada@acme.test", name: null },
  assignees: ["ada@acme.test"],
  created_at: "2026-11-28T10:00:00.000Z",
  updated_at: "2026-11-30T09:15:00.000Z",
  resource_type: "jira_project",
  resource_id: "res_01JF3Q9M6K2T8V4X7B5N1C0D2E",
  binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
};

const ROUTED_FRAME_EXAMPLE = {
  provider: "jira",
  resource_type: "jira_project",
  resource_id: "res_01JF3Q9M6K2T8V4X7B5N1C0D2E",
  binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
  display_label: "Acme / PAY Payments",
  provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
  project_slug: "payments",
};

documented(IssueSearchResult, {
  examples: [{ candidates: [TICKET_EXAMPLE], ...ROUTED_FRAME_EXAMPLE }],
});

export const RoutedTickets = Type.Object({ tickets: Type.Array(Candidate), ...RoutedFrame });
export const TeamTickets = Type.Object({ tickets: Type.Array(Candidate), ...TeamFrame });
export const ListTicketsResult = Type.Union([RoutedTickets, TeamTickets], {
  description: "Tickets of the mapped resource (routed) or the team's mapped resources (provider only).",
});
documented(ListTicketsResult, {
  examples: [{ tickets: [{ ...TICKET_EXAMPLE, match_type: "text" }], ...ROUTED_FRAME_EXAMPLE }],
});
