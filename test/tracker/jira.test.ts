import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateRoutingMetadata } from "../../src/host/mappings/routing-metadata.ts";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import type { ProviderSimulator } from "../../src/simulators/index.ts";
import { startJiraSimulator } from "../../src/simulators/jira/index.ts";
import {
  type BindableResource,
  buildAuthorizeUrl,
  type Connection,
  exchangeCode,
  OAUTH_PROFILES,
  refreshTokens,
  runDiscovery,
  type Workspace,
} from "../../src/tracker/index.ts";
import { jiraAdapter as jira } from "../../src/tracker/jira/adapter.ts";
import { trackerFailure as failure, fastHttp, simControl } from "../support/tracker.ts";

/**
 * The Jira adapter against the Jira simulator over real HTTP, in all three deployments: Cloud through the
 * OAuth gateway, Cloud on the site URL with an API token, and Data Center with a personal access token.
 */
const http = fastHttp();
const NAMED = 11;
const GENERATED = 1050;
const REDIRECT = "http://127.0.0.1:9/api/v1/installations/callback/jira/";

let sim: ProviderSimulator;
let site: Connection;
let dc: Connection;
let siteWs: Workspace;
let dcWs: Workspace;
const discovered: BindableResource[] = [];

const control = simControl(() => sim.url);

const fault = (f: Record<string, unknown>) => control("POST", "/_sim/faults", f);

/** Provider calls in the simulator's request log (control calls left out). */
async function providerCalls(): Promise<{ method: string; path: string; status: number }[]> {
  const { requests } = await control("GET", "/_sim/requests");
  return requests.filter((r: { path: string }) => !r.path.startsWith("/_sim/"));
}

const app = () => ({ clientId: sim.demo.oauth_client_id, clientSecret: sim.demo.oauth_client_secret });

/**
 * The admin's browser at Atlassian: the consent screen, once per cloud site (each consent adds the site it
 * picks to the app's grant), Authorize, and the redirect back with a code that reaches both sites.
 */
async function consent(): Promise<string> {
  const url = buildAuthorizeUrl(OAUTH_PROFILES.jira, sim.demo.auth_url, app(), {
    state: "s-123",
    redirectUri: REDIRECT,
  });
  let back: URL | null = null;
  for (const site of ["a5b6c7d8-1e2f-4a3b-9c8d-7e6f5a4b3c2d", sim.demo.cloud_id])
    back = await clickThroughConsent(url, { choice: site });
  expect(back!.searchParams.get("state")).toBe("s-123");
  return back!.searchParams.get("code")!;
}

async function oauthConnection(): Promise<{ conn: Connection; refresh: string }> {
  const tokens = await exchangeCode(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), {
    code: await consent(),
    redirectUri: REDIRECT,
  });
  return {
    conn: {
      base_url: sim.demo.api_url,
      credential: { kind: "oauth", access_token: tokens.access_token },
      options: { deployment: "cloud", cloud_id: sim.demo.cloud_id },
      http,
    },
    refresh: tokens.refresh_token!,
  };
}

const byKey = (key: string) => discovered.find((r) => r.display.key === key)!;

beforeAll(async () => {
  sim = await startJiraSimulator({ generatedResources: GENERATED });
  site = {
    base_url: sim.demo.site_url,
    credential: { kind: "basic", username: sim.demo.email, password: sim.demo.api_token },
    http,
  };
  dc = { base_url: sim.demo.dc_url, credential: { kind: "bearer_pat", token: sim.demo.pat }, http };
  [siteWs] = await jira.listWorkspaces(site);
  [dcWs] = await jira.listWorkspaces(dc);
});
afterAll(() => sim?.close());

describe("workspaces", () => {
  it("API token: one Cloud site, its cloud id from tenant_info and its title from serverInfo", async () => {
    expect(siteWs).toMatchObject({
      provider: "jira",
      id: sim.demo.cloud_id,
      name: "Acme Jira",
      url: sim.demo.site_url,
      details: { deployment: "cloud", site_url: sim.demo.site_url },
    });
  });

  it("Data Center PAT: one server, identified by its base URL", () => {
    expect(dcWs.details.deployment).toBe("data_center");
    expect(dcWs.id).toBe(`${new URL(sim.demo.dc_url).host}/dc`);
    expect(dcWs.name).toBe("Acme Jira Data Center");
  });

  it("OAuth: accessible-resources lists both sites the grant reaches", async () => {
    const { conn } = await oauthConnection();
    const sites = await jira.listWorkspaces(conn);
    expect(sites.map((s) => s.id).sort()).toEqual(
      [...sim.store.workspaces.values()]
        .filter((w) => w.details.deployment === "cloud")
        .map((w) => w.id)
        .sort(),
    );
    const acme = sites.find((s) => s.id === sim.demo.cloud_id)!;
    expect(acme.url).toBe(sim.demo.site_url);
    expect(acme.host).toBe(siteWs.host);
  });
});

describe("discovery", () => {
  it("pages through 1,050+ projects on a Cloud site with unique, schema-valid descriptors", async () => {
    const outcome = await runDiscovery(jira, site, siteWs, (page) => {
      discovered.push(...page);
    });
    expect(outcome).toMatchObject({ complete: true, count: GENERATED + NAMED });
    expect(outcome.pages).toBe(Math.ceil((GENERATED + NAMED) / 50));
    expect(new Set(discovered.map((r) => r.identity.resource_key)).size).toBe(GENERATED + NAMED);
    const pay = byKey("PAY");
    expect(pay.display).toMatchObject({
      label: "Payments (PAY)",
      name: "Payments",
      full_path: null,
      web_url: `${sim.demo.site_url}/browse/PAY`,
      context: { workspace_name: "Acme Jira", site_url: sim.demo.site_url, project_key: "PAY" },
    });
    expect(pay.connector_params).toMatchObject({
      deployment: "cloud",
      cloud_id: sim.demo.cloud_id,
      project_key: "PAY",
    });
    for (const r of discovered.slice(0, 50))
      expect(() => validateRoutingMetadata("jira", r.routing_metadata)).not.toThrow();
    expect(JSON.stringify(discovered)).not.toContain(sim.demo.api_token);
    expect(byKey("XSS").display.name).toBe("<img src=x onerror=alert(1)>");
  });

  it("gives the same resource keys through the OAuth gateway as through the site URL", async () => {
    const { conn } = await oauthConnection();
    const [ws] = (await jira.listWorkspaces(conn)).filter((w) => w.id === sim.demo.cloud_id);
    const keys: string[] = [];
    const outcome = await runDiscovery(jira, conn, ws, (page) => {
      keys.push(...page.map((r) => r.identity.resource_key));
    });
    expect(outcome.complete).toBe(true);
    expect(new Set(keys)).toEqual(new Set(discovered.map((r) => r.identity.resource_key)));
    const paths = (await providerCalls()).map((r) => r.path);
    expect(paths).toContain(`/ex/jira/${sim.demo.cloud_id}/rest/api/3/project/search`);
  });

  it("flags archived projects; Jira has no switch for issues, so issues_disabled stays false", () => {
    expect(byKey("LEG").flags).toEqual({ archived: true, issues_disabled: false });
    expect(byKey("DESK").flags).toEqual({ archived: false, issues_disabled: false });
    expect(byKey("PAY").flags.archived).toBe(false);
  });

  it("Data Center: the unpaged project list is one page, archived projects included", async () => {
    const all: BindableResource[] = [];
    const outcome = await runDiscovery(jira, dc, dcWs, (page) => {
      all.push(...page);
    });
    expect(outcome).toMatchObject({ complete: true, pages: 1 });
    expect(all.find((r) => r.display.key === "FIN")?.flags.archived).toBe(true);
    const ops = all.find((r) => r.display.key === "OPS")!;
    expect(ops.routing_metadata).toMatchObject({
      deployment: "data_center",
      cloud_id: null,
      project_key: "OPS",
    });
    expect(ops.display.web_url).toBe(`${sim.demo.dc_url}/browse/OPS`);
  });

  it("a rename keeps the resource key and changes the label", async () => {
    const pay = byKey("PAY");
    await control("PATCH", `/_sim/resources/${pay.identity.native_id}`, {
      name: "Payments Core",
      key: "PAYC",
    });
    const again = await jira.getResource(site, siteWs, pay.identity.native_id);
    expect(again?.identity.resource_key).toBe(pay.identity.resource_key);
    expect(again?.display.label).toBe("Payments Core (PAYC)");
    expect(again?.connector_params.project_key).toBe("PAYC");
    await control("PATCH", `/_sim/resources/${pay.identity.native_id}`, { name: "Payments", key: "PAY" });
  });

  it("looks a project up by native id, and answers null for a missing one", async () => {
    const { conn } = await oauthConnection();
    const [ws] = (await jira.listWorkspaces(conn)).filter((w) => w.id === sim.demo.cloud_id);
    const found = await jira.getResource(conn, ws, byKey("MOB").identity.native_id);
    expect(found?.identity.resource_key).toBe(byKey("MOB").identity.resource_key);
    expect(await jira.getResource(site, siteWs, "987654321")).toBeNull();
    expect(await jira.getResource(dc, dcWs, "987654321")).toBeNull();
  });
});

describe("failures", () => {
  const payId = () => byKey("PAY").identity.native_id;

  it("retries a 429 with Retry-After, then succeeds", async () => {
    await control("DELETE", "/_sim/requests");
    await fault({ path_prefix: "/sites/acme/rest/api/3/project/", status: 429, retry_after: 1, count: 1 });
    const started = Date.now();
    expect((await jira.getResource(site, siteWs, payId()))?.display.key).toBe("PAY");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const statuses = (await providerCalls()).map((r) => r.status);
    expect(statuses).toEqual([429, 200]);
  });

  it("persistent 5xx → upstream_unavailable", async () => {
    await fault({ path_prefix: "/sites/acme/", status: 503, count: 3 });
    expect((await failure(jira.getResource(site, siteWs, payId()))).kind).toBe("upstream_unavailable");
  });

  it("a body that is not JSON → malformed_response", async () => {
    await fault({ path_prefix: "/sites/acme/rest/api/3/project/", malformed: true, count: 1 });
    expect((await failure(jira.getResource(site, siteWs, payId()))).kind).toBe("malformed_response");
  });

  it("retries a dropped connection", async () => {
    await fault({ path_prefix: "/sites/acme/rest/api/3/project/", drop: true, count: 1 });
    expect((await jira.getResource(site, siteWs, payId()))?.display.key).toBe("PAY");
  });

  it("a failure on page 3 ends the pass incomplete, with the reason", async () => {
    await fault({ path_prefix: "/sites/acme/rest/api/3/project/search", status: 500, after: 2, count: 3 });
    const outcome = await runDiscovery(jira, site, siteWs, () => {});
    expect(outcome).toMatchObject({ complete: false, pages: 2, count: 100 });
    expect(outcome.truncated?.reason).toBe("upstream_unavailable");
  });

  it("Jira's own rate limit (429, Retry-After, X-RateLimit-Reset, RateLimit-Reason) → rate_limited with the wait", async () => {
    await control("PUT", "/_sim/rate-limit", { limit_per_hour: 2 });
    try {
      await jira.listWorkspaces(dc);
      await jira.listWorkspaces(dc);
      const err = await failure(jira.listWorkspaces(dc));
      expect(err.kind).toBe("rate_limited");
      expect(err.retryAfterSeconds).toBeGreaterThan(3500);
    } finally {
      await control("PUT", "/_sim/rate-limit", { limit_per_hour: null });
    }
  });

  it("reads the wait from X-RateLimit-Reset when there is no Retry-After", async () => {
    const reset = new Date(Date.now() + 5 * 60_000).toISOString().slice(0, 16);
    await fault({
      path_prefix: "/dc/",
      status: 429,
      count: 1,
      headers: { "x-ratelimit-reset": `${reset}Z`, "ratelimit-reason": "jira-burst-based" },
    });
    const err = await failure(jira.listWorkspaces(dc));
    expect(err.kind).toBe("rate_limited");
    expect(err.retryAfterSeconds).toBeGreaterThan(200);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(300);
  });

  it("a revoked API token → auth_revoked, even where Jira answers 200 anonymously (X-Seraph-LoginReason)", async () => {
    const token = "ATATT3xFfGF0-revoked-token";
    sim.store.addCredential({ token, workspaces: [sim.demo.cloud_id], kind: "api_token", expires_at: null });
    const conn: Connection = {
      ...site,
      credential: { kind: "basic", username: "x@acme.example", password: token },
    };
    await control("POST", "/_sim/credentials/revoke", { token });
    const onServerInfo = await failure(jira.listWorkspaces(conn));
    expect(onServerInfo.kind).toBe("auth_revoked");
    const onProjects = await failure(jira.getResource(conn, siteWs, payId()));
    expect(onProjects).toMatchObject({ kind: "auth_revoked", status: 401 });
    for (const e of [onServerInfo, onProjects]) {
      expect(e.message).not.toContain(token);
      expect(e.message).not.toContain(Buffer.from(`x@acme.example:${token}`).toString("base64"));
    }
  });

  it("an expired Data Center PAT cannot be renewed by the service → auth_revoked; never in the message", async () => {
    const token = "NjE4-expiring-pat";
    await control("POST", "/_sim/credentials", { token, workspaces: ["jira-dc"], kind: "pat" });
    const conn: Connection = { ...dc, credential: { kind: "bearer_pat", token } };
    expect((await jira.listWorkspaces(conn)).length).toBe(1);
    await control("POST", "/_sim/credentials/expire", { token });
    const err = await failure(jira.listWorkspaces(conn));
    expect(err.kind).toBe("auth_revoked");
    expect(err.message).not.toContain(token);
  });

  it("OAuth: an expired access token → auth_expired; refreshing renews it", async () => {
    const { conn, refresh } = await oauthConnection();
    const token = (conn.credential as { access_token: string }).access_token;
    await control("POST", "/_sim/credentials/expire", { token });
    const err = await failure(jira.getResource(conn, siteWs, payId()));
    expect(err.kind).toBe("auth_expired");
    expect(err.message).not.toContain(token);
    const renewed = await refreshTokens(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), refresh);
    const fresh: Connection = { ...conn, credential: { kind: "oauth", access_token: renewed.access_token } };
    expect((await jira.getResource(fresh, siteWs, payId()))?.display.key).toBe("PAY");
  });

  it("a project deleted upstream → not_found for its issues", async () => {
    const gone = await control("POST", "/_sim/resources", {
      workspace_id: sim.demo.cloud_id,
      name: "Doomed",
      key: "DOOM",
    });
    const resource = await jira.getResource(site, siteWs, gone.id);
    await control("DELETE", `/_sim/resources/${gone.id}`);
    const err = await failure(jira.listIssues(site, resource!.connector_params, { limit: 10 }));
    expect(err.kind).toBe("not_found");
  });
});

describe("issues", () => {
  const params = () => byKey("PAY").connector_params;
  const simIssues = async (projectId: string) =>
    (await control("GET", `/_sim/resources/${projectId}/issues`)).issues as {
      id: string;
      title: string;
      body: string | null;
      status: string;
      labels: string[];
    }[];

  it("lists with the nextPageToken cursor across pages", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await jira.listIssues(site, params(), { cursor, limit: 2 });
      seen.push(...page.issues.map((i) => i.ref.key!));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    const total = (await simIssues(byKey("PAY").identity.native_id)).length;
    expect(pages).toBe(Math.ceil(total / 2));
    expect(new Set(seen).size).toBe(total);
    expect(seen.every((k) => k.startsWith("PAY-"))).toBe(true);
  });

  it("maps Jira's fields to the normalised issue", async () => {
    const issue = (await jira.getIssue(site, params(), "PAY-1"))!;
    expect(issue).toMatchObject({
      ref: {
        system: "jira",
        workspace: sim.demo.cloud_id,
        key: "PAY-1",
        url: `${sim.demo.site_url}/browse/PAY-1`,
      },
      title: "Card payments fail on 3-D Secure retry",
      body: "The second challenge never returns.\nSeen in EU only.\n\nSteps in the linked ticket.",
      status: "in_progress",
      issue_type: "bug",
      priority: 1,
      assignees: ["Ada Lovelace"],
      labels: ["checkout", "eu"],
    });
    expect(issue.created_at).toMatch(/Z$/);
    expect(issue.provider_metadata).toMatchObject({
      status_name: "In Progress",
      status_category: "indeterminate",
    });
    const statuses = await Promise.all(
      ["PAY-3", "PAY-4", "PAY-5"].map((k) => jira.getIssue(site, params(), k)),
    );
    expect(statuses.map((i) => i?.status)).toEqual(["in_review", "blocked", "done"]);
    const byId = await jira.getIssue(site, params(), issue.ref.id);
    expect(byId?.ref.key).toBe("PAY-1");
  });

  it("answers null for a missing issue and for one of another project", async () => {
    expect(await jira.getIssue(site, params(), "PAY-999")).toBeNull();
    expect(await jira.getIssue(site, params(), "PLAT-1")).toBeNull();
  });

  it("searches by key and by text within the project", async () => {
    const exact = await jira.searchIssues(site, params(), { key: "pay-2", limit: 5 });
    expect(exact.map((i) => i.ref.key)).toEqual(["PAY-2"]);
    expect(await jira.searchIssues(site, params(), { key: "PAY-999", limit: 5 })).toEqual([]);
    // Quotes in the text stay inside the JQL string literal instead of ending it.
    expect(await jira.searchIssues(site, params(), { text: 'secure" OR text ~ "login', limit: 5 })).toEqual(
      [],
    );
    const words = await jira.searchIssues(site, params(), { text: "secure retry", limit: 5 });
    expect(words.map((i) => i.ref.key)).toEqual(["PAY-1"]);
    // PLAT has a "login" issue; the PAY project scope keeps it out.
    expect(await jira.searchIssues(site, params(), { text: "login", limit: 5 })).toEqual([]);
  });

  it("creates an issue (ADF description on the wire) and moves it through the workflow", async () => {
    const projectId = byKey("PAY").identity.native_id;
    const body = "First line\nsecond line\n\nA second paragraph.";
    const created = await jira.createIssue(site, params(), {
      title: "Ship receipts",
      body,
      labels: ["billing team"],
      status: "in_progress",
    });
    expect(created).toMatchObject({
      title: "Ship receipts",
      body,
      status: "in_progress",
      labels: ["billing_team"],
    });

    const stored = (await simIssues(projectId)).find((i) => i.id === created.ref.id)!;
    expect(stored).toMatchObject({ title: "Ship receipts", body, status: "in_progress" });
    const wire = await fetch(`${sim.demo.site_url}/rest/api/3/issue/${created.ref.key}`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${sim.demo.email}:${sim.demo.api_token}`).toString("base64")}`,
      },
    }).then((r) => r.json());
    expect(wire.fields.description).toMatchObject({ type: "doc", version: 1 });
    expect(wire.fields.description.content).toHaveLength(2);

    const done = await jira.updateIssue(site, params(), created.ref.key!, {
      status: "done",
      title: "Ship PDF receipts",
    });
    expect(done).toMatchObject({ status: "done", title: "Ship PDF receipts", body });
    expect((await simIssues(projectId)).find((i) => i.id === created.ref.id)).toMatchObject({
      status: "done",
      title: "Ship PDF receipts",
    });
    const canceled = await jira.updateIssue(site, params(), created.ref.id, {
      status: "canceled",
      body: null,
    });
    expect(canceled).toMatchObject({ status: "canceled", body: null });
    expect((await simIssues(projectId)).find((i) => i.id === created.ref.id)?.status).toBe("canceled");
  });

  it("Data Center: v2 plain-text descriptions and startAt paging", async () => {
    const all: BindableResource[] = [];
    await runDiscovery(jira, dc, dcWs, (p) => {
      all.push(...p);
    });
    const ops = all.find((r) => r.display.key === "OPS")!;
    const created = await jira.createIssue(dc, ops.connector_params, {
      title: "Rotate certs",
      body: "Before May.",
      status: "blocked",
    });
    expect(created).toMatchObject({ status: "blocked", body: "Before May.", ref: { workspace: dcWs.id } });
    const stored = (await simIssues(ops.identity.native_id)).find((i) => i.id === created.ref.id);
    expect(stored).toMatchObject({ status: "blocked", body: "Before May." });
    const first = await jira.listIssues(dc, ops.connector_params, { limit: 2 });
    expect(first.next_cursor).toBe("2");
    const second = await jira.listIssues(dc, ops.connector_params, { limit: 2, cursor: first.next_cursor });
    expect(second.next_cursor).toBeNull();
    expect(new Set([...first.issues, ...second.issues].map((i) => i.ref.id)).size).toBe(3);
    expect(
      (await jira.searchIssues(dc, ops.connector_params, { text: "certs", limit: 5 })).map((i) => i.ref.id),
    ).toEqual([created.ref.id]);
  });

  it("OAuth gateway: issue calls go under /ex/jira/{cloudId}", async () => {
    const { conn } = await oauthConnection();
    await control("DELETE", "/_sim/requests");
    const found = await jira.searchIssues(conn, params(), { key: "PAY-1", limit: 1 });
    expect(found[0]?.ref.key).toBe("PAY-1");
    const paths = (await providerCalls()).map((r) => r.path);
    expect(paths).toEqual([`/ex/jira/${sim.demo.cloud_id}/rest/api/3/search/jql`]);
  });
});

describe("OAuth 2.0 (3LO)", () => {
  it("exchanges a code for a 1-hour access token, rotates refresh tokens and refuses a spent one", async () => {
    const code = await consent();
    const tokens = await exchangeCode(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), {
      code,
      redirectUri: REDIRECT,
    });
    expect(tokens.refresh_token).toBeTruthy();
    const ttl = Date.parse(tokens.expires_at!) - Date.now();
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);

    const next = await refreshTokens(
      http,
      OAUTH_PROFILES.jira,
      sim.demo.auth_url,
      app(),
      tokens.refresh_token!,
    );
    expect(next.refresh_token).toBeTruthy();
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    const spent = await failure(
      refreshTokens(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), tokens.refresh_token!),
    );
    expect(spent.kind).toBe("auth_revoked");
    expect(spent.message).not.toContain(tokens.refresh_token!);
    await refreshTokens(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), next.refresh_token!);
  });

  it("a replayed code is refused and revokes what it minted", async () => {
    const code = await consent();
    const tokens = await exchangeCode(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), {
      code,
      redirectUri: REDIRECT,
    });
    const replay = await failure(
      exchangeCode(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), { code, redirectUri: REDIRECT }),
    );
    expect(replay.kind).toBe("auth_revoked");
    const conn: Connection = {
      base_url: sim.demo.api_url,
      credential: { kind: "oauth", access_token: tokens.access_token },
      http,
    };
    expect((await failure(jira.listWorkspaces(conn))).kind).toBe("auth_expired");
    const refresh = await failure(
      refreshTokens(http, OAUTH_PROFILES.jira, sim.demo.auth_url, app(), tokens.refresh_token!),
    );
    expect(refresh.kind).toBe("auth_revoked");
  });

  it("refuses an unknown client and a foreign redirect URI at the authorize step", async () => {
    const other = buildAuthorizeUrl(
      OAUTH_PROFILES.jira,
      sim.demo.auth_url,
      { clientId: "nope", clientSecret: "x" },
      { state: "s", redirectUri: REDIRECT },
    );
    expect((await fetch(other, { redirect: "manual" })).status).toBe(400);
    const foreign = buildAuthorizeUrl(OAUTH_PROFILES.jira, sim.demo.auth_url, app(), {
      state: "s",
      redirectUri: "https://evil.example/cb",
    });
    expect((await fetch(foreign, { redirect: "manual" })).status).toBe(400);
  });
});
