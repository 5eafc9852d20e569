import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimProvider } from "../../src/simulators/index.ts";
import type { SimulatedApp } from "../support/simulated.ts";
import {
  cliResources as cliResourcesOf,
  createHookedApp,
  eventually,
  flushHooks,
} from "../support/webhooks.ts";

/**
 * Issue 17: what a receiver refuses (bad signature, wrong token, unknown hook), what it acknowledges and
 * ignores (unknown installation, duplicates, replays), event order, a slow receiver, events arriving
 * during a pass, malformed bodies (never a 5xx), and GitHub App installation lifecycle.
 */
let t: SimulatedApp;
let base: string;
let githubInst: string;
let gitlabInst: string;
let gitlabHook: { url: string; secret: string };

beforeAll(async () => {
  // Two pages of repositories, so a pass can be caught between its pages.
  const hooked = await createHookedApp({ generatedResources: 120 });
  ({ t, base, gitlabHook } = hooked);
  ({ github: githubInst, gitlab: gitlabInst } = hooked.inst);
}, 90_000);
afterAll(() => t?.close());

const flush = (provider: SimProvider) => flushHooks(t, provider);
const cliResources = (provider: SimProvider) => cliResourcesOf(t, provider);
const health = async (id: string) =>
  (await t.call({ method: "GET", url: `/api/v1/installations/${id}/webhook/`, as: t.member })).json();
const fault = (provider: SimProvider, f: object) => t.sim(provider, "POST", "/_sim/webhooks/faults", f);
const nativeOf = (key: string) => key.split(":").pop() as string;
const labelOf = async (provider: SimProvider, nativeId: string) =>
  (await cliResources(provider)).find((r) => nativeOf(r.resource_key) === nativeId)?.display_label as
    | string
    | undefined;
/** The simulator's copy of the i-th resource the CLI lists (an installation's own, bindable). */
const pick = async (provider: SimProvider, i: number) => {
  const id = nativeOf((await cliResources(provider))[i].resource_key);
  const all = (await t.sim(provider, "GET", "/_sim/resources")).resources as any[];
  return all.find((r) => String(r.id) === id);
};

/** A delivery as GitHub would sign it with the App's secret. */
const githubPost = (
  body: string | Buffer,
  headers: Record<string, string> = {},
  secret = t.sims.github.demo.webhook_secret,
) =>
  fetch(`${base}/api/v1/webhooks/github/`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "repository",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      ...headers,
    },
    body: new Uint8Array(Buffer.from(body)),
  });

describe("signatures and tokens", () => {
  it("a bad GitHub signature is a 401 with no detail, and nothing changes", async () => {
    const r = await pick("github", 3);
    const before = await labelOf("github", String(r.id));
    await fault("github", { kind: "bad_signature", count: 1 });
    await t.sim("github", "PATCH", `/_sim/resources/${r.id}`, { name: `sig-${randomUUID().slice(0, 6)}` });
    const log = await flush("github");
    const last = log.at(-1);
    expect(last.attempts.every((a: any) => a.status === 401)).toBe(true);
    expect(last.outcome).toBe("failed");
    const direct = await githubPost("{}", {}, "not-the-secret");
    expect(direct.status).toBe(401);
    const body = await direct.json();
    expect(body.error_code).toBe("webhook_unverified");
    expect(JSON.stringify(body)).not.toMatch(/sha256|signature|secret/i);
    expect(await labelOf("github", String(r.id))).toBe(before);
    // Put it right for the next tests: a pass catches what the refused event carried.
    await t.refresh(githubInst);
  });

  it("a wrong GitLab token is a 401, and the installation says its hook is failing and why", async () => {
    const r = await pick("gitlab", 3);
    await fault("gitlab", { kind: "bad_signature", count: 1 });
    await t.sim("gitlab", "PATCH", `/_sim/resources/${r.id}`, { description: "changed" });
    const last = (await flush("gitlab")).at(-1);
    expect(last.attempts[0].status).toBe(401);
    const h = await health(gitlabInst);
    expect(h.state).toBe("failing");
    expect(h.last_failure_reason).toMatch(/secret did not match/);
    expect(JSON.stringify(h)).not.toContain(gitlabHook.secret);
  });

  it("an unknown hook URL answers exactly like a wrong token (no oracle)", async () => {
    const post = (id: string) =>
      fetch(`${base}/api/v1/webhooks/gitlab/${id}/`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-gitlab-token": "guess" },
        body: JSON.stringify({ event_name: "project_update", project_id: 1 }),
      });
    const unknown = await post("inst_01HZZZZZZZZZZZZZZZZZZZZZZZ");
    const known = await post(gitlabInst);
    expect(unknown.status).toBe(401);
    expect(known.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ error_code: "webhook_unverified" });
  });

  it("a verified delivery for an installation we do not have is acknowledged and ignored", async () => {
    const res = await githubPost(
      JSON.stringify({ action: "renamed", repository: { id: 1 }, installation: { id: 99999999 } }),
    );
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ received: true });
  });

  it("rotating the GitLab secret makes the old one stop verifying", async () => {
    const old = gitlabHook.secret;
    const rotated = await t.call({
      method: "POST",
      url: `/api/v1/installations/${gitlabInst}/webhook/secret/`,
      as: t.admin,
    });
    expect(rotated.json().secret).not.toBe(old);
    const send = (token: string) =>
      fetch(gitlabHook.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-gitlab-token": token,
          "idempotency-key": randomUUID(),
        },
        body: JSON.stringify({ event_name: "project_update", project_id: 1 }),
      });
    expect((await send(old)).status).toBe(401);
    expect((await send(rotated.json().secret)).status).toBe(202);
    // Members see event health, only admins rotate.
    const member = await t.call({
      method: "POST",
      url: `/api/v1/installations/${gitlabInst}/webhook/secret/`,
      as: t.member,
    });
    expect(member.statusCode).toBe(403);
    // The simulator's hook gets the new secret, as an admin would paste it.
    const hooks = (await t.sim("gitlab", "GET", "/_sim/webhooks")).hooks;
    for (const h of hooks) await t.sim("gitlab", "DELETE", `/_sim/webhooks/${h.id}`);
    gitlabHook = rotated.json();
    await t.sim("gitlab", "POST", "/_sim/webhooks", gitlabHook);
  });
});

describe.each(["github", "gitlab"] as const)("%s: duplicates, replays, order, slow receiver", (provider) => {
  const rename = async (id: string, name: string) => {
    const up = ((await t.sim(provider, "GET", "/_sim/resources")).resources as any[]).find(
      (r) => String(r.id) === id,
    );
    const path =
      provider === "gitlab" ? { path: `${up.path.split("/").slice(0, -1).join("/")}/${name}` } : {};
    await t.sim(provider, "PATCH", `/_sim/resources/${id}`, { name, ...path });
  };
  const instOf = () => (provider === "github" ? githubInst : gitlabInst);

  it("a duplicated delivery is applied once", async () => {
    const r = await pick(provider, 5);
    const before = (await health(instOf())).deliveries;
    await fault(provider, { kind: "duplicate", count: 1 });
    const name = `dup-${randomUUID().slice(0, 6)}`;
    await rename(String(r.id), name);
    const log = await flush(provider);
    const copies = log.filter((d: any) => d.delivery_id === log.at(-1).delivery_id);
    expect(copies.length).toBe(2);
    expect(copies.every((d: any) => d.outcome === "delivered")).toBe(true);
    await eventually(
      () => labelOf(provider, String(r.id)),
      (l) => Boolean(l?.includes(name)),
      "dup rename",
    );
    expect((await health(instOf())).deliveries).toBe(before + 1);
  });

  it("events delivered out of order end in the provider's current state (each event re-reads)", async () => {
    const r = await pick(provider, 6);
    await fault(provider, { kind: "out_of_order", count: 1 });
    await rename(String(r.id), `first-${r.id}`);
    await rename(String(r.id), `second-${r.id}`);
    const log = await flush(provider);
    // The first event went out after the second.
    expect(log.at(-1).delivery_id).not.toBe(log.at(-2).delivery_id);
    await eventually(
      () => labelOf(provider, String(r.id)),
      (l) => Boolean(l?.includes(`second-${r.id}`)),
      "latest name wins",
    );
  });

  it("a receiver slower than the provider waits gets the same delivery again, applied once", async () => {
    const r = await pick(provider, 7);
    const before = (await health(instOf())).deliveries;
    await fault(provider, { kind: "slow_receiver", count: 1, timeout_ms: 1 });
    const name = `slow-${randomUUID().slice(0, 6)}`;
    await rename(String(r.id), name);
    const last = (await flush(provider)).at(-1);
    expect(last.attempts[0].error).toBe("timeout");
    expect(last.outcome).toBe("delivered");
    await eventually(
      () => labelOf(provider, String(r.id)),
      (l) => Boolean(l?.includes(name)),
      "slow rename",
    );
    expect((await health(instOf())).deliveries).toBe(before + 1);
  });

  it("the event health of the installation says it is receiving", async () => {
    const h = await health(instOf());
    expect(h.state).toBe("receiving");
    expect(h.last_delivery_at).not.toBeNull();
    expect(h.inventory_synced_at).not.toBeNull();
  });
});

describe("replays and malformed bodies", () => {
  it("a replayed GitHub delivery (same delivery id) is acknowledged and not applied again", async () => {
    const r = await pick("github", 8);
    const body = JSON.stringify({
      action: "edited",
      repository: { id: Number(r.id) },
      installation: { id: Number(t.sims.github.demo.installation_id) },
    });
    const id = randomUUID();
    const before = (await health(githubInst)).deliveries;
    expect((await githubPost(body, { "x-github-delivery": id })).status).toBe(202);
    expect((await githubPost(body, { "x-github-delivery": id })).status).toBe(202);
    await eventually(
      () => health(githubInst),
      (h) => h.deliveries === before + 1,
      "counted once",
    );
  });

  it("random and mutated bodies, signed or not, never answer 5xx", async () => {
    const valid = JSON.stringify({
      action: "renamed",
      repository: { id: 1 },
      installation: { id: Number(t.sims.github.demo.installation_id) },
    });
    const mutate = (s: string) => {
      const b = Buffer.from(s);
      for (let i = 0; i < 1 + (b.length >> 4); i++)
        b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
      return b;
    };
    const shapes = [
      () => randomBytes(Math.floor(Math.random() * 300)),
      () => mutate(valid),
      () =>
        Buffer.from(
          JSON.stringify({ installation: { id: "x".repeat(5000) }, repositories_added: [null, 1, "a", {}] }),
        ),
      () => Buffer.from(JSON.stringify([1, 2, 3])),
      () => Buffer.from("null"),
      () => Buffer.from(JSON.stringify({ action: {}, repository: [], installation: { id: -1 } })),
      () =>
        Buffer.from(
          JSON.stringify({
            action: "added",
            installation: { id: 41000001 },
            repositories_added: { length: 1e9 },
          }),
        ),
    ];
    const events = ["repository", "installation", "installation_repositories", "ping", "", "x".repeat(300)];
    for (let i = 0; i < 120; i++) {
      const body = shapes[i % shapes.length]();
      const signed = i % 3 !== 0;
      const res = await githubPost(
        body,
        { "x-github-event": events[i % events.length] },
        signed ? undefined : "wrong",
      );
      expect(res.status, `case ${i}`).toBeLessThan(500);
      const gl = await fetch(gitlabHook.url, {
        method: "POST",
        headers: {
          "content-type": i % 5 === 0 ? "text/plain" : "application/json",
          "x-gitlab-token": signed ? gitlabHook.secret : "nope",
          "idempotency-key": randomUUID(),
        },
        body: new Uint8Array(
          i % 2 ? body : mutate(JSON.stringify({ event_name: "project_rename", project_id: 48001 })),
        ),
      });
      expect(gl.status, `gitlab case ${i}`).toBeLessThan(500);
    }
    const big = await githubPost(Buffer.alloc(2 * 1024 * 1024, 32));
    expect(big.status).toBe(413);
  });
});

describe("events arriving during a pass", () => {
  it("are applied after the pass, so the pass's older read does not win", async () => {
    const ws = t.sims.github.demo.installation_id;
    const [first] = (await t.sim("github", "GET", `/_sim/resources?workspace_id=${ws}`)).resources;
    // The pass reads page 1 (with `first`), then waits on page 2 while the rename happens and its event arrives.
    await t.sim("github", "POST", "/_sim/faults", {
      path_prefix: "/installation/repositories",
      after: 1,
      count: 1,
      latency_ms: 1500,
    });
    const started = await t.call({
      method: "POST",
      url: `/api/v1/installations/${githubInst}/refresh/`,
      as: t.admin,
    });
    expect(started.statusCode).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    const name = `during-${randomUUID().slice(0, 6)}`;
    await t.sim("github", "PATCH", `/_sim/resources/${first.id}`, { name });
    await flush("github");
    const job = await t.services.jobs.waitFor(started.json().operation_id ?? started.json().id);
    expect(job.status).toBe("completed");
    await eventually(
      () => labelOf("github", String(first.id)),
      (l) => Boolean(l?.includes(name)),
      "rename after pass",
    );
    // The event's job waited for the pass (they share the installation's concurrency key) and ran once,
    // after it: it was never refused and retried.
    const r: any = await t.database.db.execute(
      sql`select e.attempts, e.finished_at > p.finished_at as after_pass
          from jobs e, jobs p
          where e.kind = 'webhooks.apply' and e.created_at > p.created_at and p.id = ${job.id}`,
    );
    const applied = (r.rows ?? r) as { attempts: number; after_pass: boolean }[];
    expect(applied.length).toBeGreaterThan(0);
    expect(applied).toEqual(applied.map(() => ({ attempts: 1, after_pass: true })));
  });
});

describe("GitHub App installation lifecycle", () => {
  const status = async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/tracker/status/?provider=github", as: t.member });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const instId = () => t.sims.github.demo.installation_id;

  it("a removed repository (selection) goes missing once GitHub confirms, and comes back when added", async () => {
    const r = await pick("github", 9);
    await t.sim("github", "PUT", `/_sim/installations/${instId()}/repositories/${r.id}`, { selected: false });
    await flush("github");
    await eventually(
      () => labelOf("github", String(r.id)),
      (l) => l === undefined,
      "unselected gone",
    );
    await t.sim("github", "PUT", `/_sim/installations/${instId()}/repositories/${r.id}`, { selected: true });
    await flush("github");
    await eventually(
      () => labelOf("github", String(r.id)),
      (l) => l !== undefined,
      "selected back",
    );
  });

  it("suspend and unsuspend (delivered out of order) end active; the CLI's status follows", async () => {
    await t.sim("github", "PATCH", `/_sim/installations/${instId()}`, { suspended: true });
    await flush("github");
    const suspended = await eventually(status, (s) => s.installations[0].status === "suspended", "suspended");
    expect(suspended.connected).toBe(false);
    expect(suspended.installations[0].last_error_code).toBe("installation_suspended");
    await fault("github", { kind: "out_of_order", count: 1 });
    await t.sim("github", "PATCH", `/_sim/installations/${instId()}`, { suspended: false });
    await t.sim("github", "PATCH", `/_sim/resources/${(await pick("github", 10)).id}`, { description: "x" });
    await flush("github");
    const back = await eventually(status, (s) => s.installations[0].status === "active", "unsuspended");
    expect(back.connected).toBe(true);
  });

  it("deleting the installation turns it unhealthy, and the CLI's status says so", async () => {
    await t.sim("github", "DELETE", `/_sim/installations/${instId()}`);
    await flush("github");
    const s = await eventually(status, (v) => v.installations[0].status === "revoked", "revoked");
    expect(s.connected).toBe(false);
    expect(s.installations[0]).toMatchObject({
      last_error_code: "installation_revoked",
      inventory_stale: true,
    });
    expect(s.installations[0].last_error_message).toMatch(/uninstalled/);
  });
});
