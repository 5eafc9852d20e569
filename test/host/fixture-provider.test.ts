import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FixtureSimulator, startFixtureSimulator } from "../../src/simulators/fixture/index.ts";
import { fixtureProvider } from "../../src/tracker/fixture/provider.ts";
import { registerProvider } from "../../src/tracker/registry.ts";
import type { TestApp } from "../support/app.ts";
import { readCookie } from "../support/cookies.ts";

/**
 * Adding a provider needs no change in src/host or src/dashboard: a fixture provider (its module in
 * src/tracker/fixture/, its simulator in src/simulators/fixture/) is registered here instead of in
 * registry.ts, and the whole stack works over real HTTP: connect through the dashboard's form,
 * discovery, picking in the mapping page, bind-resolve / bind-confirm, push, pull and issue search.
 */
// Before the host is loaded: its request schemas list the registered providers when they are built.
registerProvider(fixtureProvider);
const { createTestApp } = await import("../support/app.ts");

const PASSWORD = "correct horse battery staple";
let t: TestApp;
let sim: FixtureSimulator;
let session: string;

const form = (body: Record<string, string>) => new URLSearchParams(body).toString();
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];
const dash = (url: string) => t.call({ method: "GET", url, headers: { cookie: `sk_session=${session}` } });

async function signIn(email: string) {
  const page = await t.call({ method: "GET", url: "/dashboard/sign-in" });
  const pre = readCookie(String(page.headers["set-cookie"]).split(";")[0], "sk_signin")!;
  const res = await t.call({
    method: "POST",
    url: "/dashboard/sign-in",
    headers: { cookie: `sk_signin=${pre}`, "content-type": "application/x-www-form-urlencoded" },
    payload: form({ _csrf: csrfOf(page.body), email, password: PASSWORD, next: "/dashboard/" }),
  });
  const cookie = ([] as string[])
    .concat(res.headers["set-cookie"] ?? [])
    .find((c) => c.startsWith("sk_session="));
  return readCookie(cookie!.split(";")[0], "sk_session")!;
}

const cli = (url: string, payload: object, key?: string) =>
  t.call({
    method: "POST",
    url,
    as: t.member,
    payload,
    headers: key ? { "idempotency-key": key } : {},
  });
const writeKey = () => `logical-operation:write:${randomUUID().replace(/-/g, "")}`;

beforeAll(async () => {
  sim = await startFixtureSimulator();
  t = await createTestApp({ outbound: { allow: [new URL(sim.url).host] } });
  session = await signIn(t.admin.email);
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe("a provider registered without a change in the host or the dashboard", () => {
  let installationId: string;
  let bindingRef: string;
  const alpha = () => sim.boards.find((b) => b.name === "Alpha")!;

  it("connects through the dashboard's token form, and the first sync discovers every board", async () => {
    const connect = await dash("/dashboard/connect?provider=fixture");
    expect(connect.statusCode, connect.body).toBe(200);
    expect(connect.body).toContain("Connect Fixture Tracker with a token");
    expect(connect.body).toContain('name="base_url"');

    const res = await t.call({
      method: "POST",
      url: "/dashboard/connect",
      headers: { cookie: `sk_session=${session}`, "content-type": "application/x-www-form-urlencoded" },
      payload: form({
        _csrf: csrfOf(connect.body),
        provider: "fixture",
        base_url: sim.url,
        token: sim.token,
      }),
    });
    expect(res.statusCode, res.body).toBe(303);
    const back = new URL(String(res.headers.location), "http://x");
    installationId = back.pathname.split("/").pop()!;
    const job = await t.services.jobs.waitFor(back.searchParams.get("op")!, 30_000);
    expect(job?.status).toBe("completed");
    expect(job?.result).toMatchObject({ seen: 3, added: 3 });

    const listed = await t.call({
      method: "GET",
      url: "/api/v1/installations/?provider=fixture",
      as: t.member,
    });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items).toMatchObject([
      {
        id: installationId,
        provider: "fixture",
        workspace: { id: sim.workspace.id },
        auth_kind: "bearer_pat",
      },
    ]);
  });

  it("refuses a credential kind the provider's module does not take", async () => {
    const res = await t.call({
      method: "POST",
      url: "/api/v1/installations/",
      as: t.admin,
      payload: { provider: "fixture", base_url: sim.url, credential: { kind: "api_key", api_key: "x" } },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error_code: "validation_error" });
    expect(res.json().message).toContain("bearer_pat");
  });

  it("lists its boards where an admin picks a resource to map", async () => {
    const page = await dash(`/dashboard/mappings/new?installation_id=${installationId}`);
    expect(page.statusCode, page.body).toBe(200);
    expect(page.body).toContain("Fixture Tracker · Fixture Works");
    const found = await dash(`/dashboard/resources/search?installation_id=${installationId}&q=Bravo`);
    expect(found.statusCode, found.body).toBe(200);
    expect(found.body).toContain("Bravo (BRA)");
    const filter = await dash("/dashboard/mappings?provider=fixture");
    expect(filter.body).toContain('<option value="fixture" selected>Fixture Tracker</option>');
  });

  it("binds a CLI project through bind-resolve and bind-confirm", async () => {
    const project_identity = {
      uuid: randomUUID(),
      slug: "alpha",
      node_id: "a1b2c3d4e5f6",
      repo_slug: null,
      build_id: null,
    };
    const resolved = await cli("/api/v1/tracker/bind-resolve/", { provider: "fixture", project_identity });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json()).toMatchObject({ match_type: "exact", binding_ref: null });
    const bound = await cli(
      "/api/v1/tracker/bind-confirm/",
      { provider: "fixture", candidate_token: resolved.json().candidate_token, project_identity },
      writeKey(),
    );
    expect(bound.statusCode, bound.body).toBe(200);
    expect(bound.json()).toMatchObject({
      provider: "fixture",
      display_label: "Alpha (ALP)",
      project_slug: "alpha",
    });
    bindingRef = bound.json().binding_ref;
  });

  it("pushes, pulls and searches issues of the bound board only", async () => {
    const routed = { provider: "fixture", binding_ref: bindingRef };
    const created = await cli(
      "/api/v1/tracker/push/",
      {
        ...routed,
        items: [{ wp_id: "WP01", action: "create", patch: { title: "Fixture WP01", body: "Body" } }],
      },
      writeKey(),
    );
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json()).toMatchObject({ status: "ok", items: [{ wp_id: "WP01", outcome: "created" }] });
    expect(alpha().issues).toMatchObject([{ title: "Fixture WP01", body: "Body", status: "todo" }]);

    const moved = await cli(
      "/api/v1/tracker/push/",
      { ...routed, items: [{ wp_id: "WP01", action: "transition", target_status: "done" }] },
      writeKey(),
    );
    expect(moved.statusCode, moved.body).toBe(200);
    expect(alpha().issues[0].status).toBe("done");

    const pulled = await cli("/api/v1/tracker/pull/", { ...routed, limit: 10 });
    expect(pulled.statusCode, pulled.body).toBe(200);
    expect(pulled.json().items.map((i: { title: string }) => i.title)).toEqual(["Fixture WP01"]);

    const search = await cli("/api/v1/tracker/issue-search/", { ...routed, limit: 5, query_key: "ALP-1" });
    expect(search.statusCode, search.body).toBe(200);
    expect(search.json()).toMatchObject({ resource_type: "fixture_board", resource_id: "ALP" });
    expect(search.json().candidates).toMatchObject([{ match_type: "exact", title: "Fixture WP01" }]);
  });
});
