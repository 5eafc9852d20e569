import { Type } from "typebox";
import { ISSUE_STATUSES, ISSUE_TYPES } from "../../tracker/index.ts";
import { RoutedMapping } from "../binding/schemas.ts";
import { LiteralUnion, Nullable, StringEnum } from "../http/schemas.ts";
import { ProviderName } from "../installations/schemas.ts";
import { IdentityPath } from "../status/schemas.ts";

const RoutingKey = (what: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: what }));
const Routing = {
  provider: ProviderName,
  binding_ref: RoutingKey("The mapping's binding_ref (preferred). Send this or `project_slug`, never both."),
  project_slug: RoutingKey("Legacy routing by project slug."),
};

/** The examples' story: Jira project PAY of team acme, bound to the CLI project `payments`. */
const ROUTED_EXAMPLE = {
  provider: "jira",
  binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
  display_label: "Acme / PAY Payments",
  provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
  project_slug: "payments",
  identity_path: {
    type: "installation",
    installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
    user_link_id: null,
    provider: "jira",
    provider_account_id: null,
  },
  doctrine: null,
};
const ISSUE_EXAMPLE = {
  ref: {
    system: "jira",
    id: "10042",
    workspace: "acme",
    key: "PAY-12",
    url: "https://acme.atlassian.net/browse/PAY-12",
  },
  title: "Refunds over 500 EUR need a second approval",
  body: "Finance asks for a four-eyes check on large refunds.",
  status: "in_progress",
  issue_type: "story",
  priority: 2,
  assignees: ["ada@acme.test"],
  labels: ["payments"],
  created_at: "2026-11-28T10:00:00.000Z",
  updated_at: "2026-11-30T09:15:00.000Z",
  provider_metadata: { status_name: "In Progress", issue_type_name: "Story" },
};
const PULL_EXAMPLE = {
  status: "ok",
  summary: { total: 1, succeeded: 1, failed: 0, skipped: 0 },
  items: [ISSUE_EXAMPLE],
  item_errors: null,
  has_more: false,
  next_cursor: null,
};
const PUSH_EXAMPLE = {
  status: "ok",
  summary: { total: 1, succeeded: 1, failed: 0, skipped: 0 },
  items: [
    {
      index: 0,
      wp_id: "WP01",
      action: "create",
      ref: null,
      outcome: "created",
      remote_ref: {
        system: "jira",
        id: "10043",
        workspace: "acme",
        key: "PAY-13",
        url: "https://acme.atlassian.net/browse/PAY-13",
      },
      version: "2026-11-30T09:16:00.000Z",
      message: null,
    },
  ],
  item_errors: null,
};
const PUSH_ITEM_EXAMPLE = {
  wp_id: "WP01",
  action: "create",
  patch: { title: "Second approval for large refunds", labels: ["payments"], status: "todo" },
};

const Status = LiteralUnion(ISSUE_STATUSES);
const IssueType = LiteralUnion(ISSUE_TYPES);

export const PullFilters = Type.Object(
  {
    updated_since: Type.Optional(
      Type.String({ format: "date-time", description: "Only issues updated since." }),
    ),
    status: Type.Optional(Type.Array(Status, { maxItems: 6 })),
    issue_type: Type.Optional(Type.Array(IssueType, { maxItems: 6 })),
  },
  { additionalProperties: false },
);

export const PullBody = Type.Object(
  {
    ...Routing,
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
    cursor: Type.Optional(
      Type.Union([
        Type.String({ maxLength: 2048, description: "`next_cursor` of the previous pull." }),
        Type.Null(),
      ]),
    ),
    filters: Type.Optional(Type.Union([PullFilters, Type.Null()])),
  },
  {
    additionalProperties: false,
    examples: [
      {
        provider: "jira",
        binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
        limit: 100,
        cursor: null,
        filters: { updated_since: "2026-11-01T00:00:00.000Z", status: ["todo", "in_progress"] },
      },
    ],
  },
);

export const PushBody = Type.Object(
  {
    ...Routing,
    items: Type.Array(Type.Unknown(), {
      maxItems: 1000,
      description:
        "PushItem[]: `{wp_id?, action: create|update|transition|link, ref?: {id?, key?}, patch?: {title?, body?, labels?, status?}, target_status?}`. Checked one by one; a bad item fails alone (see docs/runtime.md).",
    }),
  },
  {
    additionalProperties: false,
    examples: [
      { provider: "jira", binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5", items: [PUSH_ITEM_EXAMPLE] },
    ],
  },
);

export const RunBody = Type.Object(
  {
    ...Routing,
    pull_first: Type.Boolean({ default: true }),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
    items: Type.Optional(
      Type.Array(Type.Unknown(), { maxItems: 1000, description: "Push items after the pull." }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        provider: "jira",
        binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
        pull_first: true,
        limit: 100,
        items: [PUSH_ITEM_EXAMPLE],
      },
    ],
  },
);

export const Pending = Type.Object(
  {
    operation_id: Type.String({ description: "Poll `GET /tracker/operations/{operation_id}/`." }),
    status: Type.Literal("pending"),
  },
  {
    description: "Accepted: runs as an operation; its `result` is what a 200 would have answered.",
    examples: [{ operation_id: "op_01JF3QB4N6M8K0J2H4G6F8D0S2", status: "pending" }],
  },
);

// Responses (contract §4-§6). The CLI renders `status`, `summary`, `identity_path` and `has_more`; the
// rest is what `--json` shows.

const PhaseStatus = StringEnum(["ok", "partial", "error"]);

const Summary = Type.Object({
  total: Type.Integer(),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  skipped: Type.Integer(),
});

/** A failure of one item (push) or of the page that stopped a pull. */
export const ItemError = Type.Object({
  index: Type.Optional(Type.Integer({ description: "The push item's position." })),
  wp_id: Type.Optional(Nullable(Type.String())),
  error_code: Type.String(),
  message: Type.String(),
  retryable: Type.Boolean(),
  retry_after_seconds: Nullable(Type.Number()),
  source: StringEnum(["saas", "provider"]),
});

const ItemErrors = Nullable(Type.Array(ItemError), { description: "Null when nothing failed." });

export const ExternalRef = Type.Object({
  system: Type.String({ description: "The provider." }),
  id: Type.String(),
  workspace: Type.String(),
  key: Type.Optional(Nullable(Type.String())),
  url: Type.Optional(Nullable(Type.String())),
});

/** An issue in the contract's normalised shape; `provider_metadata` is the provider's own. */
export const NormalizedIssue = Type.Object({
  ref: ExternalRef,
  title: Type.String(),
  body: Nullable(Type.String()),
  status: StringEnum(ISSUE_STATUSES),
  issue_type: StringEnum(ISSUE_TYPES),
  priority: Type.Integer({ minimum: 0, maximum: 4 }),
  assignees: Type.Array(Type.String()),
  labels: Type.Array(Type.String()),
  created_at: Nullable(Type.String()),
  updated_at: Nullable(Type.String()),
  provider_metadata: Type.Record(Type.String(), Type.Unknown(), {
    description: "Provider-shaped extras (status name, native ids...).",
  }),
});

/** Where a runtime result comes from: the routed mapping and the identity that acted. */
const Frame = {
  provider: Type.String(),
  ...RoutedMapping.properties,
  identity_path: IdentityPath,
  doctrine: Type.Null({ description: "No doctrine policy is configured." }),
};

const PullPhaseFields = {
  status: PhaseStatus,
  summary: Summary,
  items: Type.Array(NormalizedIssue),
  item_errors: ItemErrors,
  has_more: Type.Boolean(),
  next_cursor: Nullable(Type.String({ description: "Send as `cursor` for the next page." })),
};
export const PullPhase = Type.Object(PullPhaseFields);
export const PullResult = Type.Object(
  { ...PullPhaseFields, ...Frame },
  {
    description: "One page of normalised issues of the mapped resource.",
    examples: [{ ...PULL_EXAMPLE, ...ROUTED_EXAMPLE }],
  },
);

export const PushOutcome = Type.Object({
  index: Type.Integer(),
  wp_id: Nullable(Type.String()),
  action: Nullable(Type.String()),
  ref: Type.Unknown({ description: "The item's `ref`, as sent." }),
  outcome: StringEnum(["created", "updated", "linked", "failed", "skipped"]),
  remote_ref: Nullable(ExternalRef),
  version: Nullable(Type.String({ description: "The issue's `updated_at` after the change." })),
  message: Nullable(Type.String()),
  error_code: Type.Optional(Type.String()),
});

const PushPhaseFields = {
  status: PhaseStatus,
  summary: Summary,
  items: Type.Array(PushOutcome),
  item_errors: ItemErrors,
};
export const PushPhase = Type.Object(PushPhaseFields);
export const PushResult = Type.Object(
  { ...PushPhaseFields, ...Frame },
  {
    description: "What each item did, in order; a failed item does not stop the others.",
    examples: [{ ...PUSH_EXAMPLE, ...ROUTED_EXAMPLE }],
  },
);

export const RunResult = Type.Object(
  {
    status: PhaseStatus,
    summary: Type.Object(Summary.properties, { description: "Both phases together." }),
    pull: Nullable(PullPhase, { description: "Null when `pull_first` was false." }),
    push: PushPhase,
    ...Frame,
  },
  {
    description: "The pull, then the push, and both together.",
    examples: [
      {
        status: "ok",
        summary: { total: 2, succeeded: 2, failed: 0, skipped: 0 },
        pull: PULL_EXAMPLE,
        push: PUSH_EXAMPLE,
        ...ROUTED_EXAMPLE,
      },
    ],
  },
);
