import { type TSchema, type TUnsafe, Type } from "typebox";
import type { ErrorCode } from "../errors/codes.ts";

/** The error envelope, as documented in OpenAPI for every non-2xx response. */
export const ErrorEnvelope = Type.Object(
  {
    error_code: Type.String({
      description: "Specific machine code, e.g. `validation_error`, `binding_not_found`.",
    }),
    error_category: Type.Optional(Type.String({ description: "When present, identical to error_code." })),
    message: Type.String({ description: "What went wrong and what to do next." }),
    retryable: Type.Boolean(),
    user_action_required: Type.Boolean(),
    source: Type.Union([Type.Literal("saas"), Type.Literal("provider")]),
    retry_after_seconds: Type.Union([Type.Number(), Type.Null()]),
    effect_certainty: Type.Union([
      Type.Literal("no_effect"),
      Type.Literal("unknown"),
      Type.Literal("applied"),
    ]),
    request_id: Type.Optional(Type.String()),
    idempotency_key: Type.Optional(Type.String()),
  },
  { additionalProperties: true, $id: "ErrorEnvelope" },
);

const ref = Type.Unsafe<unknown>({ $ref: "ErrorEnvelope#" });

/**
 * Standard error responses for an authenticated route, for the OpenAPI document. The `addErrorSchemas`
 * hook (error-schemas.ts) now adds them to every documented route; listing them hides a handler's
 * return type from the type provider, so routes can drop them.
 */
export const errorResponses = {
  400: ref,
  401: ref,
  403: ref,
  404: ref,
  409: ref,
  422: ref,
  429: ref,
  500: ref,
} as const;

/** A string from a fixed list: documented as an `enum`, serialized without a per-response check. */
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) => Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });

/**
 * A string from a fixed list as a union of literals (documented as `anyOf`, one `const` each, as the
 * lists written out by hand were). Typed as the list's members: TypeBox cannot infer a union from an
 * array of literals.
 */
export const LiteralUnion = <const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnsafe<T[number]>;

/** The value or null. */
export const Nullable = <T extends TSchema>(schema: T, options: { description?: string } = {}) =>
  Type.Union([schema, Type.Null()], options);

/**
 * Route options of a CLI contract call: documented under the `tracker` tag with its summary, its
 * strictly validated input (`body` or `querystring`, and `headers`), its success responses, whose schemas also
 * serialise the result, and the error codes it answers besides those its shape implies (error-schemas.ts).
 */
export const cliRoute = <S extends { response: Record<number, TSchema>; errors?: readonly ErrorCode[] }>(
  summary: string,
  schema: S,
) => ({
  schema: { tags: ["tracker"], summary, ...schema },
});

/**
 * The `Idempotency-Key` a contract write requires (cli-wire-contract §1.4): the same key with the same body
 * replays the first answer (`Idempotency-Replayed: true`), with another body it is refused. Declared on
 * the route, so it is validated and documented; idempotency/service.ts keeps the records.
 */
export const IdempotencyKeyHeaders = Type.Object({
  "idempotency-key": Type.String({
    pattern: "^[\\x21-\\x7e]{1,255}$",
    description:
      "1-255 printable ASCII characters, one per logical write: a retry sends the same key. Kept 24 hours per team and credential.",
    examples: ["logical-operation:bind-confirm:3f9a0c2e7b1d4e5f"],
  }),
});

/**
 * Documents a schema in place, beside its definition: its description (a response's description in the
 * OpenAPI document) and examples, which test/host/openapi.test.ts validates against it (not typed as
 * `Static<T>`: a union built from a list, like the provider names, has no static type). The definition
 * itself stays as written.
 */
export function documented<T extends TSchema>(
  schema: T,
  doc: { description?: string; examples: unknown[] },
): T {
  return Object.assign(schema, doc);
}
