import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SimProvider } from "../../src/simulators/index.ts";
import type { Actor } from "../support/app.ts";
import { ALL_PROVIDERS, createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Curated inventories (issue 20) over real HTTP to every provider's simulator: rules hide resources
 * from `tracker discover`, bind-resolve and the picker at once, hidden resources stay tracked, mapped
 * ones keep working, the preview counts what the save applies, and rules are the team's own.
 */
let t: SimulatedApp;
const installations = new Map<SimProvider, string>();

beforeAll(async () => {
  t = await createSimulatedApp();
  for (const p of ALL_PROVIDERS) installations.set(p, (await t.connect(p)).installationId);
});
afterAll(() => t?.close());

const key = () => `logical-operation:write:${randomUUID().replace(/-/g, "")}`;
const identity = (slug: string) => ({
  uuid: randomUUID(),
  slug,
  node_id: "a1b2c3d4e5f6",
  repo_slug: null,
  build_id: null,
});

const post = (url: string, payload: object, opts: { as?: Actor; key?: string } = {}) =>
  t.call({
    method: "POST",
    url,
    as: opts.as ?? t.member,
    payload,
    headers: opts.key ? { "idempotency-key": opts.key } : {},
  });

const curationUrl = (p: SimProvider) => `/api/v1/installations/${installations.get(p)}/curation/`;

async function saveRules(p: SimProvider, rules: object[], as = t.admin) {
  const res = await t.call({ method: "PUT", url: curationUrl(p), as, payload: { rules } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function preview(p: SimProvider, rules: object[]) {
  const res = await post(`${curationUrl(p)}preview/`, { rules }, { as: t.admin });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Every page of `tracker discover`. */
async function discover(p: SimProvider) {
  const all: any[] = [];
  let cursor: string | null = null;
  let first: any;
  do {
    const res = await t.call({
      method: "GET",
      url: `/api/v1/tracker/resources/?provider=${p}&limit=25${cursor ? `&cursor=${cursor}` : ""}`,
      as: t.member,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    first ??= body;
    all.push(...body.resources);
    cursor = body.next_cursor;
  } while (cursor);
  return { resources: all, hidden: first.hidden_by_curation, notice: first.curation_notice };
}

const resolve = async (p: SimProvider, slug: string) => {
  const res = await post("/api/v1/tracker/bind-resolve/", { provider: p, project_identity: identity(slug) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

/** The installation's live inventory rows (the admin API), bindable ones only. */
async function bindableRows(p: SimProvider) {
  const rows: any[] = [];
  for (const state of ["unbound", "bound"]) {
    let cursor: string | null = null;
    do {
      const res = await t.call({
        method: "GET",
        url: `/api/v1/inventory/?installation_id=${installations.get(p)}&state=${state}&limit=200${cursor ? `&cursor=${cursor}` : ""}`,
        as: t.admin,
      });
      expect(res.statusCode, res.body).toBe(200);
      rows.push(...res.json().items);
      cursor = res.json().next_cursor;
    } while (cursor);
  }
  return rows.filter((r: any) => !r.archived && !r.issues_disabled);
}

describe.each(ALL_PROVIDERS)("%s curation", (provider) => {
  afterAll(() => saveRules(provider, []));

  it("an exclude pattern removes its resources from discover and from bind-resolve at once", async () => {
    const before = await discover(provider);
    expect(before.hidden).toBe(0);
    expect(before.notice).toBeNull();
    const serviceLabels = before.resources.filter((r) => r.display_label.toLowerCase().includes("service"));
    expect(serviceLabels.length).toBeGreaterThan(3);
    const ambiguous = await resolve(provider, "service");
    expect(ambiguous.match_type).toBe("candidates");
    expect(ambiguous.hidden_by_curation).toBe(0);

    const rules = [{ effect: "exclude", match: "pattern", pattern: "*service*" }];
    const planned = await preview(provider, rules);
    expect(planned.newly_hidden).toBeGreaterThanOrEqual(serviceLabels.length);
    expect(planned.rule_matches).toEqual([planned.newly_hidden]);
    const saved = await saveRules(provider, rules);
    expect(saved.counts).toEqual(planned.proposed);

    const after = await discover(provider);
    expect(after.resources.some((r) => r.display_label.toLowerCase().includes("service"))).toBe(false);
    // The preview's counts are the result's.
    expect(after.resources.length).toBe(planned.proposed.offered);
    expect(after.resources.length).toBe(before.resources.length - planned.newly_hidden);
    expect(after.hidden).toBe(planned.proposed.hidden);
    expect(after.notice).toBe(
      `${planned.proposed.hidden} more resources match but are hidden by your team's curation rules; a team admin can change them in the Spec Kitty dashboard.`,
    );

    const curated = await resolve(provider, "service");
    for (const c of curated.candidates) expect(c.display_label.toLowerCase()).not.toContain("service");
    expect(curated.hidden_by_curation).toBeGreaterThan(0);
    expect(curated.curation_notice).toMatch(/more resources? match(es)? but (is|are) hidden/);
    // The notice names no hidden resource.
    for (const r of serviceLabels) expect(curated.curation_notice).not.toContain(r.display_label);

    // Still tracked: the inventory (admin view) keeps every hidden resource, live.
    const rows = await bindableRows(provider);
    expect(
      rows.filter((r: any) => `${r.name} ${r.full_path ?? ""}`.toLowerCase().includes("service")).length,
    ).toBe(planned.newly_hidden);
  });

  it("an include pattern offers only what it names, and a resource's own rule beats the patterns", async () => {
    const rows = await bindableRows(provider);
    const keep = rows.find((r: any) => !`${r.name}`.toLowerCase().includes("service"))!;
    const pinned = rows.find((r: any) => r.id !== keep.id)!;
    const rules = [
      { effect: "include", match: "resource", resource_id: keep.id },
      { effect: "include", match: "pattern", pattern: "no-such-resource-*" },
      { effect: "exclude", match: "resource", resource_id: pinned.id },
    ];
    const planned = await preview(provider, rules);
    expect(planned.proposed.offered).toBe(1);
    await saveRules(provider, rules);
    const after = await discover(provider);
    expect(after.resources.map((r) => r.resource_key)).toEqual([keep.resource_key]);
    expect(after.hidden).toBe(rows.length - 1);
  });
});

describe("kinds recorded by discovery", () => {
  it("GitHub forks: a repository marked a fork upstream is hidden by an exclude-forks rule after its next sync", async () => {
    const rows = await bindableRows("github");
    const target = rows.find((r: any) => r.name === "web")!;
    await t.sim("github", "PUT", `/_sim/resources/${target.native_id}/fork`, { fork: true });
    await t.refresh(installations.get("github")!);
    const rules = [{ effect: "exclude", match: "kind", kind: "fork", value: "fork" }];
    const planned = await preview("github", rules);
    expect(planned.rule_matches).toEqual([1]);
    await saveRules("github", rules);
    const listed = (await discover("github")).resources.map((r) => r.resource_key);
    expect(listed).not.toContain(target.resource_key);
    expect(listed.length).toBe(planned.proposed.offered);
    await saveRules("github", []);
  });

  it("GitLab subgroups and Jira project types are kinds too", async () => {
    const gitlab = await t.call({ method: "GET", url: curationUrl("gitlab"), as: t.admin });
    expect(gitlab.json().kinds.map((k: any) => k.name)).toEqual(["namespace"]);
    const sub = await preview("gitlab", [
      { effect: "exclude", match: "kind", kind: "namespace", value: "subgroup" },
    ]);
    const subgroupRows = (await bindableRows("gitlab")).filter(
      (r: any) => (r.full_path as string).split("/").length > 2,
    );
    expect(sub.rule_matches).toEqual([subgroupRows.length]);

    const jira = await preview("jira", [
      { effect: "include", match: "kind", kind: "project_type", value: "software" },
    ]);
    expect(jira.proposed.offered).toBeGreaterThan(0);
    expect(jira.proposed.offered).toBe(jira.rule_matches[0]);
  });

  it("refuses a kind the provider does not have, naming the field", async () => {
    const res = await post(
      `${curationUrl("jira")}preview/`,
      { rules: [{ effect: "exclude", match: "kind", kind: "fork", value: "fork" }] },
      { as: t.admin },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error_code: "validation_error" });
    expect(res.json().fields[0].field).toBe("body.rules[0].kind");
  });
});

describe("single-resource inventory updates", () => {
  it("a resource written on its own (the admin repair lookup) is curated by the same rules at once", async () => {
    const provider: SimProvider = "gitlab";
    await saveRules(provider, [{ effect: "exclude", match: "pattern", pattern: "curated-solo-*" }]);
    const created = await t.sim(provider, "POST", "/_sim/resources", {
      name: "curated-solo-1",
      type: "project",
    });
    const looked = await post(
      "/api/v1/mappings/repair-lookup/",
      { installation_id: installations.get(provider), native_id: String(created.id) },
      { as: t.admin },
    );
    expect(looked.statusCode, looked.body).toBe(200);
    const row = looked.json();
    const listed = await discover(provider);
    expect(listed.resources.some((r) => r.resource_key === row.resource_key)).toBe(false);
    expect(
      (await t.call({ method: "GET", url: curationUrl(provider), as: t.admin })).json().counts.hidden,
    ).toBe(1);
    await saveRules(provider, []);
    expect((await discover(provider)).resources.some((r) => r.resource_key === row.resource_key)).toBe(true);
  });
});

describe("a mapped resource that becomes hidden", () => {
  it("still pulls and pushes, still resolves as the project's mapping, and is flagged to admins", async () => {
    const provider: SimProvider = "github";
    const rows = await bindableRows(provider);
    const target = rows.find((r: any) => r.name === "mobile-app")!;
    const listed = (await discover(provider)).resources.find((r) => r.resource_key === target.resource_key);
    const id = identity("curated-mobile");
    const bound = await post(
      "/api/v1/tracker/bind-confirm/",
      { provider, candidate_token: listed.candidate_token, project_identity: id },
      { key: key() },
    );
    expect(bound.statusCode, bound.body).toBe(200);
    const ref = bound.json().binding_ref;

    await saveRules(provider, [{ effect: "exclude", match: "resource", resource_id: target.id }]);
    const curation = (await t.call({ method: "GET", url: curationUrl(provider), as: t.admin })).json();
    expect(curation.counts.hidden_mapped).toBe(1);
    expect(curation.hidden_mappings).toEqual([
      { binding_ref: ref, display_label: target.display_label, project_slug: "curated-mobile" },
    ]);

    const title = "Pushed while hidden";
    const push = await post(
      "/api/v1/tracker/push/",
      { provider, binding_ref: ref, items: [{ wp_id: "WP01", action: "create", patch: { title } }] },
      { key: key() },
    );
    expect(push.statusCode, push.body).toBe(200);
    expect(push.json().items[0].outcome).toBe("created");
    const pull = await post("/api/v1/tracker/pull/", { provider, binding_ref: ref, limit: 100 });
    expect(pull.statusCode, pull.body).toBe(200);
    expect(pull.json().items.map((i: any) => i.title)).toContain(title);

    const again = await post("/api/v1/tracker/bind-resolve/", { provider, project_identity: id });
    expect(again.json()).toMatchObject({ match_type: "exact", binding_ref: ref });
    // A rename upstream still reaches the hidden resource's mapping (it is tracked, just not offered).
    expect((await discover(provider)).resources.some((r) => r.resource_key === target.resource_key)).toBe(
      false,
    );
    await saveRules(provider, []);
  });

  it("a candidate token minted before a rule hid its resource binds nothing", async () => {
    const provider: SimProvider = "linear";
    const listed = (await discover(provider)).resources.find((r) => r.binding_ref === null)!;
    const row = (await bindableRows(provider)).find((r: any) => r.resource_key === listed.resource_key)!;
    await saveRules(provider, [{ effect: "exclude", match: "resource", resource_id: row.id }]);
    const res = await post(
      "/api/v1/tracker/bind-confirm/",
      { provider, candidate_token: listed.candidate_token, project_identity: identity("late-token") },
      { key: key() },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error_code).toBe("invalid_candidate_token");
    await saveRules(provider, []);
  });
});

describe("rules belong to the team", () => {
  it("another team's admin can neither read, preview nor edit them; a member cannot either", async () => {
    const url = curationUrl("gitlab");
    const rules = { rules: [{ effect: "exclude", match: "pattern", pattern: "*" }] };
    for (const as of [t.outsider]) {
      expect((await t.call({ method: "GET", url, as })).statusCode).toBe(404);
      expect((await t.call({ method: "PUT", url, as, payload: rules })).statusCode).toBe(404);
      expect((await post(`${url}preview/`, rules, { as })).statusCode).toBe(404);
    }
    expect((await t.call({ method: "GET", url, as: t.member })).statusCode).toBe(403);
    expect((await t.call({ method: "PUT", url, as: t.member, payload: rules })).statusCode).toBe(403);
    // Nothing changed for this team.
    expect((await t.call({ method: "GET", url, as: t.admin })).json().rules).toEqual([]);
  });

  it("a second team's rules apply to its own installation only, and neither team reaches the other's", async () => {
    const theirs = (await t.connect("linear", t.outsider)).installationId;
    const url = `/api/v1/installations/${theirs}/curation/`;
    const hideAll = { rules: [{ effect: "exclude", match: "pattern", pattern: "**" }] };
    const put = await t.call({ method: "PUT", url, as: t.outsider, payload: hideAll });
    expect(put.statusCode, put.body).toBe(200);
    const theirList = await t.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=linear",
      as: t.outsider,
    });
    expect(theirList.json().resources).toEqual([]);
    expect(theirList.json().hidden_by_curation).toBe(put.json().counts.hidden);
    expect(put.json().counts.hidden).toBeGreaterThan(0);

    // This team's Linear list is untouched, and its admin cannot read or change the other team's rules.
    const ours = await discover("linear");
    expect(ours.hidden).toBe(0);
    expect(ours.resources.length).toBeGreaterThan(0);
    expect((await t.call({ method: "GET", url, as: t.admin })).statusCode).toBe(404);
    expect((await t.call({ method: "PUT", url, as: t.admin, payload: { rules: [] } })).statusCode).toBe(404);
    expect((await t.call({ method: "GET", url, as: t.outsider })).json().rules).toHaveLength(1);
  });

  it("every save is audited with the rules before and after", async () => {
    await saveRules("azure_devops", [{ effect: "exclude", match: "pattern", pattern: "legacy-*" }]);
    await saveRules("azure_devops", []);
    const res = await t.call({
      method: "GET",
      url: "/api/v1/audit-events/?action=curation.rules_changed&limit=50",
      as: t.admin,
    });
    // Newest first: the clearing save, then the one that added the rule.
    const [cleared, added] = res
      .json()
      .items.filter((e: any) => e.target_id === installations.get("azure_devops"));
    expect(added.after.rules).toEqual([
      {
        effect: "exclude",
        match: "pattern",
        pattern: "legacy-*",
        kind: null,
        value: null,
        resource_id: null,
      },
    ]);
    expect(cleared.before.rules).toEqual([
      expect.objectContaining({ effect: "exclude", match: "pattern", pattern: "legacy-*" }),
    ]);
    expect(cleared.after.rules).toEqual([]);
    expect(cleared.actor_user_id).toBe(t.admin.userId);
  });
});
