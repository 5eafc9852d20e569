import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { validateRoutingMetadata } from "../../src/host/mappings/routing-metadata.ts";
import { startAzureDevOpsSimulator } from "../../src/simulators/azure-devops/index.ts";
import type { ProviderSimulator } from "../../src/simulators/index.ts";
import { azureDevOpsAdapter as ado } from "../../src/tracker/azure-devops/adapter.ts";
import {
  type BindableResource,
  type Connection,
  createHttpClient,
  runDiscovery,
  type Workspace,
} from "../../src/tracker/index.ts";
import { FAST_RETRY, trackerFailure as failure, fastHttp, simControl } from "../support/tracker.ts";

const http = fastHttp();
const GENERATED = 1050;

let sim: ProviderSimulator;
let ws: Workspace;
const all: BindableResource[] = [];

const conn = (token = sim.demo.pat, organization: string | null = sim.demo.organization): Connection => ({
  base_url: sim.url,
  credential: { kind: "bearer_pat", token },
  options: organization === null ? {} : { organization },
  http,
});

const control = simControl(() => sim.url);

const byName = (name: string) => {
  const r = all.find((x) => x.display.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};

beforeAll(async () => {
  sim = await startAzureDevOpsSimulator({ generatedResources: GENERATED });
  [ws] = await ado.listWorkspaces(conn());
  const outcome = await runDiscovery(ado, conn(), ws, (page) => {
    all.push(...page);
  });
  expect(outcome.complete).toBe(true);
});
afterAll(() => sim?.close());
afterEach(() => control("DELETE", "/_sim/faults"));

describe("workspace and discovery", () => {
  it("checks the PAT against the organization and returns it as the one workspace", async () => {
    expect(ws).toMatchObject({
      provider: "azure_devops",
      id: "acme",
      name: "acme",
      host: new URL(sim.url).host,
      url: `${sim.url}/acme`,
      details: { organization: "acme", instance_id: "5d1c2f0e-7a3b-4c8d-9e21-6f4a0b3c9d10" },
    });
    const [upper] = await ado.listWorkspaces(conn(sim.demo.pat, "ACME"));
    expect(upper.id).toBe("acme");
    const missing = await failure(ado.listWorkspaces(conn(sim.demo.pat, null)));
    expect(missing.kind).toBe("invalid_request");
    expect(missing.message).toContain("organization");
  });

  it("follows x-ms-continuationtoken across every page with unique resource keys", async () => {
    const upstream = (await control("GET", "/_sim/resources?workspace_id=acme")).resources;
    expect(upstream.length).toBe(GENERATED + 8);
    expect(all.length).toBe(upstream.length);
    expect(new Set(all.map((r) => r.identity.resource_key)).size).toBe(all.length);
    expect(new Set(all.map((r) => r.identity.native_id))).toEqual(new Set(upstream.map((r: any) => r.id)));
    const pages = (await control("GET", "/_sim/requests")).requests.filter(
      (r: any) => r.path === "/acme/_apis/projects" && r.status === 200,
    );
    expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(upstream.length / 100));
  });

  it("fills the descriptor from the project: GUID identity, org context, params and routing metadata", () => {
    const p = byName("Payments");
    expect(p.identity).toMatchObject({
      provider: "azure_devops",
      workspace_id: "acme",
      resource_type: "project",
    });
    expect(p.identity.native_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(p.display).toMatchObject({
      label: "Payments",
      key: null,
      full_path: "acme/Payments",
      web_url: `${sim.url}/acme/Payments`,
      context: { workspace_name: "acme", project: "Payments" },
    });
    expect(p.connector_params).toEqual({
      organization: "acme",
      project_id: p.identity.native_id,
      project_name: "Payments",
      api_base_url: sim.url,
    });
    expect(() => validateRoutingMetadata("azure_devops", p.routing_metadata)).not.toThrow();
    expect(JSON.stringify(all)).not.toContain(sim.demo.pat);
    const xss = byName("<img src=x onerror=alert(1)>");
    expect(xss.display.web_url).toBe(`${sim.url}/acme/${encodeURIComponent("<img src=x onerror=alert(1)>")}`);
  });

  it("flags projects being deleted as archived and projects with Boards off as issues-disabled", () => {
    expect(byName("Legacy Portal").flags).toEqual({ archived: true, issues_disabled: false });
    expect(byName("Docs Site").flags).toEqual({ archived: false, issues_disabled: true });
    expect(byName("Payments").flags).toEqual({ archived: false, issues_disabled: false });
    expect(all.filter((r) => r.flags.archived).length).toBe(1);
    expect(all.filter((r) => r.flags.issues_disabled).length).toBe(1);
  });

  it("looks a project up by GUID, keeps its key over a rename, and answers null for unknown ids or names", async () => {
    const target = byName("Identity Service");
    await control("PATCH", `/_sim/resources/${target.identity.native_id}`, { name: "Identity Platform" });
    const renamed = await ado.getResource(conn(), ws, target.identity.native_id);
    expect(renamed?.identity.resource_key).toBe(target.identity.resource_key);
    expect(renamed?.display.label).toBe("Identity Platform");
    expect(renamed?.display.full_path).toBe("acme/Identity Platform");
    expect(await ado.getResource(conn(), ws, "00000000-0000-4000-8000-000000000000")).toBeNull();
    // ADO also resolves a project by name on this route; a name is not an identity.
    expect(await ado.getResource(conn(), ws, "Payments")).toBeNull();
    const archived = await ado.getResource(conn(), ws, byName("Legacy Portal").identity.native_id);
    expect(archived?.flags.archived).toBe(true);
  });
});

describe("failures", () => {
  it("retries a 429 with Retry-After, then succeeds", async () => {
    await control("POST", "/_sim/faults", {
      path_prefix: "/acme/_apis/projects",
      status: 429,
      retry_after: 1,
      count: 1,
    });
    const started = Date.now();
    const r = await ado.getResource(conn(), ws, byName("Payments").identity.native_id);
    expect(r?.display.name).toBe("Payments");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("reads ADO's own X-RateLimit-Reset when a 429 carries no Retry-After", async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    await control("POST", "/_sim/faults", {
      status: 429,
      count: 1,
      headers: {
        "x-ratelimit-resource": "Core",
        "x-ratelimit-delay": "0.5",
        "x-ratelimit-limit": "200",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(reset),
      },
    });
    const err = await failure(ado.getResource(conn(), ws, byName("Payments").identity.native_id));
    expect(err.kind).toBe("rate_limited");
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(121);
  });

  it("sends X-RateLimit-* headers on ordinary answers", async () => {
    const res = await fetch(`${sim.url}/acme/_apis/projects?$top=1&api-version=7.1`, {
      headers: { authorization: `Basic ${Buffer.from(`:${sim.demo.pat}`).toString("base64")}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-resource")).toBe("Core");
    expect(Number(res.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
  });

  it("classifies persistent 5xx, malformed bodies and dropped connections", async () => {
    await control("POST", "/_sim/faults", { status: 503, count: 5 });
    expect((await failure(ado.listWorkspaces(conn()))).kind).toBe("upstream_unavailable");
    await control("DELETE", "/_sim/faults");

    await control("POST", "/_sim/faults", { malformed: true, count: 1 });
    expect((await failure(ado.listWorkspaces(conn()))).kind).toBe("malformed_response");

    await control("POST", "/_sim/faults", { drop: true, count: 1 });
    expect((await ado.listWorkspaces(conn()))[0].id).toBe("acme");
  });

  it("stops a pass that fails on page 3 as incomplete with the reason", async () => {
    await control("POST", "/_sim/faults", {
      method: "GET",
      path_prefix: "/acme/_apis/projects",
      status: 502,
      count: 10,
      after: 2,
    });
    let seen = 0;
    const outcome = await runDiscovery(ado, conn(), ws, (page) => {
      seen += page.length;
    });
    expect(outcome.complete).toBe(false);
    expect(outcome.pages).toBe(2);
    expect(seen).toBe(200);
    expect(outcome.truncated?.reason).toBe("upstream_unavailable");
  });

  it("tells expired PATs from revoked or unknown ones, and never puts the token in a message", async () => {
    const expired = "adopatexpired0000000000000000000000000000000000000";
    const revoked = "adopatrevoked0000000000000000000000000000000000000";
    await control("POST", "/_sim/credentials", { token: expired, workspaces: ["acme"] });
    await control("POST", "/_sim/credentials", { token: revoked, workspaces: ["acme"] });
    await control("POST", "/_sim/credentials/expire", { token: expired });
    await control("POST", "/_sim/credentials/revoke", { token: revoked });
    const contosoOnly = [...sim.store.credentials.values()].find(
      (c) => c.workspaces.join() === "contoso",
    )!.token;

    const cases: [string, string][] = [
      [expired, "auth_expired"],
      [revoked, "auth_revoked"],
      ["adopatunknown000000000000000000000000000000000000000", "auth_revoked"],
      [contosoOnly, "auth_revoked"],
    ];
    for (const [token, kind] of cases) {
      const err = await failure(ado.listWorkspaces(conn(token)));
      expect(err.kind, token).toBe(kind);
      expect(err.status).toBe(401);
      expect(err.message).not.toContain(token);
      expect(err.message).not.toContain(Buffer.from(`:${token}`).toString("base64"));
    }
  });

  it("treats the 203 sign-in page ADO sends without X-TFS-FedAuthRedirect as auth_expired, never success", async () => {
    const raw = await fetch(`${sim.url}/acme/_apis/projects?api-version=7.1`, {
      headers: { authorization: `Basic ${Buffer.from(":nope").toString("base64")}` },
    });
    expect(raw.status).toBe(203);
    expect(raw.headers.get("content-type")).toContain("text/html");

    // A client that drops the Suppress header sees what a browser sees.
    const stripping = createHttpClient({
      retry: FAST_RETRY,
      fetch: (url, init) => {
        const headers = { ...(init?.headers as Record<string, string>) };
        delete headers["x-tfs-fedauthredirect"];
        return fetch(url, { ...init, headers });
      },
    });
    const err = await failure(ado.listWorkspaces({ ...conn("adopatnotknown"), http: stripping }));
    expect(err.kind).toBe("auth_expired");
    expect(err.status).toBe(203);

    await control("POST", "/_sim/faults", { status: 203, count: 1, body: "<html>Sign In</html>" });
    expect((await failure(ado.listWorkspaces(conn()))).kind).toBe("auth_expired");
  });
});

describe("work items", () => {
  const params = (name: string) => byName(name).connector_params;
  const simIssues = async (name: string) =>
    (await control("GET", `/_sim/resources/${byName(name).identity.native_id}/issues`)).issues;

  it("lists a project's work items page by page with an opaque cursor", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await ado.listIssues(conn(), params("Platform Infra"), { cursor, limit: 2 });
      pages++;
      expect(page.issues.length).toBeLessThanOrEqual(2);
      seen.push(...page.issues.map((i) => i.ref.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(pages).toBe(3);
    const upstream = await simIssues("Platform Infra");
    expect(seen).toEqual(upstream.map((i: any) => i.id));
    const bad = await failure(
      ado.listIssues(conn(), params("Platform Infra"), { cursor: "garbage", limit: 2 }),
    );
    expect(bad.kind).toBe("invalid_request");
  });

  it("maps work item fields, states and the Blocked tag to the normalised issue", async () => {
    const { issues } = await ado.listIssues(conn(), params("Mobile App"), { limit: 10 });
    const crash = issues.find((i) => i.title === "Crash on login with SSO")!;
    expect(crash).toMatchObject({
      status: "blocked",
      issue_type: "bug",
      priority: 1,
      labels: ["crash"],
      assignees: ["lin@acme.test"],
      ref: { system: "azure_devops", workspace: "acme", key: crash.ref.id },
    });
    expect(crash.ref.url).toBe(`${sim.url}/acme/Mobile%20App/_workitems/edit/${crash.ref.id}`);
    expect(crash.provider_metadata).toMatchObject({
      state: "Active",
      work_item_type: "Bug",
      team_project: "Mobile App",
    });
    expect(issues.find((i) => i.title === "Dark mode icons")?.status).toBe("canceled");
    expect(issues.find((i) => i.title === "Offline mode for the cart")).toMatchObject({
      status: "todo",
      issue_type: "story",
    });
  });

  it("searches by id (42, #42, AB#42) and by title text, only inside the mapped project", async () => {
    const [invoice] = (await simIssues("Payments")).filter((i: any) => i.title.startsWith("Invoice PDF"));
    for (const key of [invoice.id, `#${invoice.id}`, `AB#${invoice.id}`]) {
      const hits = await ado.searchIssues(conn(), params("Payments"), { key, limit: 5 });
      expect(hits.map((h) => h.ref.id)).toEqual([invoice.id]);
    }
    const text = await ado.searchIssues(conn(), params("Payments"), { text: "WEBHOOK", limit: 5 });
    expect(text.map((h) => h.title)).toEqual(["Refund webhook drops events"]);
    expect(await ado.searchIssues(conn(), params("Mobile App"), { key: invoice.id, limit: 5 })).toEqual([]);
    // Quotes are escaped into the WIQL literal, not interpreted.
    expect(
      await ado.searchIssues(conn(), params("Payments"), { text: "x' OR [System.Id] > '0", limit: 5 }),
    ).toEqual([]);
  });

  it("gets a work item of the mapped project, null for one elsewhere, and survives a project rename", async () => {
    const [retry] = await simIssues("Payments");
    const got = await ado.getIssue(conn(), params("Payments"), retry.id);
    expect(got?.title).toBe(retry.title);
    expect(await ado.getIssue(conn(), params("Mobile App"), retry.id)).toBeNull();
    expect(await ado.getIssue(conn(), params("Payments"), "99999")).toBeNull();
    // The descriptor still says "Identity Service"; the project is now "Identity Platform".
    const stale = params("Identity Service");
    const created = await ado.createIssue(conn(), stale, { title: "SSO for partners" });
    expect((await ado.getIssue(conn(), stale, created.ref.id))?.title).toBe("SSO for partners");
  });

  it("creates a Task with JSON Patch and changes its status, visible through /_sim/", async () => {
    const created = await ado.createIssue(conn(), params("Data Pipeline"), {
      title: "Backfill <events> & metrics",
      body: "line 1\nline <2>",
      labels: ["etl", "q3"],
    });
    expect(created).toMatchObject({
      title: "Backfill <events> & metrics",
      body: "line 1\nline <2>",
      status: "todo",
      issue_type: "task",
      labels: ["etl", "q3"],
    });
    let upstream = (await simIssues("Data Pipeline")).find((i: any) => i.id === created.ref.id);
    expect(upstream).toMatchObject({
      title: "Backfill <events> & metrics",
      status: "todo",
      labels: ["etl", "q3"],
    });
    expect(upstream.body).toBe("line 1<br>line &lt;2&gt;");

    const blocked = await ado.updateIssue(conn(), params("Data Pipeline"), created.ref.id, {
      status: "blocked",
    });
    expect(blocked).toMatchObject({ status: "blocked", labels: ["etl", "q3"] });
    upstream = (await simIssues("Data Pipeline")).find((i: any) => i.id === created.ref.id);
    expect(upstream.status).toBe("blocked");

    const done = await ado.updateIssue(conn(), params("Data Pipeline"), `#${created.ref.id}`, {
      status: "done",
      title: "Backfill events",
      labels: ["etl"],
    });
    expect(done).toMatchObject({ status: "done", title: "Backfill events", labels: ["etl"] });
    expect(done.provider_metadata.state).toBe("Closed");
    upstream = (await simIssues("Data Pipeline")).find((i: any) => i.id === created.ref.id);
    expect(upstream).toMatchObject({ status: "done", title: "Backfill events", labels: ["etl"] });

    const started = await ado.createIssue(conn(), params("Data Pipeline"), {
      title: "Already going",
      status: "in_progress",
    });
    expect(started.provider_metadata.state).toBe("Active");
  });

  it("refuses to change a work item outside the mapped project", async () => {
    const [other] = await simIssues("Mobile App");
    const err = await failure(ado.updateIssue(conn(), params("Payments"), other.id, { status: "done" }));
    expect(err.kind).toBe("not_found");
    expect((await simIssues("Mobile App"))[0].status).toBe(other.status);
  });
});
