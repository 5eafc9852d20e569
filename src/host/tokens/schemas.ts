import { Type } from "typebox";
import { pageOf } from "../http/pagination.ts";

export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: "First characters of the token, to tell tokens apart." }),
  created_at: Type.String({ format: "date-time" }),
  expires_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
});

export const CreatedApiToken = Type.Interface([ApiToken], {
  token: Type.String({ description: "The secret. Shown once; store it now." }),
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

export const TokenParams = Type.Object({ token_id: Type.String({ maxLength: 64 }) });
export const ApiTokenPage = pageOf(ApiToken);
