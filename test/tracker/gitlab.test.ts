import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { validateRoutingMetadata } from "../../src/host/mappings/routing-metadata.ts";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import type { ProviderSimulator } from "../../src/simulators/core/types.ts";
import { startGitlabSimulator } from "../../src/simulators/gitlab/index.ts";
import type { Connection, Credential } from "../../src/tracker/core/adapter.ts";
import { type BindableResource, hostOf, type Workspace } from "../../src/tracker/core/descriptor.ts";
import { runDiscovery } from "../../src/tracker/core/discovery.ts";
import {
  buildAuthorizeUrl,
  exchangeCode,
  newPkcePair,
  OAUTH_PROFILES,
  refreshTokens,
} from "../../src/tracker/core/oauth.ts";
import { gitlabAdapter as adapter } from "../../src/tracker/gitlab/adapter.ts";
import { trackerFailure as failure, fastHttp, simControl } from "../support/tracker.ts";

const GENERATED = 1050;
const NAMED_ACME = 8;
const NAMED_PARTNERS = 2;

let gl: ProviderSimulator;
const http = fastHttp();

const pat = (token: string): Credential => ({ kind: "private_token", token });
const conn = (over: Partial<Connection> = {}): Connection => ({
  base_url: gl.url,
  credential: pat(gl.demo.token),
  http,
  ...over,
});

const control = simControl(() => gl.url);

async function collect(ws: Workspace, c = conn()) {
  const all: BindableResource[] = [];
  const outcome = await runDiscovery(adapter, c, ws, (page) => {
    all.push(...page);
  });
  return { all, outcome };
}

let workspaces: Workspace[];
const acme = () => workspaces.find((w) => w.name === "Acme")!;
const membership = () => workspaces.find((w) => w.id === "membership")!;
const simResource = async (path: string) =>
  (await control("GET", "/_sim/resources")).resources.find((r: { path: string }) => r.path === path);

beforeAll(async () => {
  gl = await startGitlabSimulator({ generatedResources: GENERATED });
  workspaces = await adapter.listWorkspaces(conn());
});
afterAll(() => gl?.close());
afterEach(() => control("DELETE", "/_sim/faults"));

describe("gitlab workspaces", () => {
  it("lists the top-level groups the token reaches plus the membership workspace", () => {
    expect(workspaces.map((w) => [w.id, w.name, w.details.kind])).toEqual([
      [gl.demo.group_id, "Acme", "group"],
      ["8002", "Partners", "group"],
      ["membership", "Projects of ada", "membership"],
    ]);
    expect(acme()).toMatchObject({
      host: hostOf(gl.url),
      url: `${gl.url}/groups/acme`,
      details: { full_path: "acme" },
    });
  });

  it("narrows to one group by id or by full path (a subgroup too)", async () => {
    const byId = await adapter.listWorkspaces(conn({ options: { group_id: gl.demo.group_id } }));
    expect(byId.map((w) => w.name)).toEqual(["Acme"]);
    const sub = await adapter.listWorkspaces(conn({ options: { group_id: "acme/platform" } }));
    expect(sub).toHaveLength(1);
    expect(sub[0]).toMatchObject({
      name: "Acme / Platform",
      details: { kind: "group", full_path: "acme/platform" },
    });
    expect(sub[0].id).toMatch(/^\d+$/);
  });

  it("shows another token only its own groups, and refuses a group it cannot see", async () => {
    const grace = conn({ credential: pat("glpat-sim-grace-acme-2r7t5y") });
    expect((await adapter.listWorkspaces(grace)).map((w) => w.name)).toEqual(["Acme", "Projects of grace"]);
    const err = await failure(adapter.listWorkspaces({ ...grace, options: { group_id: "8002" } }));
    expect(err.kind).toBe("not_found");
  });
});

describe("gitlab discovery", () => {
  it("pages through every project of the group and its subgroups", async () => {
    const { all, outcome } = await collect(acme());
    expect(outcome).toMatchObject({ complete: true, count: GENERATED + NAMED_ACME });
    expect(outcome.pages).toBe(Math.ceil((GENERATED + NAMED_ACME) / 100));
    expect(new Set(all.map((r) => r.identity.resource_key)).size).toBe(GENERATED + NAMED_ACME);
    const labels = all.map((r) => r.display.label);
    expect(labels).toEqual(
      expect.arrayContaining(["acme/platform/api", "acme/platform/mobile/ios", "acme/payments/billing"]),
    );
    expect(labels.some((l) => l.startsWith("partners/"))).toBe(false);

    const api = all.find((r) => r.display.label === "acme/platform/api")!;
    expect(api.identity).toMatchObject({
      provider: "gitlab",
      host: hostOf(gl.url),
      workspace_id: gl.demo.group_id,
      resource_type: "project",
    });
    expect(api.identity.native_id).toMatch(/^\d+$/);
    expect(api.display).toMatchObject({
      name: "API",
      key: null,
      full_path: "acme/platform/api",
      web_url: `${gl.url}/acme/platform/api`,
      context: { workspace_name: "Acme", namespace: "acme/platform", project: "API" },
    });
    expect(api.connector_params).toEqual({
      base_url: gl.url,
      project_id: Number(api.identity.native_id),
      path_with_namespace: "acme/platform/api",
    });
    expect(() => validateRoutingMetadata("gitlab", api.routing_metadata)).not.toThrow();
    expect(JSON.stringify(api)).not.toContain(gl.demo.token);
  });

  it("flags archived and issues-disabled projects and keeps hostile names as data", async () => {
    const { all } = await collect(acme());
    const by = (label: string) => all.find((r) => r.display.label === label)!;
    expect(by("acme/legacy-portal").flags).toEqual({ archived: true, issues_disabled: false });
    expect(by("acme/handbook").flags).toEqual({ archived: false, issues_disabled: true });
    expect(by("acme/platform/api").flags).toEqual({ archived: false, issues_disabled: false });
    expect(by("acme/labs/img-probe").display.name).toBe("<img src=x onerror=alert(1)>");
  });

  it("walks the membership workspace with keyset paging across both groups", async () => {
    await control("DELETE", "/_sim/requests");
    const { all, outcome } = await collect(membership());
    const total = 2 * GENERATED + NAMED_ACME + NAMED_PARTNERS;
    expect(outcome).toMatchObject({ complete: true, count: total });
    expect(new Set(all.map((r) => r.identity.resource_key)).size).toBe(total);
    expect(all.every((r) => r.identity.workspace_id === "membership")).toBe(true);
    const ids = all.map((r) => Number(r.identity.native_id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const { requests } = await control("GET", "/_sim/requests");
    expect(requests.filter((r: { path: string }) => r.path === "/api/v4/projects")).toHaveLength(
      Math.ceil(total / 100),
    );
  });

  it("keeps resource_key across a rename and shows the new label", async () => {
    const before = (await collect(acme())).all.find((r) => r.display.label === "acme/payments/ledger")!;
    const sim = await simResource("acme/payments/ledger");
    await control("PATCH", `/_sim/resources/${sim.id}`, {
      name: "General Ledger",
      path: "acme/payments/general-ledger",
    });
    const after = (await collect(acme())).all.find(
      (r) => r.identity.native_id === before.identity.native_id,
    )!;
    expect(after.identity.resource_key).toBe(before.identity.resource_key);
    expect(after.display.label).toBe("acme/payments/general-ledger");
    expect(after.display.name).toBe("General Ledger");
  });

  it("gets one project by native id, null when missing or outside the workspace", async () => {
    const api = await simResource("acme/platform/api");
    const partner = await simResource("partners/portal");
    const got = await adapter.getResource(conn(), acme(), api.id);
    expect(got?.display.label).toBe("acme/platform/api");
    expect(got?.identity.workspace_id).toBe(gl.demo.group_id);
    expect(await adapter.getResource(conn(), acme(), "999999")).toBeNull();
    expect(await adapter.getResource(conn(), acme(), partner.id)).toBeNull();
    expect((await adapter.getResource(conn(), membership(), partner.id))?.display.label).toBe(
      "partners/portal",
    );
  });
});

describe("gitlab failures", () => {
  const groupPages = () => `/api/v4/groups/${gl.demo.group_id}/projects`;

  it("retries a 429 with Retry-After, a dropped connection and a one-off 5xx", async () => {
    await control("POST", "/_sim/faults", {
      path_prefix: groupPages(),
      status: 429,
      retry_after: 0,
      count: 1,
    });
    await control("POST", "/_sim/faults", { path_prefix: groupPages(), drop: true, count: 1, after: 1 });
    await control("DELETE", "/_sim/requests");
    const { outcome } = await collect(acme());
    expect(outcome.complete).toBe(true);
    const { requests } = await control("GET", "/_sim/requests");
    const statuses = requests
      .filter((r: { path: string }) => r.path === groupPages())
      .map((r: any) => r.status);
    expect(statuses.slice(0, 3)).toEqual([429, 200, 0]);
  });

  it("classifies persistent 5xx and malformed bodies", async () => {
    await control("POST", "/_sim/faults", { path_prefix: "/api/v4/groups", status: 503, count: 5 });
    expect((await failure(adapter.listWorkspaces(conn()))).kind).toBe("upstream_unavailable");
    await control("DELETE", "/_sim/faults");
    await control("POST", "/_sim/faults", { path_prefix: "/api/v4/groups", malformed: true, count: 1 });
    expect((await failure(adapter.listWorkspaces(conn()))).kind).toBe("malformed_response");
  });

  it("reports a pass that breaks on page 3 as incomplete", async () => {
    await control("POST", "/_sim/faults", { path_prefix: groupPages(), status: 500, count: 10, after: 2 });
    const { all, outcome } = await collect(acme());
    expect(outcome.complete).toBe(false);
    expect(outcome.pages).toBe(2);
    expect(all).toHaveLength(200);
    expect(outcome.truncated?.reason).toBe("upstream_unavailable");
  });

  it("tells revoked, expired and unknown tokens apart without leaking them", async () => {
    const revoked = "glpat-sim-revoked-token-xyz";
    const expired = "glpat-sim-expired-token-xyz";
    await control("POST", "/_sim/credentials", { token: revoked, workspaces: [gl.demo.group_id] });
    await control("POST", "/_sim/credentials", { token: expired, workspaces: [gl.demo.group_id] });
    await control("POST", "/_sim/credentials/revoke", { token: revoked });
    await control("POST", "/_sim/credentials/expire", { token: expired });
    const cases: [string, string][] = [
      [revoked, "auth_revoked"],
      [expired, "auth_expired"],
      ["glpat-never-issued-abc", "auth_revoked"],
    ];
    for (const [token, kind] of cases) {
      const err = await failure(adapter.listWorkspaces(conn({ credential: pat(token) })));
      expect(err.kind).toBe(kind);
      expect(err.status).toBe(401);
      expect(err.message).not.toContain(token);
    }
  });

  it("turns GitLab's throttle into rate_limited with the wait it announces", async () => {
    const token = "glpat-sim-throttled-abc";
    await control("POST", "/_sim/credentials", { token, workspaces: [gl.demo.group_id] });
    await control("POST", "/_sim/gitlab/rate-limit", { limit: 2, window_seconds: 3600 });
    try {
      const c = conn({ credential: pat(token), options: { group_id: gl.demo.group_id } });
      await adapter.listWorkspaces(c);
      await adapter.listWorkspaces(c);
      const err = await failure(adapter.listWorkspaces(c));
      expect(err.kind).toBe("rate_limited");
      // The window ends on the next multiple of the period since the epoch, as Rack::Attack counts.
      const windowEnd = (Math.floor(Date.now() / 3_600_000) + 1) * 3600;
      expect(err.retryAfterSeconds).toBeGreaterThan(0);
      expect(err.retryAfterSeconds).toBeLessThanOrEqual(3600);
      expect(Math.abs(err.retryAfterSeconds! - (windowEnd - Date.now() / 1000))).toBeLessThan(2);
    } finally {
      await control("POST", "/_sim/gitlab/rate-limit", { limit: 10_000, window_seconds: 60 });
    }
  });

  it("reads RateLimit-Reset when a 429 carries no Retry-After", async () => {
    const reset = Math.floor(Date.now() / 1000) + 90;
    await control("POST", "/_sim/faults", {
      path_prefix: "/api/v4/groups",
      status: 429,
      count: 5,
      headers: { "RateLimit-Remaining": "0", "RateLimit-Reset": String(reset) },
    });
    const err = await failure(adapter.listWorkspaces(conn()));
    expect(err.kind).toBe("rate_limited");
    expect(err.retryAfterSeconds).toBeGreaterThan(80);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(90);
  });
});

describe("gitlab issues", () => {
  let params: BindableResource["connector_params"];
  let apiSimId: string;
  beforeAll(async () => {
    const api = (await collect(acme())).all.find((r) => r.display.label === "acme/platform/api")!;
    params = api.connector_params;
    apiSimId = api.identity.native_id;
  });
  const simIssues = async (id = apiSimId) => (await control("GET", `/_sim/resources/${id}/issues`)).issues;

  it("lists issues page by page with an opaque cursor", async () => {
    const web = await simResource("acme/platform/web");
    for (let i = 1; i <= 42; i++)
      await control("POST", `/_sim/resources/${web.id}/issues`, { title: `Filler ${i}` });
    const webParams = {
      base_url: gl.url,
      project_id: Number(web.id),
      path_with_namespace: "acme/platform/web",
    };
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await adapter.listIssues(conn(), webParams, { cursor, limit: 20 });
      seen.push(...page.issues.map((i) => i.ref.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(45);
    expect(new Set(seen).size).toBe(45);
  });

  it("normalises issues: status from state and scoped labels, key, url and metadata", async () => {
    const page = await adapter.listIssues(conn(), params, { limit: 50 });
    const byTitle = (t: string) => page.issues.find((i) => i.title === t)!;
    const first = byTitle("Rate limit the login endpoint");
    expect(first).toMatchObject({
      ref: {
        system: "gitlab",
        workspace: "acme/platform/api",
        key: "acme/platform/api#1",
        url: `${gl.url}/acme/platform/api/-/issues/1`,
      },
      status: "in_progress",
      labels: ["security", "backend"],
      assignees: ["ada"],
      provider_metadata: { iid: 1, state: "opened" },
    });
    expect(byTitle("Pagination returns duplicates")).toMatchObject({ status: "todo", issue_type: "bug" });
    expect(byTitle("Document the webhook retries").status).toBe("in_review");
    expect(byTitle("Drop the v1 endpoints")).toMatchObject({
      status: "done",
      provider_metadata: { state: "closed" },
    });
    expect(byTitle("Upgrade the JSON parser").status).toBe("blocked");
  });

  it("searches by key (short or full reference) and by text, and gets one issue", async () => {
    expect((await adapter.searchIssues(conn(), params, { key: "#2", limit: 5 })).map((i) => i.title)).toEqual(
      ["Pagination returns duplicates"],
    );
    expect(
      (await adapter.searchIssues(conn(), params, { key: "acme/platform/api#3", limit: 5 }))[0].title,
    ).toBe("Document the webhook retries");
    expect(await adapter.searchIssues(conn(), params, { key: "partners/portal#1", limit: 5 })).toEqual([]);
    expect(await adapter.searchIssues(conn(), params, { key: "nobody/nothing#1", limit: 5 })).toEqual([]);
    // Params cached before a rename still resolve the project's current full reference.
    const stale = { ...params, path_with_namespace: "acme/platform/old-api" };
    expect((await adapter.getIssue(conn(), stale, "acme/platform/api#2"))?.title).toBe(
      "Pagination returns duplicates",
    );
    const text = await adapter.searchIssues(conn(), params, { text: "brute-force", limit: 5 });
    expect(text.map((i) => i.ref.key)).toEqual(["acme/platform/api#1"]);
    expect((await adapter.getIssue(conn(), params, "acme/platform/api#4"))?.title).toBe(
      "Drop the v1 endpoints",
    );
    expect(await adapter.getIssue(conn(), params, "#9999")).toBeNull();
  });

  it("a read_api token reads but cannot create: forbidden, naming the scope GitLab asks for", async () => {
    const token = "glpat-sim-read-api-only-x1";
    await control("POST", "/_sim/credentials", {
      token,
      workspaces: [gl.demo.group_id],
      scopes: ["read_api"],
    });
    const reader = conn({ credential: pat(token) });
    expect((await adapter.getIssue(reader, params, "acme/platform/api#1"))?.title).toBeTruthy();
    const err = await failure(adapter.createIssue(reader, params, { title: "Not allowed" }));
    expect(err.kind).toBe("forbidden");
    expect(err.requiredScopes).toEqual(["api"]);
  });

  it("creates an issue and moves it through statuses, visible in the simulator", async () => {
    const created = await adapter.createIssue(conn(), params, {
      title: "Audit log export",
      body: "CSV export of the audit log",
      labels: ["feature"],
      status: "in_progress",
    });
    expect(created).toMatchObject({
      status: "in_progress",
      labels: ["feature"],
      body: "CSV export of the audit log",
    });
    const stored = () =>
      simIssues().then((list) => list.find((i: { id: string }) => i.id === created.ref.id));
    expect(await stored()).toMatchObject({
      title: "Audit log export",
      status: "in_progress",
      labels: ["feature"],
    });

    const key = created.ref.key!;
    expect((await adapter.updateIssue(conn(), params, key, { status: "in_review" })).status).toBe(
      "in_review",
    );
    expect((await stored()).status).toBe("in_review");
    const done = await adapter.updateIssue(conn(), params, key, {
      status: "done",
      labels: ["feature", "shipped"],
    });
    expect(done).toMatchObject({
      status: "done",
      labels: ["feature", "shipped"],
      provider_metadata: { state: "closed" },
    });
    expect(await stored()).toMatchObject({ status: "done", labels: ["feature", "shipped"] });
    expect((await adapter.updateIssue(conn(), params, key, { status: "canceled" })).status).toBe("canceled");
    const reopened = await adapter.updateIssue(conn(), params, key, {
      status: "todo",
      title: "Audit log export v2",
    });
    expect(reopened).toMatchObject({
      status: "todo",
      title: "Audit log export v2",
      provider_metadata: { state: "opened" },
    });
    expect(await stored()).toMatchObject({ status: "todo", title: "Audit log export v2" });
  });

  it("creates a closed issue in two calls and refuses issues of a project that disabled them", async () => {
    const closed = await adapter.createIssue(conn(), params, { title: "Already fixed", status: "done" });
    expect(closed.status).toBe("done");
    const handbook = await simResource("acme/handbook");
    const hp = { base_url: gl.url, project_id: Number(handbook.id), path_with_namespace: "acme/handbook" };
    expect((await failure(adapter.listIssues(conn(), hp, { limit: 10 }))).kind).toBe("forbidden");
    const err = await failure(adapter.updateIssue(conn(), params, "#9999", { status: "done" }));
    expect(err.kind).toBe("not_found");
  });
});

describe("gitlab oauth", () => {
  const profile = OAUTH_PROFILES.gitlab;
  const app = () => ({ clientId: gl.demo.oauth_client_id, clientSecret: gl.demo.oauth_client_secret });
  const redirectUri = "http://127.0.0.1:9/api/v1/installations/callback/gitlab/";

  async function authorize(codeChallenge: string) {
    const url = buildAuthorizeUrl(profile, gl.url, app(), { state: "st-1", redirectUri, codeChallenge });
    const back = await clickThroughConsent(url);
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get("state")).toBe("st-1");
    return back.searchParams.get("code")!;
  }

  it("exchanges a code with PKCE, refreshes with rotation and refuses replays", async () => {
    const pkce = newPkcePair();
    const code = await authorize(pkce.challenge);
    const tokens = await exchangeCode(http, profile, gl.url, app(), {
      code,
      redirectUri,
      codeVerifier: pkce.verifier,
    });
    expect(tokens.refresh_token).toBeTruthy();
    const ttl = Date.parse(tokens.expires_at!) - Date.now();
    expect(ttl).toBeGreaterThan(7100_000);
    expect(ttl).toBeLessThanOrEqual(7200_000);

    const oauthConn = conn({ credential: { kind: "oauth", access_token: tokens.access_token } });
    expect((await adapter.listWorkspaces(oauthConn)).map((w) => w.name)).toEqual([
      "Acme",
      "Partners",
      "Projects of ada",
    ]);

    const replay = await failure(
      exchangeCode(http, profile, gl.url, app(), { code, redirectUri, codeVerifier: pkce.verifier }),
    );
    expect(replay.kind).toBe("auth_revoked");
    // The replay revoked what the code produced.
    expect((await failure(adapter.listWorkspaces(oauthConn))).kind).toBe("auth_revoked");

    const pkce2 = newPkcePair();
    const code2 = await authorize(pkce2.challenge);
    const t2 = await exchangeCode(http, profile, gl.url, app(), {
      code: code2,
      redirectUri,
      codeVerifier: pkce2.verifier,
    });
    const t3 = await refreshTokens(http, profile, gl.url, app(), t2.refresh_token!);
    expect(t3.access_token).not.toBe(t2.access_token);
    expect(t3.refresh_token).not.toBe(t2.refresh_token);
    expect((await failure(refreshTokens(http, profile, gl.url, app(), t2.refresh_token!))).kind).toBe(
      "auth_revoked",
    );
    const c3 = conn({ credential: { kind: "oauth", access_token: t3.access_token } });
    expect(await adapter.listWorkspaces(c3)).toHaveLength(3);

    await control("POST", "/_sim/credentials/expire", { token: t3.access_token });
    expect((await failure(adapter.listWorkspaces(c3))).kind).toBe("auth_expired");
    // A refresh token is not an API credential.
    const asApi = conn({ credential: { kind: "oauth", access_token: t3.refresh_token! } });
    expect((await failure(adapter.listWorkspaces(asApi))).kind).toBe("auth_revoked");
  });

  it("refuses a wrong PKCE verifier, a wrong redirect URI and a wrong client secret", async () => {
    const pkce = newPkcePair();
    const code = await authorize(pkce.challenge);
    const wrong = await failure(
      exchangeCode(http, profile, gl.url, app(), { code, redirectUri, codeVerifier: newPkcePair().verifier }),
    );
    expect(wrong.kind).toBe("auth_revoked");
    const code2 = await authorize(pkce.challenge);
    const otherUri = `${redirectUri}elsewhere`;
    expect(
      (
        await failure(
          exchangeCode(http, profile, gl.url, app(), {
            code: code2,
            redirectUri: otherUri,
            codeVerifier: pkce.verifier,
          }),
        )
      ).kind,
    ).toBe("auth_revoked");
    const badApp = { clientId: gl.demo.oauth_client_id, clientSecret: "nope" };
    expect((await failure(refreshTokens(http, profile, gl.url, badApp, "whatever"))).kind).toBe(
      "auth_revoked",
    );
    const unknown = await fetch(
      buildAuthorizeUrl(
        profile,
        gl.url,
        { clientId: "nobody", clientSecret: "" },
        { state: "s", redirectUri },
      ),
      { redirect: "manual" },
    );
    expect(unknown.status).toBe(401);
  });
});

describe("gitlab over 10,000 projects", () => {
  let big: ProviderSimulator;
  beforeAll(async () => {
    big = await startGitlabSimulator({ generatedResources: 10_050 });
  });
  afterAll(() => big?.close());

  it("omits the totals and still discovers everything by following the links", async () => {
    const res = await fetch(`${big.url}/api/v4/groups/8001/projects?include_subgroups=true&per_page=100`, {
      headers: { "private-token": big.demo.token },
    });
    expect(res.headers.get("x-total")).toBeNull();
    expect(res.headers.get("x-total-pages")).toBeNull();
    expect(res.headers.get("link")).not.toContain('rel="last"');
    expect(res.headers.get("x-next-page")).toBe("2");
    expect(res.headers.get("ratelimit-limit")).toBeTruthy();

    const c: Connection = { base_url: big.url, credential: pat(big.demo.token), http };
    const [ws] = await adapter.listWorkspaces({ ...c, options: { group_id: "acme" } });
    const outcome = await runDiscovery(adapter, c, ws, () => {});
    expect(outcome).toMatchObject({ complete: true, count: 10_050 + NAMED_ACME });
  });
});

describe("gitlab offset cap on project lists", () => {
  // GitLab stops offset paging of project lists at an instance limit (50,000 by default) with 405.
  let big: ProviderSimulator;
  const bigConn = (): Connection => ({ base_url: big.url, credential: pat(big.demo.token), http });
  const bigControl = simControl(() => big.url);

  beforeAll(async () => {
    // 895 generated + 2 named projects directly in acme, 6 more in its subgroups: 903 in all.
    big = await startGitlabSimulator({ generatedResources: 895 });
  });
  afterAll(() => big?.close());

  it("answers 405 past the limit, naming keyset pagination", async () => {
    await bigControl("PUT", "/_sim/gitlab/limits", { max_offset: 950 });
    const res = await fetch(`${big.url}/api/v4/groups/${big.demo.group_id}/projects?per_page=100&page=10`, {
      headers: { "private-token": big.demo.token },
    });
    expect(res.status).toBe(405);
    expect((await res.json()).error).toMatch(/maximum allowed offset of 950 .*keyset pagination/);
  });

  it("reads the rest group by group past the cap: every project once, pass complete", async () => {
    await bigControl("PUT", "/_sim/gitlab/limits", { max_offset: 950 });
    const ws = (await adapter.listWorkspaces(bigConn())).find((w) => w.id === big.demo.group_id)!;
    const { all, outcome } = await collect(ws, bigConn());
    const upstream = (await bigControl("GET", `/_sim/resources?workspace_id=${big.demo.group_id}`)).resources;
    expect(upstream.length).toBeGreaterThan(900); // offset paging under a 950 cap serves 9 pages of 100
    expect(outcome.complete).toBe(true);
    const ids = all.map((r) => r.identity.native_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(upstream.map((r: { id: string }) => r.id).sort());
  });

  it("says the pass is incomplete when one group alone has more projects than the cap", async () => {
    await bigControl("PUT", "/_sim/gitlab/limits", { max_offset: 500 });
    const ws = (await adapter.listWorkspaces(bigConn())).find((w) => w.id === big.demo.group_id)!;
    const { outcome } = await collect(ws, bigConn());
    expect(outcome.complete).toBe(false);
    expect(outcome.truncated?.message).toMatch(
      /more projects of its own than GitLab's offset paging reaches/,
    );
  });
});
