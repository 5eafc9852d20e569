import type { FastifyReply, FastifyRequest } from "fastify";
import type { DomainError } from "../../host/errors/domain-error.ts";
import { sendHtml } from "../context.ts";
import { statusOf } from "../errors.ts";
import { html } from "../html.ts";
import { bare } from "../layout.ts";
import { setPageHeaders } from "../security.ts";

/**
 * The provider sends the admin's browser to the connect callback; when it fails there, the browser
 * gets a page that says what happened and what to do, not a JSON envelope.
 */
export function callbackProblemPage(req: FastifyRequest, reply: FastifyReply, err: DomainError) {
  setPageHeaders(reply, { referrerPolicy: "no-referrer", noStore: true });
  const body = html`<section class="card signin" id="connect-problem">
  <h1>Nothing was connected</h1>
  <p>${err.message}</p>
  <p class="muted small">Error <code>${err.wireCode}</code> · request id <code>${req.id}</code></p>
  <p><a class="btn btn-primary" href="/dashboard/connect">Back to Connect</a></p>
</section>`;
  return sendHtml(reply, bare("Nothing was connected", body), statusOf(err));
}
