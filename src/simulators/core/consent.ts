import { randomBytes } from "node:crypto";
import type { SimReply, SimRouter } from "./server.ts";

/**
 * The page a provider shows before it sends the browser back with a code: who is signed in, which app
 * asks for what, and Authorize / Cancel. Real providers never redirect straight from the authorize URL
 * to the client, so neither do the simulators: a browser (or a test) has to submit this form, the way
 * a person clicks through GitHub's install page or GitLab's "Authorize" button.
 */

export interface ConsentChoice {
  /** Form field label, e.g. "Install on". */
  label: string;
  options: { value: string; label: string }[];
}

export interface ConsentRequest {
  provider: string;
  app: string;
  /** Who the provider believes is signed in. */
  signedInAs: string;
  scopes?: string[];
  /** A choice the user makes on the page (GitHub: the account to install on). */
  choice?: ConsentChoice;
  /** The redirect when the user authorizes, given the chosen option (null without a choice). */
  allow(choice: string | null): SimReply;
  /** The redirect when the user cancels. */
  deny(): SimReply;
}

const TICKET_TTL_MS = 10 * 60_000;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function consentDesk(router: SimRouter) {
  const pending = new Map<string, ConsentRequest & { expiresAt: number }>();

  router.on("POST", "/_consent/:ticket", (req) => {
    const ticket = pending.get(req.params.ticket);
    pending.delete(req.params.ticket);
    if (!ticket || ticket.expiresAt <= Date.now())
      return page(410, "This authorization page expired. Start again from the app.");
    const body = (req.body ?? {}) as Record<string, string>;
    if (body.decision !== "allow") return ticket.deny();
    if (!ticket.choice) return ticket.allow(null);
    const chosen = ticket.choice.options.find((o) => o.value === body.choice);
    return chosen ? ticket.allow(chosen.value) : page(400, "Pick one of the offered options.");
  });

  return {
    /** The consent page for one authorization request (single use, 10 minutes). */
    ask(request: ConsentRequest): SimReply {
      const ticket = randomBytes(16).toString("hex");
      pending.set(ticket, { ...request, expiresAt: Date.now() + TICKET_TTL_MS });
      const e = escapeHtml;
      const scopes = request.scopes?.length
        ? `<p>It asks for: ${request.scopes.map((s) => `<code>${e(s)}</code>`).join(", ")}</p>`
        : "";
      const choice = request.choice
        ? `<p><label for="choice">${e(request.choice.label)}</label>
<select id="choice" name="choice">${request.choice.options
            .map((o) => `<option value="${e(o.value)}">${e(o.label)}</option>`)
            .join("")}</select></p>`
        : "";
      return page(
        200,
        `<h1>Authorize ${e(request.app)}</h1>
<p>Signed in to ${e(request.provider)} as <strong>${e(request.signedInAs)}</strong>.</p>
${scopes}
<form method="post" action="/_consent/${ticket}">
${choice}
<button type="submit" name="decision" value="allow">Authorize ${e(request.app)}</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>`,
      );
    },
  };
}

export type ConsentDesk = ReturnType<typeof consentDesk>;

function page(status: number, body: string): SimReply {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    raw: `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Authorize (simulated provider)</title></head><body>${body}</body></html>`,
  };
}

/**
 * What a person does on a simulator's consent page, for tests, the demo and benchmarks: open the
 * authorize URL, pick `choice` (default the first option), press Authorize (or Cancel), and return
 * where the provider sends the browser next. Throws when the page is not a consent page.
 */
export async function clickThroughConsent(
  authorizeUrl: string,
  opts: { choice?: string; decision?: "allow" | "deny" } = {},
): Promise<URL> {
  const pageRes = await fetch(authorizeUrl, { redirect: "manual" });
  const text = await pageRes.text();
  const action = text.match(/<form method="post" action="([^"]+)"/)?.[1];
  if (pageRes.status !== 200 || !action)
    throw new Error(
      `no consent page at ${new URL(authorizeUrl).pathname}: ${pageRes.status} ${text.slice(0, 200)}`,
    );
  const firstOption = text.match(/<option value="([^"]*)"/)?.[1];
  const form = new URLSearchParams({ decision: opts.decision ?? "allow" });
  const choice = opts.choice ?? firstOption;
  if (choice !== undefined) form.set("choice", choice);
  const res = await fetch(new URL(action, authorizeUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
    redirect: "manual",
  });
  const location = res.headers.get("location");
  if (res.status !== 302 || !location) throw new Error(`consent answered ${res.status}: ${await res.text()}`);
  return new URL(location);
}
