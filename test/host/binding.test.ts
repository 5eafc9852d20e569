import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimProvider } from "../../src/simulators/index.ts";
import { ALL_PROVIDERS, createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/** The binding control plane (issue 5) through the CLI's wire contract, for every provider. */
let t: SimulatedApp;
beforeAll(async () => {
  t = await createSimulatedApp();
});
afterAll(() => t?.close());

/** One local project per slug: the same CLI project binds each provider once (same uuid). */
const uuidOf = (slug: string) => {
  const h = createHash("sha256").update(slug).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const identity = (slug: string, repoSlug: string | null = null, uuid = uuidOf(slug)) => ({
  uuid,
  slug,
  node_id: "a1b2c3d4e5f6",
  repo_slug: repoSlug,
  build_id: null,
});

type Identity = ReturnType<typeof identity>;

const post = (url: string, payload: unknown, key?: string, as = t.admin) =>
  t.call({
    method: "POST",
    url,
    as,
    payload: payload as object,
    headers: key ? { "idempotency-key": key } : {},
  });

const resolve = async (provider: SimProvider, id: Identity) => {
  const res = await post("/api/v1/tracker/bind-resolve/", { provider, project_identity: id });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const confirm = (
  provider: SimProvider,
  token: string,
  id: Identity,
  key = `logical-operation:write:${randomUUID()}`,
) => post("/api/v1/tracker/bind-confirm/", { provider, candidate_token: token, project_identity: id }, key);

const validate = async (provider: SimProvider, ref: string, id: Identity) => {
  const res = await post("/api/v1/tracker/bind-validate/", {
    provider,
    binding_ref: ref,
    project_identity: id,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const status = (provider: SimProvider, ref: string) =>
  t.call({
    method: "GET",
    url: `/api/v1/tracker/status/?provider=${provider}&binding_ref=${ref}`,
    as: t.member,
  });

/** Named, bindable resources of the default workspace whose normalised name is unique there. */
async function uniqueNamed(provider: SimProvider) {
  const ws = String(t.sims[provider].store.workspaces.keys().next().value);
  const all = (await t.sim(provider, "GET", `/_sim/resources?workspace_id=${encodeURIComponent(ws)}`))
    .resources;
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const count = (n: string) =>
    all.filter((r: any) => norm(r.name) === norm(n) || norm(r.key ?? "") === norm(n)).length;
  return all.filter(
    (r: any) =>
      !r.archived &&
      !r.issues_disabled &&
      !r.name.startsWith("service-") &&
      /^[A-Za-z0-9 _-]+$/.test(r.name) &&
      count(r.name) === 1,
  );
}

const slugOf = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

/**
 * The CLI prints "Tracker binding '<ref>' is stale: <message>. Run `spec-kitty tracker bind --provider
 * <p>` to rebind." for stale-binding codes: the message must not bring its own hint or closing period.
 */
function expectCliWrappable(message: string) {
  expect(message).not.toContain("spec-kitty tracker bind");
  expect(message).not.toMatch(/\.$/);
  expect(message.length).toBeGreaterThan(20);
}

describe.each(ALL_PROVIDERS)("%s binding", (provider) => {
  let named: any[];
  beforeAll(async () => {
    await t.connect(provider);
    named = await uniqueNamed(provider);
    expect(named.length).toBeGreaterThanOrEqual(3);
  });

  it("auto-binds a project whose slug names exactly one resource, then resolves it as the existing mapping", async () => {
    const target = named[0];
    const id = identity(slugOf(target.name), target.path ?? null);
    const first = await resolve(provider, id);
    expect(first.match_type).toBe("exact");
    expect(first.binding_ref).toBeNull();
    expect(first.candidate_token).toMatch(/^cand_/);

    const bound = await confirm(provider, first.candidate_token, id);
    expect(bound.statusCode, bound.body).toBe(200);
    const body = bound.json();
    expect(body.binding_ref).toMatch(/^srm_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(body.provider).toBe(provider);
    expect(body.project_slug).toBe(id.slug);
    expect(body.provider_context.workspace_name.length).toBeGreaterThan(0);

    const again = await resolve(provider, id);
    expect(again).toMatchObject({
      match_type: "exact",
      binding_ref: body.binding_ref,
      project_slug: id.slug,
    });
    expect(await validate(provider, body.binding_ref, id)).toMatchObject({
      valid: true,
      display_label: body.display_label,
    });

    const st = await status(provider, body.binding_ref);
    expect(st.statusCode, st.body).toBe(200);
    expect(st.json()).toMatchObject({
      binding_ref: body.binding_ref,
      display_label: body.display_label,
      configured: true,
      provider,
    });
  });

  it("offers ordered candidates when the evidence is ambiguous, and --select N binds sort_position N-1", async () => {
    const id = identity("service");
    const a = await resolve(provider, id);
    expect(a.match_type).toBe("candidates");
    expect(a.candidates.length).toBeGreaterThan(1);
    expect(a.candidates.length).toBeLessThanOrEqual(20);
    expect(a.candidates.map((c: any) => c.sort_position)).toEqual(a.candidates.map((_: any, i: number) => i));
    const order = { high: 0, medium: 1, low: 2 } as Record<string, number>;
    for (let i = 1; i < a.candidates.length; i++) {
      const [p, c] = [a.candidates[i - 1], a.candidates[i]];
      expect(
        order[p.confidence] < order[c.confidence] ||
          (order[p.confidence] === order[c.confidence] && p.display_label <= c.display_label),
      ).toBe(true);
      expect(c.match_reason.length).toBeGreaterThan(10);
    }
    const b = await resolve(provider, id);
    expect(b.candidates.map((c: any) => c.display_label)).toEqual(
      a.candidates.map((c: any) => c.display_label),
    );

    const pick = b.candidates.find((c: any) => c.sort_position === 2);
    const res = await confirm(provider, pick.candidate_token, id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().display_label).toBe(pick.display_label);
  });

  it("ranks resources containing the whole project name above those sharing a word", async () => {
    const res = await resolve(provider, identity("service-0001"));
    expect(res.match_type).toBe("candidates");
    const medium = res.candidates.filter((c: any) => c.confidence === "medium");
    expect(medium.length).toBeGreaterThanOrEqual(5);
    for (const c of medium) expect(c.display_label.toLowerCase()).toContain("service-0001");
    expect(res.candidates[0].confidence).toBe("medium");
  });

  it("never offers archived, issue-disabled, missing or bound-elsewhere resources", async () => {
    const inst = (await t.services.installations.listForTeam(t.team.id, provider))[0];
    const all = await t.call({
      method: "GET",
      url: `/api/v1/inventory/?installation_id=${inst.id}&limit=200`,
      as: t.member,
    });
    const excluded = all.json().items.filter((i: any) => i.archived || i.issues_disabled);
    expect(excluded.length).toBeGreaterThan(0);
    const cli = await t.call({
      method: "GET",
      url: `/api/v1/tracker/resources/?provider=${provider}`,
      as: t.member,
    });
    const bindableKeys = new Set(cli.json().resources.map((r: any) => r.resource_key));
    const bindableLabels = new Set(cli.json().resources.map((r: any) => r.display_label));
    for (const r of excluded) {
      expect(bindableKeys.has(r.resource_key)).toBe(false);
      const res = await resolve(provider, identity(slugOf(r.name), r.full_path));
      for (const c of res.candidates) expect(bindableLabels.has(c.display_label)).toBe(true);
      if (res.match_type === "exact" && !res.binding_ref)
        expect(bindableLabels.has(res.display_label)).toBe(true);
    }
  });

  it("rebinding replaces the project's mapping; the old ref then answers as deleted everywhere", async () => {
    const id = identity(`rebind-${provider}`);
    const [r1, r2] = [named[1], named[2]];
    const tok = async (r: any) =>
      (await resolve(provider, identity(slugOf(r.name), r.path ?? null))).candidate_token;
    const first = (await confirm(provider, await tok(r1), id)).json();
    const second = await confirm(provider, await tok(r2), id);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json().binding_ref).not.toBe(first.binding_ref);

    expect(await validate(provider, first.binding_ref, id)).toMatchObject({
      valid: false,
      reason: "mapping_deleted",
    });
    expect((await validate(provider, first.binding_ref, id)).guidance).toContain(
      `spec-kitty tracker bind --provider ${provider}`,
    );
    const st = await status(provider, first.binding_ref);
    expect(st.statusCode).toBe(404);
    expect(st.json()).toMatchObject({ error_code: "binding_not_found", effect_certainty: "no_effect" });
    expectCliWrappable(st.json().message);
    expect((await resolve(provider, id)).binding_ref).toBe(second.json().binding_ref);
  });

  it("a resource bound to one project is refused to another with 409 already_bound", async () => {
    const owner = identity(`owner-${provider}`);
    const r = named[1];
    const tok = (await resolve(provider, identity(slugOf(r.name), r.path ?? null))).candidate_token;
    // named[1] was moved away from the rebind project above, so it is free again.
    expect((await confirm(provider, tok, owner)).statusCode).toBe(200);
    const other = await confirm(provider, tok, identity(`intruder-${provider}`));
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error_code: "already_bound", effect_certainty: "no_effect" });
  });

  it("disable stops status with mapping_disabled; enable restores it; delete makes the ref deleted forever", async () => {
    const id = identity(`lifecycle-${provider}`);
    const r = named[0];
    const list = await t.call({
      method: "GET",
      url: `/api/v1/tracker/resources/?provider=${provider}&limit=200`,
      as: t.member,
    });
    const free = list
      .json()
      .resources.find(
        (x: any) => !x.binding_ref && !x.display_label.includes("<") && !x.display_label.includes(r.name),
      );
    const ref = (await confirm(provider, free.candidate_token, id)).json().binding_ref;

    const patch = (body: unknown) =>
      t.call({ method: "PATCH", url: `/api/v1/mappings/${ref}/`, as: t.admin, payload: body as object });
    expect((await patch({ status: "disabled" })).statusCode).toBe(200);
    const st = await status(provider, ref);
    expect(st.statusCode).toBe(403);
    expect(st.json().error_code).toBe("mapping_disabled");
    expectCliWrappable(st.json().message);
    expect((await validate(provider, ref, id)).reason).toBe("mapping_disabled");
    expect((await patch({ status: "active" })).statusCode).toBe(200);
    expect((await status(provider, ref)).statusCode).toBe(200);

    const member = await t.call({
      method: "PATCH",
      url: `/api/v1/mappings/${ref}/`,
      as: t.member,
      payload: { status: "disabled" },
    });
    expect(member.statusCode).toBe(403);
    const unconfirmed = await t.call({ method: "DELETE", url: `/api/v1/mappings/${ref}/`, as: t.admin });
    expect(unconfirmed.statusCode).toBe(400);
    const del = await t.call({
      method: "DELETE",
      url: `/api/v1/mappings/${ref}/?confirm=${ref}`,
      as: t.admin,
    });
    expect(del.statusCode, del.body).toBe(200);
    expect((await validate(provider, ref, id)).reason).toBe("mapping_deleted");
    expect((await resolve(provider, id)).binding_ref ?? null).not.toBe(ref);
  });

  it("installation-wide status lists the team's bindings the way `tracker status --all` prints them", async () => {
    const res = await t.call({
      method: "GET",
      url: `/api/v1/tracker/status/?provider=${provider}`,
      as: t.member,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ provider, connected: true });
    expect(body.resource_count).toBeGreaterThan(0);
    expect(body.bindings.length).toBeGreaterThan(0);
    for (const b of body.bindings) {
      expect(b.project_slug.length).toBeGreaterThan(0);
      expect(b.binding_ref).toMatch(/^srm_/);
      expect(b.bound_at).toMatch(/^\d{4}-/);
      expect(["active", "disabled"]).toContain(b.status);
    }
    const mine = await t.call({
      method: "GET",
      url: `/api/v1/tracker/mappings/?provider=${provider}`,
      as: t.member,
    });
    expect(mine.statusCode, mine.body).toBe(200);
    expect(Array.isArray(mine.json().mappings)).toBe(true);
  });

  it("an upstream rename keeps the binding_ref and updates the label after a refresh", async () => {
    const id = identity(`rename-${provider}`);
    const r = named[named.length - 1];
    const tok = (await resolve(provider, identity(slugOf(r.name), r.path ?? null))).candidate_token;
    const bound = (await confirm(provider, tok, id)).json();
    const newName = `Renamed ${provider} Thing`;
    await t.sim(provider, "PATCH", `/_sim/resources/${r.id}`, {
      name: newName,
      ...(r.path ? { path: `${r.path.split("/").slice(0, -1).join("/")}/renamed-${provider}-thing` } : {}),
    });
    const inst = (await t.services.installations.listForTeam(t.team.id, provider))[0];
    expect((await t.refresh(inst.id)).status).toBe("completed");
    const v = await validate(provider, bound.binding_ref, id);
    expect(v.valid).toBe(true);
    expect(v.display_label).not.toBe(bound.display_label);
    expect(v.display_label.toLowerCase()).toContain("renamed");
    expect((await resolve(provider, id)).binding_ref).toBe(bound.binding_ref);
  });
});

describe("candidate tokens and idempotency", () => {
  it("a tampered or other-team candidate token is 400 invalid_candidate_token and writes nothing", async () => {
    const list = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=github&limit=200",
      as: t.member,
    });
    const tok: string = list.json().resources.find((r: any) => !r.binding_ref).candidate_token;
    const tampered = `${tok.slice(0, -2)}${tok.endsWith("A") ? "BB" : "AA"}`;
    const res = await confirm("github", tampered, identity("tamper"));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error_code: "invalid_candidate_token",
      effect_certainty: "no_effect",
    });
    const foreign = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-confirm/",
      as: t.outsider,
      headers: { "idempotency-key": "k-foreign" },
      payload: { provider: "github", candidate_token: tok, project_identity: identity("foreign") },
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().error_code).toBe("invalid_candidate_token");
    const wrongProvider = await confirm("gitlab", tok, identity("cross"));
    expect(wrongProvider.json().error_code).toBe("invalid_candidate_token");
  });

  it("replays, refuses a reused key with another body, and requires the key", async () => {
    const list = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=linear&limit=200",
      as: t.member,
    });
    const free = list.json().resources.filter((r: any) => !r.binding_ref);
    const id = identity("idem-project");
    const key = `logical-operation:write:${"ab".repeat(32)}`; // the CLI's 88-character keys
    expect(key.length).toBe(88);
    const first = await confirm("linear", free[0].candidate_token, id, key);
    const replay = await confirm("linear", free[0].candidate_token, id, key);
    expect(first.statusCode).toBe(200);
    expect(replay.statusCode).toBe(200);
    expect(replay.headers["idempotency-replayed"]).toBe("true");
    expect(replay.json()).toEqual(first.json());
    const reused = await confirm("linear", free[1].candidate_token, id, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json()).toMatchObject({
      error_code: "idempotency_key_reused",
      effect_certainty: "no_effect",
    });
    const missing = await post("/api/v1/tracker/bind-confirm/", {
      provider: "linear",
      candidate_token: free[1].candidate_token,
      project_identity: id,
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toMatch(/Idempotency-Key/);
  });

  it("none when the team has no installation for the provider", async () => {
    const res = await post(
      "/api/v1/tracker/bind-resolve/",
      { provider: "jira", project_identity: identity("anything") },
      undefined,
      t.outsider,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ match_type: "none", candidates: [] });
  });

  it("50 parallel confirms with one key create one mapping and answer identical bodies", async () => {
    const list = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=gitlab&limit=200",
      as: t.member,
    });
    const free = list.json().resources.find((r: any) => !r.binding_ref);
    const id = identity("parallel-one-key");
    const key = `k-${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => confirm("gitlab", free.candidate_token, id, key)),
    );
    const ok = results.filter((r) => r.statusCode === 200);
    for (const r of results) expect([200, 409]).toContain(r.statusCode);
    for (const r of results.filter((x) => x.statusCode === 409))
      expect(r.json().error_code).toBe("idempotency_key_in_flight");
    expect(ok.length).toBeGreaterThan(0);
    expect(new Set(ok.map((r) => r.body)).size).toBe(1);
    const mappings = await t.call({
      method: "GET",
      url: `/api/v1/mappings/?provider=gitlab&status=active&limit=200`,
      as: t.member,
    });
    expect(mappings.json().items.filter((m: any) => m.project_slug === id.slug).length).toBe(1);
  });

  it("20 projects racing for one resource: exactly one wins, the rest get 409 already_bound", async () => {
    const list = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=azure_devops&limit=200",
      as: t.member,
    });
    const free = list.json().resources.find((r: any) => !r.binding_ref);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        confirm("azure_devops", free.candidate_token, identity(`racer-${i}`)),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 200).length).toBe(1);
    for (const r of results.filter((x) => x.statusCode !== 200))
      expect(r.json().error_code).toBe("already_bound");
  });
});
