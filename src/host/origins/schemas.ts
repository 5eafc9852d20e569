import { Type } from "typebox";
import { RoutedMapping } from "../binding/schemas.ts";
import { ProviderName } from "../installations/schemas.ts";

const Str = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, description });
const RoutingKey = Type.Optional(Type.String({ minLength: 1, maxLength: 128 }));

export const OriginBindBody = Type.Object(
  {
    provider: ProviderName,
    binding_ref: RoutingKey,
    project_slug: RoutingKey,
    mission_id: Str(128, "The mission's ULID (older CLIs send the mission slug)."),
    mission_slug: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
    external_issue_id: Str(256),
    external_issue_key: Str(256),
    external_issue_url: Type.String({ maxLength: 2048 }),
    external_title: Type.String({ maxLength: 1024 }),
    external_status: Type.String({ maxLength: 256, description: "May be empty." }),
  },
  { additionalProperties: false },
);

export const OriginLink = Type.Object(
  {
    origin_link_id: Type.String(),
    bound_at: Type.String(),
    already_bound: Type.Boolean(),
    mission_id: Type.String(),
    mission_slug: Type.Union([Type.String(), Type.Null()]),
    provider: Type.String(),
    external_issue_id: Type.String(),
    external_issue_key: Type.Union([Type.String(), Type.Null()]),
    external_issue_url: Type.Union([Type.String(), Type.Null()]),
    title: Type.String(),
    status: Type.String(),
    resource_type: Type.String(),
    resource_id: Type.String(),
    ...RoutedMapping.properties,
  },
  { description: "The CLI ignores the body; 061 names `origin_link_id` and `bound_at`." },
);
