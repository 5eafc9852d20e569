import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenConnectFor } from "../../src/demo/simulated.ts";
import { httpStatusOf } from "../../src/host/errors/codes.ts";
import { outboundPolicy } from "../../src/host/http/outbound.ts";
import { connectError } from "../../src/host/http/provider-errors.ts";
import type { SimProvider } from "../../src/simulators/index.ts";
import { createHttpClient, TrackerError } from "../../src/tracker/index.ts";
import { readCookie } from "../support/cookies.ts";
import { closedPort, htmlSite, type LocalServer, selfSignedSite, silentSite } from "../support/servers.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * A token connect that fails says why (issue 12 §5), through the real API over real HTTP: the token
 * (wrong, expired, missing a scope), the URL (unreachable, TLS, not the provider's API). Each is a 4xx
 * that needs the admin, never a retryable 502, and nothing is saved.
 */
let t: SimulatedApp;
let page: LocalServer;
let tls: LocalServer;
let closed: { url: string; host: string };

beforeAll(async () => {
  page = await htmlSite();
  tls = await selfSignedSite();
  closed = await closedPort();
  t = await createSimulatedApp({
    providers: ["gitlab", "jira", "linear", "azure_devops"],
    generatedResources: 0,
    // The loopback servers stand for hosts on the internet, so the outbound policy allows them by port.
    outbound: { allow: [page.host, tls.host, closed.host] },
  });
});
afterAll(async () => {
  await t?.close();
  await page?.close();
  await tls?.close();
});

async function connect(body: object) {
  const before = (await t.services.installations.listForTeam(t.team.id)).length;
  const res = await t.call({ method: "POST", url: "/api/v1/installations/", as: t.admin, payload: body });
  expect((await t.services.installations.listForTeam(t.team.id)).length, "nothing saved").toBe(before);
  const json = res.json();
  expect(res.statusCode, res.body).toBe(422);
  expect(json.retryable).toBe(false);
  expect(json.user_action_required).toBe(true);
  expect(json.effect_certainty).toBe("no_effect");
  return json;
}

const gitlab = (over: Record<string, unknown> = {}) => ({ ...tokenConnectFor(t.sims.gitlab)!, ...over });

describe("the token", () => {
  const NAMES: [SimProvider, string][] = [
    ["gitlab", "GitLab"],
    ["jira", "Jira"],
    ["linear", "Linear"],
    ["azure_devops", "Azure DevOps"],
  ];
  it.each(NAMES)("%s: a wrong token is named as wrong or expired", async (provider, name) => {
    const body = tokenConnectFor(t.sims[provider])!;
    const credential = { ...body.credential };
    for (const k of ["token", "api_key", "password"]) if (k in credential) credential[k] = "wrong-secret-123";
    const json = await connect({ ...body, credential });
    expect(json.error_code).toBe("provider_credential_refused");
    expect(json.message).toContain(`The token was refused by ${name}: it is wrong or expired.`);
    expect(json.message).not.toContain("wrong-secret-123");
  });

  it("gitlab: an expired token gets the same answer", async () => {
    const token = "glpat-expired-connect-1";
    await t.sim("gitlab", "POST", "/_sim/credentials", {
      token,
      workspaces: [t.sims.gitlab.demo.group_id],
      expires_at: Date.now() - 60_000,
    });
    const json = await connect(gitlab({ credential: { kind: "private_token", token } }));
    expect(json.error_code).toBe("provider_credential_refused");
  });

  it("gitlab: a token without read_api names the scopes GitLab asked for", async () => {
    const token = "glpat-read-user-only-1";
    await t.sim("gitlab", "POST", "/_sim/credentials", {
      token,
      workspaces: [t.sims.gitlab.demo.group_id],
      scopes: ["read_user"],
    });
    for (const options of [{ group_id: t.sims.gitlab.demo.group_id }, undefined]) {
      const json = await connect(gitlab({ credential: { kind: "private_token", token }, options }));
      expect(json.error_code).toBe("provider_scope_missing");
      expect(json.required_scopes).toEqual(["api", "read_api"]);
      expect(json.message).toContain("lacks the scope this connection needs: `api` or `read_api`");
    }
  });

  it("gitlab: a token with read_api connects", async () => {
    const token = "glpat-read-api-1";
    await t.sim("gitlab", "POST", "/_sim/credentials", {
      token,
      workspaces: [t.sims.gitlab.demo.group_id],
      scopes: ["read_api"],
    });
    const res = await t.call({
      method: "POST",
      url: "/api/v1/installations/",
      as: t.admin,
      payload: gitlab({ credential: { kind: "private_token", token } }),
    });
    expect(res.statusCode, res.body).toBe(201);
  });
});

describe("the URL", () => {
  it("a closed port: could not reach, connection refused", async () => {
    const json = await connect(gitlab({ base_url: closed.url }));
    expect(json.error_code).toBe("provider_unreachable");
    expect(json.message).toBe(
      `Could not reach ${closed.host}: the connection was refused. Check the URL and that this server can reach it.`,
    );
  });

  it("a name that does not resolve: could not reach", async () => {
    const json = await connect(gitlab({ base_url: "https://gitlab.no-such-host.invalid" }));
    expect(json.error_code).toBe("provider_unreachable");
    // ENOTFOUND where a resolver answers; EAI_AGAIN where none is reachable (an offline machine).
    expect(json.message).toMatch(
      /^Could not reach gitlab\.no-such-host\.invalid: the name (does not resolve|could not be resolved right now)\./,
    );
  });

  it("a server that never answers: could not reach, no answer in time", async () => {
    const silent = await silentSite();
    try {
      // The app's client waits 15 s; the same client with a short timeout shows the same mapping.
      const client = createHttpClient({
        guard: outboundPolicy({ allow: [silent.host] }).guard,
        retry: { timeoutMs: 200, maxRetries: 0 },
      });
      const err = await client
        .request({ provider: "gitlab" }, { url: `${silent.url}/api/v4/groups` })
        .catch((e) => e);
      expect(err).toBeInstanceOf(TrackerError);
      expect(err.network.cause).toBe("timeout");
      const answer = connectError(err, silent.url);
      expect(httpStatusOf(answer.code)).toBe(422);
      expect(answer.message).toBe(
        `Could not reach ${silent.host}: no answer in time. Check the URL and that this server can reach it.`,
      );
      expect(silent.hits).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it("a self-signed certificate: TLS failed, with the reason", async () => {
    const json = await connect(gitlab({ base_url: tls.url }));
    expect(json.error_code).toBe("provider_tls_failed");
    expect(json.message).toContain(`TLS failed for ${tls.host}: the certificate is self-signed.`);
    expect(tls.hits).toBe(0);
  });

  it.each([
    ["gitlab", "GitLab"],
    ["jira", "Jira"],
    ["azure_devops", "Azure DevOps"],
  ] as [SimProvider, string][])("%s: a web page at the URL is not the provider", async (provider, name) => {
    const json = await connect({ ...tokenConnectFor(t.sims[provider]), base_url: page.url });
    expect(json.error_code).toBe("not_a_provider_server");
    expect(json.message).toContain(`${page.url} is not ${name.startsWith("A") ? "an" : "a"} ${name} server`);
  });

  it("another provider's API at the URL (JSON of another shape) is not the provider", async () => {
    const asGitlab = await connect(gitlab({ base_url: t.sims.jira.url }));
    expect(asGitlab.message).toContain(`${t.sims.jira.url} is not a GitLab server`);
    const asAdo = await connect({ ...tokenConnectFor(t.sims.azure_devops), base_url: t.sims.gitlab.url });
    expect(asAdo.message).toContain(`${t.sims.gitlab.url} is not an Azure DevOps server`);
  });

  it("azure_devops: an unknown organization is not a wrong server", async () => {
    const body = tokenConnectFor(t.sims.azure_devops);
    const json = await connect({ ...body, options: { organization: "no-such-org" } });
    expect(json.error_code).toBe("provider_workspace_not_found");
    expect(json.message).toContain("no-such-org");
  });
});

describe("dashboard", () => {
  it("the connect form shows the same message", async () => {
    const signin = await t.server.inject({ method: "GET", url: "/dashboard/sign-in" });
    const pre = readCookie(String(signin.headers["set-cookie"]).split(";")[0], "sk_signin")!;
    const signed = await t.server.inject({
      method: "POST",
      url: "/dashboard/sign-in",
      headers: { cookie: `sk_signin=${pre}`, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        _csrf: /name="_csrf" value="([^"]+)"/.exec(signin.body)![1],
        email: t.admin.email,
        password: "correct horse battery staple",
      }).toString(),
    });
    const session = ([] as string[])
      .concat(signed.headers["set-cookie"] ?? [])
      .find((c) => c.startsWith("sk_session="))!
      .split(";")[0];
    const form = await t.server.inject({
      method: "GET",
      url: "/dashboard/connect?provider=gitlab",
      headers: { cookie: session },
    });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1];
    const res = await t.server.inject({
      method: "POST",
      url: "/dashboard/connect",
      headers: { cookie: session, "content-type": "application/x-www-form-urlencoded" },
      payload: new URLSearchParams({
        _csrf: csrf,
        provider: "gitlab",
        base_url: closed.url,
        token: t.sims.gitlab.demo.token,
      }).toString(),
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(`Could not reach ${closed.host}: the connection was refused.`);
  });
});
