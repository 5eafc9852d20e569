import { Type } from "typebox";
import { RoutedMapping } from "../binding/schemas.ts";
import { documented } from "../http/schemas.ts";
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
documented(OriginBindBody, {
  examples: [
    {
      provider: "jira",
      binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
      mission_id: "01JF3QC8D2E4F6G8H0J2K4M6N8",
      mission_slug: "second-approval",
      external_issue_id: "10042",
      external_issue_key: "PAY-12",
      external_issue_url: "https://acme.atlassian.net/browse/PAY-12",
      external_title: "Refunds over 500 EUR need a second approval",
      external_status: "In Progress",
    },
  ],
});

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
documented(OriginLink, {
  examples: [
    {
      origin_link_id: "mol_01JF3QD0E2F4G6H8J0K2M4N6P8",
      bound_at: "2026-11-30T09:15:00.000Z",
      already_bound: false,
      mission_id: "01JF3QC8D2E4F6G8H0J2K4M6N8",
      mission_slug: "second-approval",
      provider: "jira",
      external_issue_id: "10042",
      external_issue_key: "PAY-12",
      external_issue_url: "https://acme.atlassian.net/browse/PAY-12",
      title: "Refunds over 500 EUR need a second approval",
      status: "In Progress",
      resource_type: "jira_project",
      resource_id: "res_01JF3Q9M6K2T8V4X7B5N1C0D2E",
      binding_ref: "srm_01JF3QA2B7C9D4E6F8G0H1J3K5",
      display_label: "Acme / PAY Payments",
      provider_context: { workspace_name: "Acme", project_key: "PAY", project_name: "Payments" },
      project_slug: "payments",
    },
  ],
});
