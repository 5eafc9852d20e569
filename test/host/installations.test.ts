import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenConnectFor } from "../../src/demo/simulated.ts";
import { ALL_PROVIDERS, createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/** Installations and inventory (issue 4) against the provider simulators over real HTTP. */
let t: SimulatedApp;
const installs: Record<string, string> = {};
const responses: string[] = [];

beforeAll(async () => {
  t = await createSimulatedApp({ generatedResources: 250 });
});
afterAll(() => t?.close());

async function call(opts: Parameters<SimulatedApp["call"]>[0]) {
  const res = await t.call(opts);
  responses.push(res.body);
  return res;
}

/** The simulator's resources in its default (seeded first) workspace. */
async function upstreamResources(provider: keyof SimulatedApp["sims"]) {
  const ws = t.sims[provider].store.workspaces.keys().next().value;
  return (await t.sim(provider, "GET", `/_sim/resources?workspace_id=${encodeURIComponent(String(ws))}`))
    .resources;
}

async function inventory(installationId: string, query = "") {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await call({
      method: "GET",
      url: `/api/v1/inventory/?installation_id=${installationId}&limit=200${query}${cursor ? `&cursor=${cursor}` : ""}`,
      as: t.member,
    });
    expect(res.statusCode, res.body).toBe(200);
    items.push(...res.json().items);
    cursor = res.json().next_cursor;
  } while (cursor);
  return items;
}

describe.each(ALL_PROVIDERS)("%s installation", (provider) => {
  it("connects with a live-checked credential and syncs every page of the inventory", async () => {
    const { installationId, refresh } = await t.connect(provider);
    installs[provider] = installationId;
    expect(refresh.status, JSON.stringify(refresh.error)).toBe("completed");
    const upstream = await upstreamResources(provider);
    const items = await inventory(installationId);
    expect(items.length).toBe(upstream.length);
    expect(new Set(items.map((i) => i.resource_key)).size).toBe(items.length);

    const inst = (
      await call({ method: "GET", url: `/api/v1/installations/${installationId}/`, as: t.member })
    ).json();
    expect(inst.status).toBe("active");
    expect(inst.health.last_success_at).not.toBeNull();
    expect(inst.resource_count).toBe(upstream.length);
  });

  it("lists bindable resources for the CLI with candidate tokens and workspace context", async () => {
    const res = await call({
      method: "GET",
      url: `/api/v1/tracker/resources/?provider=${provider}`,
      as: t.member,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.provider).toBe(provider);
    expect(body.installation_id).toBe(installs[provider]);
    expect(body.resources.length).toBeGreaterThan(0);
    for (const r of body.resources) {
      expect(r.candidate_token).toMatch(/^cand_/);
      expect(r.display_label.length).toBeGreaterThan(0);
      expect(r.provider_context.workspace_name.length).toBeGreaterThan(0);
      expect(r.binding_ref).toBeNull();
    }
  });

  it("refuses a wrong credential with a provider error and saves nothing", async () => {
    const body = tokenConnectFor(t.sims[provider]);
    if (!body) return; // GitHub has no token connect (test/host/github-ownership.test.ts)
    const cred = { ...body.credential };
    for (const k of ["token", "api_key", "password"]) if (k in cred) cred[k] = "not-a-valid-secret-123";
    const before = (await t.services.installations.listForTeam(t.team.id, provider)).length;
    const res = await call({
      method: "POST",
      url: "/api/v1/installations/",
      as: t.admin,
      payload: { ...body, credential: cred },
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.json().source).toBe("provider");
    expect(res.json().effect_certainty).toBe("no_effect");
    expect((await t.services.installations.listForTeam(t.team.id, provider)).length).toBe(before);
  });
});

describe("refresh diff", () => {
  const find = async (nativeId: string) =>
    (await inventory(installs.github)).find((i) => i.native_id === nativeId);

  it("follows a rename with the label, keeps resource_key, flags archived, marks deleted missing and restores it", async () => {
    const [target] = (await upstreamResources("github")).filter((r: any) => !r.archived);
    const before = await find(target.id);
    expect(before.missing_since).toBeNull();

    await t.sim("github", "PATCH", `/_sim/resources/${target.id}`, {
      name: "renamed-repo",
      path: "acme/renamed-repo",
      archived: true,
    });
    expect((await t.refresh(installs.github)).status).toBe("completed");
    const renamed = await find(target.id);
    expect(renamed.resource_key).toBe(before.resource_key);
    expect(renamed.display_label).toContain("renamed-repo");
    expect(renamed.archived).toBe(true);

    await t.sim("github", "DELETE", `/_sim/resources/${target.id}`);
    const gone = await t.refresh(installs.github);
    expect(gone.result.missing).toBe(1);
    expect((await find(target.id)).missing_since).not.toBeNull();
    const cli = await call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=github&limit=200",
      as: t.member,
    });
    expect(cli.json().resources.map((r: any) => r.resource_key)).not.toContain(before.resource_key);

    await t.sim("github", "POST", "/_sim/resources", {
      ...target,
      name: "renamed-repo",
      path: "acme/renamed-repo",
      archived: false,
    });
    await t.refresh(installs.github);
    const back = await find(target.id);
    expect(back.missing_since).toBeNull();
    expect(back.archived).toBe(false);
    expect(back.first_seen_at).toBe(before.first_seen_at);
  });

  it("an unchanged pass writes no inventory rows", async () => {
    const job = await t.refresh(installs.github);
    expect(job.result.rows_written).toBe(0);
    expect(job.result.unchanged).toBe(job.result.seen);
  });

  it("a fault on page 2 leaves the inventory untouched and records the failure on the installation", async () => {
    const before = await inventory(installs.github);
    const [victim] = await upstreamResources("github");
    await t.sim("github", "DELETE", `/_sim/resources/${victim.id}`);
    await t.sim("github", "POST", "/_sim/faults", {
      path_prefix: "/installation/repositories",
      status: 502,
      count: 10,
      after: 1,
    });
    const failed = await t.refresh(installs.github);
    await t.sim("github", "DELETE", "/_sim/faults");
    // Retryable, and the test app allows one attempt: it used up its attempts.
    expect(failed.status).toBe("dead");
    expect(failed.error.error_code).toBe("upstream_unavailable");

    const after = await inventory(installs.github);
    expect(after.length).toBe(before.length);
    expect(after.filter((i) => i.missing_since).length).toBe(before.filter((i) => i.missing_since).length);
    const inst = (
      await call({ method: "GET", url: `/api/v1/installations/${installs.github}/`, as: t.member })
    ).json();
    expect(inst.health.consecutive_failures).toBe(1);
    expect(inst.health.last_error_code).toBe("upstream_unavailable");

    // The CLI still gets the last good inventory, flagged as stale.
    const cli = await call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=github",
      as: t.member,
    });
    expect(cli.statusCode).toBe(200);
    expect(cli.json().resources.length).toBeGreaterThan(0);
    expect(cli.json().installations[0]).toMatchObject({
      inventory_stale: true,
      last_error_code: "upstream_unavailable",
    });

    await t.sim("github", "POST", "/_sim/resources", victim);
    expect((await t.refresh(installs.github)).status).toBe("completed");
  });

  it("connecting queues the installation's first pass itself and answers its operation", async () => {
    const auth = {
      team: { ...t.team, name: "Acme" },
      user: { id: t.admin.userId, email: t.admin.email, name: t.admin.email },
      role: "admin" as const,
      tokenId: "test",
    };
    const again = await t.services.installations.connectWithCredential(
      auth,
      tokenConnectFor(t.sims.linear) as never,
    );
    expect(again).toMatchObject({ reconnected: true, installation: { id: installs.linear } });
    expect(again.refresh).toMatchObject({
      kind: "inventory.refresh",
      payload: { installation_id: installs.linear },
      createdBy: t.admin.userId,
    });
    expect((await t.services.jobs.waitFor(again.refresh.id)).status).toBe("completed");
  });

  it("two refresh requests at once share one operation and one discovery pass", async () => {
    await t.sim("github", "DELETE", "/_sim/requests");
    const [a, b] = await Promise.all(
      [1, 2].map(() =>
        call({ method: "POST", url: `/api/v1/installations/${installs.github}/refresh/`, as: t.admin }),
      ),
    );
    expect(a.json().operation_id).toBe(b.json().operation_id);
    await t.services.jobs.waitFor(a.json().operation_id);
    const log = (await t.sim("github", "GET", "/_sim/requests")).requests;
    const firstPages = log.filter((r: any) => r.path === "/installation/repositories" && r.status === 200);
    const pages = Math.ceil((await inventory(installs.github)).length / 100);
    expect(firstPages.length).toBe(pages);
  });
});

describe("inventory browsing", () => {
  it("searches server-side and filters archived and unbound", async () => {
    const res = await call({
      method: "GET",
      url: `/api/v1/inventory/?provider=github&q=service-0001&limit=50`,
      as: t.member,
    });
    expect(res.statusCode).toBe(200);
    const labels = res.json().items.map((i: any) => i.display_label);
    expect(labels.length).toBeGreaterThan(0);
    for (const l of labels) expect(l).toContain("service-0001");
    const archived = await call({
      method: "GET",
      url: `/api/v1/inventory/?provider=github&state=archived`,
      as: t.member,
    });
    for (const i of archived.json().items) expect(i.archived).toBe(true);
  });

  it("pages with a cursor and no duplicates", async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call({
        method: "GET",
        url: `/api/v1/inventory/?installation_id=${installs.github}&limit=37${cursor ? `&cursor=${cursor}` : ""}`,
        as: t.member,
      });
      for (const i of res.json().items) {
        expect(seen.has(i.id)).toBe(false);
        seen.add(i.id);
      }
      cursor = res.json().next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(2);
  });
});

describe("tenancy, roles and secrets", () => {
  it("another team's installation answers exactly like one that does not exist", async () => {
    const theirs = await call({
      method: "GET",
      url: `/api/v1/installations/${installs.github}/`,
      as: t.outsider,
    });
    const nobody = await call({
      method: "GET",
      url: "/api/v1/installations/inst_doesnotexist/",
      as: t.outsider,
    });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error_code).toBe(nobody.json().error_code);
    const list = await call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=github",
      as: t.outsider,
    });
    expect(list.statusCode).toBe(403);
    expect(list.json().error_code).toBe("no_installation");
  });

  it("members read but cannot connect, refresh or disconnect", async () => {
    const refresh = await call({
      method: "POST",
      url: `/api/v1/installations/${installs.github}/refresh/`,
      as: t.member,
    });
    expect(refresh.statusCode).toBe(403);
    const connect = await call({
      method: "POST",
      url: "/api/v1/installations/",
      as: t.member,
      payload: tokenConnectFor(t.sims.linear)!,
    });
    expect(connect.statusCode).toBe(403);
  });

  it("disconnect needs confirmation", async () => {
    const res = await call({
      method: "DELETE",
      url: `/api/v1/installations/${installs.azure_devops}/`,
      as: t.admin,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/confirm/);
  });

  it("no credential appears in any response or log line", async () => {
    const secrets = Object.values(t.sims).flatMap((s) =>
      Object.entries(s.demo)
        .filter(([k]) => /token|key|pat|secret|password/.test(k) && !/_url$|app_id|app_slug/.test(k))
        .map(([, v]) => v),
    );
    expect(secrets.length).toBeGreaterThan(5);
    const haystack = responses.join("\n") + t.logs.join("\n");
    for (const s of secrets) {
      const probe = s.includes("PRIVATE KEY") ? s.split("\n")[1] : s;
      expect(haystack.includes(probe), `secret leaked: ${probe.slice(0, 6)}…`).toBe(false);
    }
  });
});
