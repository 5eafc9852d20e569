import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import type { ProviderSimulator } from "../../src/simulators/core/types.ts";
import { startGithubSimulator } from "../../src/simulators/github/index.ts";
// Core modules directly: the registry imports every provider, which are written in parallel.
import type { Connection } from "../../src/tracker/core/adapter.ts";
import type { BindableResource, Workspace } from "../../src/tracker/core/descriptor.ts";
import { runDiscovery } from "../../src/tracker/core/discovery.ts";
import type { TrackerError } from "../../src/tracker/core/errors.ts";
import { githubAdapter as gh } from "../../src/tracker/github/adapter.ts";
import { appJwt, installationToken } from "../../src/tracker/github/auth.ts";
import { fastHttp as http, simControl, trackerFailure } from "../support/tracker.ts";

const GENERATED = 1_050;
const NAMED = 8;

let sim: ProviderSimulator;
let conn: Connection;
let ws: Workspace;
let resources: BindableResource[];
const messages: string[] = [];

function connFor(installationId: string, overrides: Partial<Connection["credential"]> = {}): Connection {
  return {
    base_url: sim.demo.api_url,
    http: http(),
    credential: {
      kind: "github_app",
      app_id: sim.demo.app_id,
      private_key_pem: sim.demo.private_key_pem,
      installation_id: installationId,
      ...overrides,
    } as Connection["credential"],
  };
}

const control = simControl(() => sim.url);

/** The TrackerError a promise rejects with (its message is kept to check for leaked secrets). */
async function failure(p: Promise<unknown>): Promise<TrackerError> {
  const err = await trackerFailure(p);
  messages.push(err.message, String(err.stack));
  return err;
}

const byName = (name: string) => resources.find((r) => r.display.name === name)!;
const simIssues = async (r: BindableResource) =>
  (await control("GET", `/_sim/resources/${r.identity.native_id}/issues`)).issues as any[];

beforeAll(async () => {
  sim = await startGithubSimulator({ generatedResources: GENERATED });
  conn = connFor(sim.demo.installation_id);
  [ws] = await gh.listWorkspaces(conn);
  resources = [];
  const outcome = await runDiscovery(gh, conn, ws, (page) => {
    resources.push(...page);
  });
  expect(outcome.complete).toBe(true);
});

afterAll(async () => {
  await sim?.close();
});

afterEach(async () => {
  await control("DELETE", "/_sim/faults");
});

describe("workspaces", () => {
  it("lists the installation as one workspace, from the app JWT", async () => {
    expect(ws).toMatchObject({
      provider: "github",
      id: sim.demo.installation_id,
      name: "acme",
      host: new URL(sim.url).host,
      details: {
        repository_selection: "all",
        account_login: "acme",
        account_type: "Organization",
        account_id: 9001,
        target_type: "Organization",
        suspended: false,
      },
    });
    expect(ws.url).toContain(`/organizations/acme/settings/installations/${ws.id}`);
  });

  it("reads the second installation (a user account) with the same app", async () => {
    const [user] = await gh.listWorkspaces(connFor("41000002"));
    expect(user).toMatchObject({ id: "41000002", name: "octo-user", details: { account_type: "User" } });
    const seen: BindableResource[] = [];
    await runDiscovery(gh, connFor("41000002"), user, (p) => {
      seen.push(...p);
    });
    expect(seen.map((r) => r.display.label).sort()).toEqual([
      "octo-user/blog",
      "octo-user/dotfiles",
      "octo-user/side-project",
    ]);
  });

  it("answers not_found for a forged installation id", async () => {
    const err = await failure(gh.listWorkspaces(connFor("99999999")));
    expect(err.kind).toBe("not_found");
  });
});

describe("discovery", () => {
  it("follows the link headers across every page with unique resource keys", async () => {
    expect(resources).toHaveLength(GENERATED + NAMED);
    expect(new Set(resources.map((r) => r.identity.resource_key)).size).toBe(GENERATED + NAMED);
    const pages = sim.sim.log.filter((l) => l.path === "/installation/repositories" && l.status === 200);
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil((GENERATED + NAMED) / 100));
  });

  it("keeps per_page in GitHub's query-form link headers", async () => {
    const { token } = await installationToken(conn);
    const res = await fetch(`${sim.url}/installation/repositories?per_page=100&page=2`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const link = res.headers.get("link")!;
    expect(link).toContain(`<${sim.url}/installation/repositories?per_page=100&page=1>; rel="prev"`);
    expect(link).toContain(`<${sim.url}/installation/repositories?per_page=100&page=3>; rel="next"`);
    expect(link).toContain(`page=11>; rel="last"`);
    expect(res.headers.get("x-ratelimit-resource")).toBe("core");
    const body = await res.json();
    expect(body.total_count).toBe(GENERATED + NAMED);
    expect(body.repository_selection).toBe("all");
    expect(Object.keys(body.repositories[0])).toEqual(
      expect.arrayContaining(["id", "node_id", "full_name", "owner", "private", "visibility", "has_issues"]),
    );
  });

  it("describes a repository with identity, display, flags, params and routing metadata", () => {
    const api = byName("api");
    expect(api.identity).toMatchObject({
      provider: "github",
      workspace_id: ws.id,
      resource_type: "repository",
      host: new URL(sim.url).host,
    });
    expect(api.identity.native_id).toMatch(/^\d+$/);
    expect(api.display).toMatchObject({
      label: "acme/api",
      key: null,
      full_path: "acme/api",
      web_url: `${sim.url}/acme/api`,
      context: { workspace_name: "acme", owner: "acme", repository: "api", visibility: "private" },
    });
    expect(api.connector_params).toEqual({
      installation_id: ws.id,
      repo_id: api.identity.native_id,
      owner: "acme",
      repo: "api",
      api_base_url: sim.url,
    });
    expect(api.routing_metadata).toMatchObject({
      provider: "github",
      version: 1,
      installation_id: ws.id,
      repo_id: api.identity.native_id,
      owner: "acme",
      name: "api",
      full_name: "acme/api",
      html_url: `${sim.url}/acme/api`,
      api_base_url: sim.url,
    });
    const everything = JSON.stringify(resources);
    expect(everything).not.toContain("PRIVATE KEY");
    expect(everything).not.toContain("ghs_");
  });

  it("flags archived and issues-disabled repositories and keeps a hostile name verbatim", () => {
    expect(byName("legacy-billing").flags).toEqual({ archived: true, issues_disabled: false });
    expect(byName("docs").flags).toEqual({ archived: false, issues_disabled: true });
    expect(byName("api").flags).toEqual({ archived: false, issues_disabled: false });
    const hostile = byName("<img src=x onerror=alert(1)>");
    expect(hostile.display.label).toBe("acme/<img src=x onerror=alert(1)>");
  });

  it("keeps resource_key across a rename and changes the label; old names redirect", async () => {
    const web = byName("web");
    await control("PATCH", `/_sim/resources/${web.identity.native_id}`, { name: "web-app" });
    try {
      const again = await gh.getResource(conn, ws, web.identity.native_id);
      expect(again?.identity.resource_key).toBe(web.identity.resource_key);
      expect(again?.display.label).toBe("acme/web-app");
      expect(again?.connector_params.repo).toBe("web-app");
      // Connector params still naming the old repo follow GitHub's 301 to the id form.
      const page = await gh.listIssues(conn, web.connector_params, { limit: 10 });
      expect(page.issues.map((i) => i.title)).toContain("Dark mode contrast too low");
    } finally {
      await control("PATCH", `/_sim/resources/${web.identity.native_id}`, { name: "web" });
    }
  });

  it("a selected installation reaches only its granted repositories, though it reads public ones", async () => {
    const octo = connFor("41000002");
    const [user] = await gh.listWorkspaces(octo);
    const upstream = (await control("GET", "/_sim/resources?workspace_id=41000002")).resources;
    const archive = upstream.find((r: { name: string }) => r.name === "gists-archive");
    // GitHub answers for the public repository that was not selected...
    const { token } = await installationToken(octo);
    const read = await fetch(`${sim.url}/repositories/${archive.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(read.status).toBe(200);
    // ...but it is not the installation's: discovery leaves it out, a lookup answers null, a write is refused.
    const seen: BindableResource[] = [];
    await runDiscovery(gh, octo, user, (p) => {
      seen.push(...p);
    });
    expect(seen.map((r) => r.display.name)).not.toContain("gists-archive");
    expect(await gh.getResource(octo, user, archive.id)).toBeNull();
    const blog = seen.find((r) => r.display.name === "blog")!;
    expect((await gh.getResource(octo, user, blog.identity.native_id))?.display.label).toBe("octo-user/blog");
    const write = await fetch(`${sim.url}/repositories/${archive.id}/issues`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "not allowed" }),
    });
    expect(write.status).toBe(403);
  });

  it("gets a resource by native id, null when missing or outside the installation", async () => {
    const api = byName("api");
    expect((await gh.getResource(conn, ws, api.identity.native_id))?.display.label).toBe("acme/api");
    expect(await gh.getResource(conn, ws, "123")).toBeNull();
    expect(await gh.getResource(conn, ws, "not-a-number")).toBeNull();
    const [other] = await gh.listWorkspaces(connFor("41000002"));
    const theirs: BindableResource[] = [];
    await runDiscovery(gh, connFor("41000002"), other, (p) => {
      theirs.push(...p);
    });
    expect(await gh.getResource(conn, ws, theirs[0].identity.native_id)).toBeNull();
  });
});

describe("faults and rate limits", () => {
  const api = () => byName("api").connector_params;

  it("retries a 429 with Retry-After and then succeeds", async () => {
    await control("POST", "/_sim/faults", { status: 429, retry_after: 1, count: 1, path_prefix: "/repos/" });
    const before = sim.sim.log.length;
    const page = await gh.listIssues(conn, api(), { limit: 10 });
    expect(page.issues.length).toBeGreaterThan(0);
    const attempts = sim.sim.log.slice(before).filter((l) => l.path === "/repos/acme/api/issues");
    expect(attempts.map((a) => a.status)).toEqual([429, 200]);
  });

  it("turns persistent 5xx into upstream_unavailable", async () => {
    await control("POST", "/_sim/faults", { status: 502, count: 5, path_prefix: "/repos/" });
    expect((await failure(gh.listIssues(conn, api(), { limit: 10 }))).kind).toBe("upstream_unavailable");
  });

  it("reports a body that is not JSON as malformed_response", async () => {
    await control("POST", "/_sim/faults", { malformed: true, count: 1, path_prefix: "/repos/" });
    expect((await failure(gh.getIssue(conn, api(), "1"))).kind).toBe("malformed_response");
  });

  it("retries a dropped connection", async () => {
    await control("POST", "/_sim/faults", { drop: true, count: 1, path_prefix: "/repos/" });
    expect((await gh.getIssue(conn, api(), "1"))?.title).toBe("Login fails on Safari");
  });

  it("ends a pass with a fault on page 3 as complete:false with the reason", async () => {
    await control("POST", "/_sim/faults", {
      status: 503,
      count: 10,
      after: 2,
      path_prefix: "/installation/repositories",
    });
    let kept = 0;
    const outcome = await runDiscovery(gh, conn, ws, (page) => {
      kept += page.length;
    });
    expect(outcome.complete).toBe(false);
    expect(outcome.pages).toBe(2);
    expect(kept).toBe(200);
    expect(outcome.truncated?.reason).toBe("upstream_unavailable");
  });

  it("honours a secondary rate limit: retried when short, rate_limited with its wait when long", async () => {
    const secondary = {
      message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    };
    await control("POST", "/_sim/faults", {
      status: 403,
      body: secondary,
      retry_after: 1,
      count: 1,
      path_prefix: "/repos/",
    });
    expect((await gh.getIssue(conn, api(), "1"))?.ref.id).toBe("1");

    await control("POST", "/_sim/faults", {
      status: 403,
      body: secondary,
      retry_after: 90,
      count: 1,
      path_prefix: "/repos/",
    });
    const err = await failure(gh.getIssue(conn, api(), "1"));
    expect(err.kind).toBe("rate_limited");
    expect(err.retryAfterSeconds).toBe(90);
  });

  it("maps the primary limit (403, x-ratelimit-remaining 0) to rate_limited until the reset", async () => {
    await installationToken(conn); // mint first: the app's JWT calls have their own budget
    await control("PUT", "/_sim/rate-limit", { core: 2 });
    try {
      await gh.getIssue(conn, api(), "1");
      await gh.getIssue(conn, api(), "2");
      const err = await failure(gh.getIssue(conn, api(), "3"));
      expect(err.kind).toBe("rate_limited");
      expect(err.status).toBe(403);
      expect(err.retryAfterSeconds).toBeGreaterThan(3500);
      expect(err.retryAfterSeconds).toBeLessThanOrEqual(3601);
    } finally {
      await control("PUT", "/_sim/rate-limit", { core: 15_000 });
    }
  });

  it("answers forbidden for a plain 403", async () => {
    await control("POST", "/_sim/faults", {
      status: 403,
      body: { message: "Resource not accessible by integration" },
      count: 1,
      path_prefix: "/repos/",
    });
    expect((await failure(gh.getIssue(conn, api(), "1"))).kind).toBe("forbidden");
  });
});

describe("credentials", () => {
  it("re-mints after GitHub rejects an expired or revoked cached token", async () => {
    await gh.getIssue(conn, byName("api").connector_params, "1");
    await control("POST", "/_sim/credentials/expire", { all: true });
    const before = sim.sim.log.length;
    expect((await gh.getIssue(conn, byName("api").connector_params, "1"))?.ref.id).toBe("1");
    const calls = sim.sim.log.slice(before).map((l) => `${l.method} ${l.path} ${l.status}`);
    expect(calls).toEqual([
      "GET /repos/acme/api/issues/1 401",
      `POST /app/installations/${ws.id}/access_tokens 201`,
      "GET /repos/acme/api/issues/1 200",
    ]);
  });

  it("rejects a JWT signed with another key as auth_expired", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const stranger = connFor(ws.id, {
      private_key_pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    });
    expect((await failure(gh.listWorkspaces(stranger))).kind).toBe("auth_expired");
    expect((await failure(gh.listWorkspaces(connFor(ws.id, { app_id: "1" })))).kind).toBe("auth_expired");
  });

  it("checks the JWT lifetime as GitHub does", async () => {
    const cred = connFor(ws.id).credential as Extract<Connection["credential"], { kind: "github_app" }>;
    const ok = await fetch(`${sim.url}/app/installations/${ws.id}`, {
      headers: { authorization: `Bearer ${appJwt(cred)}` },
    });
    expect(ok.status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iat: now, exp: now + 3600, iss: cred.app_id })}`;
    const jwt = `${input}.${sign("sha256", Buffer.from(input), cred.private_key_pem).toString("base64url")}`;
    const tooLong = await fetch(`${sim.url}/app/installations/${ws.id}`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect(tooLong.status).toBe(401);
    expect((await tooLong.json()).message).toContain(
      "'Expiration time' claim ('exp') is too far in the future",
    );
  });

  it("treats a suspended installation as forbidden and an uninstalled one as auth_revoked", async () => {
    const id = "41000002";
    const c = connFor(id);
    const [user] = await gh.listWorkspaces(c);
    const params = { owner: "octo-user", repo: "blog" };
    expect((await gh.getIssue(c, params, "1"))?.title).toBe("Fix RSS feed dates");

    await control("PATCH", `/_sim/installations/${id}`, { suspended: true });
    expect((await gh.listWorkspaces(c))[0].details.suspended).toBe(true);
    expect((await failure(gh.getIssue(c, params, "1"))).kind).toBe("forbidden"); // cached token
    expect((await failure(gh.getIssue(connFor(id, { app_id: sim.demo.app_id }), params, "1"))).kind).toBe(
      "forbidden",
    );
    await control("PATCH", `/_sim/installations/${id}`, { suspended: false });
    expect((await gh.getIssue(c, params, "1"))?.title).toBe("Fix RSS feed dates");

    await control("DELETE", `/_sim/installations/${id}`);
    const outcome = await runDiscovery(gh, c, user, () => {});
    expect(outcome).toMatchObject({ complete: false, truncated: { reason: "auth_revoked" } });
    expect((await failure(gh.getIssue(c, params, "1"))).kind).toBe("auth_revoked");
    expect((await failure(gh.listWorkspaces(c))).kind).toBe("not_found");
  });

  it("never puts a token, JWT or key into an error message", async () => {
    expect(messages.length).toBeGreaterThan(10);
    const { token } = await installationToken(conn);
    for (const m of messages) {
      expect(m).not.toContain(token.slice(0, 12));
      expect(m).not.toContain("ghs_");
      expect(m).not.toContain("eyJ");
      expect(m).not.toContain("PRIVATE KEY");
    }
  });
});

describe("issues", () => {
  const api = () => byName("api").connector_params;

  it("lists issues page by page without pull requests", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await gh.listIssues(conn, api(), { cursor, limit: 2 });
      seen.push(...page.issues.map((i) => i.ref.key!));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(["acme/api#5", "acme/api#4", "acme/api#3", "acme/api#2", "acme/api#1"]);
    const link = sim.sim.log.filter((l) => l.path === "/repos/acme/api/issues").length;
    expect(link).toBeGreaterThanOrEqual(3);
  });

  it("maps GitHub state, state_reason and status labels to the normalised status", async () => {
    const page = await gh.listIssues(conn, api(), { limit: 50 });
    const status = Object.fromEntries(page.issues.map((i) => [i.title, i.status]));
    expect(status).toEqual({
      "Login fails on Safari": "todo",
      "Rate-limit the export endpoint": "in_progress",
      "Document pagination headers": "done",
      "Drop the v1 endpoints": "canceled",
      "Review webhook retries": "in_review",
    });
    const safari = page.issues.find((i) => i.ref.id === "1")!;
    expect(safari).toMatchObject({
      ref: {
        system: "github",
        workspace: "acme/api",
        key: "acme/api#1",
        url: `${sim.url}/acme/api/issues/1`,
      },
      issue_type: "bug",
      labels: ["bug"],
      provider_metadata: { number: 1, state: "open" },
    });
    const review = page.issues.find((i) => i.ref.id === "5")!;
    expect(review.priority).toBe(1);
    expect(review.labels).toEqual(["P1"]);
  });

  it("searches by key and by text", async () => {
    for (const key of ["acme/api#2", "#2", "2"]) {
      const hits = await gh.searchIssues(conn, api(), { key, limit: 5 });
      expect(hits.map((h) => h.title)).toEqual(["Rate-limit the export endpoint"]);
    }
    expect(await gh.searchIssues(conn, api(), { key: "other/repo#2", limit: 5 })).toEqual([]);
    const text = await gh.searchIssues(conn, api(), { text: "safari", limit: 5 });
    expect(text.map((h) => h.ref.key)).toEqual(["acme/api#1"]);
    // The pull request "Add request tracing" matches the words but is not an issue.
    expect(await gh.searchIssues(conn, api(), { text: "request tracing", limit: 5 })).toEqual([]);
    const searched = sim.sim.log.filter((l) => l.path === "/search/issues");
    expect(searched.length).toBeGreaterThanOrEqual(2);
  });

  it("keeps the user's words words: operators and qualifiers in the text do not change the search", async () => {
    // Unquoted, GitHub's advanced search would read `OR` (matching "Login fails on Safari") and a second
    // `repo:` qualifier (widening the search to acme/web).
    expect(await gh.searchIssues(conn, api(), { text: "safari OR nothing-matches-this", limit: 5 })).toEqual(
      [],
    );
    const web = await gh.searchIssues(conn, api(), { text: "repo:acme/web", limit: 5 });
    expect(web.map((h) => h.ref.key)).toEqual([]);
    expect(
      (await gh.searchIssues(conn, api(), { text: 'Safari "17"', limit: 5 })).map((h) => h.ref.key),
    ).toEqual(["acme/api#1"]);
  });

  it("gets an issue by number or key; null for a pull request or a missing number", async () => {
    expect((await gh.getIssue(conn, api(), "acme/api#3"))?.status).toBe("done");
    expect(await gh.getIssue(conn, api(), "6")).toBeNull(); // the seeded pull request
    expect(await gh.getIssue(conn, api(), "999")).toBeNull();
    expect(await gh.getIssue(conn, api(), "web#1")).toBeNull();
  });

  it("creates issues with a status, visible in the simulator", async () => {
    const created = await gh.createIssue(conn, api(), {
      title: "Created by the adapter",
      body: "hello",
      labels: ["bug"],
      status: "in_progress",
    });
    expect(created).toMatchObject({
      status: "in_progress",
      labels: ["bug"],
      title: "Created by the adapter",
    });
    const closed = await gh.createIssue(conn, api(), { title: "Born done", status: "done" });
    expect(closed.status).toBe("done");
    const stored = await simIssues(byName("api"));
    expect(stored.find((i) => i.title === "Created by the adapter")).toMatchObject({
      status: "in_progress",
      labels: ["bug"],
      body: "hello",
    });
    expect(stored.find((i) => i.title === "Born done")?.status).toBe("done");
  });

  it("updates title and status through close, reopen and working states", async () => {
    const created = await gh.createIssue(conn, api(), { title: "To transition", labels: ["chore"] });
    const key = created.ref.key!;
    const canceled = await gh.updateIssue(conn, api(), key, { status: "canceled" });
    expect(canceled.provider_metadata).toMatchObject({ state: "closed", state_reason: "not_planned" });
    let stored = (await simIssues(byName("api"))).find(
      (i) => i.id === String(created.provider_metadata.issue_id),
    );
    expect(stored.status).toBe("canceled");

    const review = await gh.updateIssue(conn, api(), created.ref.id, {
      status: "in_review",
      title: "Renamed",
    });
    expect(review).toMatchObject({ status: "in_review", title: "Renamed", labels: ["chore"] });
    stored = (await simIssues(byName("api"))).find(
      (i) => i.id === String(created.provider_metadata.issue_id),
    );
    expect(stored).toMatchObject({ status: "in_review", title: "Renamed", labels: ["chore"] });

    const relabeled = await gh.updateIssue(conn, api(), key, { labels: ["docs"] });
    expect(relabeled).toMatchObject({ status: "in_review", labels: ["docs"] });

    const done = await gh.updateIssue(conn, api(), key, { status: "done" });
    expect(done.status).toBe("done");
    expect((await failure(gh.updateIssue(conn, api(), "999", { status: "done" }))).kind).toBe("not_found");
  });

  it("reports issues-disabled and archived repositories", async () => {
    const docs = byName("docs").connector_params;
    expect((await failure(gh.listIssues(conn, docs, { limit: 5 }))).kind).toBe("not_found");
    const legacy = byName("legacy-billing").connector_params;
    expect((await failure(gh.createIssue(conn, legacy, { title: "nope" }))).kind).toBe("forbidden");
  });
});

describe("install and user authorization (github.com)", () => {
  const CALLBACK = "http://service.test/api/v1/installations/callback/github/";
  const web = () => sim.demo.web_url;
  const userToken = async (code: string) => {
    const res = await fetch(`${web()}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: sim.demo.client_id,
        client_secret: sim.demo.client_secret,
        code,
      }).toString(),
    });
    return { status: res.status, body: await res.json() };
  };
  const userInstallations = async (token: string) => {
    const res = await fetch(`${sim.url}/user/installations`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: await res.json() };
  };

  it("installs from the install page, then sends the user to the callback with a code and the installation", async () => {
    const url = `${web()}/apps/${sim.demo.app_slug}/installations/new?state=s-123`;
    expect((await fetch(url, { redirect: "manual" })).status).toBe(400); // no callback URL registered yet
    await control("PUT", "/_sim/app", { callback_url: CALLBACK, signed_in_user: "acme-admin" });
    const page = await (await fetch(url)).text();
    expect(page).toContain("Signed in to GitHub as <strong>acme-admin</strong>");
    const back = await clickThroughConsent(url, { choice: sim.demo.installation_id });
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get("installation_id")).toBe(sim.demo.installation_id);
    expect(back.searchParams.get("setup_action")).toBe("install");
    expect(back.searchParams.get("state")).toBe("s-123");

    // The code is the installing user's: their token lists only the installations they can access.
    const token = await userToken(back.searchParams.get("code")!);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ token_type: "bearer", expires_in: 28_800, scope: "" });
    expect(token.body.access_token).toMatch(/^ghu_/);
    expect(token.body.refresh_token).toMatch(/^ghr_/);
    const mine = await userInstallations(token.body.access_token);
    expect(mine.status).toBe(200);
    expect(mine.body.total_count).toBe(1);
    expect(mine.body.installations.map((i: { id: number }) => String(i.id))).toEqual([
      sim.demo.installation_id,
    ]);

    // A user token is not an installation token.
    const repos = await fetch(`${sim.url}/installation/repositories`, {
      headers: { authorization: `Bearer ${token.body.access_token}` },
    });
    expect(repos.status).toBe(401);
    // Codes are single use; token errors answer 200 with an `error` field, as GitHub does.
    const again = await userToken(back.searchParams.get("code")!);
    expect(again).toMatchObject({ status: 200, body: { error: "bad_verification_code" } });
    expect((await fetch(`${sim.url}/apps/other-app/installations/new`, { redirect: "manual" })).status).toBe(
      404,
    );
  });

  it("another user's token lists only that user's installations", async () => {
    await control("PUT", "/_sim/app", { callback_url: CALLBACK, signed_in_user: "globex-owner" });
    const url = `${web()}/login/oauth/authorize?client_id=${sim.demo.client_id}&state=x`;
    const back = await clickThroughConsent(url);
    const token = await userToken(back.searchParams.get("code")!);
    const theirs = await userInstallations(token.body.access_token);
    expect(theirs.body.installations.map((i: { account: { login: string } }) => i.account.login)).toEqual([
      "globex",
    ]);
    expect((await userInstallations("ghu_not-a-token")).status).toBe(401);
  });

  it("refuses a redirect_uri outside the callback URL and wrong client credentials", async () => {
    await control("PUT", "/_sim/app", { callback_url: CALLBACK, signed_in_user: "acme-admin" });
    const foreign = `${web()}/login/oauth/authorize?client_id=${sim.demo.client_id}&redirect_uri=${encodeURIComponent("http://evil.test/cb")}`;
    expect(await (await fetch(foreign)).text()).toContain("redirect_uri is not associated");
    const res = await fetch(`${web()}/login/oauth/access_token`, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ client_id: sim.demo.client_id, client_secret: "wrong", code: "x" }),
    });
    expect(await res.json()).toMatchObject({ error: "incorrect_client_credentials" });
  });
});
