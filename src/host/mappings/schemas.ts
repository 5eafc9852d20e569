import { Type } from "typebox";
import { ProjectIdentity } from "../binding/schemas.ts";
import { PageQuery, pageOf } from "../http/pagination.ts";
import { ProviderName } from "../installations/schemas.ts";

export const Mapping = Type.Object({
  binding_ref: Type.String(),
  provider: Type.String(),
  status: Type.Union([Type.Literal("active"), Type.Literal("disabled"), Type.Literal("deleted")]),
  display_label: Type.String(),
  provider_context: Type.Record(Type.String(), Type.String()),
  project_id: Type.String(),
  project_slug: Type.String(),
  installation_id: Type.String(),
  resource_id: Type.String(),
  resource_key: Type.String(),
  routing_metadata: Type.Record(Type.String(), Type.Unknown()),
  resource_missing_since: Type.Union([Type.String(), Type.Null()]),
  sync_state: Type.Union(
    [
      Type.Literal("idle"),
      Type.Literal("installation_disconnected"),
      Type.Literal("resource_missing"),
      Type.Literal("installation_revoked"),
      Type.Literal("installation_suspended"),
      Type.Literal("installation_error"),
    ],
    { description: "`idle` when the CLI can use it; otherwise what needs attention." },
  ),
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
    status: Type.Optional(
      Type.Union([Type.Literal("active"), Type.Literal("disabled"), Type.Literal("deleted")]),
    ),
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
    status: Type.Optional(Type.Union([Type.Literal("active"), Type.Literal("disabled")])),
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
