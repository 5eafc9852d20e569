import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import { type BrowserCookie, expireBrowserCookie, setBrowserCookie } from "../../host/http/cookies.ts";
import { tooManyAttempts } from "../../host/http/rate-limits.ts";
import { MIN_PASSWORD_LENGTH } from "../../host/invitations/service.ts";
import { sameSecret } from "../../host/sessions/service.ts";
import { formOf, seeOther, sendHtml, str } from "../context.ts";
import { html } from "../html.ts";
import { bare } from "../layout.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "invitations" | "sessions">;

/** The accept form carries a pre-session CSRF token (double submit), like sign-in: no login CSRF. */
const INVITE_COOKIE: BrowserCookie = { name: "sk_invite", path: "/dashboard/invitations" };

type Lookup = Awaited<ReturnType<Deps["invitations"]["lookup"]>>;

function acceptPage(
  token: string,
  found: Lookup,
  o: { csrf: string; name?: string; error?: string; field?: "password" | "confirm" },
) {
  const { invitation, team, hasAccount } = found;
  const described = o.error ? html`aria-describedby="accept-error" aria-invalid="true"` : null;
  return bare(
    `Join ${team.name}`,
    html`<section class="card signin">
  <h1>Join ${team.name}</h1>
  <p class="muted">You were invited as ${invitation.role === "admin" ? "an admin" : "a member"} with <strong>${invitation.email}</strong>.</p>
  ${o.error ? html`<div class="notice notice-error" role="alert" id="accept-error">${o.error}</div>` : null}
  <form method="post" action="/dashboard/invitations/${token}" class="form">
    <input type="hidden" name="_csrf" value="${o.csrf}">
    <input type="text" name="email" autocomplete="username" value="${invitation.email}" readonly hidden>
    ${
      hasAccount
        ? html`<p>You already have an account. Enter its password to join.</p>
    <div class="field"><label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required ${described} autofocus></div>
    <button type="submit" class="btn btn-primary btn-block">Sign in and join</button>`
        : html`<div class="field"><label for="name">Your name</label>
      <input id="name" name="name" type="text" maxlength="100" autocomplete="name" value="${o.name ?? ""}" autofocus></div>
    <div class="field"><label for="password">Choose a password</label>
      <input id="password" name="password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required ${o.field === "password" ? described : null}>
      <p class="hint">At least ${MIN_PASSWORD_LENGTH} characters.</p></div>
    <div class="field"><label for="confirm">Repeat the password</label>
      <input id="confirm" name="confirm" type="password" autocomplete="new-password" required ${o.field === "confirm" ? described : null}></div>
    <button type="submit" class="btn btn-primary btn-block">Create account and join</button>`
    }
  </form>
</section>`,
  );
}

/** Accepting an invitation: public pages (the link's secret is the credential), then a signed-in session. */
export function invitationPages(app: FastifyInstance, services: Deps) {
  const tokenOf = (params: unknown) => (params as { token: string }).token;
  const fresh = (reply: FastifyReply) => {
    const csrf = randomBytes(24).toString("base64url");
    setBrowserCookie(reply, INVITE_COOKIE, csrf);
    return csrf;
  };

  app.get("/invitations/:token", async (req, reply) => {
    const token = tokenOf(req.params);
    const found = await services.invitations.lookup(token);
    return sendHtml(reply, acceptPage(token, found, { csrf: fresh(reply) }));
  });

  app.post("/invitations/:token", async (req, reply) => {
    const token = tokenOf(req.params);
    const form = formOf(req);
    const cookie = req.cookies[INVITE_COOKIE.name];
    if (!cookie || !form._csrf || !sameSecret(cookie, form._csrf))
      throw new DomainError(
        "form_refused",
        "The form expired or did not come from this site. Open the invitation link again.",
      );
    const found = await services.invitations.lookup(token);
    const email = found.invitation.email;
    const password = form.password ?? "";
    const name = str(form.name);
    const again = (error: string, status: number, field?: "password" | "confirm") =>
      sendHtml(reply, acceptPage(token, found, { csrf: fresh(reply), name, error, field }), status);
    const meta = { userAgent: req.headers["user-agent"], ip: req.ip };

    let signedIn: Awaited<ReturnType<Deps["sessions"]["signIn"]>>;
    if (found.hasAccount) {
      signedIn = await services.sessions.signIn({ email, password }, meta);
      if (!signedIn.ok && signedIn.reason === "too_many_attempts") {
        const refusal = tooManyAttempts("failed sign-ins", signedIn.retryAfterSeconds);
        reply.headers(refusal.headers);
        return again(refusal.message, 429, "password");
      }
      if (!signedIn.ok) return again("That password does not match the account.", 401, "password");
      await services.invitations.accept(token, { userId: signedIn.session.user.id }, req.id);
    } else {
      if (password.length < MIN_PASSWORD_LENGTH)
        return again(`Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`, 400, "password");
      if (password !== form.confirm)
        return again("The two passwords differ. Type them again.", 400, "confirm");
      await services.invitations.accept(token, { newAccount: { name, password } }, req.id);
      signedIn = await services.sessions.signIn({ email, password }, meta);
      if (!signedIn.ok)
        throw new DomainError(
          "signed_out",
          "Your account was created. Sign in with your email and password.",
        );
    }
    await services.sessions.setCurrentTeam(signedIn.session.id, found.team.id);
    setBrowserCookie(reply, services.sessions.cookie, signedIn.token);
    expireBrowserCookie(reply, INVITE_COOKIE);
    req.log.info(
      { user_id: signedIn.session.user.id, team_id: found.team.id, session_id: signedIn.session.id },
      "invitation accepted",
    );
    return seeOther(reply, "/dashboard/?done=signed_in");
  });
}
