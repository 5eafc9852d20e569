import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeHtml, html, raw, safeUrl } from "../../src/dashboard/html.ts";
import { sessionsService } from "../../src/host/sessions/service.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { readCookie } from "../support/cookies.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/** Server-side rendering, sessions and CSRF without a browser (the browser suite covers the flows). */
const PASSWORD = "correct horse battery staple";

describe("html template", () => {
  it("escapes every interpolation unless it is trusted markup", () => {
    const name = `<img src=x onerror=alert(1)>"'&\``;
    const out = html`<p title="${name}">${name}${raw("<b>ok</b>")}${html`<i>${name}</i>`}${[name, 1, null, false]}</p>`;
    expect(out.value).toBe(
      `<p title="${escapeHtml(name)}">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;&#96;<b>ok</b><i>&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;&#96;</i>&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;&#96;1</p>`,
    );
    expect(out.value).not.toContain("<img");
  });

  it("links only to http(s) URLs", () => {
    expect(safeUrl("javascript:alert(1)")).toBeNull();
    expect(safeUrl("data:text/html,<script>")).toBeNull();
    expect(safeUrl("not a url")).toBeNull();
    expect(safeUrl("https://github.com/acme/api")).toBe("https://github.com/acme/api");
  });
});

describe("dashboard pages and sessions", () => {
  let app: TestApp;

  /** GET the sign-in page, then POST the form: returns the session cookie value (or the failed response). */
  async function signIn(email: string, password = PASSWORD) {
    const page = await app.server.inject({ method: "GET", url: "/dashboard/sign-in" });
    const pre = readCookie(String(page.headers["set-cookie"]).split(";")[0], "sk_signin")!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const res = await app.server.inject({
      method: "POST",
      url: "/dashboard/sign-in",
      headers: { cookie: `sk_signin=${pre}`, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({ _csrf: csrf, email, password, next: "/dashboard/" }).toString(),
    });
    const cookies = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
    const session = cookies.find((c) => c.startsWith("sk_session="));
    return { res, session, token: session ? readCookie(session.split(";")[0], "sk_session") : undefined };
  }

  const get = (url: string, token?: string) =>
    app.server.inject({ method: "GET", url, headers: token ? { cookie: `sk_session=${token}` } : {} });

  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(() => app?.close());

  it("sends visitors without a session to the sign-in page", async () => {
    const landing = await get("/");
    expect(landing.statusCode).toBe(200);
    expect(landing.body).toContain('href="/dashboard/"');
    const res = await get("/dashboard/mappings");
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/dashboard/sign-in?next=%2Fdashboard%2Fmappings");
  });

  it("signs in with a Secure, HttpOnly, SameSite=Lax cookie whose value is stored only as a hash", async () => {
    const wrong = await signIn(app.admin.email, "wrong password");
    expect(wrong.res.statusCode).toBe(401);
    expect(wrong.session).toBeUndefined();
    expect(wrong.res.body).toContain("do not match");

    const { res, session, token } = await signIn(app.admin.email);
    expect(res.statusCode).toBe(303);
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; SameSite=Lax/);
    const rows = (await app.database.db.execute(sql`select token_hash, csrf_secret from sessions`)) as any;
    const stored = JSON.stringify(rows.rows ?? rows);
    expect(stored).not.toContain(token);
    const overview = await get("/dashboard/", token);
    expect(overview.statusCode).toBe(200);
    expect(overview.headers["content-type"]).toContain("text/html");
    expect(overview.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(overview.body).toContain("Overview");
    expect(overview.body).not.toContain(token);
    expect(app.logs.join("\n")).not.toContain(token);
  });

  it("refuses a sign-in POST without the form's CSRF token", async () => {
    const res = await app.server.inject({
      method: "POST",
      url: "/dashboard/sign-in",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: `email=${encodeURIComponent(app.admin.email)}&password=${encodeURIComponent(PASSWORD)}`,
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses state-changing requests without the session's CSRF token, and from other origins", async () => {
    const { token } = await signIn(app.admin.email);
    const page = await get("/dashboard/tokens", token);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const post = (payload: string, headers: Record<string, string> = {}) =>
      app.server.inject({
        method: "POST",
        url: "/dashboard/tokens",
        headers: {
          cookie: `sk_session=${token}`,
          "content-type": "application/x-www-form-urlencoded",
          ...headers,
        },
        payload,
      });
    expect((await post("name=x&expires_in_days=30")).statusCode).toBe(403);
    expect((await post(`name=x&expires_in_days=30&_csrf=${csrf}x`)).statusCode).toBe(403);
    expect(
      (await post(`name=x&expires_in_days=30&_csrf=${csrf}`, { origin: "https://evil.example" })).statusCode,
    ).toBe(403);
    const ok = await post(`name=ok&expires_in_days=30&_csrf=${csrf}`);
    expect(ok.statusCode).toBe(303);
    expect(ok.body).not.toMatch(/skt_/);
    expect((await get(String(ok.headers.location), token)).body).toMatch(/value="skt_/);
    // Inline validation, nothing saved.
    const invalid = await post(`name=&expires_in_days=7&_csrf=${csrf}`);
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).toContain("Name the token");
  });

  it("switches only to teams the user belongs to", async () => {
    const { token } = await signIn(app.admin.email);
    const page = await get("/dashboard/", token);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const switchTo = (teamId: string) =>
      app.server.inject({
        method: "POST",
        url: "/dashboard/team",
        headers: { cookie: `sk_session=${token}`, "content-type": "application/x-www-form-urlencoded" },
        payload: `team_id=${teamId}&_csrf=${csrf}`,
      });
    expect((await switchTo(app.otherTeam.id)).statusCode).toBe(403);
    const me = await app.services.teams.me(app.admin.userId);
    const priv = me.teams.find((t) => t.is_private_teamspace)!;
    expect((await switchTo(priv.id)).statusCode).toBe(303);
    expect((await get("/dashboard/", token)).body).toContain(`<option value="${priv.id}" selected>`);
  });

  it("renders errors as HTML pages without stack traces; the API keeps its JSON envelope", async () => {
    const { token } = await signIn(app.member.email);
    const missing = await get("/dashboard/installations/inst_nope", token);
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toContain("text/html");
    expect(missing.body).toContain("No installation");
    expect(missing.body).not.toMatch(/\bat .+\.ts:\d+/);
    const adminOnly = await get("/dashboard/connect", token);
    expect(adminOnly.statusCode).toBe(403);
    expect(adminOnly.body).toContain("Only team admins");
    const nowhere = await get("/dashboard/nowhere", token);
    expect(nowhere.statusCode).toBe(404);
    expect(nowhere.headers["content-type"]).toContain("text/html");
    const api = await app.server.inject({ method: "GET", url: "/api/v1/nowhere" });
    expect(api.headers["content-type"]).toContain("application/json");
    const doc = (await app.server.inject({ method: "GET", url: "/api/v1/openapi.json" })).json();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/dashboard") || p === "/")).toEqual([]);
  });

  it("signs out by deleting the session", async () => {
    const { token } = await signIn(app.admin.email);
    const page = await get("/dashboard/", token);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
    const out = await app.server.inject({
      method: "POST",
      url: "/dashboard/sign-out",
      headers: { cookie: `sk_session=${token}`, "content-type": "application/x-www-form-urlencoded" },
      payload: `_csrf=${csrf}`,
    });
    expect(out.statusCode).toBe(303);
    expect(String(out.headers["set-cookie"])).toContain("Max-Age=0");
    expect(await app.services.sessions.authenticate(token!)).toBeNull();
    expect((await get("/dashboard/", token)).statusCode).toBe(303);
  });

  it("expires idle sessions and exposes sessionFromRequest for other sign-in flows", async () => {
    const sessions = sessionsService(app.database.db, { teams: app.services.teams, idleMs: 60_000 });
    const t0 = new Date();
    const r = await sessions.signIn({ email: app.member.email, password: PASSWORD }, {}, t0);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const found = await sessions.sessionFromRequest({ cookies: { a: "b", sk_session: r.token } }, t0);
    expect(found?.user.email).toBe(app.member.email);
    expect(await sessions.authenticate(r.token, new Date(t0.getTime() + 120_000))).toBeNull();
    expect(await sessions.sessionFromRequest({ cookies: {} })).toBeNull();
  });
});

describe("a disconnected installation in the dashboard", () => {
  let app: SimulatedApp;
  let admin: string;
  let member: string;
  let id: string;
  const get = (url: string, token: string) =>
    app.server.inject({ method: "GET", url, headers: { cookie: `sk_session=${token}` } });
  const sessionOf = async (email: string) => {
    const r = await app.services.sessions.signIn({ email, password: PASSWORD }, {});
    if (!r.ok) throw new Error(`sign-in of ${email} failed`);
    return r.token;
  };

  beforeAll(async () => {
    app = await createSimulatedApp({ providers: ["linear"] });
    ({ installationId: id } = await app.connect("linear"));
    const res = await app.call({
      method: "DELETE",
      url: `/api/v1/installations/${id}/?confirm=${id}`,
      as: app.admin,
    });
    expect(res.statusCode, res.body).toBe(200);
    admin = await sessionOf(app.admin.email);
    member = await sessionOf(app.member.email);
  });
  afterAll(() => app?.close());

  it("its page answers 200 with the status, who disconnected it and a Reconnect link for admins", async () => {
    const res = await get(`/dashboard/installations/${id}`, admin);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain("Disconnected");
    expect(res.body).toContain(`by ${app.admin.email}`);
    expect(res.body).toContain(`href="/dashboard/connect?reconnect=${id}"`);
    expect(res.body).not.toContain("Sync now");
    const reconnect = await get(`/dashboard/connect?reconnect=${id}`, admin);
    expect(reconnect.statusCode).toBe(200);
    expect(reconnect.body).toContain(`name="reconnect" value="${id}"`);

    const asMember = await get(`/dashboard/installations/${id}`, member);
    expect(asMember.statusCode).toBe(200);
    expect(asMember.body).not.toContain("reconnect=");
    expect(asMember.body).toContain("Ask a team admin to reconnect it");
  });

  it("the overview lists it apart from the connected ones, and sync or repair on it is refused", async () => {
    const overview = await get("/dashboard/", admin);
    expect(overview.statusCode).toBe(200);
    const group = overview.body.slice(overview.body.indexOf('id="disconnected-installations"'));
    expect(group).toContain(`/dashboard/installations/${id}"`);
    expect(overview.body).not.toContain('id="installations"');
    const repair = await get(`/dashboard/installations/${id}/repair`, admin);
    expect(repair.statusCode).toBe(409);
    expect(repair.body).toContain("is disconnected");
  });
});

describe("a mapping draft is refused alike by the API and the dashboard form", () => {
  let app: SimulatedApp;
  let session: string;
  let csrf: string;
  let installationId: string;
  let bound: string;
  let free: string;

  /** The form's review step, as the browser posts it. */
  const review = (fields: Record<string, string>) =>
    app.server.inject({
      method: "POST",
      url: "/dashboard/mappings/new",
      headers: { cookie: `sk_session=${session}`, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        _csrf: csrf,
        step: "review",
        installation_id: installationId,
        ...fields,
      }).toString(),
    });
  const create = (payload: object) =>
    app.call({ method: "POST", url: "/api/v1/mappings/", as: app.admin, payload });

  beforeAll(async () => {
    app = await createSimulatedApp({ providers: ["linear"] });
    ({ installationId } = await app.connect("linear"));
    const page = await app.services.inventory.page({ teamId: app.team.id, installationId }, undefined, 50);
    const [a, b] = page.items.filter((r) => !r.archived && !r.issues_disabled && !r.missing_since);
    [bound, free] = [a.id, b.id];
    expect((await create({ resource_id: bound, project_slug: "first" })).statusCode).toBe(201);
    const r = await app.services.sessions.signIn({ email: app.admin.email, password: PASSWORD }, {});
    if (!r.ok) throw new Error("sign-in failed");
    session = r.token;
    const form = await app.server.inject({
      method: "GET",
      url: "/dashboard/mappings/new",
      headers: { cookie: `sk_session=${session}` },
    });
    csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1];
  });
  afterAll(() => app?.close());

  it.each([
    ["a slug outside the projects' rule", { resource_id: "free", project_slug: "bad slug!" }, 400],
    ["a resource another project holds", { resource_id: "bound", project_slug: "second" }, 409],
    ["a resource not in the inventory", { resource_id: "res_unknown", project_slug: "third" }, 404],
  ])("%s", async (_, draft, status) => {
    const resource_id =
      draft.resource_id === "free" ? free : draft.resource_id === "bound" ? bound : draft.resource_id;
    const api = await create({ resource_id, project_slug: draft.project_slug });
    expect(api.statusCode, api.body).toBe(status);
    const form = await review({ resource_id, project: "__new__", new_project_slug: draft.project_slug });
    expect(form.statusCode).toBe(400);
    expect(form.body).toContain(escapeHtml(api.json().message));
  });
});
