import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isReadRequest } from "../../src/host/tokens/scope.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/** Read-only API tokens against the real app and the Linear simulator: every read works, every write is a 403. */
let t: SimulatedApp;
let readOnly: Record<string, string>;
beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["linear"] });
  await t.connect("linear");
  const res = await t.call({
    method: "POST",
    url: "/api/v1/tokens/",
    as: t.member,
    payload: { name: "dashboards", scope: "read" },
  });
  expect(res.json()).toMatchObject({ scope: "read" });
  readOnly = { authorization: `Bearer ${res.json().token}`, "x-team-slug": "acme" };
}, 60_000);
afterAll(() => t?.close());

const identity = {
  uuid: "0b7d1f0e-2a49-4c1e-8f5e-6b7a3d9c1e20",
  slug: "read-only-probe",
  node_id: "a1b2c3d4e5f6",
  repo_slug: null,
  build_id: null,
};

const expectReadOnly = (res: { statusCode: number; json(): any }) => {
  expect(res.statusCode).toBe(403);
  expect(res.json()).toMatchObject({
    error_code: "token_read_only",
    retryable: false,
    user_action_required: true,
    effect_certainty: "no_effect",
  });
  expect(res.json().message).toMatch(/read-only/);
};

describe("read-only API tokens", () => {
  it("read resources, bind-resolve and the member's own pages like a read-write token", async () => {
    const asRw = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=linear",
      as: t.member,
    });
    const asRo = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=linear",
      headers: readOnly,
    });
    expect(asRo.statusCode).toBe(200);
    expect(asRo.json().resources.map((r: any) => r.resource_ref)).toEqual(
      asRw.json().resources.map((r: any) => r.resource_ref),
    );
    const resolve = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-resolve/",
      headers: readOnly,
      payload: { provider: "linear", project_identity: identity },
    });
    expect(resolve.statusCode, resolve.body).toBe(200);
    const rwResolve = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-resolve/",
      as: t.member,
      payload: { provider: "linear", project_identity: identity },
    });
    expect(resolve.json().match_type).toBe(rwResolve.json().match_type);
    expect((await t.call({ method: "GET", url: "/api/v1/tokens/", headers: readOnly })).statusCode).toBe(200);
  });

  it("are refused with 403 token_read_only on bind-confirm and push, and nothing is bound", async () => {
    const list = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=linear",
      headers: readOnly,
    });
    const candidate = list.json().resources.find((r: any) => !r.binding_ref).candidate_token;
    const key = `logical-operation:write:${randomUUID()}`;
    const confirm = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-confirm/",
      headers: { ...readOnly, "idempotency-key": key },
      payload: { provider: "linear", candidate_token: candidate, project_identity: identity },
    });
    expectReadOnly(confirm);
    expect(await t.database.db.query.mappings.findMany()).toHaveLength(0);

    // The same confirm with a read-write token of the same member binds: the refusal was the scope alone.
    const rw = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-confirm/",
      headers: { ...t.member.headers, "idempotency-key": key },
      payload: { provider: "linear", candidate_token: candidate, project_identity: identity },
    });
    expect(rw.statusCode, rw.body).toBe(200);
    const ref = rw.json().binding_ref;

    const push = await t.call({
      method: "POST",
      url: "/api/v1/tracker/push/",
      headers: { ...readOnly, "idempotency-key": `logical-operation:write:${randomUUID()}` },
      payload: {
        provider: "linear",
        binding_ref: ref,
        items: [{ wp_id: "WP01", action: "create", patch: { title: "x" } }],
      },
    });
    expectReadOnly(push);
    const run = await t.call({
      method: "POST",
      url: "/api/v1/tracker/run/",
      headers: { ...readOnly, "idempotency-key": `logical-operation:write:${randomUUID()}` },
      payload: { provider: "linear", binding_ref: ref },
    });
    expectReadOnly(run);
  });

  it("cannot mint a read-write token, revoke tokens or change team state", async () => {
    expectReadOnly(
      await t.call({
        method: "POST",
        url: "/api/v1/tokens/",
        headers: readOnly,
        payload: { name: "escalate" },
      }),
    );
    const list = (await t.call({ method: "GET", url: "/api/v1/tokens/", headers: readOnly })).json();
    expectReadOnly(
      await t.call({ method: "DELETE", url: `/api/v1/tokens/${list.items[0].id}/`, headers: readOnly }),
    );
    // Sync admission answers in its own contract's categories: the refusal is its `forbidden` one.
    const admit = await t.call({
      method: "PUT",
      url: `/api/v1/sync/projects/${identity.uuid}/sync-admission/`,
      headers: { ...readOnly, "idempotency-key": "admission-key-0001" },
      payload: { project_slug: "demo" },
    });
    expect(admit.statusCode).toBe(403);
    expect(admit.json()).toMatchObject({ error_category: "admission_mutation_forbidden" });
    expect(admit.json().message).toMatch(/read-only/);
  });

  it("lists reads sent as POST explicitly; any other write is refused by default", () => {
    expect(isReadRequest("POST", "/api/v1/tracker/pull/")).toBe(true);
    expect(isReadRequest("POST", "/api/v1/tracker/bind-validate")).toBe(true);
    expect(isReadRequest("POST", "/api/v1/tracker/mission-origin/bind/")).toBe(false);
    expect(isReadRequest("POST", "/api/v1/tracker/something-new/")).toBe(false);
    expect(isReadRequest("PATCH", "/api/v1/team/members/:user_id/")).toBe(false);
    expect(isReadRequest("GET", "/api/v1/anything/")).toBe(true);
  });
});
