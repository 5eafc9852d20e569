import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVault } from "../../src/host/secrets/vault.ts";
import type { SimProvider } from "../../src/simulators/index.ts";
import { type AppProcess, startAppProcess } from "../support/app-process.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { describeOnPostgres } from "../support/postgres.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Project identity is the CLI's uuid (issue 13 item 5): two repositories whose last path segment is the
 * same both bind, the later one under an alias that bind-resolve announces, bind-confirm assigns and
 * routing accepts; concurrent first binds of one project all succeed on one project.
 */
let t: SimulatedApp;
const installations: Partial<Record<SimProvider, string>> = {};
beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["gitlab", "linear"] });
  installations.gitlab = (await t.connect("gitlab")).installationId;
  installations.linear = (await t.connect("linear")).installationId;
});
afterAll(() => t?.close());

const identity = (slug: string, uuid = randomUUID()) => ({
  uuid,
  slug,
  node_id: "a1b2c3d4e5f6",
  repo_slug: null,
  build_id: null,
});
type Identity = ReturnType<typeof identity>;

const resolve = async (provider: SimProvider, id: Identity) => {
  const res = await t.call({
    method: "POST",
    url: "/api/v1/tracker/bind-resolve/",
    as: t.admin,
    payload: { provider, project_identity: id },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const confirm = (provider: SimProvider, token: string, id: Identity) =>
  t.call({
    method: "POST",
    url: "/api/v1/tracker/bind-confirm/",
    as: t.admin,
    headers: { "idempotency-key": `logical-operation:write:${randomUUID()}` },
    payload: { provider, candidate_token: token, project_identity: id },
  });

const statusBySlug = (provider: SimProvider, slug: string) =>
  t.call({
    method: "GET",
    url: `/api/v1/tracker/status/?provider=${provider}&project_slug=${encodeURIComponent(slug)}`,
    as: t.member,
  });

const projectsNamed = async (name: string, app: SimulatedApp = t) =>
  (await app.call({ method: "GET", url: "/api/v1/projects/?limit=200", as: app.member }))
    .json()
    .items.filter((p: any) => p.name === name);

/** Two projects with one slug: the first takes a candidate, the second is then the exact match of the other. */
async function bindTwo(provider: SimProvider, slug: string, pick: (c: any) => boolean) {
  const first = identity(slug);
  const offered = await resolve(provider, first);
  expect(offered.match_type).toBe("candidates");
  const chosen = offered.candidates.find(pick);
  expect(chosen, JSON.stringify(offered.candidates)).toBeDefined();
  const a = await confirm(provider, chosen.candidate_token, first);
  expect(a.statusCode, a.body).toBe(200);
  expect(a.json().project_slug).toBe(slug);

  const second = identity(slug);
  const announced = await resolve(provider, second);
  expect(announced, JSON.stringify(announced.candidates)).toMatchObject({
    match_type: "exact",
    binding_ref: null,
  });
  const b = await confirm(provider, announced.candidate_token, second);
  expect(b.statusCode, b.body).toBe(200);
  // Resolve and confirm agree on the slug the CLI persists.
  expect(b.json().project_slug).toBe(announced.project_slug);
  expect(b.json().project_slug).not.toBe(slug);
  return { first, second, a: a.json(), b: b.json() };
}

describe("two projects with one slug", () => {
  it("`api` in acme/platform and in acme/platform/mobile both bind; the second is routed as acme-platform-mobile-api", async () => {
    await t.sim("gitlab", "POST", "/_sim/resources", { name: "api", path: "acme/platform/mobile/api" });
    await t.refresh(installations.gitlab!);
    const { first, second, a, b } = await bindTwo(
      "gitlab",
      "api",
      (c) => c.confidence === "high" && !c.display_label.toLowerCase().includes("mobile"),
    );
    expect(b.project_slug).toBe("acme-platform-mobile-api");
    expect(b.display_label.toLowerCase()).toContain("mobile");

    // Routing by each project_slug reaches that project's own binding.
    for (const [slug, ref] of [
      ["api", a.binding_ref],
      ["acme-platform-mobile-api", b.binding_ref],
    ]) {
      const st = await statusBySlug("gitlab", slug);
      expect(st.statusCode, st.body).toBe(200);
      expect(st.json().binding_ref).toBe(ref);
    }
    // Each CLI identity resolves to its own existing mapping, announced under its own slug.
    expect(await resolve("gitlab", first)).toMatchObject({ binding_ref: a.binding_ref, project_slug: "api" });
    expect(await resolve("gitlab", second)).toMatchObject({
      binding_ref: b.binding_ref,
      project_slug: "acme-platform-mobile-api",
    });
    const both = await projectsNamed("api");
    expect(both.map((p: any) => p.uuid).sort()).toEqual([first.uuid, second.uuid].sort());
    expect(both.map((p: any) => p.slug).sort()).toEqual(["acme-platform-mobile-api", "api"]);
  });

  it("without a repository path (Linear teams) the second project is `<slug>-2`, the third `<slug>-3`", async () => {
    for (const key of ["DSA", "DSB"])
      await t.sim("linear", "POST", "/_sim/resources", { name: "Dispatch", key });
    await t.refresh(installations.linear!);
    const { b } = await bindTwo("linear", "dispatch", (c) => c.confidence === "high");
    expect(b.project_slug).toBe("dispatch-2");

    await t.sim("linear", "POST", "/_sim/resources", { name: "Dispatch", key: "DSC" });
    await t.refresh(installations.linear!);
    const third = identity("dispatch");
    const announced = await resolve("linear", third);
    expect(announced).toMatchObject({ match_type: "exact", project_slug: "dispatch-3" });
    const c = await confirm("linear", announced.candidate_token, third);
    expect(c.statusCode, c.body).toBe(200);
    expect(c.json().project_slug).toBe("dispatch-3");
    const st = await statusBySlug("linear", "dispatch-3");
    expect(st.json().binding_ref).toBe(c.json().binding_ref);
  });
});

/** 30 first binds of one new project at once: every one 200 with the one mapping, one project row. */
async function concurrentFirstBinds(
  app: SimulatedApp,
  send: (i: number, id: Identity) => Promise<{ status: number; body: any }>,
) {
  const id = identity(`first-bind-${randomBytes(3).toString("hex")}`);
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i, id)));
  for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(new Set(results.map((r) => r.body.binding_ref)).size).toBe(1);
  expect(new Set(results.map((r) => r.body.project_slug))).toEqual(new Set([id.slug]));
  const projects = await projectsNamed(id.slug, app);
  expect(projects.map((p: any) => p.uuid)).toEqual([id.uuid]);
}

describe("concurrent first binds of one project", () => {
  it("30 at once through the API all succeed on one project", async () => {
    await t.sim("gitlab", "POST", "/_sim/resources", { name: "first-binds", path: "acme/first-binds" });
    await t.refresh(installations.gitlab!);
    const list = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=gitlab&limit=500",
      as: t.member,
    });
    const target = list.json().resources.find((r: any) => r.display_label.includes("first-binds"));
    await concurrentFirstBinds(t, async (_, id) => {
      const res = await confirm("gitlab", target.candidate_token, id);
      return { status: res.statusCode, body: res.json() };
    });
  });
});

describeOnPostgres("concurrent first binds on two app processes sharing one PostgreSQL", () => {
  let apps: AppProcess[] = [];
  let pgApp: SimulatedApp;
  let drop: (() => Promise<void>) | undefined;
  const keys = `k1:${randomBytes(32).toString("base64")}`;

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    drop = created.drop;
    const [id, key] = keys.split(":");
    pgApp = await createSimulatedApp({
      providers: ["gitlab"],
      databaseUrl: created.url,
      vault: createVault([{ id, key: Buffer.from(key, "base64") }]),
    });
    await pgApp.connect("gitlab");
    apps = await Promise.all([0, 1].map(() => startAppProcess(created.url, { CREDENTIALS_KEYS: keys })));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await pgApp?.close();
    await drop?.();
  });

  it("30 first binds split between the processes all succeed on one project (three projects in turn)", async () => {
    const headers = { ...pgApp.admin.headers, "content-type": "application/json" };
    const resources = await (
      await fetch(`${apps[0].baseUrl}/api/v1/tracker/resources/?provider=gitlab&limit=3`, { headers })
    ).json();
    // The race is one of timing: each round is another chance for a lookup to fall between two commits.
    for (let round = 0; round < 3; round++) {
      await concurrentFirstBinds(pgApp, async (i, id) => {
        const res = await fetch(`${apps[i % 2].baseUrl}/api/v1/tracker/bind-confirm/`, {
          method: "POST",
          headers: { ...headers, "idempotency-key": `logical-operation:write:${randomUUID()}` },
          body: JSON.stringify({
            provider: "gitlab",
            candidate_token: resources.resources[round].candidate_token,
            project_identity: id,
          }),
        });
        return { status: res.status, body: await res.json() };
      });
    }
  });
});
