import { Type } from "typebox";
import { pageOf } from "../http/pagination.ts";
import { documented } from "../http/schemas.ts";

export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: "First characters of the token, to tell tokens apart." }),
  created_at: Type.String({ format: "date-time" }),
  expires_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});
documented(ApiToken, {
  description: "One of your personal API tokens (never its secret).",
  examples: [
    {
      id: "tok_01JF3QE2F4G6H8J0K2M4N6P8Q0",
      name: "laptop",
      prefix: "skt_3fA9",
      created_at: "2026-11-30T09:15:00.000Z",
      expires_at: null,
      last_used_at: "2026-11-30T10:02:00.000Z",
      revoked_at: null,
    },
  ],
});

export const CreatedApiToken = Type.Interface([ApiToken], {
  token: Type.String({ description: "The secret. Shown once; store it now." }),
});
documented(CreatedApiToken, {
  description: "The new token, with its secret: shown once, store it now.",
  examples: [
    {
      id: "tok_01JF3QE2F4G6H8J0K2M4N6P8Q0",
      name: "laptop",
      prefix: "skt_3fA9",
      created_at: "2026-11-30T09:15:00.000Z",
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
      token: "skt_3fA9xQ2mV8kL0pR7tW1yZ4bN6cH5jD",
    },
  ],
});

export const CreateApiTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    expires_in_days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 3650, description: "Omit for a token that does not expire." }),
    ),
  },
  { additionalProperties: false },
);
documented(CreateApiTokenBody, { examples: [{ name: "laptop", expires_in_days: 90 }] });

export const TokenParams = Type.Object({ token_id: Type.String({ maxLength: 64 }) });
export const ApiTokenPage = pageOf(ApiToken);
