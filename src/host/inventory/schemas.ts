import { Type } from "typebox";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { documented } from "../http/schemas.ts";
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
documented(Resource, {
  description: "A discovered resource of an installation, with the mapping bound to it (if any).",
  examples: [
    {
      id: "res_01JF3Q9M6K2T8V4X7B5N1C0D2E",
      installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
      provider: "jira",
      resource_key: "jira:acme.atlassian.net:10000:project:10001",
      resource_type: "jira_project",
      native_id: "10001",
      display_label: "Acme / PAY Payments",
      key: "PAY",
      name: "Payments",
      full_path: null,
      web_url: "https://acme.atlassian.net/browse/PAY",
      provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
      archived: false,
      issues_disabled: false,
      first_seen_at: "2026-11-01T08:00:00.000Z",
      last_seen_at: "2026-11-30T09:15:00.000Z",
      missing_since: null,
      binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
      bound_at: "2026-11-30T09:15:00.000Z",
    },
  ],
});

export const ResourcePage = pageOf(Resource);

/** `GET /api/v1/tracker/resources/` (CLI contract §9.1). */
export const CliResourcesQuery = Type.Object(
  {
    provider: ProviderName,
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        description:
          "Page size. The CLI sends none and gets the whole list, however long (streamed past 10,000 resources).",
      }),
    ),
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
documented(CliResources, {
  description:
    "The team's bindable resources for the provider, each with a candidate token to confirm with bind-confirm.",
  examples: [
    {
      provider: "jira",
      installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
      installations: [
        {
          id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
          display_name: "Acme Jira",
          status: "active",
          last_sync_at: "2026-11-30T09:15:00.000Z",
          last_error_code: null,
          last_error_message: null,
          inventory_stale: false,
        },
      ],
      resources: [
        {
          candidate_token: "cand_res_01JF3Q9M6K2T8V4X7B5N1C0D2E.mk2x9a1.Zb3kQ9vT1xY8wE2rL5nP0s",
          display_label: "Acme / PAY Payments",
          provider: "jira",
          provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
          binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
          bound_project_slug: "payments",
          bound_at: "2026-11-30T09:15:00.000Z",
          installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
          resource_key: "jira:acme.atlassian.net:10000:project:10001",
        },
      ],
      has_more: false,
      next_cursor: null,
      hidden_by_curation: 0,
      curation_notice: null,
    },
  ],
});
