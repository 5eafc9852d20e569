import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Domain } from "../../host/domain.ts";
import { DomainError } from "../../host/errors/domain-error.ts";
import { type BrowserCookie, expireBrowserCookie, setBrowserCookie } from "../../host/http/cookies.ts";
import { tooManyAttempts } from "../../host/http/rate-limits.ts";
import { redirectTargetProblem, safeRedirectPath } from "../../host/http/redirect-target.ts";
import { sameSecret } from "../../host/sessions/service.ts";
import { formOf, seeOther, sendHtml, str } from "../context.ts";
import { html } from "../html.ts";
import { bare } from "../layout.ts";

/** The domain services these pages call. */
type Deps = Pick<Domain, "sessions">;

/** Sign-in forms carry a pre-session CSRF token (double submit: cookie + hidden field) against login CSRF. */
const SIGNIN_COOKIE: BrowserCookie = { name: "sk_signin", path: "/dashboard" };

/** Only dashboard paths are followed after sign-in (no open redirect); any other `next` is a 400 page. */
export function safeNext(next: unknown): string {
  if (next === undefined || next === "") return "/dashboard/";
  const problem = redirectTargetProblem(next, "/dashboard");
  if (problem)
    throw new DomainError(
      "invalid_return_address",
      `The address to return to after sign-in (next) ${problem}. Open the dashboard and sign in from there.`,
    );
  return safeRedirectPath(next, "next", "/dashboard");
}

function signInPage(opts: {
  csrf: string;
  next: string;
  email?: string;
  error?: string;
  signedOut?: boolean;
}) {
  return bare(
    "Sign in",
    html`<section class="card signin">
  <h1>Sign in</h1>
  <p class="muted">Connect trackers, browse discovered resources and map them to projects.</p>
  ${opts.signedOut ? html`<div class="notice notice-ok" role="status">You are signed out.</div>` : null}
  ${opts.error ? html`<div class="notice notice-error" role="alert" id="signin-error">${opts.error}</div>` : null}
  <form method="post" action="/dashboard/sign-in" class="form">
    <input type="hidden" name="_csrf" value="${opts.csrf}">
    <input type="hidden" name="next" value="${opts.next}">
    <div class="field">
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required value="${opts.email ?? ""}" ${opts.error ? html`aria-describedby="signin-error"` : null} autofocus>
    </div>
    <div class="field">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
    </div>
    <button type="submit" class="btn btn-primary btn-block">Sign in</button>
  </form>
</section>`,
  );
}

export function authPages(app: FastifyInstance, services: Deps) {
  app.get("/sign-in", async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    if (await services.sessions.sessionFromRequest(req)) return seeOther(reply, safeNext(q.next));
    const csrf = randomBytes(24).toString("base64url");
    setBrowserCookie(reply, SIGNIN_COOKIE, csrf);
    return sendHtml(reply, signInPage({ csrf, next: safeNext(q.next), signedOut: q.signed_out === "1" }));
  });

  app.post("/sign-in", async (req, reply) => {
    const form = formOf(req);
    const cookie = req.cookies[SIGNIN_COOKIE.name];
    if (!cookie || !form._csrf || !sameSecret(cookie, form._csrf))
      throw new DomainError(
        "form_refused",
        "The sign-in form expired or did not come from this site. Reload the page and sign in again.",
      );
    const email = str(form.email);
    const next = safeNext(form.next);
    const again = (error: string, status: number) => {
      const csrf = randomBytes(24).toString("base64url");
      setBrowserCookie(reply, SIGNIN_COOKIE, csrf);
      return sendHtml(reply, signInPage({ csrf, next, email, error }), status);
    };
    if (!email || !form.password) return again("Enter your email and password.", 400);
    const result = await services.sessions.signIn(
      { email, password: form.password },
      { userAgent: req.headers["user-agent"], ip: req.ip },
    );
    if (!result.ok && result.reason === "too_many_attempts") {
      const refusal = tooManyAttempts("failed sign-ins", result.retryAfterSeconds);
      reply.headers(refusal.headers);
      return again(refusal.message, 429);
    }
    if (!result.ok) return again("That email and password do not match an account.", 401);
    setBrowserCookie(reply, services.sessions.cookie, result.token);
    expireBrowserCookie(reply, SIGNIN_COOKIE);
    req.log.info({ user_id: result.session.user.id, session_id: result.session.id }, "dashboard sign-in");
    return seeOther(reply, next);
  });
}

/** Routes that need a session (registered inside the signed-in scope). */
export function sessionPages(app: FastifyInstance, services: Deps) {
  app.post("/sign-out", async (req, reply) => {
    const token = req.cookies[services.sessions.cookie.name];
    if (token) await services.sessions.signOut(token);
    expireBrowserCookie(reply, services.sessions.cookie);
    return seeOther(reply, "/dashboard/sign-in?signed_out=1");
  });

  app.post("/team", async (req, reply) => {
    const teamId = str(formOf(req).team_id);
    const target = req.dash.teams.find((t) => t.id === teamId);
    if (!target) throw new DomainError("not_a_member", "You are not a member of that team.");
    await services.sessions.setCurrentTeam(req.dash.session.id, target.id);
    return seeOther(reply, "/dashboard/?done=team_switched");
  });
}
