import { createHash, randomUUID } from "node:crypto";
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
 * Issue 17: the simulators deliver signed webhooks over real HTTP to the listening app; the CLI's next
 * `tracker/resources/` shows the change with no refresh pass, binding_refs unchanged.
 */
let t: SimulatedApp;
let inst: Record<"github" | "gitlab", string>;

beforeAll(async () => {
  ({ t, inst } = await createHookedApp());
}, 60_000);
afterAll(() => t?.close());

const uuidOf = (slug: string) => {
  const h = createHash("sha256").update(slug).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const cliResources = (provider: SimProvider) => cliResourcesOf(t, provider);

const flush = (provider: SimProvider) => flushHooks(t, provider);

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
