import { Type } from "typebox";
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

export const ListTicketsBody = Type.Object(
  {
    provider: ProviderName,
    binding_ref: RoutingKey,
    project_slug: RoutingKey,
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  },
  { additionalProperties: false },
);

export const AnyObject = Type.Record(Type.String(), Type.Unknown());
