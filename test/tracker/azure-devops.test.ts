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
const ACME_ID = "5d1c2f0e-7a3b-4c8d-9e21-6f4a0b3c9d10";

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
  it("checks the PAT against the organization and returns it as the one workspace, keyed by its instance id", async () => {
    expect(ws).toMatchObject({
      provider: "azure_devops",
      id: ACME_ID,
      name: "acme",
      host: new URL(sim.url).host,
      url: `${sim.url}/acme`,
      details: { organization: "acme", instance_id: "5d1c2f0e-7a3b-4c8d-9e21-6f4a0b3c9d10" },
    });
    const [upper] = await ado.listWorkspaces(conn(sim.demo.pat, "ACME"));
    expect(upper.id).toBe(ACME_ID);
    const missing = await failure(ado.listWorkspaces(conn(sim.demo.pat, null)));
    expect(missing.kind).toBe("invalid_request");
    expect(missing.message).toContain("organization");
  });

  it("follows x-ms-continuationtoken across every page with unique resource keys", async () => {
    const upstream = (await control("GET", "/_sim/resources?workspace_id=acme")).resources;
    expect(upstream.length).toBe(GENERATED + 11);
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
      workspace_id: ACME_ID,
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
      organization_id: ACME_ID,
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
    expect((await ado.listWorkspaces(conn()))[0].id).toBe(ACME_ID);
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

  it("creates the Agile backlog type (User Story) with JSON Patch and changes its status, visible through /_sim/", async () => {
    const created = await ado.createIssue(conn(), params("Data Pipeline"), {
      title: "Backfill <events> & metrics",
      body: "line 1\nline <2>",
      labels: ["etl", "q3"],
    });
    expect(created).toMatchObject({
      title: "Backfill <events> & metrics",
      body: "line 1\nline <2>",
      status: "todo",
      issue_type: "story",
      labels: ["etl", "q3"],
    });
    expect(created.provider_metadata).toMatchObject({ work_item_type: "User Story", state: "New" });
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

describe("processes", () => {
  const params = (name: string) => byName(name).connector_params;
  const basic = (path: string, init: RequestInit = {}) =>
    fetch(`${sim.url}/acme/${path}`, {
      ...init,
      headers: {
        authorization: `Basic ${Buffer.from(`:${sim.demo.pat}`).toString("base64")}`,
        ...(init.headers as Record<string, string>),
      },
    });
  const simIssue = async (name: string, id: string) =>
    (await control("GET", `/_sim/resources/${byName(name).identity.native_id}/issues`)).issues.find(
      (i: any) => i.id === id,
    );

  it("serves each project's work item types with their states and state categories", async () => {
    const project = byName("Team Board").identity.native_id;
    const types = await (await basic(`${project}/_apis/wit/workitemtypes?api-version=7.1`)).json();
    expect(types.value.map((t: any) => t.name)).toEqual(["Epic", "Issue", "Task"]);
    const states = await (
      await basic(`${project}/_apis/wit/workitemtypes/Issue/states?api-version=7.1`)
    ).json();
    expect(states.value.map((s: any) => [s.name, s.category])).toEqual([
      ["To Do", "Proposed"],
      ["Doing", "InProgress"],
      ["Done", "Completed"],
    ]);
    const scrum = byName("Sprint Board").identity.native_id;
    const task = await (await basic(`${scrum}/_apis/wit/workitemtypes/Task/states?api-version=7.1`)).json();
    expect(task.value.map((s: any) => s.name)).toEqual(["To Do", "In Progress", "Done", "Removed"]);
    const missing = await basic(`${project}/_apis/wit/workitemtypes/Bug/states?api-version=7.1`);
    expect(missing.status).toBe(404);
    const full = await (
      await basic(`_apis/projects/${project}?includeCapabilities=true&api-version=7.1`)
    ).json();
    expect(full.capabilities.processTemplate.templateName).toBe("Basic");
  });

  it("refuses a state the work item type does not have with TF401320, and a type the process lacks", async () => {
    const project = byName("Team Board").identity.native_id;
    const patch = (value: string) => ({
      method: "POST",
      headers: { "content-type": "application/json-patch+json" },
      body: JSON.stringify([
        { op: "add", path: "/fields/System.Title", value: "Strict" },
        { op: "add", path: "/fields/System.State", value },
      ]),
    });
    const wrong = await basic(`${project}/_apis/wit/workitems/$Issue?api-version=7.1`, patch("Active"));
    expect(wrong.status).toBe(400);
    const body = await wrong.json();
    expect(body.message).toMatch(/^TF401320: Rule Error for field State\./);
    expect(body.typeKey).toBe("RuleValidationException");
    expect(body.customProperties.FieldReferenceName).toBe("System.State");
    expect(body.customProperties.RuleValidationErrors[0].errorMessage).toContain("'Active'");
    const right = await basic(`${project}/_apis/wit/workitems/$Issue?api-version=7.1`, patch("Doing"));
    expect(right.status).toBe(200);
    expect((await right.json()).fields["System.State"]).toBe("Doing");
    const story = await basic(`${project}/_apis/wit/workitems/$User%20Story?api-version=7.1`, patch("To Do"));
    expect(story.status).toBe(404);
    expect((await story.json()).message).toMatch(/^VS402323:/);
  });

  // Each process's states step by step (todo, doing, review, done, reopen) are the runtime contract's:
  // test/tracker/runtime-contract.test.ts. Here: which type each process creates, and canceling.
  const backlogTypes: [string, string, string][] = [
    ["Team Board", "Issue", "Done"], // Basic has no Removed state: canceled work is Done
    ["Payments", "User Story", "Removed"],
    ["Sprint Board", "Product Backlog Item", "Removed"],
    ["Compliance", "Requirement", "Removed"],
  ];
  it.each(backlogTypes)(
    "creates a %s work item as the process's backlog type (%s) and cancels it into %s",
    async (name, type, canceledState) => {
      const c = conn();
      const created = await ado.createIssue(c, params(name), { title: `Backlog type in ${name}` });
      expect(created).toMatchObject({ status: "todo", issue_type: "story" });
      expect(created.provider_metadata.work_item_type).toBe(type);
      const canceled = await ado.updateIssue(c, params(name), created.ref.id, { status: "canceled" });
      expect(canceled.provider_metadata.state).toBe(canceledState);
      const reads = canceledState === "Removed" ? "canceled" : "done";
      expect(canceled.status).toBe(reads);
      expect((await simIssue(name, created.ref.id)).status).toBe(reads);
    },
  );

  it("creates straight into a status and reads a Basic project's seeded items by category", async () => {
    const done = await ado.createIssue(conn(), params("Team Board"), { title: "Born done", status: "done" });
    expect(done.provider_metadata.state).toBe("Done");
    const { issues } = await ado.listIssues(conn(), params("Team Board"), { limit: 10 });
    expect(issues.find((i) => i.title === "Draft the support rota")).toMatchObject({
      status: "in_progress",
      provider_metadata: { state: "Doing", work_item_type: "Task" },
    });
  });

  it("reads the work item types once per connection and project", async () => {
    const c = conn();
    const before = (await control("GET", "/_sim/requests")).requests.length;
    const item = await ado.createIssue(c, params("Team Board"), { title: "Counted" });
    await ado.updateIssue(c, params("Team Board"), item.ref.id, { status: "in_progress" });
    await ado.getIssue(c, params("Team Board"), item.ref.id);
    const calls = (await control("GET", "/_sim/requests")).requests
      .slice(before)
      .filter((r: any) => r.path.endsWith("/_apis/wit/workitemtypes"));
    expect(calls.length).toBe(1);
  });

  it("carries Azure DevOps's own rule error as the reason, without the PAT", async () => {
    const c = conn();
    const item = await ado.createIssue(c, params("Data Pipeline"), { title: "Stale process" });
    // The process changes under a connection that already read it: the cached Agile states are wrong now.
    const task = await control(
      "POST",
      `/_sim/resources/${byName("Data Pipeline").identity.native_id}/issues`,
      {
        title: "A task",
        issue_type: "task",
      },
    );
    await ado.getIssue(c, params("Data Pipeline"), task.id);
    await control(
      "PUT",
      `/_sim/azure-devops/projects/${byName("Data Pipeline").identity.native_id}/process`,
      {
        process: "Scrum",
      },
    );
    try {
      const err = await failure(ado.updateIssue(c, params("Data Pipeline"), task.id, { status: "done" }));
      expect(err).toMatchObject({ kind: "invalid_request", status: 400 });
      expect(err.reason).toContain("TF401320: Rule Error for field State");
      expect(err.reason).toContain("'Closed'");
      expect(err.reason).not.toContain(sim.demo.pat);
      expect((await simIssue("Data Pipeline", task.id)).status).toBe("todo");
      const long = await failure(
        ado.updateIssue(conn(), params("Data Pipeline"), item.ref.id, { title: "x".repeat(300) }),
      );
      expect(long.reason).toMatch(/^TF401320: Rule Error for field Title/);
    } finally {
      await control(
        "PUT",
        `/_sim/azure-devops/projects/${byName("Data Pipeline").identity.native_id}/process`,
        {
          process: "Agile",
        },
      );
    }
  });
});

describe("organization rename", () => {
  it("finds a renamed organization by its instance id: same keys, new name in params and URLs", async () => {
    const before = byName("Payments");
    await control("PATCH", "/_sim/azure-devops/organizations/acme", { name: "acme-corp" });
    try {
      // The workspace still knows the old name; ADO now answers VS800075 for it.
      const found: BindableResource[] = [];
      const outcome = await runDiscovery(ado, conn(), ws, (page) => {
        found.push(...page);
      });
      expect(outcome.complete).toBe(true);
      const after = found.find((r) => r.identity.native_id === before.identity.native_id)!;
      expect(after.identity.resource_key).toBe(before.identity.resource_key);
      expect(new Set(found.map((r) => r.identity.resource_key))).toEqual(
        new Set(all.map((r) => r.identity.resource_key)),
      );
      expect(after.connector_params).toMatchObject({ organization: "acme-corp", organization_id: ACME_ID });
      expect(after.display.web_url).toBe(`${sim.url}/acme-corp/Payments`);
      expect((await ado.getResource(conn(), ws, before.identity.native_id))?.identity.resource_key).toBe(
        before.identity.resource_key,
      );
      // Issue calls with the old params find the organization under its new name too.
      const created = await ado.createIssue(conn(), before.connector_params, { title: "After the rename" });
      expect(created.ref.url).toContain("/acme-corp/");
    } finally {
      await control("PATCH", "/_sim/azure-devops/organizations/acme", { name: "acme" });
    }
  });
});
