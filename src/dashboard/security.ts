import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * Response hardening shared by the dashboard's pages and the CLI sign-in pages (`pages/cli-auth.ts`):
 * the content security policy, the headers every page carries, and the same-site check on form posts.
 */

const BASE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
];

/** `form-action` also governs the redirect after a POST, so a page may allow further targets (a loopback). */
export const contentSecurityPolicy = (formTargets: string[] = []) =>
  [...BASE_CSP, `form-action 'self' ${formTargets.join(" ")}`.trim()].join("; ");

/** The headers every HTML page of these plugins carries. */
export function setPageHeaders(
  reply: FastifyReply,
  opts: { referrerPolicy: "same-origin" | "no-referrer"; noStore: boolean },
) {
  reply.header("content-security-policy", contentSecurityPolicy());
  reply.header("x-frame-options", "DENY");
  reply.header("x-content-type-options", "nosniff");
  reply.header("referrer-policy", opts.referrerPolicy);
  if (opts.noStore) reply.header("cache-control", "no-store");
}

/** Pages are not part of the API description. */
export function hideFromApiDocs(app: FastifyInstance) {
  app.addHook("onRoute", (route) => {
    route.schema = { ...route.schema, hide: true };
  });
}

/** False when the request names an `Origin` other than this host (an absent or opaque origin passes). */
export function fromThisSite(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === "null") return true;
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {}
  return host === req.headers.host;
}
