import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenConnectFor } from "../../src/demo/simulated.ts";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import type { SimProvider } from "../../src/simulators/index.ts";
import {
  ALL_PROVIDERS,
  connectCookieOf,
  createSimulatedApp,
  installGithubApp,
  openCallback,
  type SimulatedApp,
} from "../support/simulated.ts";

/**
 * Installations recover (issue 12, item 4): a disconnected installation stays visible, reconnecting the
 * same workspace brings back its id and mappings, and health follows the provider's definitive answer.
 */
let t: SimulatedApp;
beforeAll(async () => {
  t = await createSimulatedApp();
});
afterAll(() => t?.close());

const key = () => `logical-operation:write:${randomUUID().replace(/-/g, "")}`;
const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.call({ method: "POST", url, as: t.member, payload: payload as object, headers });
const get = (url: string) => t.call({ method: "GET", url, as: t.member });

interface Bound {
  ref: string;
  identity: { uuid: string; slug: string; node_id: string; repo_slug: null; build_id: null };
}

/** Per provider: the installation and two bound projects, one whose resource is deleted while disconnected. */
const state: Partial<
  Record<SimProvider, { installationId: string; kept: Bound; doomed: Bound & { simId: string } }>
> = {};

async function namedResources(provider: SimProvider) {
  const ws = String(t.sims[provider].store.workspaces.keys().next().value);
  const all = (await t.sim(provider, "GET", `/_sim/resources?workspace_id=${encodeURIComponent(ws)}`))
    .resources;
  return all.filter(
    (r: any) =>
      !r.archived && !r.issues_disabled && !r.name.startsWith("service-") && /^[A-Za-z0-9 _-]+$/.test(r.name),
  );
}

/** Binds a new project to a simulator resource through the CLI contract (discover → bind-confirm). */
async function bindTo(provider: SimProvider, resource: { id: string }, slug: string): Promise<Bound> {
  let cursor: string | null = null;
  let token: string | undefined;
  do {
    const page: any = (
      await get(
        `/api/v1/tracker/resources/?provider=${provider}&limit=200${cursor ? `&cursor=${cursor}` : ""}`,
      )
    ).json();
    token = page.resources.find((r: any) =>
      r.resource_key.endsWith(`:${encodeURIComponent(resource.id)}`),
    )?.candidate_token;
    cursor = page.next_cursor;
  } while (!token && cursor);
  expect(token, `resource ${resource.id} is in the inventory`).toBeTruthy();
  const identity = { uuid: randomUUID(), slug, node_id: "a1b2c3d4e5f6", repo_slug: null, build_id: null };
  const res = await post(
    "/api/v1/tracker/bind-confirm/",
    { provider, candidate_token: token, project_identity: identity },
    { "idempotency-key": key() },
  );
  expect(res.statusCode, res.body).toBe(200);
  return { ref: res.json().binding_ref, identity };
}

const pull = (provider: SimProvider, ref: string) =>
  post("/api/v1/tracker/pull/", { provider, binding_ref: ref, limit: 5 });
const installation = async (id: string) => (await get(`/api/v1/installations/${id}/`)).json();
const mappingsOf = async (id: string) =>
  (await get(`/api/v1/mappings/?installation_id=${id}&limit=200`)).json().items as any[];

describe("connecting one workspace twice at once", () => {
  it("makes one installation: the second connect reconnects what the first created", async () => {
    const connect = () =>
      t.call({
        method: "POST",
        url: "/api/v1/installations/",
        as: t.admin,
        payload: tokenConnectFor(t.sims.linear)!,
      });
    const results = await Promise.all([connect(), connect()]);
    for (const r of results) expect(r.statusCode, r.body).toBeLessThan(300);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 201]);
    const ids = new Set(results.map((r) => r.json().installation.id));
    expect(ids.size).toBe(1);
    const listed = (await get("/api/v1/installations/?provider=linear")).json().items;
    expect(listed.map((i: any) => i.id)).toEqual([...ids]);
    for (const r of results) await t.services.jobs.waitFor(r.json().refresh.operation_id, 60_000);
  });
});

describe.each(ALL_PROVIDERS)("%s: disconnect and reconnect", (provider) => {
  beforeAll(async () => {
    const { installationId, refresh } = await t.connect(provider);
    expect(refresh.status, JSON.stringify(refresh.error)).toBe("completed");
    const [a, b] = await namedResources(provider);
    const tag = provider.replace("_", "-");
    state[provider] = {
      installationId,
      kept: await bindTo(provider, a, `kept-${tag}`),
      doomed: { ...(await bindTo(provider, b, `doomed-${tag}`)), simId: b.id },
    };
  });

  it("a disconnected installation stays visible, its mappings need attention and the CLI is refused clearly", async () => {
    const { installationId: id, kept } = state[provider]!;
    const res = await t.call({
      method: "DELETE",
      url: `/api/v1/installations/${id}/?confirm=${id}`,
      as: t.admin,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe("disconnected");

    const one = await get(`/api/v1/installations/${id}/`);
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toMatchObject({
      id,
      status: "disconnected",
      disconnected_at: expect.any(String),
      disconnected_by: { user_id: t.admin.userId, email: t.admin.email },
    });
    const listed = async (status: string) =>
      (await get(`/api/v1/installations/?provider=${provider}&status=${status}`))
        .json()
        .items.map((i: any) => i.id);
    expect(await listed("all")).toEqual([id]);
    expect(await listed("disconnected")).toEqual([id]);
    expect(await listed("connected")).toEqual([]);

    const mappings = await mappingsOf(id);
    expect(mappings.length).toBe(2);
    for (const m of mappings)
      expect(m).toMatchObject({ status: "active", sync_state: "installation_disconnected" });
    const status = (await get(`/api/v1/tracker/status/?provider=${provider}&binding_ref=${kept.ref}`)).json();
    expect(status).toMatchObject({ connected: false, sync_state: "installation_disconnected" });

    const pulled = await pull(provider, kept.ref);
    expect(pulled.statusCode, pulled.body).toBe(403);
    expect(pulled.json()).toMatchObject({
      error_code: "installation_disconnected",
      user_action_required: true,
    });
    const resolved = await post("/api/v1/tracker/bind-resolve/", {
      provider,
      project_identity: kept.identity,
    });
    expect(resolved.statusCode, resolved.body).toBe(403);
    expect(resolved.json().error_code).toBe("installation_disconnected");
    expect(resolved.json().message).toMatch(/reconnect/i);

    // The bindable snapshot drops it at once (its version moves with disconnected_at).
    const discover = await get(`/api/v1/tracker/resources/?provider=${provider}`);
    expect(discover.statusCode, discover.body).toBe(403);
    expect(discover.json()).toMatchObject({
      error_code: "no_installation",
      message: expect.stringMatching(/disconnected/),
    });

    const sync = await t.call({ method: "POST", url: `/api/v1/installations/${id}/refresh/`, as: t.admin });
    expect(sync.statusCode, sync.body).toBe(409);
    expect(sync.json().error_code).toBe("installation_disconnected");
  });

  it("reconnecting the same workspace keeps the id; after the refresh its mappings work, except one whose resource is gone", async () => {
    const { installationId: id, kept, doomed } = state[provider]!;
    await t.sim(provider, "DELETE", `/_sim/resources/${doomed.simId}`);

    const token = tokenConnectFor(t.sims[provider]);
    const res = token
      ? await t.call({ method: "POST", url: "/api/v1/installations/", as: t.admin, payload: token })
      : await installGithubApp(t, t.admin, t.sims.github);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      reconnected: true,
      installation: { id, status: "active", disconnected_at: null },
    });
    const refresh = await t.services.jobs.waitFor(res.json().refresh.operation_id, 60_000);
    expect(refresh.status, JSON.stringify(refresh.error)).toBe("completed");

    expect(await installation(id)).toMatchObject({
      status: "active",
      disconnected_at: null,
      disconnected_by: null,
    });
    const all = (await get(`/api/v1/installations/?provider=${provider}`)).json().items;
    expect(all.map((i: any) => i.id)).toEqual([id]);
    const byRef = new Map((await mappingsOf(id)).map((m) => [m.binding_ref, m]));
    expect(byRef.get(kept.ref)).toMatchObject({ status: "active", sync_state: "idle" });
    expect(byRef.get(doomed.ref)).toMatchObject({ sync_state: "resource_missing" });

    const pulled = await pull(provider, kept.ref);
    expect(pulled.statusCode, pulled.body).toBe(200);
    expect((await pull(provider, doomed.ref)).json().error_code).toBe("resource_missing");
    const resolved = await post("/api/v1/tracker/bind-resolve/", {
      provider,
      project_identity: kept.identity,
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json()).toMatchObject({ match_type: "exact", binding_ref: kept.ref });

    const discovered = async () => {
      const items: any[] = [];
      let cursor: string | null = null;
      do {
        const page: any = (
          await get(
            `/api/v1/tracker/resources/?provider=${provider}&limit=200${cursor ? `&cursor=${cursor}` : ""}`,
          )
        ).json();
        items.push(...page.resources);
        cursor = page.next_cursor;
      } while (cursor);
      return items;
    };
    const listed = await discovered();
    expect(listed.every((r) => r.installation_id === id)).toBe(true);
    expect(listed.filter((r) => r.binding_ref === kept.ref).length).toBe(1);

    const audit = (
      await t.call({
        method: "GET",
        url: "/api/v1/audit-events/?action=installation.reconnected",
        as: t.admin,
      })
    ).json();
    expect(audit.items.some((e: any) => e.target_id === id)).toBe(true);
  });
});

describe("reconnect through the OAuth callback", () => {
  it("a GitLab OAuth consent for the disconnected group reuses its installation and mappings", async () => {
    const { installationId: id, kept } = state.gitlab!;
    const del = await t.call({
      method: "DELETE",
      url: `/api/v1/installations/${id}/?confirm=${id}`,
      as: t.admin,
    });
    expect(del.statusCode, del.body).toBe(200);
    const started = await t.call({
      method: "POST",
      url: "/api/v1/installations/connect/",
      as: t.admin,
      payload: { provider: "gitlab", workspace_id: t.sims.gitlab.demo.group_id },
    });
    expect(started.statusCode, started.body).toBe(200);
    const back = await clickThroughConsent(started.json().authorize_url);
    const done = await openCallback(t, back, connectCookieOf(started));
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({
      reconnected: true,
      installation: { id, status: "active", auth_kind: "oauth" },
    });
    expect((await t.services.jobs.waitFor(done.json().refresh.operation_id, 60_000)).status).toBe(
      "completed",
    );
    expect((await pull("gitlab", kept.ref)).statusCode).toBe(200);
  });
});

describe.each(ALL_PROVIDERS)("%s: health follows the provider's definitive answer", (provider) => {
  const requests = async () =>
    (await t.sim(provider, "GET", "/_sim/requests")).requests as { status: number }[];

  it("one refused request during a refresh does not revoke: the pass completes and pull works", async () => {
    const { installationId: id, kept } = state[provider]!;
    await t.sim(provider, "DELETE", "/_sim/requests");
    await t.sim(provider, "POST", "/_sim/faults", { count: 1, status: 401 });
    const refresh = await t.refresh(id);
    await t.sim(provider, "DELETE", "/_sim/faults");
    expect((await requests()).some((r) => r.status === 401)).toBe(true);
    expect(refresh.status, JSON.stringify(refresh.error)).toBe("completed");
    expect(await installation(id)).toMatchObject({ status: "active", health: { consecutive_failures: 0 } });
    expect((await pull(provider, kept.ref)).statusCode).toBe(200);
  });

  it("refused again on the immediate retry it is revoked and pull is refused; the next accepted pass restores active", async () => {
    const { installationId: id, kept } = state[provider]!;
    // Every discovery request is refused until the faults are cleared (GitHub mints tokens elsewhere).
    const discovery = provider === "github" ? { path_prefix: "/installation/repositories" } : {};
    await t.sim(provider, "POST", "/_sim/faults", { count: 20, status: 401, ...discovery });
    const failed = await t.refresh(id);
    await t.sim(provider, "DELETE", "/_sim/faults");
    expect(failed.status).toBe("failed");
    const after = await installation(id);
    // GitHub's 401 means an expired installation token (the host mints another), so not revoked.
    expect(after.status).toBe(provider === "github" ? "error" : "revoked");
    if (after.status === "revoked") {
      const refused = await pull(provider, kept.ref);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().error_code).toBe("installation_revoked");
      const mapping = (await mappingsOf(id)).find((m) => m.binding_ref === kept.ref);
      expect(mapping.sync_state).toBe("installation_revoked");
    }

    const healed = await t.refresh(id);
    expect(healed.status, JSON.stringify(healed.error)).toBe("completed");
    expect(await installation(id)).toMatchObject({ status: "active", health: { consecutive_failures: 0 } });
    expect((await pull(provider, kept.ref)).statusCode).toBe(200);
  });

  it("a real revoke is definitive: revoked, and pull and bind-resolve say so", async () => {
    const { installationId: id, kept } = state[provider]!;
    if (provider === "github")
      await t.sim("github", "DELETE", `/_sim/installations/${t.sims.github.demo.installation_id}`);
    else await t.sim(provider, "POST", "/_sim/credentials/revoke", { all: true });
    const failed = await t.refresh(id);
    expect(failed.status).toBe("failed");
    expect(failed.error.error_code).toBe("provider_auth_revoked");
    expect(await installation(id)).toMatchObject({
      status: "revoked",
      health: { last_error_code: "provider_auth_revoked" },
    });
    const refused = await pull(provider, kept.ref);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error_code).toBe("installation_revoked");
    const resolved = await post("/api/v1/tracker/bind-resolve/", {
      provider,
      project_identity: kept.identity,
    });
    expect(resolved.statusCode, resolved.body).toBe(403);
    expect(resolved.json().error_code).toBe("installation_revoked");
  });
});
