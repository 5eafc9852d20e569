import formbody from "@fastify/formbody";
import type { FastifyInstance } from "fastify";
import { formFields } from "./storable-text.ts";

/** A form is a few short fields; anything larger is refused (413) long before the JSON body limit. */
const FORM_BODY_LIMIT = 64 * 1024;

/**
 * What a field sent twice becomes: the `last` value (the dashboard's forms), or a `list` that the
 * OAuth endpoints' schemas refuse (RFC 6749 §3.1: parameters must not be repeated).
 */
export type RepeatedField = "last" | "list";

function formBody(body: string, repeated: RepeatedField) {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of formFields(body)) {
    const before = out[name];
    out[name] = repeated === "last" || before === undefined ? value : [before, value].flat();
  }
  return out;
}

/**
 * Accepts `application/x-www-form-urlencoded` bodies in the calling plugin's scope (@fastify/formbody);
 * text that is not percent-encoded UTF-8 is refused naming the field (storable-text.ts).
 */
export async function acceptForms(app: FastifyInstance, repeated: RepeatedField) {
  await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT, parser: (body) => formBody(body, repeated) });
}
