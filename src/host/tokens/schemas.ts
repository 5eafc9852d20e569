import { Type } from "typebox";
import { pageOf } from "../http/pagination.ts";

const scopeOf = (description: string) =>
  Type.Union([Type.Literal("read"), Type.Literal("read_write")], { description });

const SCOPE =
  "`read`: every write (push, run, bind-confirm, mission-origin bind, any change) answers 403 `token_read_only`; `read_write`: all the member may do.";

export const TokenScopeSchema = scopeOf(SCOPE);

export const ApiToken = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: "First characters of the token, to tell tokens apart." }),
  created_at: Type.String({ format: "date-time" }),
  expires_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  scope: TokenScopeSchema,
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
    scope: Type.Optional(scopeOf(`${SCOPE} Default \`read_write\`.`)),
  },
  { additionalProperties: false },
);

export const TokenParams = Type.Object({ token_id: Type.String({ maxLength: 64 }) });
export const ApiTokenPage = pageOf(ApiToken);
