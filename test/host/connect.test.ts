import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import { connectCookieOf, createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * OAuth connect flows as the providers run them: authorization code (+ PKCE) for GitLab, Jira and Linear
 * through each simulator's consent page, bound to the browser that started them. GitHub's App install
 * and its ownership check: test/host/github-ownership.test.ts.
 */
let t: SimulatedApp;
beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["github", "gitlab", "jira", "linear"] });
});
afterAll(() => t?.close());

const start = (provider: string, extra: Record<string, string> = {}) =>
  t.call({
    method: "POST",
    url: "/api/v1/installations/connect/",
    as: t.admin,
    payload: { provider, ...extra },
  });

/** The admin's browser at the provider: the consent page, Authorize, and the redirect back to our callback. */
async function consent(authorizeUrl: string, choice?: string): Promise<string> {
  const back = await clickThroughConsent(authorizeUrl, { choice });
  expect(back.pathname).toMatch(/^\/api\/v1\/installations\/callback\/[a-z_]+\/$/);
  return back.pathname + back.search;
}

/** Consent, then the callback in the browser that started the flow (its connect cookie). */
async function finish(started: Awaited<ReturnType<typeof start>>, choice?: string) {
  const url = await consent(started.json().authorize_url, choice);
  return t.call({ method: "GET", url, headers: { cookie: connectCookieOf(started) } });
}

describe("OAuth authorization code", () => {
  it.each(["gitlab", "linear"])(
    "%s: PKCE consent, state-checked callback, inventory synced",
    async (provider) => {
      const res = await start(provider);
      expect(res.statusCode, res.body).toBe(200);
      const url = new URL(res.json().authorize_url);
      expect(url.searchParams.get("code_challenge_method")).toBe("S256");
      expect(url.searchParams.get("state")?.length).toBeGreaterThan(20);

      // Exactly these attributes; their order means nothing to a browser (RFC 6265 §5.2).
      const [pair, ...attributes] = String(res.headers["set-cookie"]).split("; ");
      expect(pair).toMatch(/^sk_connect=[^;]+$/);
      expect(attributes.sort()).toEqual([
        "HttpOnly",
        "Max-Age=600",
        "Path=/api/v1/installations/callback/",
        "SameSite=Lax",
        "Secure",
      ]);
      const callback = await consent(res.json().authorize_url);
      const done = await t.call({ method: "GET", url: callback, headers: { cookie: connectCookieOf(res) } });
      expect(done.statusCode, done.body).toBe(201);
      const job = await t.services.jobs.waitFor(done.json().refresh.operation_id);
      expect(job.status).toBe("completed");
      expect(done.json().installation.auth_kind).toBe("oauth");

      // A callback is single-use: replaying it (or forging a state) is refused and creates nothing.
      const before = (await t.services.installations.listForTeam(t.team.id, provider)).length;
      const replay = await t.call({
        method: "GET",
        url: callback,
        headers: { cookie: connectCookieOf(res) },
      });
      expect(replay.statusCode).toBe(400);
      expect(replay.json().error_code).toBe("invalid_connect_state");
      const forged = await t.call({
        method: "GET",
        url: `/api/v1/installations/callback/${provider}/?code=x&state=forged-state`,
      });
      expect(forged.json().error_code).toBe("invalid_connect_state");
      expect((await t.services.installations.listForTeam(t.team.id, provider)).length).toBe(before);
    },
  );

  it("jira 3LO: the site picked on the consent screen connects; a grant reaching two sites asks which one", async () => {
    const [siteA, siteB] = ["1324a887-45db-1bf4-1e99-ef0ff456d421", "a5b6c7d8-1e2f-4a3b-9c8d-7e6f5a4b3c2d"];
    const first = await finish(await start("jira"), siteA);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().installation.workspace.id).toBe(siteA);

    // A second consent adds site B to the grant: without a workspace_id the callback must ask.
    const unsure = await finish(await start("jira"), siteB);
    expect(unsure.statusCode).toBe(400);
    expect(unsure.json().message).toMatch(/2 workspaces/);

    const chosen = await finish(await start("jira", { workspace_id: siteB }), siteB);
    expect(chosen.statusCode, chosen.body).toBe(201);
    expect(chosen.json().installation.workspace.id).toBe(siteB);
    expect((await t.services.jobs.waitFor(chosen.json().refresh.operation_id)).status).toBe("completed");
  });

  it("reconnecting the same workspace keeps the installation id", async () => {
    const token = await t.connect("gitlab");
    const groupId = t.sims.gitlab.demo.group_id;
    const done = await finish(await start("gitlab", { workspace_id: groupId }));
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().reconnected).toBe(true);
    expect(done.json().installation.id).toBe(token.installationId);
    expect(done.json().installation.auth_kind).toBe("oauth");
    const audit = await t.call({ method: "GET", url: "/api/v1/audit-events/?limit=200", as: t.admin });
    expect(audit.json().items.map((e: any) => e.action)).toContain("installation.reconnected");
  });

  it("renews an access token shortly before it expires, and keeps syncing", async () => {
    await t.sim("linear", "PUT", "/_sim/oauth", { access_token_ttl_seconds: 120 });
    const done = await finish(await start("linear"));
    await t.sim("linear", "PUT", "/_sim/oauth", { access_token_ttl_seconds: null });
    expect(done.statusCode).toBeLessThan(300);
    const id = done.json().installation.id;
    await t.services.jobs.waitFor(done.json().refresh.operation_id);

    const job = await t.refresh(id);
    expect(job.status, JSON.stringify(job.error)).toBe("completed");
    const audit = await t.call({ method: "GET", url: "/api/v1/audit-events/?limit=200", as: t.admin });
    const renewed = audit
      .json()
      .items.filter((e: any) => e.action === "installation.credentials_renewed" && e.target_id === id);
    expect(renewed.length).toBeGreaterThanOrEqual(1);
  });
});

describe("a connect flow completes only in the browser that started it", () => {
  const countGitlab = async () => (await t.services.installations.listForTeam(t.team.id, "gitlab")).length;

  it("a callback opened in another browser (no connect cookie, no session) stores nothing and says why", async () => {
    const started = await start("gitlab");
    const url = await consent(started.json().authorize_url);
    const before = await countGitlab();
    const elsewhere = await t.call({ method: "GET", url, headers: { accept: "text/html" } });
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.headers["content-type"]).toMatch(/text\/html/);
    expect(elsewhere.body).toContain("Nothing was connected");
    expect(elsewhere.body).toContain("started in another browser");
    expect(elsewhere.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(await countGitlab()).toBe(before);
    // The state is spent: the starting browser cannot complete it afterwards either.
    const late = await t.call({ method: "GET", url, headers: { cookie: connectCookieOf(started) } });
    expect(late.json().error_code).toBe("invalid_connect_state");
  });

  it("another team's admin, signed in to the dashboard, cannot complete an admin's flow", async () => {
    const started = await start("linear");
    const url = await consent(started.json().authorize_url);
    const outsider = await t.services.sessions.signIn({
      email: t.outsider.email,
      password: "correct horse battery staple",
    });
    if (!outsider.ok) throw new Error("outsider sign-in failed");
    const counts = async () =>
      [
        (await t.services.installations.listForTeam(t.otherTeam.id)).length,
        (await t.services.installations.listForTeam(t.team.id)).length,
      ].join("/");
    const before = await counts();
    const res = await t.call({ method: "GET", url, headers: { cookie: `sk_session=${outsider.token}` } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error_code).toBe("connect_browser_mismatch");
    expect(await counts()).toBe(before);
  });

  it("a flow started through the API completes in a browser signed in to the dashboard as the same admin", async () => {
    const started = await start("gitlab", { workspace_id: t.sims.gitlab.demo.group_id });
    const url = await consent(started.json().authorize_url);
    const own = await t.services.sessions.signIn({
      email: t.admin.email,
      password: "correct horse battery staple",
    });
    if (!own.ok) throw new Error("admin sign-in failed");
    const res = await t.call({
      method: "GET",
      url,
      headers: { cookie: `sk_session=${own.token}`, accept: "text/html" },
    });
    expect(res.statusCode, res.body).toBe(303);
    expect(res.headers.location).toMatch(/^\/dashboard\/installations\/connected\?installation_id=inst_/);
  });

  it("a cancelled consent stores nothing and names the provider's answer", async () => {
    const started = await start("gitlab");
    const back = await clickThroughConsent(started.json().authorize_url, { decision: "deny" });
    const before = await countGitlab();
    const res = await t.call({
      method: "GET",
      url: back.pathname + back.search,
      headers: { cookie: connectCookieOf(started) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain("access_denied");
    expect(await countGitlab()).toBe(before);
  });
});
