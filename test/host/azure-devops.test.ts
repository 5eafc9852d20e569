import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Azure DevOps as a CLI user meets it: pushes on Basic, Agile and Scrum projects land in each process's
 * own states, Azure DevOps's reason for a refusal reaches the item, and renaming the organization keeps
 * every resource and mapping (issue 15).
 */
let t: SimulatedApp;
let installationId: string;
beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["azure_devops"] });
  ({ installationId } = await t.connect("azure_devops"));
});
afterAll(() => t?.close());

const key = () => `logical-operation:write:${randomUUID().replace(/-/g, "")}`;
const post = (url: string, payload: object) =>
  t.call({ method: "POST", url, as: t.member, payload, headers: { "idempotency-key": key() } });

const simProject = async (name: string) =>
  (await t.sim("azure_devops", "GET", "/_sim/resources?workspace_id=acme")).resources.find(
    (r: any) => r.name === name,
  );
const simIssues = async (projectId: string) =>
  (await t.sim("azure_devops", "GET", `/_sim/resources/${projectId}/issues`)).issues as any[];

async function listed() {
  const res = await t.call({
    method: "GET",
    url: "/api/v1/tracker/resources/?provider=azure_devops&limit=200",
    as: t.member,
  });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json().next_cursor).toBeNull();
  return res.json().resources as any[];
}

type Identity = Record<string, string | null>;
const bound = new Map<string, { ref: string; identity: Identity }>(); // project name → its binding
async function bind(name: string): Promise<string> {
  const known = bound.get(name);
  if (known) return known.ref;
  const project = await simProject(name);
  const row = (await listed()).find((r) => r.resource_key.endsWith(`:${project.id}`));
  const identity: Identity = {
    uuid: randomUUID(),
    slug: `ado-${name.toLowerCase().replace(/\s+/g, "-")}`,
    node_id: "a1b2c3d4e5f6",
    repo_slug: null,
    build_id: null,
  };
  const res = await post("/api/v1/tracker/bind-confirm/", {
    provider: "azure_devops",
    candidate_token: row.candidate_token,
    project_identity: identity,
  });
  expect(res.statusCode, res.body).toBe(200);
  bound.set(name, { ref: res.json().binding_ref, identity });
  return res.json().binding_ref;
}

describe("azure_devops processes", () => {
  it.each([
    ["Team Board", "Basic"],
    ["Payments", "Agile"],
    ["Sprint Board", "Scrum"],
  ])("pushes one work package todo → done on %s (%s)", async (name) => {
    const ref = await bind(name);
    const title = `WP01 on ${name}`;
    const created = await post("/api/v1/tracker/push/", {
      provider: "azure_devops",
      binding_ref: ref,
      items: [{ wp_id: "WP01", action: "create", patch: { title } }],
    });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json().items[0]).toMatchObject({ outcome: "created" });
    const project = await simProject(name);
    const issue = (await simIssues(project.id)).find((i) => i.title === title);
    expect(issue).toMatchObject({ status: "todo", issue_type: "story" });

    const done = await post("/api/v1/tracker/push/", {
      provider: "azure_devops",
      binding_ref: ref,
      items: [{ wp_id: "WP01", action: "transition", target_status: "done" }],
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ status: "ok", summary: { succeeded: 1, failed: 0 } });
    expect((await simIssues(project.id)).find((i) => i.id === issue.id).status).toBe("done");
  });

  it("a refused item carries Azure DevOps's own rule error, and the rest of the batch goes on", async () => {
    const ref = await bind("Team Board");
    const res = await post("/api/v1/tracker/push/", {
      provider: "azure_devops",
      binding_ref: ref,
      items: [
        { wp_id: "WP02", action: "create", patch: { title: "x".repeat(300) } },
        { wp_id: "WP03", action: "create", patch: { title: "Fits" } },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const [refused, fine] = res.json().items;
    expect(refused).toMatchObject({ outcome: "failed", error_code: "upstream_rejected" });
    expect(refused.message).toContain("TF401320: Rule Error for field Title");
    expect(fine).toMatchObject({ outcome: "created" });
    expect(res.body).not.toContain(t.sims.azure_devops.demo.pat);
  });
});

describe("azure_devops organization rename", () => {
  it("keeps every resource and mapping, and the runtime follows the new name", async () => {
    const ref = await bind("Payments");
    for (const name of ["Team Board", "Sprint Board"]) await bind(name);
    const before = await listed();
    await t.sim("azure_devops", "PATCH", "/_sim/azure-devops/organizations/acme", { name: "acme-renamed" });

    const refresh = await t.refresh(installationId);
    expect(refresh.status, JSON.stringify(refresh.result ?? refresh.error)).toBe("completed");
    expect(refresh.result).toMatchObject({ complete: true, missing: 0 });

    const after = await listed();
    expect(after.map((r) => [r.resource_key, r.binding_ref]).sort()).toEqual(
      before.map((r) => [r.resource_key, r.binding_ref]).sort(),
    );
    const missing = await t.call({
      method: "GET",
      url: `/api/v1/inventory/?installation_id=${installationId}&state=missing`,
      as: t.admin,
    });
    expect(missing.statusCode, missing.body).toBe(200);
    expect(missing.json().items).toEqual([]);
    expect(bound.size).toBe(3);
    for (const { ref: bindingRef, identity } of bound.values()) {
      const valid = await post("/api/v1/tracker/bind-validate/", {
        provider: "azure_devops",
        binding_ref: bindingRef,
        project_identity: identity,
      });
      expect(valid.statusCode, valid.body).toBe(200);
      expect(valid.json()).toMatchObject({ valid: true, binding_ref: bindingRef });
      expect(valid.json().provider_context.workspace_name).toBe("acme-renamed");
    }

    const pushed = await post("/api/v1/tracker/push/", {
      provider: "azure_devops",
      binding_ref: ref,
      items: [{ wp_id: "WP09", action: "create", patch: { title: "After the rename" } }],
    });
    expect(pushed.statusCode, pushed.body).toBe(200);
    expect(pushed.json().items[0].outcome).toBe("created");
    expect(pushed.json().items[0].remote_ref.url).toContain("/acme-renamed/");
  });
});
