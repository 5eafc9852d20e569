import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimulatedApp } from "../support/simulated.ts";
import { createHookedApp, eventually, flushHooks } from "../support/webhooks.ts";

/**
 * Issue 17: a GitHub App installation an owner suspended is refused up front by every runtime call
 * (push, pull, run, issue search, ticket listing), over real HTTP, with the contract's envelope and what
 * to do; no request reaches GitHub. Its unsuspend event (or, when that event is lost, the next complete
 * pass) makes it usable again.
 */
let t: SimulatedApp;
let base: string;
let installationId: string;
let ref: string;

const http = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...t.member.headers,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(method === "POST" ? { "idempotency-key": `logical-operation:write:${randomUUID()}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};
const githubInstallation = () => t.sims.github.demo.installation_id;
const setSuspended = (suspended: boolean) =>
  t.sim("github", "PATCH", `/_sim/installations/${githubInstallation()}`, { suspended });
/** Requests that reached GitHub's API (the simulator's control routes left out). */
const providerRequests = async () =>
  ((await t.sim("github", "GET", "/_sim/requests")).requests as { path: string }[]).filter(
    (r) => !r.path.startsWith("/_sim/"),
  );
const status = async () =>
  (await http("GET", `/api/v1/tracker/status/?provider=github&binding_ref=${ref}`)).body;
const pull = () => http("POST", "/api/v1/tracker/pull/", { provider: "github", binding_ref: ref, limit: 5 });

beforeAll(async () => {
  let inst: { github: string };
  ({ t, base, inst } = await createHookedApp());
  installationId = inst.github;
  const listed = await http("GET", "/api/v1/tracker/resources/?provider=github&limit=50");
  expect(listed.status, JSON.stringify(listed.body)).toBe(200);
  const bound = await http("POST", "/api/v1/tracker/bind-confirm/", {
    provider: "github",
    candidate_token: listed.body.resources[0].candidate_token,
    project_identity: {
      uuid: randomUUID(),
      slug: "suspended-demo",
      node_id: "a1b2c3d4e5f6",
      repo_slug: null,
      build_id: null,
    },
  });
  expect(bound.status, JSON.stringify(bound.body)).toBe(200);
  ref = bound.body.binding_ref;
}, 60_000);
afterAll(() => t?.close());

describe("a suspended GitHub App installation", () => {
  it("is usable before the suspension (the calls below reach GitHub)", async () => {
    const pulled = await pull();
    expect(pulled.status, JSON.stringify(pulled.body)).toBe(200);
  });

  it("refuses push, pull, run, issue search and ticket listing at once, and GitHub sees none of them", async () => {
    await setSuspended(true);
    await flushHooks(t, "github");
    await eventually(status, (s) => s.sync_state === "installation_suspended", "suspended recorded");
    await t.sim("github", "DELETE", "/_sim/requests");

    const routed = { provider: "github", binding_ref: ref };
    const calls = {
      pull: ["/api/v1/tracker/pull/", { ...routed, limit: 5 }],
      push: [
        "/api/v1/tracker/push/",
        { ...routed, items: [{ wp_id: "WP01", action: "create", patch: { title: "Never sent" } }] },
      ],
      run: ["/api/v1/tracker/run/", { ...routed, pull_first: true, limit: 5, items: [] }],
      "issue-search (routed)": ["/api/v1/tracker/issue-search/", { ...routed, limit: 5, query_text: "x" }],
      "issue-search (team-wide)": [
        "/api/v1/tracker/issue-search/",
        { provider: "github", limit: 5, query_text: "x" },
      ],
      "list-tickets": ["/api/v1/tracker/list-tickets/", { ...routed, limit: 5 }],
    } as const;
    for (const [what, [path, body]] of Object.entries(calls)) {
      const refused = await http("POST", path, body);
      expect(refused.status, `${what}: ${JSON.stringify(refused.body)}`).toBe(403);
      expect(refused.body, what).toMatchObject({
        error_code: "installation_suspended",
        retryable: false,
        user_action_required: true,
        source: "saas",
        effect_certainty: "no_effect",
        retry_after_seconds: null,
      });
      expect(refused.body.request_id, what).toEqual(expect.any(String));
      expect(refused.body.message, what).toMatch(
        /is suspended, so nothing was sent to GitHub\. An owner of .+ can unsuspend it/,
      );
    }
    expect(await providerRequests()).toEqual([]);
  });

  it("tracker/status says it is suspended and what to do; status --all shows the installation suspended", async () => {
    const s = await status();
    expect(s).toMatchObject({ connected: false, sync_state: "installation_suspended", binding_ref: ref });
    expect(s.guidance).toMatch(/can unsuspend it in its GitHub settings/);
    const all = (await http("GET", "/api/v1/tracker/status/?provider=github")).body;
    expect(all.connected).toBe(false);
    expect(all.installations[0]).toMatchObject({
      status: "suspended",
      last_error_code: "installation_suspended",
    });
    expect(all.bindings.find((b: any) => b.binding_ref === ref).sync_state).toBe("installation_suspended");
  });

  it("a refresh while suspended is refused by GitHub and the installation stays suspended (not `error`)", async () => {
    const job = await t.refresh(installationId);
    expect(job.status).not.toBe("completed");
    expect((await status()).sync_state).toBe("installation_suspended");
    expect((await pull()).body.error_code).toBe("installation_suspended");
  });

  it("the unsuspend event makes it usable again", async () => {
    await setSuspended(false);
    await flushHooks(t, "github");
    await eventually(status, (s) => s.sync_state === "idle", "unsuspended recorded");
    expect((await status()).connected).toBe(true);
    const pulled = await pull();
    expect(pulled.status, JSON.stringify(pulled.body)).toBe(200);
  });

  it("an unsuspend whose event was lost is caught by the next complete pass", async () => {
    await setSuspended(true);
    await flushHooks(t, "github");
    await eventually(status, (s) => s.sync_state === "installation_suspended", "suspended again");
    // The unsuspend delivery is signed with another secret on every attempt: refused, never applied.
    await t.sim("github", "POST", "/_sim/webhooks/faults", { kind: "bad_signature", count: 1 });
    await setSuspended(false);
    await flushHooks(t, "github");
    expect((await status()).sync_state).toBe("installation_suspended");
    expect((await t.refresh(installationId)).status).toBe("completed");
    expect(await status()).toMatchObject({ sync_state: "idle", connected: true });
    expect((await pull()).status).toBe(200);
  });
});
