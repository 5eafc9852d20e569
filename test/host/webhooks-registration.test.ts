import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../support/app.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";
import { eventually, flushHooks } from "../support/webhooks.ts";

/**
 * Issue 17, GitLab: the service registers the installation's hook through GitLab's hooks API when the
 * credential may (an administrator: system hook; the group's Owner: group webhook), over real HTTP
 * against the simulator, and falls back to the manual instructions with GitLab's reason when it may not.
 * Rotation puts the new secret on the hook; disconnect removes it.
 */
let t: SimulatedApp;
let base: string;
let group: string;

beforeAll(async () => {
  t = await createSimulatedApp({
    providers: ["gitlab"],
    jobs: { maxAttempts: 20, retryBaseSeconds: 0.05, retryMaxSeconds: 0.2 },
  });
  await t.server.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  group = t.sims.gitlab.demo.group_id;
}, 60_000);
afterAll(() => t?.close());

/** Token-connects group `acme` with one GitLab user's personal access token. */
async function connectAs(token: string, as: Actor = t.admin) {
  const res = await t.call({
    method: "POST",
    url: "/api/v1/installations/",
    as,
    payload: {
      provider: "gitlab",
      base_url: t.sims.gitlab.url,
      credential: { kind: "private_token", token },
      options: { group_id: group },
    },
  });
  // Whatever GitLab says about hooks, the connect succeeds.
  expect(res.statusCode, res.body).toBeLessThan(300);
  const body = res.json();
  await t.services.jobs.waitFor(body.refresh.operation_id ?? body.refresh.id, 60_000);
  return body.installation.id as string;
}

const health = async (id: string, as: Actor = t.admin) => {
  const res = await t.call({ method: "GET", url: `/api/v1/installations/${id}/webhook/`, as });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
/** The simulator's hooks (no secrets) that deliver to an installation's URL. */
const hooksTo = async (id: string) =>
  ((await t.sim("gitlab", "GET", "/_sim/webhooks")).hooks as any[]).filter((h) =>
    h.url.endsWith(`/api/v1/webhooks/gitlab/${id}/`),
  );
const rotate = async (id: string) => {
  const res = await t.call({
    method: "POST",
    url: `/api/v1/installations/${id}/webhook/secret/`,
    as: t.admin,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
/** A delivery as GitLab sends it, with the given secret token. */
const deliver = (id: string, token: string, body: object) =>
  fetch(`${base}/api/v1/webhooks/gitlab/${id}/`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-gitlab-event": "System Hook",
      "x-gitlab-token": token,
      "idempotency-key": randomUUID(),
    },
    body: JSON.stringify(body),
  });
const projects = async () =>
  (await t.sim("gitlab", "GET", `/_sim/resources?workspace_id=${group}`)).resources as any[];
const renamed = async (project: any) => {
  const name = `auto-${randomUUID().slice(0, 6)}`;
  await t.sim("gitlab", "PATCH", `/_sim/resources/${project.id}`, {
    name,
    path: `${project.path.split("/").slice(0, -1).join("/")}/${name}`,
  });
  return name;
};
const labelOf = async (nativeId: string, as: Actor = t.member) => {
  const res = await t.call({
    method: "GET",
    url: "/api/v1/tracker/resources/?provider=gitlab&limit=500",
    as,
  });
  return (res.json().resources as any[]).find((r) => r.resource_key.endsWith(`:${nativeId}`))
    ?.display_label as string | undefined;
};

describe.sequential("GitLab hook registration through the API", () => {
  let inst: string;

  it("a Developer's token connects; no hook is created and the card says why, in GitLab's terms", async () => {
    inst = await connectAs("glpat-sim-grace-acme-2r7t5y");
    const h = await health(inst);
    expect(h.registration).toBe("manual");
    expect(h.hook_scope).toBeNull();
    expect(h.registration_reason).toContain("not an administrator");
    expect(h.registration_reason).toContain(`not an Owner of group ${group}`);
    expect(h.registration_reason).toContain("Register again");
    // Nothing half-done: no hook upstream, no secret nobody was shown.
    expect(await hooksTo(inst)).toEqual([]);
    expect(h.secret_set).toBe(false);
    expect(h.state).toBe("not_configured");
  });

  it("an administrator's token registers a system hook: a rename reaches the CLI with nothing pasted", async () => {
    await connectAs(t.sims.gitlab.demo.admin_token); // the same workspace: the same installation, reconnected
    const h = await health(inst);
    expect(h.registration).toBe("automatic");
    expect(h.hook_scope).toBe("system");
    expect(h.secret_set).toBe(true);
    const hooks = await hooksTo(inst);
    expect(hooks).toHaveLength(1);
    expect(hooks[0].workspace_id).toBeNull();
    // Only project events: GitLab's push and repository update events are switched off.
    const listed = await fetch(`${t.sims.gitlab.url}/api/v4/hooks`, {
      headers: { "private-token": t.sims.gitlab.demo.admin_token },
    }).then((r) => r.json());
    expect(listed.find((x: any) => String(x.id) === hooks[0].id)).toMatchObject({
      push_events: false,
      repository_update_events: false,
      merge_requests_events: false,
    });

    const [project] = await projects();
    const name = await renamed(project);
    await flushHooks(t, "gitlab");
    await eventually(
      () => labelOf(String(project.id)),
      (label) => Boolean(label?.includes(name)),
      "renamed label through the registered hook",
    );
    const after = await health(inst);
    expect(after.state).toBe("receiving");
    expect(after.last_failure_at).toBeNull();
  });

  it("rotation puts the new secret on the hook: deliveries keep verifying, the old secret is refused", async () => {
    const first = await rotate(inst);
    expect(first.hook_updated).toBe(true);
    const second = await rotate(inst);
    expect(second.hook_updated).toBe(true);
    expect(await hooksTo(inst)).toHaveLength(1); // updated in place, not a second hook

    const [project] = await projects();
    expect(
      (await deliver(inst, first.secret, { event_name: "project_update", project_id: project.id })).status,
    ).toBe(401);

    const name = await renamed(project);
    const log = await flushHooks(t, "gitlab");
    const [hook] = await hooksTo(inst);
    const last = log.filter((d) => d.hook_id === hook.id).at(-1);
    expect(last.event).toBe("project_rename");
    expect(last.outcome).toBe("delivered");
    expect(last.attempts.map((a: any) => a.status)).toEqual([202]);
    await eventually(
      () => labelOf(String(project.id)),
      (label) => Boolean(label?.includes(name)),
      "renamed label after rotation",
    );
    expect(
      (await deliver(inst, second.secret, { event_name: "project_update", project_id: project.id })).status,
    ).toBe(202);
  });

  it("a group Owner's token registers a group webhook: creations arrive, renames wait for the schedule", async () => {
    const other = await connectAs(t.sims.gitlab.demo.owner_token, t.outsider);
    const h = await health(other, t.outsider);
    expect(h.registration).toBe("automatic");
    expect(h.hook_scope).toBe("group");
    expect(h.registration_reason).toContain("scheduled refresh");
    const [hook] = await hooksTo(other);
    expect(hook.workspace_id).toBe(group);
    const listed = await fetch(`${t.sims.gitlab.url}/api/v4/groups/${group}/hooks`, {
      headers: { "private-token": t.sims.gitlab.demo.owner_token },
    }).then((r) => r.json());
    expect(listed.find((x: any) => String(x.id) === hook.id)).toMatchObject({
      project_events: true,
      push_events: false,
    });

    const name = `fresh-${randomUUID().slice(0, 6)}`;
    const created = await t.sim("gitlab", "POST", "/_sim/resources", { name, workspace_id: group });
    const [project] = await projects();
    await renamed(project);
    const log = await flushHooks(t, "gitlab");
    await eventually(
      () => labelOf(String(created.id), t.outsider),
      (label) => Boolean(label?.includes(name)),
      "created project through the group webhook",
    );
    const mine = log.filter((d) => d.hook_id === hook.id);
    expect(mine.map((d) => d.event)).toEqual(["project_create"]);
  });

  it("Register again (admins) updates the same hook instead of adding one; members may not", async () => {
    const before = await hooksTo(inst);
    const denied = await t.call({
      method: "POST",
      url: `/api/v1/installations/${inst}/webhook/register/`,
      as: t.member,
    });
    expect(denied.statusCode).toBe(403);
    const again = await t.call({
      method: "POST",
      url: `/api/v1/installations/${inst}/webhook/register/`,
      as: t.admin,
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ registration: "automatic", hook_scope: "system" });
    expect((await hooksTo(inst)).map((h) => h.id)).toEqual(before.map((h) => h.id));
  });

  it("GitLab failing during Register again: the answer is the manual instructions with the reason, and the next try updates the same hook", async () => {
    const [before] = await hooksTo(inst);
    for (const path_prefix of ["/api/v4/hooks", `/api/v4/groups/${group}/hooks`])
      await t.sim("gitlab", "POST", "/_sim/faults", { path_prefix, status: 503, count: 50 });
    const failed = await t.call({
      method: "POST",
      url: `/api/v1/installations/${inst}/webhook/register/`,
      as: t.admin,
    });
    await t.sim("gitlab", "DELETE", "/_sim/faults");
    expect(failed.statusCode, failed.body).toBe(200);
    expect(failed.json().registration).toBe("manual");
    expect(failed.json().registration_reason).toContain("Register again");

    const again = await t.call({
      method: "POST",
      url: `/api/v1/installations/${inst}/webhook/register/`,
      as: t.admin,
    });
    expect(again.json()).toMatchObject({ registration: "automatic", hook_scope: "system" });
    expect((await hooksTo(inst)).map((h) => h.id)).toEqual([before.id]);

    // Someone deletes the hook in GitLab: the next Register again creates it anew.
    await t.sim("gitlab", "DELETE", `/_sim/webhooks/${before.id}`);
    const recreated = await t.call({
      method: "POST",
      url: `/api/v1/installations/${inst}/webhook/register/`,
      as: t.admin,
    });
    expect(recreated.json()).toMatchObject({ registration: "automatic", hook_scope: "system" });
    const now = await hooksTo(inst);
    expect(now).toHaveLength(1);
    expect(now[0].id).not.toBe(before.id);
  });

  it("disconnect removes the registered hook from GitLab", async () => {
    expect(await hooksTo(inst)).toHaveLength(1);
    const res = await t.call({
      method: "DELETE",
      url: `/api/v1/installations/${inst}/?confirm=${inst}`,
      as: t.admin,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await hooksTo(inst)).toEqual([]);
    const h = await health(inst);
    expect(h.registration).toBe("manual");
    expect(h.registration_reason).toContain("removed from GitLab");
    const again = await t.call({
      method: "POST",
      url: `/api/v1/installations/${inst}/webhook/register/`,
      as: t.admin,
    });
    expect(again.statusCode).toBe(409);
  });
});
