import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import { acceptForms } from "../../host/http/forms.ts";
import type { AuthorizeParams } from "../../host/oauth/service.ts";
import type { Session } from "../../host/sessions/service.ts";
import { dashContextFor, sendHtml } from "../context.ts";
import { pageProblem } from "../errors.ts";
import { type Html, html } from "../html.ts";
import { badge, bare, csrfField, page, when } from "../layout.ts";
import { contentSecurityPolicy, fromThisSite, hideFromApiDocs, setPageHeaders } from "../security.ts";

/**
 * Browser side of CLI sign-in, in this module's own plugin (the dashboard's pages are not touched):
 * the consent page of `GET /oauth/authorize`, the device verification page, and the list of the
 * user's CLI sessions. Sign-in itself is the dashboard's page; unsigned users go there and come back
 * through a `/dashboard/cli/...` path (the sign-in page only returns to dashboard paths).
 */

/** The domain services these pages call. */
type Deps = Pick<Domain, "oauth" | "sessions" | "teams">;

type Fields = Record<string, string | undefined>;

const queryOf = (req: FastifyRequest) => {
  const i = req.url.indexOf("?");
  return i < 0 ? "" : req.url.slice(i + 1);
};

/** The dashboard's sign-in page, returning to `next` (a `/dashboard/...` path) afterwards. */
export const signInUrl = (next: string) => `/dashboard/sign-in?next=${encodeURIComponent(next)}`;

function card(title: string, body: Html | null, extra?: Html) {
  return bare(title, html`<section class="card signin"><h1>${title}</h1>${body}${extra ?? null}</section>`);
}

export const cliAuthPages: FastifyPluginAsync<{ services: Deps }> = async (app, { services }) => {
  hideFromApiDocs(app);
  await acceptForms(app as unknown as FastifyInstance, "list");
  app.addHook("onRequest", async (_req, reply) => {
    setPageHeaders(reply, { referrerPolicy: "no-referrer", noStore: true });
  });
  app.setErrorHandler((err, req, reply) => {
    const { status, title, message, unexpected } = pageProblem(err);
    if (status >= 500 || unexpected) {
      req.log.error({ err }, "CLI sign-in page failed");
      return sendHtml(
        reply,
        card("Something went wrong", html`<p>Nothing was changed. Request id: <code>${req.id}</code></p>`),
        500,
      );
    }
    return sendHtml(reply, card(title ?? "Request refused", html`<p>${message}</p>`), status);
  });

  /** A state-changing form must come from this site and carry the session's CSRF token. */
  async function formSession(req: FastifyRequest): Promise<Session> {
    const session = await services.sessions.sessionFromRequest(req);
    if (!session)
      throw new DomainError("signed_out", "Your session ended. Start the sign-in again from the CLI.");
    if (!fromThisSite(req)) throw new DomainError("form_refused", "This form did not come from this site.");
    const form = (req.body ?? {}) as Fields;
    if (!services.sessions.verifyCsrf(session, form._csrf))
      throw new DomainError(
        "form_refused",
        "The form expired or did not come from this site. Reload and try again.",
      );
    return session;
  }

  // ── authorization code + PKCE ────────────────────────────────────────────────────

  function consentPage(session: Session, p: AuthorizeParams) {
    const hidden = (name: string, value: string | undefined) =>
      value === undefined ? null : html`<input type="hidden" name="${name}" value="${value}">`;
    const target = new URL(p.redirectUri);
    return card(
      "Sign in to the Spec Kitty CLI?",
      html`<p>The <strong>spec-kitty</strong> command line on this computer asks to act as
  <strong id="consent-user">${session.user.email}</strong>: to read your teams and use the tracker API for them.</p>
<p class="muted small">Approve only if you just ran <code>spec-kitty auth login</code>. The CLI listens on
  <code>${target.host}</code>. The sign-in lasts until you sign out or revoke it under CLI sessions.</p>
<form method="post" action="/oauth/authorize" class="form">
  <input type="hidden" name="_csrf" value="${session.csrfToken}">
  ${hidden("client_id", p.clientId)}${hidden("redirect_uri", p.redirectUri)}${hidden("response_type", "code")}
  ${hidden("code_challenge", p.codeChallenge)}${hidden("code_challenge_method", "S256")}${hidden("scope", p.scope)}${hidden("state", p.state)}
  <button type="submit" name="decision" value="approve" class="btn btn-primary btn-block" id="approve">Approve</button>
  <button type="submit" name="decision" value="deny" class="btn btn-block btn-ghost" id="deny">Deny</button>
</form>`,
    );
  }

  app.get("/oauth/authorize", async (req, reply) => {
    const check = services.oauth.checkAuthorize(req.query as Record<string, unknown>);
    if (check.kind === "fatal")
      return sendHtml(reply, card("Sign-in request refused", html`<p>${check.message}</p>`), 400);
    if (check.kind === "redirect") return reply.redirect(check.location, 303);
    const session = await services.sessions.sessionFromRequest(req);
    if (!session) return reply.redirect(signInUrl(`/dashboard/cli/authorize?${queryOf(req)}`), 303);
    reply.header(
      "content-security-policy",
      contentSecurityPolicy([new URL(check.params.redirectUri).origin]),
    );
    return sendHtml(reply, consentPage(session, check.params));
  });

  app.post("/oauth/authorize", async (req, reply) => {
    const session = await formSession(req);
    const form = req.body as Fields;
    const check = services.oauth.checkAuthorize({ ...form, _csrf: undefined, decision: undefined });
    if (check.kind === "fatal")
      return sendHtml(reply, card("Sign-in request refused", html`<p>${check.message}</p>`), 400);
    if (check.kind === "redirect") return reply.redirect(check.location, 303);
    if (form.decision !== "approve") return reply.redirect(services.oauth.deny(check.params), 303);
    const location = await services.oauth.approve(check.params, session.user.id, req.headers["user-agent"]);
    req.log.info({ user_id: session.user.id }, "CLI sign-in approved");
    return reply.redirect(location, 303);
  });

  /** Where the sign-in page returns to (it only follows `/dashboard` paths). */
  app.get("/dashboard/cli/authorize", async (req, reply) =>
    reply.redirect(`/oauth/authorize?${queryOf(req)}`, 303),
  );

  // ── device authorization (RFC 8628) ──────────────────────────────────────────────

  function deviceEntry(error?: string, value = "") {
    return card(
      "Sign in a device",
      html`<p>Enter the code the Spec Kitty CLI printed (<code>spec-kitty auth login --headless</code>).</p>
${error ? html`<div class="notice notice-error" role="alert" id="device-error">${error}</div>` : null}
<form method="get" action="/dashboard/cli/device" class="form">
  <div class="field"><label for="user_code">Code</label>
  <input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" required maxlength="32" value="${value}" placeholder="ABCD-EFGH" autofocus></div>
  <button type="submit" class="btn btn-primary btn-block" id="continue">Continue</button>
</form>`,
    );
  }

  app.get("/dashboard/cli/device", async (req, reply) => {
    const session = await services.sessions.sessionFromRequest(req);
    if (!session) return reply.redirect(signInUrl(req.url), 303);
    const code = (req.query as Fields).user_code;
    if (typeof code !== "string" || code.trim() === "") return sendHtml(reply, deviceEntry());
    const found = await services.oauth.findPendingDevice(session.user.id, code);
    if (!found.ok)
      return sendHtml(
        reply,
        deviceEntry(
          found.reason === "too_many_attempts"
            ? "Too many wrong codes. Wait 15 minutes, then try again."
            : "That code is unknown, expired or already used. Check the code in your terminal.",
          code.slice(0, 32),
        ),
        found.reason === "too_many_attempts" ? 429 : 400,
      );
    return sendHtml(
      reply,
      card(
        "Sign in the Spec Kitty CLI?",
        html`<p>Approve the device showing code <strong id="device-code">${found.userCode}</strong> to act as
  <strong>${session.user.email}</strong>. Only approve if you started this sign-in yourself.</p>
<form method="post" action="/dashboard/cli/device" class="form">
  <input type="hidden" name="_csrf" value="${session.csrfToken}">
  <input type="hidden" name="user_code" value="${found.userCode}">
  <button type="submit" name="decision" value="approve" class="btn btn-primary btn-block" id="approve">Approve</button>
  <button type="submit" name="decision" value="deny" class="btn btn-block btn-ghost" id="deny">Deny</button>
</form>`,
      ),
    );
  });

  app.post("/dashboard/cli/device", async (req, reply) => {
    const session = await formSession(req);
    const form = req.body as Fields;
    const approve = form.decision === "approve";
    const done = await services.oauth.decideDevice(
      session.user.id,
      typeof form.user_code === "string" ? form.user_code : "",
      approve,
      req.headers["user-agent"],
    );
    if (!done)
      return sendHtml(
        reply,
        deviceEntry("That code expired or was already used. Start again from the CLI."),
        400,
      );
    return sendHtml(
      reply,
      card(
        approve ? "Device signed in" : "Sign-in denied",
        html`<p id="device-result">${approve ? "You can return to your terminal; the CLI finishes signing in by itself." : "The CLI was told the sign-in was denied."}</p>`,
      ),
    );
  });

  // ── the user's CLI sessions ──────────────────────────────────────────────────────

  const METHOD = { authorization_code: "Browser sign-in", device_code: "Device code (headless)" } as const;

  app.get("/dashboard/cli/sessions", async (req, reply) => {
    const session = await services.sessions.sessionFromRequest(req);
    if (!session) return reply.redirect(signInUrl("/dashboard/cli/sessions"), 303);
    const ctx = await dashContextFor(services.teams, req, session);
    const rows = await services.oauth.listSessions(session.user.id);
    const revoked = (req.query as Fields).done === "revoked";
    const body = html`${revoked ? html`<div class="notice notice-ok" role="status">CLI session revoked. That CLI must sign in again.</div>` : null}
<section class="card"><h2>Signed-in CLIs</h2>
<p class="muted">Each <code>spec-kitty auth login</code> is a session. It lasts until the CLI signs out or you revoke it here.</p>
${
  rows.length === 0
    ? html`<p class="empty" id="no-cli-sessions">No CLI is signed in to your account.</p>`
    : html`<table class="table" id="cli-sessions-table"><thead><tr><th scope="col">Sign-in</th><th scope="col">Approved from</th><th scope="col">Started</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>
${rows.map(
  (
    s,
  ) => html`<tr data-session-id="${s.id}"><td>${METHOD[s.authMethod]}<br><code class="small">${s.id}</code></td>
<td class="small">${s.approvedUserAgent ?? "unknown browser"}${s.createdIp ? html`<br><span class="muted">token from ${s.createdIp}</span>` : null}</td>
<td>${when(s.createdAt)}</td><td>${when(s.lastUsedAt)}</td><td>${badge("ok", "active")}</td>
<td class="actions"><form method="post" action="/dashboard/cli/sessions/${s.id}/revoke" class="inline">${csrfField(ctx)}<button type="submit" class="btn btn-small btn-danger-ghost">Revoke</button></form></td></tr>`,
)}</tbody></table>`
}</section>`;
    return sendHtml(reply, page(ctx, { title: "CLI sessions", body }));
  });

  app.post("/dashboard/cli/sessions/:id/revoke", async (req, reply) => {
    const session = await formSession(req);
    await services.oauth.revokeSession(session.user.id, (req.params as { id: string }).id);
    return reply.redirect("/dashboard/cli/sessions?done=revoked", 303);
  });
};
