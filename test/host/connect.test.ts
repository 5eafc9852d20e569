import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Connect flows as the providers run them (issue 4 §2): the GitHub App install redirect with its setup
 * callback, and OAuth authorization code (+ PKCE) for GitLab, Jira and Linear, against the simulators.
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

/** The admin's browser at the provider: the simulator consents and redirects back to our callback. */
async function consent(authorizeUrl: string): Promise<string> {
  const res = await fetch(authorizeUrl, { redirect: "manual" });
  expect(res.status, await res.clone().text()).toBeGreaterThanOrEqual(300);
  expect(res.status).toBeLessThan(400);
  const back = new URL(res.headers.get("location")!);
  expect(back.pathname).toMatch(/^\/api\/v1\/installations\/callback\/[a-z_]+\/$/);
  return back.pathname + back.search;
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

      const callback = await consent(res.json().authorize_url);
      const done = await t.call({ method: "GET", url: callback });
      expect(done.statusCode, done.body).toBe(201);
      const job = await t.services.jobs.waitFor(done.json().refresh.operation_id);
      expect(job.status).toBe("completed");
      expect(done.json().installation.auth_kind).toBe("oauth");

      // A callback is single-use: replaying it (or forging a state) is refused and creates nothing.
      const before = (await t.services.installations.listForTeam(t.team.id, provider)).length;
      const replay = await t.call({ method: "GET", url: callback });
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

  it("jira 3LO: a grant reaching two sites asks which one, and connects the chosen site", async () => {
    const unsure = await start("jira");
    const first = await t.call({ method: "GET", url: await consent(unsure.json().authorize_url) });
    expect(first.statusCode).toBe(400);
    expect(first.json().message).toMatch(/workspace/i);

    const cloudId = t.sims.jira.demo.cloud_id;
    const chosen = await start("jira", { workspace_id: cloudId });
    const done = await t.call({ method: "GET", url: await consent(chosen.json().authorize_url) });
    expect(done.statusCode, done.body).toBe(201);
    expect(done.json().installation.workspace.id).toBe(cloudId);
    expect((await t.services.jobs.waitFor(done.json().refresh.operation_id)).status).toBe("completed");
  });

  it("reconnecting the same workspace keeps the installation id", async () => {
    const token = await t.connect("gitlab");
    const groupId = t.sims.gitlab.demo.group_id;
    const res = await start("gitlab", { workspace_id: groupId });
    const done = await t.call({ method: "GET", url: await consent(res.json().authorize_url) });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().reconnected).toBe(true);
    expect(done.json().installation.id).toBe(token.installationId);
    expect(done.json().installation.auth_kind).toBe("oauth");
    const audit = await t.call({ method: "GET", url: "/api/v1/audit-events/?limit=200", as: t.admin });
    expect(audit.json().items.map((e: any) => e.action)).toContain("installation.reconnected");
  });

  it("renews an access token shortly before it expires, and keeps syncing", async () => {
    await t.sim("linear", "PUT", "/_sim/oauth", { access_token_ttl_seconds: 120 });
    const res = await start("linear");
    const done = await t.call({ method: "GET", url: await consent(res.json().authorize_url) });
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

describe("GitHub App installation", () => {
  it("redirects to the app's install page and verifies the installation id with GitHub", async () => {
    await t.sim("github", "PUT", "/_sim/app", {
      setup_url: "http://127.0.0.1/api/v1/installations/callback/github/",
    });
    const res = await start("github");
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().authorize_url).toContain(`/apps/${t.sims.github.demo.app_slug}/installations/new`);
    const callback = await consent(res.json().authorize_url);
    expect(callback).toContain("setup_action=install");

    // A forged installation id in the query string is checked with GitHub, not trusted.
    const forged = callback.replace(/installation_id=\d+/, "installation_id=424242");
    const bad = await t.call({ method: "GET", url: forged });
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    expect(bad.json().source).toBe("provider");

    const again = await start("github");
    const done = await t.call({ method: "GET", url: await consent(again.json().authorize_url) });
    expect(done.statusCode, done.body).toBe(201);
    expect(done.json().installation.workspace.id).toBe(t.sims.github.demo.installation_id);
    expect(done.json().installation.repository_selection).not.toBeNull();
  });
});
