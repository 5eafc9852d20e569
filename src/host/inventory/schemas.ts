import { Type } from "typebox";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { ProviderName } from "../installations/schemas.ts";

export const InventoryQuery = Type.Interface(
  [PageQuery],
  {
    installation_id: Type.Optional(Type.String({ maxLength: 64 })),
    provider: Type.Optional(ProviderName),
    q: Type.Optional(
      Type.String({ maxLength: 200, description: "Search label, key, name and path (case-insensitive)." }),
    ),
    state: Type.Optional(
      Type.Union([
        Type.Literal("bound"),
        Type.Literal("unbound"),
        Type.Literal("missing"),
        Type.Literal("archived"),
      ]),
    ),
  },
  { additionalProperties: false },
);

export const Resource = Type.Object({
  id: Type.String(),
  installation_id: Type.String(),
  provider: Type.String(),
  resource_key: Type.String(),
  resource_type: Type.String(),
  native_id: Type.String(),
  display_label: Type.String(),
  key: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  full_path: Type.Union([Type.String(), Type.Null()]),
  web_url: Type.Union([Type.String(), Type.Null()]),
  provider_context: Type.Record(Type.String(), Type.String()),
  archived: Type.Boolean(),
  issues_disabled: Type.Boolean(),
  first_seen_at: Type.String(),
  last_seen_at: Type.String(),
  missing_since: Type.Union([Type.String(), Type.Null()]),
  binding_ref: Type.Union([Type.String(), Type.Null()]),
  bound_at: Type.Union([Type.String(), Type.Null()]),
});

export const ResourcePage = pageOf(Resource);

/** `GET /api/v1/tracker/resources/` (CLI contract §9.1). */
export const CliResourcesQuery = Type.Object(
  {
    provider: ProviderName,
    limit: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 10_000,
      description: "Page size; the CLI sends none and gets up to 10,000.",
    }),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

export const CliResource = Type.Object({
  candidate_token: Type.String(),
  display_label: Type.String(),
  provider: Type.String(),
  provider_context: Type.Record(Type.String(), Type.String()),
  binding_ref: Type.Union([Type.String(), Type.Null()]),
  bound_project_slug: Type.Union([Type.String(), Type.Null()]),
  bound_at: Type.Union([Type.String(), Type.Null()]),
  installation_id: Type.String(),
  resource_key: Type.String(),
});

export const CliInstallationState = Type.Object({
  id: Type.String(),
  display_name: Type.String(),
  status: Type.String(),
  last_sync_at: Type.Union([Type.String(), Type.Null()]),
  last_error_code: Type.Union([Type.String(), Type.Null()]),
  last_error_message: Type.Union([Type.String(), Type.Null()]),
  inventory_stale: Type.Boolean({
    description: "True when the last refresh failed: the list is the last good inventory.",
  }),
});

export const CliResources = Type.Object({
  provider: Type.String(),
  installation_id: Type.String(),
  installations: Type.Array(CliInstallationState),
  resources: Type.Array(CliResource),
  has_more: Type.Boolean(),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
  hidden_by_curation: Type.Integer({
    minimum: 0,
    description:
      "Bindable resources the team's curation rules hide from this list (never named). The CLI ignores it.",
  }),
  curation_notice: Type.Union([Type.String(), Type.Null()], {
    description: "A sentence for the user when curation hid resources, else null. The CLI ignores it.",
  }),
});
