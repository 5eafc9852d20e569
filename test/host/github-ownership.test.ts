import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import {
  connectCookieOf,
  createSimulatedApp,
  GITHUB_CALLBACK,
  installGithubApp,
  openCallback,
  type SimulatedApp,
} from "../support/simulated.ts";

/**
 * Who may connect a GitHub App installation. GitHub's setup redirect carries an installation id anyone
 * can forge, so the service has the installing user authorize the App and accepts only installations
 * that `GET /user/installations` lists for that user; one installation belongs to one team.
 * Seeded on the simulated github.com: acme-admin administers `acme` (41000001), globex-owner the
 * organisation `globex` (41000003), octo-user their own account (41000002).
 */
const ACME = "41000001";
const GLOBEX = "41000003";
const PASSWORD = "correct horse battery staple";

let t: SimulatedApp;
beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["github"] });
});
afterAll(() => t?.close());

const githubRows = async (teamId: string) =>
  (await t.services.installations.listForTeam(teamId, "github")).map((r) => r.workspaceId);

/** Every installation row of the provider across both teams, to prove nothing was written. */
const everything = async () => `${await githubRows(t.team.id)}|${await githubRows(t.otherTeam.id)}`;

async function signInOnGithub(login: string) {
  await t.sim("github", "PUT", "/_sim/app", { callback_url: GITHUB_CALLBACK, signed_in_user: login });
}

describe("GitHub App ownership", () => {
  it("team B presenting acme's installation number through a forged setup callback is refused", async () => {
    // globex-owner installs the App on globex, then edits the callback to name acme's installation.
    await signInOnGithub("globex-owner");
    const start = await t.call({
      method: "POST",
      url: "/api/v1/installations/connect/",
      as: t.outsider,
      payload: { provider: "github" },
    });
    const back = await clickThroughConsent(start.json().authorize_url, { choice: GLOBEX });
    expect(back.searchParams.get("installation_id")).toBe(GLOBEX);
    expect(back.searchParams.get("code")).toBeTruthy();
    back.searchParams.set("installation_id", ACME);
    const before = await everything();
    const res = await openCallback(t, back, connectCookieOf(start));
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({
      error_code: "installation_not_accessible",
      user_action_required: true,
    });
    expect(res.json().message).toContain(ACME);
    expect(res.json().message).toContain("the GitHub user globex-owner");
    expect(await everything()).toBe(before);
  });

  it("team B pasting the installation number into the API is refused before GitHub is asked", async () => {
    const before = await everything();
    for (const credential of [
      { kind: "github_app", installation_id: ACME },
      { kind: "oauth", access_token: "ghu_stolen" },
    ]) {
      const res = await t.call({
        method: "POST",
        url: "/api/v1/installations/",
        as: t.outsider,
        payload: { provider: "github", credential },
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error_code).toBe("validation_error");
    }
    const pasted = await t.call({
      method: "POST",
      url: "/api/v1/installations/",
      as: t.outsider,
      payload: { provider: "github", credential: { kind: "oauth", access_token: "ghu_stolen" } },
    });
    expect(pasted.json().message).toMatch(/install flow.*\/api\/v1\/installations\/connect\//);
    expect(await everything()).toBe(before);
  });

  it("team B posting the number through the dashboard's connect form is refused", async () => {
    const signedIn = await t.services.sessions.signIn({ email: t.outsider.email, password: PASSWORD });
    if (!signedIn.ok) throw new Error("sign-in failed");
    const before = await everything();
    const res = await t.server.inject({
      method: "POST",
      url: "/dashboard/connect",
      headers: {
        cookie: `sk_session=${signedIn.token}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      payload: new URLSearchParams({
        _csrf: signedIn.session.csrfToken,
        provider: "github",
        installation_id: ACME,
      }).toString(),
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("GitHub connects through the App install");
    expect(await everything()).toBe(before);
    // And the page offers only the install flow, no field for a number.
    const form = await t.server.inject({
      method: "GET",
      url: "/dashboard/connect?provider=github",
      headers: { cookie: `sk_session=${signedIn.token}` },
    });
    expect(form.body).toContain("Install the GitHub App");
    expect(form.body).not.toContain('name="installation_id"');
  });

  it("the real owner installing through GitHub connects it, and then another team cannot take it", async () => {
    const res = await installGithubApp(t, t.admin, t.sims.github, { login: "acme-admin", choice: ACME });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().installation).toMatchObject({
      provider: "github",
      workspace: { id: ACME, name: "acme" },
    });
    expect((await t.services.jobs.waitFor(res.json().refresh.operation_id)).status).toBe("completed");

    // An admin of team B who really can access acme on GitHub is still refused: one team per installation.
    const membership = await t.services.teams.findUserByEmail(t.outsider.email);
    expect(membership).toBeTruthy();
    const before = await everything();
    const second = await installGithubApp(t, t.outsider, t.sims.github, {
      login: "acme-admin",
      choice: ACME,
    });
    expect(second.statusCode, second.body).toBe(409);
    expect(second.json().error_code).toBe("installation_in_use");
    expect(second.json().message).not.toMatch(/acme|Acme/);
    expect(await everything()).toBe(before);
  });

  it("reconnecting a known installation only asks the user to authorize, and checks access again", async () => {
    const [row] = await t.services.installations.listForTeam(t.team.id, "github");
    await signInOnGithub("acme-admin");
    const start = await t.call({
      method: "POST",
      url: "/api/v1/installations/connect/",
      as: t.admin,
      payload: { provider: "github", workspace_id: ACME },
    });
    const url = new URL(start.json().authorize_url);
    expect(url.pathname).toBe("/login/oauth/authorize");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    const cookie = connectCookieOf(start);
    const back = await clickThroughConsent(url.toString());
    const res = await openCallback(t, back, cookie);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ reconnected: true, installation: { id: row.id } });

    // Someone signed in to GitHub as a user without access to acme cannot reconnect it.
    await signInOnGithub("octo-user");
    const other = await t.call({
      method: "POST",
      url: "/api/v1/installations/connect/",
      as: t.admin,
      payload: { provider: "github", workspace_id: ACME },
    });
    const back2 = await clickThroughConsent(other.json().authorize_url);
    const refused = await openCallback(t, back2, connectCookieOf(other));
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error_code).toBe("installation_not_accessible");
  });

  it("an installation waiting for an owner's approval says so", async () => {
    const start = await t.call({
      method: "POST",
      url: "/api/v1/installations/connect/",
      as: t.admin,
      payload: { provider: "github" },
    });
    const state = new URL(start.json().authorize_url).searchParams.get("state")!;
    const res = await t.call({
      method: "GET",
      url: `/api/v1/installations/callback/github/?setup_action=request&state=${state}`,
      headers: { cookie: connectCookieOf(start) },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error_code).toBe("installation_pending_approval");
  });
});

describe("GitHub App installation races", () => {
  it("two teams completing an install of one installation at once: exactly one wins", async () => {
    const app = await createSimulatedApp({ providers: ["github"] });
    try {
      await app.sim("github", "PUT", "/_sim/app", {
        callback_url: GITHUB_CALLBACK,
        signed_in_user: "globex-owner",
      });
      const ready = await Promise.all(
        [app.admin, app.outsider].map(async (as) => {
          const start = await app.call({
            method: "POST",
            url: "/api/v1/installations/connect/",
            as,
            payload: { provider: "github" },
          });
          const back = await clickThroughConsent(start.json().authorize_url, { choice: GLOBEX });
          return {
            url: back.pathname + back.search,
            cookie: connectCookieOf(start),
          };
        }),
      );
      const answers = await Promise.all(
        ready.map((r) => app.call({ method: "GET", url: r.url, headers: { cookie: r.cookie } })),
      );
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
      const owners = [
        ...(await app.services.installations.listForTeam(app.team.id, "github")),
        ...(await app.services.installations.listForTeam(app.otherTeam.id, "github")),
      ];
      expect(owners.map((r) => r.workspaceId)).toEqual([GLOBEX]);
    } finally {
      await app.close();
    }
  });
});
