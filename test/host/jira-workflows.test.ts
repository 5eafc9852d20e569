import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * A CLI user pushing work packages into Jira projects that are not the friendly default (issue 15): a
 * service-management project without a Task type, and a software project whose workflow has no
 * To Do → Done shortcut and whose Done needs a resolution. Jira's own refusal reaches the item error.
 */
let t: SimulatedApp;
beforeAll(async () => {
  t = await createSimulatedApp();
  await t.connect("jira");
});
afterAll(() => t?.close());

const key = () => `logical-operation:write:${randomUUID().replace(/-/g, "")}`;

const post = (url: string, payload: unknown) =>
  t.call({
    method: "POST",
    url,
    as: t.member,
    payload: payload as object,
    headers: { "idempotency-key": key() },
  });

/** The simulator's project with this key on the default (acme) site. */
function project(projectKey: string) {
  const acme = String(t.sims.jira.store.workspaces.keys().next().value);
  return [...t.sims.jira.store.resources.values()].find(
    (r) => r.workspace_id === acme && r.key === projectKey,
  )!;
}

/** Binds a new project to one Jira project, picking it from `tracker discover` by its native id. */
async function bindTo(projectId: string, slug: string): Promise<string> {
  let cursor: string | null = null;
  let token: string | undefined;
  do {
    const q: string = `/api/v1/tracker/resources/?provider=jira&limit=200${cursor ? `&cursor=${cursor}` : ""}`;
    const page = (await t.call({ method: "GET", url: q, as: t.member })).json();
    token = page.resources.find((r: any) => r.resource_key.endsWith(`:${projectId}`))?.candidate_token;
    cursor = page.next_cursor;
  } while (!token && cursor);
  expect(token, `project ${projectId} is in the inventory`).toBeTruthy();
  const res = await post("/api/v1/tracker/bind-confirm/", {
    provider: "jira",
    candidate_token: token,
    project_identity: { uuid: randomUUID(), slug, node_id: "a1b2c3d4e5f6", repo_slug: null, build_id: null },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().binding_ref;
}

/** Create one work package as planned, then move it straight to done, as `spec-kitty` pushes do. */
async function createThenDone(ref: string, wpId: string, title: string) {
  const created = await post("/api/v1/tracker/push/", {
    provider: "jira",
    binding_ref: ref,
    items: [{ wp_id: wpId, action: "create", patch: { title } }],
  });
  expect(created.statusCode, created.body).toBe(200);
  expect(created.json()).toMatchObject({ status: "ok", items: [{ outcome: "created" }] });
  const done = await post("/api/v1/tracker/push/", {
    provider: "jira",
    binding_ref: ref,
    items: [{ wp_id: wpId, action: "transition", target_status: "done" }],
  });
  expect(done.statusCode, done.body).toBe(200);
  expect(done.json()).toMatchObject({ status: "ok", summary: { succeeded: 1, failed: 0 } });
  return created.json().items[0].remote_ref;
}

/** What Jira itself shows for the issue (status name and resolution), read over its REST API. */
async function jiraView(issueKey: string) {
  const sim = t.sims.jira;
  const auth = Buffer.from(`${sim.demo.email}:${sim.demo.api_token}`).toString("base64");
  const res = await fetch(
    `${sim.demo.site_url}/rest/api/3/issue/${issueKey}?fields=status,resolution,issuetype`,
    {
      headers: { authorization: `Basic ${auth}` },
    },
  );
  const f = (await res.json()).fields;
  return { type: f.issuetype.name, status: f.status.name, resolution: f.resolution?.name ?? null };
}

describe("jira push on strict projects", () => {
  it("service-management project: a work package becomes a Service Request and is resolved", async () => {
    const help = project("HELP");
    const ref = await bindTo(help.id, "jira-service-desk");
    const remote = await createThenDone(ref, "WP01", "Provision the build laptops");
    expect(await jiraView(remote.key)).toEqual({
      type: "Service Request",
      status: "Resolved",
      resolution: "Done",
    });
    expect(help.issues.find((i) => i.id === remote.id)?.status).toBe("done");
  });

  it("strict workflow: todo → done goes through In Progress and sets the resolution", async () => {
    const rel = project("REL");
    const ref = await bindTo(rel.id, "jira-strict-workflow");
    const remote = await createThenDone(ref, "WP01", "Publish the release notes");
    expect(await jiraView(remote.key)).toEqual({ type: "Task", status: "Done", resolution: "Done" });
    expect(rel.issues.find((i) => i.id === remote.id)?.status).toBe("done");
  });

  it("Jira's own reason for a refusal reaches the item error, and the batch goes on", async () => {
    const ref = await bindTo(project("PAY").id, "jira-refusal-reason");
    const res = await post("/api/v1/tracker/push/", {
      provider: "jira",
      binding_ref: ref,
      items: [
        { wp_id: "WP01", action: "create", patch: { title: "T".repeat(300) } },
        { wp_id: "WP02", action: "create", patch: { title: "A title Jira accepts" } },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.items.map((i: any) => i.outcome)).toEqual(["failed", "created"]);
    expect(body.item_errors).toEqual([
      expect.objectContaining({
        index: 0,
        error_code: "upstream_rejected",
        source: "provider",
        message: "jira rejected the request (status 400): summary: Summary must be less than 255 characters.",
      }),
    ]);
    expect(JSON.stringify(body)).not.toContain(t.sims.jira.demo.api_token);
  });
});
