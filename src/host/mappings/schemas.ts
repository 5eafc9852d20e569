import { Type } from "typebox";
import { ProjectIdentity, RoutedMapping } from "../binding/schemas.ts";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { documented, LiteralUnion } from "../http/schemas.ts";
import { ProviderName } from "../installations/schemas.ts";
import { SYNC_STATES } from "./health.ts";
import { MAPPING_STATES, SETTABLE_MAPPING_STATES } from "./states.ts";

/** Whether the CLI can use a mapping now, and if not, what is in the way. */
export const SyncState = LiteralUnion(SYNC_STATES, {
  description: "`idle` when the CLI can use it; otherwise what needs attention.",
});

export const Mapping = Type.Object({
  binding_ref: Type.String(),
  provider: Type.String(),
  status: LiteralUnion(MAPPING_STATES),
  display_label: Type.String(),
  provider_context: Type.Record(Type.String(), Type.String()),
  project_id: Type.String(),
  project_slug: Type.String(),
  installation_id: Type.String(),
  resource_id: Type.String(),
  resource_key: Type.String(),
  routing_metadata: Type.Record(Type.String(), Type.Unknown()),
  resource_missing_since: Type.Union([Type.String(), Type.Null()]),
  sync_state: SyncState,
  created_via: Type.String(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  bound_at: Type.String(),
  updated_at: Type.String(),
  deleted_at: Type.Union([Type.String(), Type.Null()]),
});
documented(Mapping, {
  description: "A mapping: which discovered resource a project is bound to, by its stable `binding_ref`.",
  examples: [
    {
      binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
      provider: "jira",
      status: "active",
      display_label: "Acme / PAY Payments",
      provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
      project_id: "prj_01JF3QF4G6H8J0K2M4N6P8Q0R2",
      project_slug: "payments",
      installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P",
      resource_id: "res_01JF3Q9M6K2T8V4X7B5N1C0D2E",
      resource_key: "jira:acme.atlassian.net:10000:project:10001",
      routing_metadata: { version: 1, project_id: "10001", project_key: "PAY" },
      resource_missing_since: null,
      sync_state: "idle",
      created_via: "dashboard",
      created_by: "usr_01JF3Q7A2B4C6D8E0F2G4H6J8K",
      bound_at: "2026-11-30T09:15:00.000Z",
      updated_at: "2026-11-30T09:15:00.000Z",
      deleted_at: null,
    },
  ],
});

export const MappingPage = pageOf(Mapping);

export const MappingListQuery = Type.Interface(
  [PageQuery],
  {
    provider: Type.Optional(ProviderName),
    project_id: Type.Optional(Type.String({ maxLength: 64 })),
    installation_id: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(LiteralUnion(MAPPING_STATES)),
  },
  { additionalProperties: false },
);

/** Admins create by picking: a resource id from the inventory (or a candidate token), and a project. */
export const CreateMappingBody = Type.Object(
  {
    resource_id: Type.Optional(
      Type.String({ maxLength: 64, description: "A discovered resource (GET /api/v1/inventory/)." }),
    ),
    candidate_token: Type.Optional(Type.String({ maxLength: 1024 })),
    project_slug: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: "Existing or new project slug." }),
    ),
    project_identity: Type.Optional(ProjectIdentity),
  },
  { additionalProperties: false },
);
documented(CreateMappingBody, {
  examples: [{ resource_id: "res_01JF3Q9M6K2T8V4X7B5N1C0D2E", project_slug: "payments" }],
});

export const RefParams = Type.Object({ binding_ref: Type.String({ maxLength: 64 }) });

export const ChangeMappingBody = Type.Object(
  {
    status: Type.Optional(LiteralUnion(SETTABLE_MAPPING_STATES)),
    resource_id: Type.Optional(
      Type.String({
        maxLength: 64,
        description: "Move the project's binding to another discovered resource.",
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
documented(ChangeMappingBody, { examples: [{ status: "disabled" }] });

export const DeleteQuery = Type.Object(
  { confirm: Type.String({ description: "Repeat the binding_ref to confirm." }) },
  { additionalProperties: false },
);

/** Repair path: an admin types a provider-native id; the host looks it up with the provider before saving. */
export const RepairLookupBody = Type.Object(
  {
    installation_id: Type.String({ maxLength: 64 }),
    native_id: Type.String({ minLength: 1, maxLength: 256 }),
  },
  { additionalProperties: false },
);
documented(RepairLookupBody, {
  examples: [{ installation_id: "inst_01JF3Q8Z1Y2X3W4V5T6S7R8Q9P", native_id: "10001" }],
});

/** A work-package ↔ issue link, recorded by push (contract §3; the CLI prints `wp_id`, `system`, `external_key`). */
export const WorkPackageLink = Type.Object({
  wp_id: Type.String(),
  system: Type.String({ description: "The provider." }),
  workspace: Type.Union([Type.String(), Type.Null()], {
    description: "The issue's scope (`ref.workspace`).",
  }),
  external_id: Type.String(),
  external_key: Type.Union([Type.String(), Type.Null()]),
  external_url: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});

/** The provider-only form lists links of several mappings: each says whose it is. */
export const TeamWorkPackageLink = Type.Object({
  ...WorkPackageLink.properties,
  binding_ref: Type.String(),
  display_label: Type.String(),
  project_slug: Type.String(),
});

/** `GET /tracker/mappings/` routed by binding_ref or project_slug: the mapping's links. */
export const BoundMappings = Type.Object({
  ...RoutedMapping.properties,
  mappings: Type.Array(WorkPackageLink),
});

/** `GET /tracker/mappings/?provider=P`: links of every live mapping the team has for the provider. */
export const TeamMappings = Type.Object({
  provider: Type.String(),
  mappings: Type.Array(TeamWorkPackageLink),
});

export const TrackerMappings = Type.Union([BoundMappings, TeamMappings], {
  description: "Work-package links of the routed mapping, or (provider only) of the team's mappings.",
});
documented(TrackerMappings, {
  examples: [
    {
      binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
      display_label: "Acme / PAY Payments",
      provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
      project_slug: "payments",
      mappings: [
        {
          wp_id: "WP01",
          system: "jira",
          workspace: "acme",
          external_id: "10043",
          external_key: "PAY-13",
          external_url: "https://acme.atlassian.net/browse/PAY-13",
          created_at: "2026-11-30T09:15:00.000Z",
          updated_at: "2026-11-30T09:15:00.000Z",
        },
      ],
    },
  ],
});
