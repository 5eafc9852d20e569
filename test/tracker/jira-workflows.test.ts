import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerError } from "../../src/host/http/provider-errors.ts";
import type { ProviderSimulator } from "../../src/simulators/index.ts";
import { startJiraSimulator } from "../../src/simulators/jira/index.ts";
import { redactReason } from "../../src/tracker/core/http.ts";
import type { Connection } from "../../src/tracker/index.ts";
import { jiraAdapter as jira } from "../../src/tracker/jira/adapter.ts";
import { reasonOf } from "../../src/tracker/jira/http.ts";
import { pickIssueType } from "../../src/tracker/jira/issues.ts";
import { trackerFailure as failure, fastHttp, simControl } from "../support/tracker.ts";

/**
 * Jira projects that are not the friendly default: a service-management project (no "Task" type, a
 * request workflow), a software project whose workflow has no shortcuts and whose Done needs a
 * resolution, and a business project; on Cloud (v3, site URL + API token) and Data Center (v2, PAT).
 */
const http = fastHttp();
let sim: ProviderSimulator;
let site: Connection;
let dc: Connection;
const control = simControl(() => sim.url);

beforeAll(async () => {
  sim = await startJiraSimulator({ generatedResources: 0 });
  site = {
    base_url: sim.demo.site_url,
    credential: { kind: "basic", username: sim.demo.email, password: sim.demo.api_token },
    http,
  };
  dc = { base_url: sim.demo.dc_url, credential: { kind: "bearer_pat", token: sim.demo.pat }, http };
});
afterAll(() => sim?.close());

const project = (workspace: string, key: string) =>
  [...sim.store.resources.values()].find((r) => r.workspace_id === workspace && r.key === key)!;
const cloudProject = (key: string) => project(sim.demo.cloud_id, key);
const dcProject = (key: string) => project("jira-dc", key);

const cloudParams = (key: string) => ({
  deployment: "cloud",
  cloud_id: sim.demo.cloud_id,
  site_url: sim.demo.site_url,
  project_id: cloudProject(key).id,
  project_key: key,
});
const dcParams = (key: string) => ({
  deployment: "data_center",
  cloud_id: null,
  site_url: sim.demo.dc_url,
  project_id: dcProject(key).id,
  project_key: key,
});

const basic = () => `Basic ${Buffer.from(`${sim.demo.email}:${sim.demo.api_token}`).toString("base64")}`;

/** A raw call to the Cloud site, as any Jira client would make it. */
async function siteCall(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.demo.site_url}/rest/api/3${path}`, {
    method,
    headers: { authorization: basic(), "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function dcCall(path: string) {
  const res = await fetch(`${sim.demo.dc_url}/rest/api/2${path}`, {
    headers: { authorization: `Bearer ${sim.demo.pat}` },
  });
  return { status: res.status, body: await res.json() };
}

/** Provider calls in the simulator's request log since the last reset (control calls left out). */
async function providerCalls(): Promise<{ method: string; path: string }[]> {
  const { requests } = await control("GET", "/_sim/requests");
  return requests.filter((r: { path: string }) => !r.path.startsWith("/_sim/"));
}

const stored = (
  projectKey: (k: string) => { issues: { id: string; status: string }[] },
  key: string,
  id: string,
) => projectKey(key).issues.find((i) => i.id === id);

describe("the simulator is as strict as Jira", () => {
  it("createmeta lists each project's own issue types: Cloud `issueTypes`, Data Center `values`", async () => {
    const help = await siteCall("GET", `/issue/createmeta/${cloudProject("HELP").id}/issuetypes`);
    expect(help.status).toBe(200);
    expect(help.body).toMatchObject({ startAt: 0, total: 2 });
    expect(help.body.issueTypes.map((t: any) => t.name)).toEqual(["Service Request", "Incident"]);
    const mkt = await siteCall("GET", "/issue/createmeta/MKT/issuetypes");
    expect(mkt.body.issueTypes.map((t: any) => [t.name, t.subtask])).toEqual([
      ["Task", false],
      ["Subtask", true],
    ]);
    const sd = await dcCall(`/issue/createmeta/${dcProject("SD").id}/issuetypes`);
    expect(sd.body).toMatchObject({ isLast: true, total: 2 });
    expect(sd.body.values.map((t: any) => t.name)).toEqual(["Service Request", "Incident"]);
    // The all-projects form: still served (deprecated) on Cloud, removed from Data Center 9.
    const old = await siteCall("GET", "/issue/createmeta?projectKeys=HELP&expand=projects.issuetypes");
    expect(old.body.projects.map((p: any) => [p.key, p.issuetypes.length])).toEqual([["HELP", 2]]);
    expect((await dcCall("/issue/createmeta?projectKeys=SD")).status).toBe(404);
  });

  it("refuses a type the project's scheme does not have, as Jira does", async () => {
    const res = await siteCall("POST", "/issue", {
      fields: {
        project: { id: cloudProject("HELP").id },
        summary: "Needs a Task",
        issuetype: { name: "Task" },
      },
    });
    expect(res).toEqual({
      status: 400,
      body: { errorMessages: [], errors: { issuetype: "Specify a valid issue type" } },
    });
    expect(cloudProject("HELP").issues.some((i) => i.title === "Needs a Task")).toBe(false);
  });

  it("strict workflow: no shortcut to Done, Done needs a resolution, fields only with expand", async () => {
    const created = await siteCall("POST", "/issue", {
      fields: { project: { key: "REL" }, summary: "Strict by hand", issuetype: { name: "Task" } },
    });
    expect(created.status).toBe(201);
    const key = created.body.key;
    const plain = await siteCall("GET", `/issue/${key}/transitions`);
    expect(plain.body.transitions.map((t: any) => [t.name, t.to.name])).toEqual([
      ["Start Progress", "In Progress"],
    ]);
    expect(plain.body.transitions[0].fields).toBeUndefined();
    const notFromHere = await siteCall("POST", `/issue/${key}/transitions`, { transition: { id: "31" } });
    expect(notFromHere.status).toBe(400);

    expect((await siteCall("POST", `/issue/${key}/transitions`, { transition: { id: "11" } })).status).toBe(
      204,
    );
    const expanded = await siteCall("GET", `/issue/${key}/transitions?expand=transitions.fields`);
    const done = expanded.body.transitions.find((t: any) => t.to.name === "Done");
    expect(done).toMatchObject({ hasScreen: true, fields: { resolution: { required: true } } });
    expect(done.fields.resolution.allowedValues.map((v: any) => v.name)).toContain("Done");
    const stop = expanded.body.transitions.find((t: any) => t.name === "Stop Progress");
    expect(stop.fields).toEqual({});

    const bare = await siteCall("POST", `/issue/${key}/transitions`, { transition: { id: done.id } });
    expect(bare).toEqual({
      status: 400,
      body: { errorMessages: [], errors: { resolution: "Resolution is required." } },
    });
    const offScreen = await siteCall("POST", `/issue/${key}/transitions`, {
      transition: { id: stop.id },
      fields: { resolution: { name: "Done" } },
    });
    expect(offScreen.status).toBe(400);
    expect(offScreen.body.errors.resolution).toMatch(/cannot be set/);
    const issue = await siteCall("GET", `/issue/${key}?fields=status,resolution`);
    expect(issue.body.fields).toMatchObject({ status: { name: "In Progress" }, resolution: null });
  });
});

describe("the adapter on every project kind", () => {
  it("chooses the issue type from createmeta: Task where there is one, else a standard non-subtask type", () => {
    const t = (id: string, name: string, extra: Record<string, unknown> = {}) => ({ id, name, ...extra });
    expect(
      pickIssueType([t("1", "Epic", { hierarchyLevel: 1 }), t("2", "Bug"), t("3", "Story"), t("4", "Task")]),
    ).toBe("4");
    expect(pickIssueType([t("1", "Epic", { hierarchyLevel: 1 }), t("2", "Bug"), t("3", "Story")])).toBe("3");
    expect(pickIssueType([t("5", "Incident"), t("6", "Service Request")])).toBe("6");
    expect(pickIssueType([t("7", "Sub-task", { subtask: true }), t("8", "Incident")])).toBe("8");
    expect(pickIssueType([t("9", "Change"), t("10", "Incident")])).toBe("9");
    expect(pickIssueType([t("11", "Epic"), t("12", "Sub-task", { subtask: true })])).toBe("11");
    expect(pickIssueType([t("12", "Sub-task", { subtask: true })])).toBeNull();
  });

  it("service-management project: creates a Service Request and resolves it todo → done", async () => {
    const created = await jira.createIssue(site, cloudParams("HELP"), { title: "New starter laptop" });
    expect(created).toMatchObject({
      status: "todo",
      issue_type: "task",
      provider_metadata: { issue_type_name: "Service Request", status_name: "Waiting for support" },
    });
    const done = await jira.updateIssue(site, cloudParams("HELP"), created.ref.key!, { status: "done" });
    // Resolved, not Canceled (also a done status, one hop closer).
    expect(done).toMatchObject({
      status: "done",
      provider_metadata: { status_name: "Resolved", resolution: "Done" },
    });
    expect(stored(cloudProject, "HELP", created.ref.id)?.status).toBe("done");

    const canceled = await jira.updateIssue(site, cloudParams("HELP"), created.ref.id, {
      status: "canceled",
    });
    expect(canceled).toMatchObject({ status: "canceled", provider_metadata: { status_name: "Canceled" } });
  });

  it("strict workflow: todo → done walks To Do → In Progress → Done and fills the resolution", async () => {
    const created = await jira.createIssue(site, cloudParams("REL"), { title: "Tag 4.2" });
    expect(created.provider_metadata.issue_type_name).toBe("Task");
    await control("DELETE", "/_sim/requests");
    const done = await jira.updateIssue(site, cloudParams("REL"), created.ref.key!, { status: "done" });
    expect(done).toMatchObject({
      status: "done",
      provider_metadata: { status_name: "Done", resolution: "Done" },
    });
    const transitions = (await providerCalls()).filter(
      (c) => c.method === "POST" && c.path.endsWith("/transitions"),
    );
    expect(transitions).toHaveLength(2); // the shortest path, no wandering

    const reopened = await jira.updateIssue(site, cloudParams("REL"), created.ref.id, {
      status: "in_progress",
    });
    expect(reopened).toMatchObject({
      status: "in_progress",
      provider_metadata: { status_name: "In Progress", resolution: null },
    });
    // No Canceled status here: Done with a won't-do resolution is how this workflow cancels.
    const canceled = await jira.updateIssue(site, cloudParams("REL"), created.ref.id, { status: "canceled" });
    expect(canceled).toMatchObject({
      status: "canceled",
      provider_metadata: { status_name: "Done", resolution: "Won't Do" },
    });
    // In review has no status of its own: the issue stays in In Progress instead of bouncing around.
    const review = await jira.createIssue(site, cloudParams("REL"), {
      title: "Review notes",
      status: "in_review",
    });
    expect(review.provider_metadata.status_name).toBe("In Progress");
    await control("DELETE", "/_sim/requests");
    const again = await jira.updateIssue(site, cloudParams("REL"), review.ref.id, { status: "in_review" });
    expect(again.provider_metadata.status_name).toBe("In Progress");
    expect((await providerCalls()).filter((c) => c.method === "POST")).toEqual([]);
  });

  it("business project: a Task, done in one hop", async () => {
    const created = await jira.createIssue(site, cloudParams("MKT"), {
      title: "Autumn brief",
      status: "done",
    });
    expect(created).toMatchObject({ status: "done", provider_metadata: { issue_type_name: "Task" } });
  });

  it("Data Center: service desk and strict workflow through v2", async () => {
    const request = await jira.createIssue(dc, dcParams("SD"), { title: "Badge reader", status: "done" });
    expect(request).toMatchObject({
      status: "done",
      provider_metadata: { issue_type_name: "Service Request", status_name: "Resolved" },
    });
    const change = await jira.createIssue(dc, dcParams("CHG"), { title: "Swap the core switch" });
    const done = await jira.updateIssue(dc, dcParams("CHG"), change.ref.key!, { status: "done" });
    expect(done).toMatchObject({ status: "done", provider_metadata: { resolution: "Done" } });
    expect(stored(dcProject, "CHG", change.ref.id)?.status).toBe("done");
  });

  it("Jira's own reason reaches the error, and the user message", async () => {
    const err = await failure(jira.createIssue(site, cloudParams("PAY"), { title: "x".repeat(300) }));
    expect(err).toMatchObject({
      kind: "invalid_request",
      status: 400,
      reason: "summary: Summary must be less than 255 characters.",
    });
    expect(providerError(err).message).toBe(
      "jira rejected the request (status 400): summary: Summary must be less than 255 characters.",
    );
  });

  it("a reason never carries the connection's secret or anything token-shaped", () => {
    const token = sim.demo.api_token;
    const body = {
      errorMessages: [`Token ${token} is not valid here`],
      errors: {
        customfield_10000: "Value eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpbQ is odd",
      },
    };
    // Jira's words, through the one redaction every provider's reason goes through (the core client).
    const reason = redactReason(reasonOf(body), [token])!;
    expect(reason).not.toContain(token);
    expect(reason).not.toContain("eyJhbGciOiJIUzI1NiJ9");
    expect(reason).toContain("customfield_10000: Value [redacted] is odd");
    expect(reasonOf({ errorMessages: [], errors: {} })).toBeNull();
  });
});
