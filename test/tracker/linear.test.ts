import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import type { ProviderSimulator } from "../../src/simulators/core/types.ts";
import { startLinearSimulator } from "../../src/simulators/linear/index.ts";
import type { Connection } from "../../src/tracker/core/adapter.ts";
import type { BindableResource, Workspace } from "../../src/tracker/core/descriptor.ts";
import { runDiscovery } from "../../src/tracker/core/discovery.ts";
import { exchangeCode, newPkcePair, OAUTH_PROFILES, refreshTokens } from "../../src/tracker/core/oauth.ts";
import { linearAdapter as adapter } from "../../src/tracker/linear/adapter.ts";
import { trackerFailure as failure, fastHttp, simControl } from "../support/tracker.ts";

const http = fastHttp();
const GENERATED = 1_050;
const NAMED = 8;

let sim: ProviderSimulator;
let conn: Connection;
let workspace: Workspace;
const all: BindableResource[] = [];
let firstPass: { complete: boolean; pages: number; count: number };

const apiKeyConn = (key: string): Connection => ({
  base_url: sim.url,
  credential: { kind: "api_key", api_key: key },
  http,
});
const oauthConn = (token: string): Connection => ({
  base_url: sim.url,
  credential: { kind: "oauth", access_token: token },
  http,
});

const control = simControl(() => sim.url);
const fault = (f: Record<string, unknown>) => control("POST", "/_sim/faults", f);

const byKey = (key: string) => {
  const r = all.find((x) => x.display.key === key);
  if (!r) throw new Error(`no team ${key}`);
  return r;
};

beforeAll(async () => {
  sim = await startLinearSimulator({ generatedResources: GENERATED });
  conn = apiKeyConn(sim.demo.api_key);
  [workspace] = await adapter.listWorkspaces(conn);
  firstPass = await runDiscovery(adapter, conn, workspace, (page) => {
    all.push(...page);
  });
});
afterAll(() => sim.close());
afterEach(async () => {
  await control("DELETE", "/_sim/faults");
  await control("POST", "/_sim/linear/rate-limit", { reset: true });
});

describe("workspaces and discovery", () => {
  it("lists the credential's one organization with its url key", async () => {
    expect(workspace).toMatchObject({
      provider: "linear",
      id: sim.demo.organization_id,
      name: "Acme",
      url: `${sim.url}/acme`,
      details: { url_key: "acme" },
    });
    const globexKey = [...sim.store.credentials.values()].find(
      (c) => c.kind === "api_key" && c.token !== sim.demo.api_key,
    );
    const other = await adapter.listWorkspaces(apiKeyConn(globexKey!.token));
    expect(other.map((w) => w.name)).toEqual(["Globex"]);
    expect(other[0].id).not.toBe(workspace.id);
  });

  it("pages through every team (100 per page) with unique resource keys", async () => {
    expect(all.length).toBe(GENERATED + NAMED);
    expect(new Set(all.map((r) => r.identity.resource_key)).size).toBe(all.length);
    expect(firstPass).toMatchObject({ complete: true, count: all.length });
    expect(firstPass.pages).toBe(Math.ceil(all.length / 100));
  });

  it("describes a team with identity, display, params and routing metadata", () => {
    const eng = byKey("ENG");
    expect(eng.identity).toMatchObject({
      provider: "linear",
      workspace_id: workspace.id,
      resource_type: "team",
    });
    expect(eng.identity.native_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(eng.display).toMatchObject({
      label: "Engineering (ENG)",
      key: "ENG",
      name: "Engineering",
      full_path: null,
      web_url: `${sim.url}/acme/team/ENG`,
      context: { workspace_name: "Acme", team_key: "ENG" },
    });
    expect(eng.connector_params).toEqual({
      organization_id: workspace.id,
      team_id: eng.identity.native_id,
      team_key: "ENG",
    });
    expect(eng.routing_metadata).toMatchObject({
      provider: "linear",
      version: 1,
      organization_name: "Acme",
      url_key: "acme",
      team_name: "Engineering",
    });
    const xss = all.find((r) => r.display.name.startsWith("<img"));
    expect(xss?.display.label).toBe("<img src=x onerror=alert(1)> (XSS)");
  });

  it("flags the archived team and the retired (issues disabled) team", () => {
    expect(byKey("MKT").flags).toEqual({ archived: true, issues_disabled: false });
    expect(byKey("SUP").flags).toEqual({ archived: false, issues_disabled: true });
    expect(byKey("ENG").flags).toEqual({ archived: false, issues_disabled: false });
  });

  it("keeps the resource key across a rename and changes the label", async () => {
    const plt = byKey("PLT");
    await control("PATCH", `/_sim/resources/${plt.identity.native_id}`, {
      name: "Platform Core",
      key: "CORE",
    });
    const renamed = await adapter.getResource(conn, workspace, plt.identity.native_id);
    expect(renamed?.identity.resource_key).toBe(plt.identity.resource_key);
    expect(renamed?.display.label).toBe("Platform Core (CORE)");
    expect(renamed?.connector_params.team_key).toBe("CORE");
  });

  it("gets a team by id and answers null for an unknown one", async () => {
    const des = byKey("DES");
    expect((await adapter.getResource(conn, workspace, des.identity.native_id))?.display.name).toBe("Design");
    expect(await adapter.getResource(conn, workspace, "00000000-0000-4000-8000-000000000000")).toBeNull();
  });
});

describe("failures", () => {
  it("retries a 429 with Retry-After, then succeeds", async () => {
    await fault({ path_prefix: "/graphql", status: 429, retry_after: 0, count: 1 });
    const [ws] = await adapter.listWorkspaces(conn);
    expect(ws.id).toBe(workspace.id);
  });

  it("reports a persistent 5xx as upstream_unavailable", async () => {
    await fault({ path_prefix: "/graphql", status: 503, count: 5 });
    expect((await failure(adapter.listWorkspaces(conn))).kind).toBe("upstream_unavailable");
  });

  it("reports a body that is not JSON as malformed_response", async () => {
    await fault({ path_prefix: "/graphql", malformed: true, count: 1 });
    expect((await failure(adapter.listWorkspaces(conn))).kind).toBe("malformed_response");
  });

  it("reports a 200 with neither data nor errors as malformed_response", async () => {
    await fault({ path_prefix: "/graphql", status: 200, body: { data: null }, count: 1 });
    expect((await failure(adapter.listWorkspaces(conn))).kind).toBe("malformed_response");
  });

  it("retries a dropped connection", async () => {
    await fault({ path_prefix: "/graphql", drop: true, count: 1 });
    expect((await adapter.listWorkspaces(conn))[0].id).toBe(workspace.id);
  });

  it("marks a pass that fails on page 3 as incomplete", async () => {
    await fault({ path_prefix: "/graphql", status: 500, after: 2, count: 3 });
    let seen = 0;
    const outcome = await runDiscovery(adapter, conn, workspace, (page) => {
      seen += page.length;
    });
    expect(outcome.complete).toBe(false);
    expect(outcome.pages).toBe(2);
    expect(seen).toBe(200);
    expect(outcome.truncated?.reason).toBe("upstream_unavailable");
  });

  it("classifies a revoked API key as auth_revoked, without the key in the message", async () => {
    const key = "lin_api_revokedLater000000000000000000000000001";
    await control("POST", "/_sim/credentials", { token: key, workspaces: [workspace.id], kind: "api_key" });
    expect((await adapter.listWorkspaces(apiKeyConn(key))).length).toBe(1);
    await control("POST", "/_sim/credentials/revoke", { token: key });
    const err = await failure(adapter.listWorkspaces(apiKeyConn(key)));
    expect(err.kind).toBe("auth_revoked");
    expect(err.status).toBe(401);
    expect(err.message).not.toContain(key);
  });

  it("classifies an expired OAuth access token as auth_expired", async () => {
    const token = "lin_oauth_expiresSoon00000000000000000000000001";
    await control("POST", "/_sim/credentials", { token, workspaces: [workspace.id], kind: "oauth_access" });
    expect((await adapter.listWorkspaces(oauthConn(token)))[0].id).toBe(workspace.id);
    await control("POST", "/_sim/credentials/expire", { token });
    const err = await failure(adapter.listWorkspaces(oauthConn(token)));
    expect(err.kind).toBe("auth_expired");
    expect(err.message).not.toContain(token);
  });

  it("rejects an API key sent as a Bearer token, as Linear does", async () => {
    const err = await failure(adapter.listWorkspaces(oauthConn(sim.demo.api_key)));
    expect(err.kind).toBe("auth_revoked");
    expect(err.message).not.toContain(sim.demo.api_key);
  });

  it("turns Linear's RATELIMITED answer into rate_limited with the reset time", async () => {
    await control("POST", "/_sim/linear/rate-limit", {
      token: sim.demo.api_key,
      requests_remaining: 0,
      reset_in_ms: 90_000,
    });
    const err = await failure(adapter.listWorkspaces(conn));
    expect(err.kind).toBe("rate_limited");
    expect(err.status).toBe(400);
    expect(err.retryAfterSeconds).toBeGreaterThan(80);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(90);
  });

  it("waits for a near rate-limit reset and then succeeds", async () => {
    await control("POST", "/_sim/linear/rate-limit", {
      token: sim.demo.api_key,
      requests_remaining: 0,
      reset_in_ms: 300,
    });
    expect((await adapter.listWorkspaces(conn))[0].id).toBe(workspace.id);
  });

  it("answers only the selected fields, and rejects unknown ones as Linear's GraphQL does", async () => {
    const ask = (query: string, variables = {}) =>
      fetch(`${sim.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: sim.demo.api_key },
        body: JSON.stringify({ query, variables }),
      });
    const ok = await ask("query Q($id: String!) { t: team(id: $id) { key __typename } }", {
      id: byKey("DES").identity.native_id,
    });
    expect(await ok.json()).toEqual({ data: { t: { key: "DES", __typename: "Team" } } });
    const bad = await ask("{ organization { id password } }");
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const missingVar = await ask("query Q($id: String!) { team(id: $id) { id } }");
    expect(missingVar.status).toBe(400);
  });

  it("sends rate-limit and complexity headers on every answer", async () => {
    const res = await fetch(`${sim.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: sim.demo.api_key },
      body: JSON.stringify({ query: "{ organization { id } }" }),
    });
    for (const h of ["requests-limit", "requests-remaining", "requests-reset", "complexity-remaining"]) {
      expect(res.headers.get(`x-ratelimit-${h}`)).toMatch(/^\d+$/);
    }
    expect(Number(res.headers.get("x-ratelimit-requests-reset"))).toBeGreaterThan(Date.now());
    expect(res.headers.get("x-complexity")).toMatch(/^\d+$/);
  });
});

describe("issues", () => {
  const params = () => byKey("ENG").connector_params;

  it("lists a team's issues page by page with an opaque cursor", async () => {
    const keys: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await adapter.listIssues(conn, params(), { cursor, limit: 2 });
      keys.push(...page.issues.map((i) => i.ref.key ?? ""));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(keys.slice(0, 5)).toEqual(["ENG-1", "ENG-2", "ENG-3", "ENG-4", "ENG-5"]);
  });

  it("normalises an issue: status from the state type, url, labels, type and metadata", async () => {
    const issue = await adapter.getIssue(conn, params(), "ENG-4");
    expect(issue).toMatchObject({
      ref: { system: "linear", key: "ENG-4", workspace: workspace.id },
      title: "Review API rate limits",
      status: "in_review",
      issue_type: "task",
      assignees: ["Ada Lovelace"],
      provider_metadata: { identifier: "ENG-4", state: { name: "In Review", type: "started" } },
    });
    expect(issue?.ref.url).toBe(`${sim.url}/acme/issue/ENG-4/review-api-rate-limits`);
    expect((await adapter.getIssue(conn, params(), "ENG-3"))?.issue_type).toBe("bug");
    expect((await adapter.getIssue(conn, params(), "ENG-5"))?.status).toBe("blocked");
    // By UUID too, but never an issue of another team.
    expect((await adapter.getIssue(conn, params(), issue!.ref.id))?.ref.key).toBe("ENG-4");
    expect(await adapter.getIssue(conn, params(), "DES-1")).toBeNull();
    expect(await adapter.getIssue(conn, params(), "ENG-999")).toBeNull();
  });

  it("searches by key and by text within the bound team", async () => {
    const byKeyHits = await adapter.searchIssues(conn, params(), { key: "ENG-2", text: "ENG-2", limit: 5 });
    expect(byKeyHits.map((i) => i.ref.key)).toEqual(["ENG-2"]);
    const text = await adapter.searchIssues(conn, params(), { text: "login", limit: 10 });
    expect(text.map((i) => i.ref.key)).toEqual(["ENG-3"]);
    // "Add Clerk auth" also exists in Globex (another credential) and nowhere else in Acme's ENG.
    const clerk = await adapter.searchIssues(conn, params(), { text: "clerk", limit: 10 });
    expect(clerk.map((i) => i.ref.key)).toEqual(["ENG-2"]);
    expect(await adapter.searchIssues(conn, params(), { text: "no such words anywhere", limit: 10 })).toEqual(
      [],
    );
  });

  it("creates an issue with a status and labels, visible through /_sim/", async () => {
    const created = await adapter.createIssue(conn, params(), {
      title: "Wire the tracker",
      body: "Created by the adapter test.",
      status: "in_progress",
      labels: ["Bug", "Brand New Label"],
    });
    expect(created.ref.key).toMatch(/^ENG-\d+$/);
    expect(created).toMatchObject({ status: "in_progress", issue_type: "bug" });
    expect(created.labels).toEqual(["Bug", "Brand New Label"]);
    const stored = (await control("GET", `/_sim/resources/${params().team_id}/issues`)).issues.find(
      (i: { id: string }) => i.id === created.ref.id,
    );
    expect(stored).toMatchObject({ title: "Wire the tracker", status: "in_progress" });
    expect(stored.labels).toEqual(["Bug", "Brand New Label"]);
  });

  // Todo, in progress, in review, done and reopen are the runtime contract's (runtime-contract.test.ts).
  it("moves an issue to blocked and canceled via the team's workflow states", async () => {
    const created = await adapter.createIssue(conn, params(), { title: "Status walk" });
    expect(created.status).toBe("todo");
    for (const status of ["blocked", "canceled"] as const) {
      const updated = await adapter.updateIssue(conn, params(), created.ref.key!, { status });
      expect(updated.status).toBe(status);
      const stored = (await control("GET", `/_sim/resources/${params().team_id}/issues`)).issues.find(
        (i: { id: string }) => i.id === created.ref.id,
      );
      expect(stored.status).toBe(status);
    }
    const retitled = await adapter.updateIssue(conn, params(), created.ref.id, {
      title: "Status walk (done)",
    });
    expect(retitled.title).toBe("Status walk (done)");
  });

  it("refuses to create in a retired team and to update another team's issue", async () => {
    const err = await failure(adapter.createIssue(conn, byKey("SUP").connector_params, { title: "nope" }));
    expect(err.kind).toBe("invalid_request");
    expect((await failure(adapter.updateIssue(conn, params(), "DES-1", { title: "x" }))).kind).toBe(
      "not_found",
    );
  });
});

describe("labels across the workspace and the team", () => {
  /** Asks the simulator what a Linear client would see, with the demo API key. */
  const query = async (q: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${sim.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: sim.demo.api_key },
      body: JSON.stringify({ query: q, variables }),
    });
    return (await res.json()) as { data: Record<string, any> | null; errors?: { message: string }[] };
  };
  const teamLabels = async (teamId: string) =>
    (
      await query("query($id: String!) { team(id: $id) { labels(first: 250) { nodes { name } } } }", {
        id: teamId,
      })
    ).data?.team.labels.nodes.map((l: { name: string }) => l.name) as string[];
  const teamId = (key: string) => String(byKey(key).connector_params.team_id);

  it("puts a workspace label on the issue instead of creating a team copy of it", async () => {
    const created = await adapter.createIssue(conn, byKey("DES").connector_params, {
      title: "Uses the workspace label",
      labels: ["improvement"],
    });
    expect(created.labels).toEqual(["Improvement"]);
    expect(await teamLabels(teamId("DES"))).not.toContain("Improvement");
    const onIssue = await query(
      "query($id: String!) { issue(id: $id) { labels { nodes { name team { id } } } } }",
      { id: created.ref.id },
    );
    expect(onIssue.data?.issue.labels.nodes).toEqual([{ name: "Improvement", team: null }]);
  });

  it("finds a team label on a later page of a team with hundreds of labels", async () => {
    const names = Array.from({ length: 300 }, (_, i) => `Area ${String(i + 1).padStart(3, "0")}`);
    await control("POST", "/_sim/linear/labels", { team_id: teamId("OPS"), names });
    const created = await adapter.createIssue(conn, byKey("OPS").connector_params, {
      title: "Labelled from page two",
      labels: ["Area 299"],
    });
    expect(created.labels).toEqual(["Area 299"]);
    const named = await query("query($f: IssueLabelFilter) { issueLabels(filter: $f) { nodes { id } } }", {
      f: { name: { eqIgnoreCase: "area 299" } },
    });
    expect(named.data?.issueLabels.nodes).toHaveLength(1);
  });

  it("creates a team label for a name only another team has, never borrowing that team's label", async () => {
    await control("POST", "/_sim/linear/labels", { team_id: teamId("PRD"), names: ["Roadmap"] });
    const created = await adapter.createIssue(conn, byKey("PLT").connector_params, {
      title: "Needs its own Roadmap label",
      labels: ["Roadmap"],
    });
    expect(created.labels).toEqual(["Roadmap"]);
    expect(await teamLabels(teamId("PLT"))).toContain("Roadmap");
    expect(await teamLabels(teamId("PRD"))).toContain("Roadmap");
  });

  it("reads a team's labels once per connection, however many items of a batch carry labels", async () => {
    const sent: string[] = [];
    const counting: Connection["http"] = {
      request: (rules, req) => {
        sent.push(JSON.stringify(req.json ?? null));
        return http.request(rules, req);
      },
    };
    const batch = { ...apiKeyConn(sim.demo.api_key), http: counting };
    for (const n of [1, 2, 3]) {
      const created = await adapter.createIssue(batch, byKey("DES").connector_params, {
        title: `Batch item ${n}`,
        labels: ["Improvement", "Batch Label"],
      });
      expect(created.labels).toEqual(["Improvement", "Batch Label"]);
    }
    expect(sent.filter((b) => b.includes("SpecKittyLabels"))).toHaveLength(1);
    // The label the first item created is reused by the next two, not created again.
    expect(sent.filter((b) => b.includes("SpecKittyLabelCreate"))).toHaveLength(1);
  });

  it("asks for its largest pages within Linear's 10,000-point limit per query", async () => {
    const page = await adapter.listIssues(conn, byKey("ENG").connector_params, {
      cursor: null,
      limit: 10_000,
    });
    expect(page.issues.length).toBeGreaterThan(0);
    const hits = await adapter.searchIssues(conn, byKey("ENG").connector_params, {
      text: "e",
      limit: 10_000,
    });
    expect(hits.length).toBeGreaterThan(0);
    const tooBig = await query(
      "{ issues(first: 250) { nodes { id labels(first: 250) { nodes { id name } } } } }",
    );
    expect(tooBig.errors?.[0].message).toMatch(/^Query too complex/);
  });

  it("simulator: refuses a team copy of a workspace label and another team's label on an issue", async () => {
    const copy = await query(
      "mutation($input: IssueLabelCreateInput!) { issueLabelCreate(input: $input) { success } }",
      { input: { name: "BUG", teamId: teamId("ENG") } },
    );
    expect(copy.errors?.[0].message).toBe("Duplicate label name");
    const prd = await query("query($f: IssueLabelFilter) { issueLabels(filter: $f) { nodes { id name } } }", {
      f: { name: { eq: "Roadmap" }, team: { id: { eq: teamId("PRD") } } },
    });
    const foreign = prd.data?.issueLabels.nodes[0].id;
    const refused = await query(
      "mutation($input: IssueCreateInput!) { issueCreate(input: $input) { success } }",
      { input: { teamId: teamId("ENG"), title: "x", labelIds: [foreign] } },
    );
    expect(refused.errors?.[0].message).toMatch(/belongs to another team/);
  });
});

describe("oauth", () => {
  const profile = OAUTH_PROFILES.linear;
  const app = () => ({ clientId: sim.demo.oauth_client_id, clientSecret: sim.demo.oauth_client_secret });
  const redirectUri = "http://127.0.0.1:9/api/v1/installations/callback/linear/";

  async function authorize(challenge?: string) {
    const url = new URL(profile.authorizeUrl(sim.demo.web_url));
    url.search = new URLSearchParams({
      client_id: sim.demo.oauth_client_id,
      redirect_uri: redirectUri,
      response_type: "code",
      state: "st-1",
      scope: profile.scopes.join(profile.scopeSeparator),
      ...(challenge ? { code_challenge: challenge, code_challenge_method: "S256" } : {}),
    }).toString();
    const back = await clickThroughConsent(url.toString());
    expect(back.searchParams.get("state")).toBe("st-1");
    return back.searchParams.get("code") ?? "";
  }

  it("exchanges a PKCE code, uses the Bearer token, rotates the refresh token", async () => {
    const pkce = newPkcePair();
    const code = await authorize(pkce.challenge);
    const tokens = await exchangeCode(http, profile, sim.demo.api_url, app(), {
      code,
      redirectUri,
      codeVerifier: pkce.verifier,
    });
    expect(tokens.refresh_token).toBeTruthy();
    expect(Date.parse(tokens.expires_at ?? "")).toBeGreaterThan(Date.now() + 3_600_000);
    expect((await adapter.listWorkspaces(oauthConn(tokens.access_token)))[0].id).toBe(workspace.id);

    const renewed = await refreshTokens(http, profile, sim.demo.api_url, app(), tokens.refresh_token!);
    expect(renewed.access_token).not.toBe(tokens.access_token);
    expect(renewed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await adapter.listWorkspaces(oauthConn(renewed.access_token)))[0].name).toBe("Acme");
    const spent = await failure(refreshTokens(http, profile, sim.demo.api_url, app(), tokens.refresh_token!));
    expect(spent.kind).toBe("auth_revoked");

    // The code is single-use; replaying it also revokes what it minted (RFC 6749 §4.1.2).
    const replay = await failure(
      exchangeCode(http, profile, sim.demo.api_url, app(), {
        code,
        redirectUri,
        codeVerifier: pkce.verifier,
      }),
    );
    expect(replay.kind).toBe("auth_revoked");
    expect((await failure(adapter.listWorkspaces(oauthConn(tokens.access_token)))).kind).toBe("auth_revoked");
  });

  it("rejects a wrong PKCE verifier and an unknown client", async () => {
    const pkce = newPkcePair();
    const code = await authorize(pkce.challenge);
    const wrong = await failure(
      exchangeCode(http, profile, sim.demo.api_url, app(), {
        code,
        redirectUri,
        codeVerifier: newPkcePair().verifier,
      }),
    );
    expect(wrong.kind).toBe("auth_revoked");
    const res = await fetch(
      `${sim.demo.web_url}/oauth/authorize?client_id=nobody&redirect_uri=${encodeURIComponent(redirectUri)}&response_type=code`,
      { redirect: "manual" },
    );
    expect(res.status).toBe(400);
  });
});
