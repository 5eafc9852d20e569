import type { FastifyInstance } from "fastify";
import { formFields } from "../http/storable-text.ts";

const FORM = "application/x-www-form-urlencoded";

/**
 * Parses `application/x-www-form-urlencoded` bodies in this plugin's scope (the OAuth endpoints and the
 * consent pages). A field sent twice becomes an array, which the schemas refuse (RFC 6749 §3.1).
 */
export function acceptForms(app: FastifyInstance) {
  if (app.hasContentTypeParser(FORM)) return;
  app.addContentTypeParser(FORM, { parseAs: "string", bodyLimit: 64 * 1024 }, (_req, body, done) => {
    const out: Record<string, string | string[]> = Object.create(null);
    let fields: [string, string][];
    try {
      fields = formFields(body as string);
    } catch (err) {
      return done(err as Error, undefined);
    }
    for (const [k, v] of fields) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });
}
