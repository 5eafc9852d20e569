import { Type } from "typebox";
import { ProviderName } from "../installations/schemas.ts";

const RoutingKey = (what: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: what }));
const Routing = {
  provider: ProviderName,
  binding_ref: RoutingKey("The mapping's binding_ref (preferred). Send this or `project_slug`, never both."),
  project_slug: RoutingKey("Legacy routing by project slug."),
};

const Status = Type.Union(
  ["todo", "in_progress", "in_review", "blocked", "done", "canceled"].map((s) => Type.Literal(s)),
);
const IssueType = Type.Union(
  ["epic", "story", "task", "bug", "chore", "subtask"].map((s) => Type.Literal(s)),
);

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
  { additionalProperties: false },
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
  { additionalProperties: false },
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
  { additionalProperties: false },
);

export const Pending = Type.Object({ operation_id: Type.String(), status: Type.Literal("pending") });

export const AnyObject = Type.Record(Type.String(), Type.Unknown());
