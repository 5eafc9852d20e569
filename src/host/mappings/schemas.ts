import { Type } from "typebox";
import { ProjectIdentity, RoutedMapping } from "../binding/schemas.ts";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { LiteralUnion } from "../http/schemas.ts";
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
