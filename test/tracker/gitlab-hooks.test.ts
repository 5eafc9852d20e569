import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderSimulator } from "../../src/simulators/core/types.ts";
import { startGitlabSimulator } from "../../src/simulators/gitlab/index.ts";

/**
 * The GitLab simulator's hooks API follows GitLab's documented rules (docs/simulators/gitlab.md, "Hooks"):
 * who may manage system and group hooks, the answers for the rest, the token reset on a URL change, and
 * which events a group webhook hears.
 */
let gl: ProviderSimulator;
let receiver: Server;
let receiverUrl: string;
const received: { path: string; headers: IncomingHttpHeaders; body: any }[] = [];

const GRACE = "glpat-sim-grace-acme-2r7t5y"; // Developer of acme
const ACME = "8001";
const PARTNERS = "8002";

beforeAll(async () => {
  gl = await startGitlabSimulator({ generatedResources: 2 });
  receiver = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(raw || "null") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await gl?.close();
  await new Promise((r) => receiver?.close(r));
});

async function api(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gl.url}/api/v4${path}`, {
    method,
    headers: { "private-token": token, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const sim = (method: string, path: string, body?: unknown) =>
  fetch(`${gl.url}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  }).then((r) => r.json());

describe("GitLab simulator: hooks API", () => {
  it("system hooks are for administrators only; group hooks for the group's Owner", async () => {
    expect(await api(GRACE, "GET", "/hooks")).toEqual({ status: 403, body: { message: "403 Forbidden" } });
    expect((await api(GRACE, "POST", "/hooks", { url: receiverUrl })).status).toBe(403);
    expect(await api(GRACE, "POST", `/groups/${ACME}/hooks`, { url: receiverUrl })).toEqual({
      status: 403,
      body: { message: "403 Forbidden" },
    });
    // A Maintainer is not enough either.
    expect((await api(gl.demo.token, "GET", `/groups/${ACME}/hooks`)).status).toBe(403);
    // A group the token does not see is not found, even for its would-be Owner.
    expect(await api(gl.demo.owner_token, "GET", `/groups/${PARTNERS}/hooks`)).toEqual({
      status: 404,
      body: { message: "404 Group Not Found" },
    });
    expect((await api(gl.demo.admin_token, "GET", "/hooks")).status).toBe(200);
    expect((await api(gl.demo.owner_token, "GET", `/groups/${ACME}/hooks`)).status).toBe(200);
  });

  it("create answers the hook without its token, with GitLab's defaults; bad input is refused", async () => {
    const owner = gl.demo.owner_token;
    expect(await api(owner, "POST", `/groups/${ACME}/hooks`, {})).toEqual({
      status: 400,
      body: { error: "url is missing" },
    });
    expect((await api(owner, "POST", `/groups/${ACME}/hooks`, { url: "ftp://example.com/x" })).status).toBe(
      422,
    );
    const made = await api(owner, "POST", `/groups/${ACME}/hooks`, { url: `${receiverUrl}/a`, token: "t1" });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      url: `${receiverUrl}/a`,
      group_id: Number(ACME),
      push_events: true,
      project_events: false,
    });
    expect(made.body).not.toHaveProperty("token");
    expect(JSON.stringify(made.body)).not.toContain("t1");
    const del = await api(owner, "DELETE", `/groups/${ACME}/hooks/${made.body.id}`);
    expect(del.status).toBe(204);
    expect((await api(owner, "GET", `/groups/${ACME}/hooks/${made.body.id}`)).body).toEqual({
      message: "404 Not found",
    });
  });

  it("a group webhook hears its projects' creations (Project Hook, with its token), not renames; a new URL without a token drops the token", async () => {
    const owner = gl.demo.owner_token;
    const made = await api(owner, "POST", `/groups/${ACME}/hooks`, {
      url: `${receiverUrl}/group`,
      token: "t1",
      project_events: true,
      push_events: false,
    });
    received.length = 0;
    const created = await sim("POST", "/_sim/resources", { name: "hooked-one", workspace_id: ACME });
    await sim("PATCH", `/_sim/resources/${created.id}`, { name: "hooked-two", path: "acme/hooked-two" });
    await sim("POST", "/_sim/resources", { name: "elsewhere", workspace_id: PARTNERS });
    await sim("POST", "/_sim/webhooks/flush");
    const mine = received.filter((r) => r.path === "/group");
    expect(mine.map((r) => r.body.event_name)).toEqual(["project_create"]);
    expect(mine[0].headers["x-gitlab-event"]).toBe("Project Hook");
    expect(mine[0].headers["x-gitlab-token"]).toBe("t1");
    expect(mine[0].headers["x-gitlab-webhook-uuid"]).toMatch(/^[0-9a-f-]{36}$/);

    const moved = await api(owner, "PUT", `/groups/${ACME}/hooks/${made.body.id}`, {
      url: `${receiverUrl}/moved`,
    });
    expect(moved.status).toBe(200);
    received.length = 0;
    await sim("POST", "/_sim/resources", { name: "hooked-three", workspace_id: ACME });
    await sim("POST", "/_sim/webhooks/flush");
    const after = received.filter((r) => r.path === "/moved");
    expect(after).toHaveLength(1);
    expect(after[0].headers).not.toHaveProperty("x-gitlab-token");
  });

  it("a system hook hears every project event, renames included (System Hook)", async () => {
    const made = await api(gl.demo.admin_token, "POST", "/hooks", {
      url: `${receiverUrl}/system`,
      token: "s1",
    });
    expect(made.status).toBe(201);
    expect(made.body).not.toHaveProperty("group_id");
    received.length = 0;
    const created = await sim("POST", "/_sim/resources", { name: "sys-one", workspace_id: PARTNERS });
    await sim("PATCH", `/_sim/resources/${created.id}`, { name: "sys-two", path: "partners/sys-two" });
    await sim("POST", "/_sim/webhooks/flush");
    const mine = received.filter((r) => r.path === "/system");
    expect(mine.map((r) => r.body.event_name)).toEqual(["project_create", "project_rename"]);
    expect(mine.every((r) => r.headers["x-gitlab-event"] === "System Hook")).toBe(true);
    expect(mine.every((r) => r.headers["x-gitlab-token"] === "s1")).toBe(true);
  });

  it("managing hooks needs the api scope", async () => {
    await sim("POST", "/_sim/credentials", {
      token: "glpat-sim-readonly-1",
      workspaces: [ACME],
      scopes: ["read_api"],
    });
    const res = await api("glpat-sim-readonly-1", "POST", "/hooks", { url: receiverUrl });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe("insufficient_scope");
  });
});
