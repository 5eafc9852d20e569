import { createHash, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimProvider } from "../../src/simulators/index.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Issue 17: the simulators deliver signed webhooks over real HTTP to the listening app; the CLI's next
 * `tracker/resources/` shows the change with no refresh pass, binding_refs unchanged.
 */
let t: SimulatedApp;
let base: string;
const inst: Partial<Record<SimProvider, string>> = {};

beforeAll(async () => {
  // Retries of a deferred event (a pass was running) come back quickly in tests.
  t = await createSimulatedApp({
    providers: ["github", "gitlab"],
    jobs: { maxAttempts: 8, retryBaseSeconds: 0.05, retryMaxSeconds: 0.2 },
  });
  await t.server.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  inst.github = (await t.connect("github")).installationId;
  inst.gitlab = (await t.connect("gitlab")).installationId;
  await t.sim("github", "POST", "/_sim/webhooks", {
    url: `${base}/api/v1/webhooks/github/`,
    secret: t.sims.github.demo.webhook_secret,
  });
  // GitLab registration is manual: the admin takes URL and secret from the installation and pastes them.
  const rotated = await t.call({
    method: "POST",
    url: `/api/v1/installations/${inst.gitlab}/webhook/secret/`,
    as: t.admin,
  });
  expect(rotated.statusCode, rotated.body).toBe(200);
  await t.sim("gitlab", "POST", "/_sim/webhooks", { url: rotated.json().url, secret: rotated.json().secret });
}, 60_000);
afterAll(() => t?.close());

const uuidOf = (slug: string) => {
  const h = createHash("sha256").update(slug).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const cliResources = async (provider: SimProvider) => {
  const res = await t.call({
    method: "GET",
    url: `/api/v1/tracker/resources/?provider=${provider}&limit=200`,
    as: t.member,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().resources as any[];
};

/** Waits (bounded) until the CLI's read satisfies `ok`: the event is applied in the background. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const flush = (provider: SimProvider) => t.sim(provider, "POST", "/_sim/webhooks/flush");

const upstream = async (provider: SimProvider) =>
  (await t.sim(provider, "GET", "/_sim/resources")).resources as any[];

async function bind(provider: SimProvider, item: any) {
  const slug = `wh-${provider}-${randomUUID().slice(0, 8)}`;
  const res = await t.call({
    method: "POST",
    url: "/api/v1/tracker/bind-confirm/",
    as: t.admin,
    headers: { "idempotency-key": `logical-operation:write:${randomUUID()}` },
    payload: {
      provider,
      candidate_token: item.candidate_token,
      project_identity: {
        uuid: uuidOf(slug),
        slug,
        node_id: "a1b2c3d4e5f6",
        repo_slug: null,
        build_id: null,
      },
    },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().binding_ref as string;
}

const byKey = (list: any[], key: string) => list.find((r) => r.resource_key === key);

describe.each(["github", "gitlab"] as const)("%s events reach the CLI's next read", (provider) => {
  it("a rename updates the label and keeps the binding_ref", async () => {
    const before = await cliResources(provider);
    const target = before.find((r) => r.display_label.includes("api")) ?? before[0];
    const ref = await bind(provider, target);
    const up = (await upstream(provider)).find((r) => target.resource_key.endsWith(String(r.id)));
    expect(up).toBeDefined();
    const newName = `renamed-${randomUUID().slice(0, 6)}`;
    // A GitLab rename changes the path too (the label is the path with its namespace): project_rename.
    const path =
      provider === "gitlab" ? { path: `${up.path.split("/").slice(0, -1).join("/")}/${newName}` } : {};
    await t.sim(provider, "PATCH", `/_sim/resources/${up.id}`, { name: newName, ...path });
    await flush(provider);
    const after = await eventually(
      () => cliResources(provider),
      (list) => byKey(list, target.resource_key)?.display_label.includes(newName),
      "renamed label",
    );
    expect(byKey(after, target.resource_key).binding_ref).toBe(ref);
  });

  it("archive removes it from the bindable list, unarchive brings it back", async () => {
    const list = await cliResources(provider);
    const victim = list.find((r) => !r.binding_ref) as any;
    const nativeId = (await upstream(provider)).find((r) => victim.resource_key.endsWith(String(r.id))).id;
    await t.sim(provider, "PATCH", `/_sim/resources/${nativeId}`, { archived: true });
    await flush(provider);
    await eventually(
      () => cliResources(provider),
      (l) => !byKey(l, victim.resource_key),
      "archived gone",
    );
    await t.sim(provider, "PATCH", `/_sim/resources/${nativeId}`, { archived: false });
    await flush(provider);
    await eventually(
      () => cliResources(provider),
      (l) => Boolean(byKey(l, victim.resource_key)),
      "unarchived back",
    );
  });

  it("a new resource shows up, a deleted one goes (missing only after the provider confirms)", async () => {
    const name = `fresh-${randomUUID().slice(0, 6)}`;
    const created = await t.sim(provider, "POST", "/_sim/resources", { name });
    await flush(provider);
    const withNew = await eventually(
      () => cliResources(provider),
      (l) => l.some((r) => r.display_label.includes(name)),
      "added resource",
    );
    const key = withNew.find((r) => r.display_label.includes(name)).resource_key;
    await t.sim(provider, "DELETE", `/_sim/resources/${created.id}`);
    await flush(provider);
    await eventually(
      () => cliResources(provider),
      (l) => !byKey(l, key),
      "deleted resource",
    );
    const missing = await t.call({
      method: "GET",
      url: `/api/v1/inventory/?installation_id=${inst[provider]}&state=missing&limit=200`,
      as: t.member,
    });
    expect(missing.json().items.map((i: any) => i.native_id)).toContain(String(created.id));
  });
});
