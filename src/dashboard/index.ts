import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { Domain } from "../host/domain.ts";
import { DomainError } from "../host/errors/domain-error.ts";
import { acceptForms } from "../host/http/forms.ts";
import { type DashContext, dashContextFor, formOf, sendHtml } from "./context.ts";
import { pageProblem } from "./errors.ts";
import { faviconIco } from "./favicon.ts";
import { html } from "./html.ts";
import { bare, page } from "./layout.ts";
import { auditPages } from "./pages/audit.ts";
import { authPages, sessionPages } from "./pages/auth.ts";
import { curationPages } from "./pages/curation.ts";
import { installationPages } from "./pages/installations.ts";
import { inventoryPages } from "./pages/inventory.ts";
import { invitationPages } from "./pages/invitations.ts";
import { mappingPages } from "./pages/mappings.ts";
import { memberPages } from "./pages/members.ts";
import { overviewPages } from "./pages/overview.ts";
import { projectPages } from "./pages/projects.ts";
import { tokenPages } from "./pages/tokens.ts";
import { contentSecurityPolicy, fromThisSite, hideFromApiDocs, setPageHeaders } from "./security.ts";

/** The domain services the dashboard's pages call, together (each page module names its own few). */
export type DashboardDeps = Pick<
  Domain,
  | "audit"
  | "connect"
  | "curation"
  | "installations"
  | "inventory"
  | "jobs"
  | "mappingAdmin"
  | "mappings"
  | "projects"
  | "sessions"
  | "settings"
  | "teams"
  | "tokens"
  | "members"
  | "invitations"
  | "flash"
  | "webhooks"
>;

const ASSETS = join(dirname(fileURLToPath(import.meta.url)), "assets");

const CSP = contentSecurityPolicy();

function errorPage(req: FastifyRequest, title: string, message: string) {
  const body = html`<section class="card error-card">
  <p>${message}</p>
  <p class="muted small">Request id: <code>${req.id}</code></p>
  <p><a class="btn" href="/dashboard/">Back to the overview</a></p>
</section>`;
  return req.dash
    ? page(req.dash, { title, body })
    : bare(title, html`<section class="card"><h1>${title}</h1>${body}</section>`);
}

const titleByStatus = (status: number) =>
  status === 404
    ? "Not found"
    : status === 403
      ? "Not allowed"
      : status >= 500
        ? "Something went wrong"
        : "Request refused";

/** Errors on dashboard routes are HTML pages with a sentence to act on; never a stack trace. */
function renderError(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  const problem = pageProblem(err);
  if (problem.status >= 500) req.log.error({ err }, "dashboard request failed");
  const message = problem.unexpected
    ? "An unexpected error stopped this page. Try again; if it keeps happening, quote the request id when reporting it."
    : problem.message;
  const title = problem.title ?? titleByStatus(problem.status);
  return sendHtml(reply, errorPage(req, title, message), problem.status);
}

const pages: FastifyPluginAsync<{ services: DashboardDeps }> = async (app, { services }) => {
  hideFromApiDocs(app);
  app.decorateRequest("dash", null as unknown as DashContext);
  await acceptForms(app, "last");

  app.addHook("onRequest", async (req, reply) => {
    setPageHeaders(reply, {
      referrerPolicy: "same-origin",
      noStore: !req.url.startsWith("/dashboard/assets/"),
    });
  });

  app.setErrorHandler((err, req, reply) => renderError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendHtml(reply, errorPage(req, "Not found", "There is no dashboard page at this address."), 404),
  );

  const assets: Record<string, { type: string; body: string }> = {
    "app.css": { type: "text/css; charset=utf-8", body: readFileSync(join(ASSETS, "app.css"), "utf8") },
    "app.js": { type: "text/javascript; charset=utf-8", body: readFileSync(join(ASSETS, "app.js"), "utf8") },
    "tokens.js": {
      type: "text/javascript; charset=utf-8",
      body: readFileSync(join(ASSETS, "tokens.js"), "utf8"),
    },
  };
  app.get("/assets/:name", async (req, reply) => {
    const asset = assets[(req.params as { name: string }).name];
    if (!asset) throw new DomainError("page_not_found", "No such asset.");
    return reply.type(asset.type).header("cache-control", "public, max-age=300").send(asset.body);
  });

  authPages(app, services);
  invitationPages(app, services);

  await app.register(async (signedIn: FastifyInstance) => {
    signedIn.addHook("preHandler", async (req, reply) => {
      const session = await services.sessions.sessionFromRequest(req);
      if (!session) {
        if (req.method === "GET" || req.method === "HEAD") {
          return reply.redirect(`/dashboard/sign-in?next=${encodeURIComponent(req.url)}`, 303);
        }
        throw new DomainError("signed_out", "Your session ended. Sign in again, then repeat the change.");
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        if (!fromThisSite(req))
          throw new DomainError("form_refused", "This change did not come from the dashboard itself.");
        const presented = formOf(req)._csrf ?? req.headers["x-csrf-token"];
        if (!services.sessions.verifyCsrf(session, presented))
          throw new DomainError(
            "form_refused",
            "The form expired or did not come from this site (missing CSRF token). Reload the page and try again.",
          );
      }
      const dash = await dashContextFor(services.teams, req, session);
      if (dash.auth.team.id !== session.currentTeamId)
        await services.sessions.setCurrentTeam(session.id, dash.auth.team.id);
      req.dash = dash;
    });

    sessionPages(signedIn, services);
    overviewPages(signedIn, services);
    installationPages(signedIn, services);
    inventoryPages(signedIn, services);
    projectPages(signedIn, services);
    mappingPages(signedIn, services);
    auditPages(signedIn, services);
    tokenPages(signedIn, services);
    memberPages(signedIn, services);
    curationPages(signedIn, services);
  });
};

/** Server-rendered dashboard over the domain services (never storage). Owns `GET /` and `/dashboard/`. */
export const dashboardRoutes: FastifyPluginAsync<{ services: DashboardDeps }> = async (app, { services }) => {
  // A landing page (JSON for API clients that ask for it); the dashboard itself lives under /dashboard/.
  app.get("/", { schema: { hide: true } }, (req, reply) => {
    const accept = req.headers.accept ?? "";
    if (accept.includes("application/json") && !accept.includes("text/html"))
      return {
        service: "spec-kitty-saas-tracker",
        dashboard: "/dashboard/",
        api: "/api/v1/",
        docs: "/api/docs",
        openapi: "/api/v1/openapi.json",
      };
    reply.header("content-security-policy", CSP).header("x-frame-options", "DENY");
    return sendHtml(
      reply,
      bare(
        "Tracker control plane",
        html`<section class="card signin"><h1>Tracker control plane</h1>
  <p class="muted">Connect issue trackers, map discovered resources to Spec Kitty projects, and let the CLI resolve them.</p>
  <p><a class="btn btn-primary btn-block" href="/dashboard/">Open the dashboard</a></p>
  <p class="small muted">API: <a href="/api/docs">reference</a> · <a href="/api/v1/openapi.json">OpenAPI document</a></p></section>`,
      ),
    );
  });
  const icon = faviconIco();
  app.get("/favicon.ico", { schema: { hide: true } }, (_req, reply) =>
    reply.type("image/x-icon").header("cache-control", "public, max-age=86400").send(icon),
  );
  await app.register(pages, { prefix: "/dashboard", services });
};
