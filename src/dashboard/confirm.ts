import type { FastifyInstance, FastifyRequest } from "fastify";
import { requireAdmin, requireConfirmed, seeOther, sendHtml } from "./context.ts";
import type { Html } from "./html.ts";
import { page } from "./layout.ts";
import { dangerConfirmCard } from "./views.ts";

/** What the confirmation page of one subject says; `redirect` sends the visitor elsewhere instead. */
export type ConfirmPage =
  | { heading: Html; explanation: Html; button: string; buttonId?: string; cancelHref: string }
  | { redirect: string };

/**
 * A destructive action behind a confirmation page, admins only unless `anyone` (the action checks its
 * own subject, e.g. one's own API token): GET `path` shows the danger card, POST
 * `path` acts only when the form echoes the subject (the `:param` of the path), then redirects.
 */
export function confirmThenAct(
  app: FastifyInstance,
  path: string,
  o: {
    param: string;
    /** The action's name in the "confirm the … " refusal. */
    what: string;
    /** Any signed-in user may confirm (the domain operation decides what they may act on). */
    anyone?: boolean;
    title: string;
    active: string;
    ask: (req: FastifyRequest, subject: string) => Promise<ConfirmPage>;
    /** Performs the action and answers where to go next. */
    act: (req: FastifyRequest, subject: string) => Promise<string>;
  },
) {
  const subjectOf = (req: FastifyRequest) => (req.params as Record<string, string>)[o.param];

  app.get(path, async (req, reply) => {
    if (!o.anyone) requireAdmin(req);
    const subject = subjectOf(req);
    const ask = await o.ask(req, subject);
    if ("redirect" in ask) return seeOther(reply, ask.redirect);
    const body = dangerConfirmCard(req.dash, {
      ...ask,
      action: `/dashboard${path.replace(`:${o.param}`, subject)}`,
      confirm: subject,
    });
    return sendHtml(reply, page(req.dash, { title: o.title, active: o.active, body }));
  });

  app.post(path, async (req, reply) => {
    if (!o.anyone) requireAdmin(req);
    const subject = subjectOf(req);
    requireConfirmed(req, subject, o.what);
    return seeOther(reply, await o.act(req, subject));
  });
}
