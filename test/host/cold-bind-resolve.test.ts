import { randomUUID } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app/server.ts";
import { providerSettingsFor } from "../../src/demo/simulated.ts";
import { targetNames } from "../../src/host/binding/ranking.ts";
import { createLogger } from "../../src/host/logger.ts";
import { createMetrics } from "../../src/host/metrics/registry.ts";
import { randomVault } from "../../src/host/secrets/vault.ts";
import type { SimProvider } from "../../src/simulators/index.ts";
import { installations, resources } from "../../src/storage/schema.ts";
import { createHttpClient } from "../../src/tracker/index.ts";
import { copyResource } from "../support/inventory.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * bind-resolve for a team a process keeps no snapshot of (SNAPSHOT_CACHE_MB=0, or not admitted) is
 * answered from indexed SQL over the few rows that can match. Two app instances over one database, one
 * with the default snapshot cache and one with none, must give the same answer to every identity: on
 * PGlite and on PostgreSQL.
 */
let t: SimulatedApp;
let cold: FastifyInstance;
const coldMetrics = createMetrics();
const vault = randomVault();
const installationOf: Partial<Record<SimProvider, string>> = {};

/** Resources whose names exercise every stage of the ranking (created upstream, then refreshed). */
const NAMED: Partial<Record<SimProvider, { name: string; path?: string; key?: string }[]>> = {
  github: [
    { name: "Spec-Kitty" },
    { name: "spec_kitty_cli" },
    { name: "tracker" },
    { name: "Data_Pipeline" },
    { name: "tooling.git" },
    { name: "Ünïcode-Ëxample" },
    { name: "\u212Aelvin-scale" },
    { name: "gamma-ray-burst" },
    { name: "bound-one" },
    { name: "bound-two" },
    { name: "100%-done" },
    ...Array.from({ length: 30 }, (_, i) => ({ name: `widget-${String(i).padStart(2, "0")}` })),
  ],
  gitlab: [
    { name: "misc", path: "platform-tools/misc" },
    { name: "spec-kitty", path: "elsewhere/spec-kitty" },
    { name: "Spec-Kitty", path: "other-group/spec-kitty" },
    { name: "docs", path: "platform-tools/docs" },
  ],
};

beforeAll(async () => {
  t = await createSimulatedApp({ providers: ["github", "gitlab", "linear"], vault, generatedResources: 0 });
  for (const [provider, named] of Object.entries(NAMED) as [SimProvider, { name: string }[]][])
    for (const r of named) await t.sim(provider, "POST", "/_sim/resources", r);
  for (const provider of ["github", "gitlab", "linear"] as SimProvider[])
    installationOf[provider] = (await t.connect(provider)).installationId;
  ({ server: cold } = await buildApp({
    database: t.database,
    logger: createLogger({ level: "silent" }),
    vault,
    settings: providerSettingsFor(t.sims),
    http: createHttpClient(),
    worker: false,
    snapshotCacheBytes: 0,
    metrics: coldMetrics,
  }));
}, 120_000);
afterAll(async () => {
  await cold?.close();
  await t?.close();
});

const identity = (slug: string, repoSlug: string | null = null, uuid: string = randomUUID()) => ({
  uuid,
  slug,
  node_id: "a1b2c3d4e5f6",
  repo_slug: repoSlug,
  build_id: null,
});
type Identity = ReturnType<typeof identity>;

async function resolveOn(server: FastifyInstance, provider: SimProvider, id: Identity) {
  const res = await server.inject({
    method: "POST",
    url: "/api/v1/tracker/bind-resolve/",
    headers: t.admin.headers,
    payload: { provider, project_identity: id },
  });
  return { status: res.statusCode, body: res.json() };
}

/** A candidate token names its resource; its expiry and MAC bytes may differ between the two answers. */
const resourceOfToken = (token: string | null) => (token ? token.split(".")[0] : null);
function comparable(answer: { status: number; body: any }) {
  const b = answer.body;
  if (answer.status !== 200) return { status: answer.status, error: b.error_code, message: b.message };
  return {
    ...b,
    candidate_token: resourceOfToken(b.candidate_token),
    candidates: b.candidates.map((c: any) => ({ ...c, candidate_token: resourceOfToken(c.candidate_token) })),
  };
}

const snapshotBuilds = async () => {
  const metric = coldMetrics.registry.getSingleMetric("skt_inventory_snapshot_builds_total");
  const values = (await metric?.get())?.values ?? [];
  return values.reduce((n, v) => n + v.value, 0);
};

/** The answer of both instances, checked equal; the cold one's. */
async function expectSameAnswer(provider: SimProvider, id: Identity) {
  const warm = await resolveOn(t.server, provider, id);
  const coldAnswer = await resolveOn(cold, provider, id);
  expect(comparable(coldAnswer), `${provider} ${id.slug} ${id.repo_slug}`).toEqual(comparable(warm));
  return coldAnswer;
}

const IDENTITIES: [SimProvider, string, string | null][] = [
  ["github", "spec-kitty", null], // exact name (and a name containing it)
  ["github", "SPEC-KITTY", null], // upper case
  ["github", "spec_kitty_cli", null], // `_` is a separator
  ["github", "data-pipeline", null],
  ["github", "tooling", null], // `.git` dropped
  ["github", "ünïcode-ëxample", null], // non-ASCII letters are separators
  ["github", "elvin-scale", null], // the Kelvin sign is not a `k`
  ["github", "kelvin-scale", null],
  ["github", "widget", null], // more names contain it than are offered
  ["github", "widget-1", null],
  ["github", "wid%get", null], // LIKE metacharacters are plain text
  ["github", "wid_get", null],
  ["github", "100%", null],
  ["github", "spec-kitty-tracker-suite", null], // names contained in the slug
  ["github", "alpha-gamma-zeta", null], // only a word matches
  ["github", "zzqx", null], // nothing
  ["github", "ab", null], // too short to scan
  ["github", `${"very-long-slug-".repeat(6)}tracker`, null], // word-aligned parts
  ["github", "kitty-app", "elsewhere/spec-kitty"], // repo name in another namespace
  ["gitlab", "platform-tools", null], // paths contain it
  ["gitlab", "spec-kitty", "elsewhere/spec-kitty"], // repo_slug is a full path
  ["gitlab", "spec-kitty", null], // two high matches: candidates
  ["gitlab", "misc", "platform-tools/misc"],
  ["linear", "zzqx", null], // a small inventory: everything is offered
  ["linear", "eng", null],
];

/** bind-confirm of a candidate token for a project, as the CLI sends it. */
const bindConfirm = (provider: string, candidateToken: string, project: unknown) =>
  t.call({
    method: "POST",
    url: "/api/v1/tracker/bind-confirm/",
    as: t.admin,
    headers: { "idempotency-key": randomUUID() },
    payload: { provider, candidate_token: candidateToken, project_identity: project },
  });

describe("bind-resolve without a snapshot", () => {
  it("the normalised names the database stores are byte for byte the ranking's", async () => {
    const [from] = await t.database.db
      .select({ id: resources.id })
      .from(resources)
      .where(eq(resources.installationId, installationOf.github as string))
      .limit(1);
    const odd = [
      ["Ünïcode Ëxample", "K\u212Aey", "Org/Ünï/Repo.GIT"],
      ["\u0130stanbul_ß", null, "a//b/"],
      ["--lead--trail--", "__x__", "/"],
      ["tab\tand\nnewline 😀", "A.git.git", "x.git/y.git"],
      ["100%_done\\x", "%", null],
    ] as const;
    const ids = odd.map((_, i) => `res_norm_${i}_${randomUUID().slice(0, 8)}`);
    await t.database.db.execute(sql`
      insert into resources (id, team_id, installation_id, provider, resource_key, resource_type, native_id,
        label, key, name, full_path, web_url, context, connector_params, routing_metadata, search_text, fingerprint)
      select v.id, team_id, installation_id, provider, v.id, resource_type, v.id, v.name, v.key, v.name,
        v.path, web_url, context, connector_params, routing_metadata, search_text, fingerprint
      from resources, (values ${sql.join(
        odd.map(([name, key, path], i) => sql`(${ids[i]}, ${name}, ${key}::text, ${path}::text)`),
        sql`, `,
      )}) v(id, name, key, path) where resources.id = ${from.id}`);
    const stored = await t.database.db
      .select({
        id: resources.id,
        name: resources.name,
        key: resources.key,
        fullPath: resources.fullPath,
        bindName: resources.bindName,
        bindKey: resources.bindKey,
        bindPath: resources.bindPath,
        bindLast: resources.bindLast,
      })
      .from(resources)
      .where(inArray(resources.id, ids));
    await t.database.db.delete(resources).where(inArray(resources.id, ids));
    expect(stored).toHaveLength(odd.length);
    for (const r of stored)
      expect({ name: r.bindName, key: r.bindKey, path: r.bindPath, last: r.bindLast }, r.name).toEqual(
        targetNames(r),
      );
  });

  it("answers every kind of identity as the snapshot does, without building one", async () => {
    const before = await snapshotBuilds();
    for (const [provider, slug, repo] of IDENTITIES) await expectSameAnswer(provider, identity(slug, repo));
    expect(await snapshotBuilds()).toBe(before);
    // The cases above are not all `none`: they reach every stage.
    const exact = await resolveOn(cold, "github", identity("spec-kitty"));
    expect(exact.body).toMatchObject({
      match_type: "exact",
      display_label: expect.stringMatching(/Spec-Kitty$/),
    });
    const widgets = await resolveOn(cold, "github", identity("widget"));
    expect(widgets.body.candidates).toHaveLength(20);
    const small = await resolveOn(cold, "linear", identity("zzqx"));
    expect(small.body.candidates[0]?.match_reason).toBe(
      "no name evidence; one of the few bindable resources",
    );
    const words = await resolveOn(cold, "github", identity("alpha-gamma-zeta"));
    expect(words.body.candidates.map((c: any) => c.display_label)).toEqual([
      expect.stringMatching(/gamma-ray-burst$/),
    ]);
  });

  it("answers identities derived from every resource name as the snapshot does", async () => {
    const named = await t.database.db
      .select({ provider: resources.provider, name: resources.name, fullPath: resources.fullPath })
      .from(resources)
      .where(eq(resources.teamId, t.team.id));
    const before = await snapshotBuilds();
    for (const r of named) {
      const provider = r.provider as SimProvider;
      const n = r.name;
      for (const [slug, repo] of [
        [n, null],
        [n.slice(0, Math.max(3, Math.floor(n.length / 2))), null],
        [n.slice(1, -1), null],
        [`${n}-extra-words`, null],
        [`prefix-${n.toUpperCase()}`, r.fullPath],
        ["unrelated", r.fullPath],
      ] as [string, string | null][])
        await expectSameAnswer(provider, identity(slug, repo));
    }
    expect(await snapshotBuilds()).toBe(before);
  });

  it("an exact match builds no snapshot", async () => {
    await resolveOn(cold, "github", identity("tracker")); // bindings of the team read once
    const before = await snapshotBuilds();
    const answer = await resolveOn(cold, "github", identity("tracker"));
    expect(answer.body).toMatchObject({
      match_type: "exact",
      display_label: expect.stringMatching(/tracker$/),
    });
    expect(await snapshotBuilds()).toBe(before);
  });

  it("a bind through one instance is the cold instance's existing mapping on its next request; the bound resource is offered no more", async () => {
    const project = identity("bound-one");
    const offered = await expectSameAnswer("github", project);
    expect(offered.body.match_type).toBe("exact");
    const bound = await bindConfirm("github", offered.body.candidate_token, project);
    expect(bound.statusCode, bound.body).toBe(200);
    const again = await expectSameAnswer("github", project);
    expect(again.body).toMatchObject({ match_type: "exact", binding_ref: bound.json().binding_ref });
    // Another project with the same slug: the bound resource is no candidate.
    const other = await expectSameAnswer("github", identity("bound-one"));
    expect(other.body.candidate_token).not.toBe(resourceOfToken(offered.body.candidate_token));
    await expectSameAnswer("github", identity("bound"));
  });

  it("a curation rule saved through one instance hides matches from the cold one at once, counted", async () => {
    const url = `/api/v1/installations/${installationOf.github}/curation/`;
    const save = (rules: object[]) => t.call({ method: "PUT", url, as: t.admin, payload: { rules } });
    const project = identity("widget-12");
    const offered = await resolveOn(cold, "github", project);
    expect(offered.body.match_type).toBe("exact");
    expect((await save([{ effect: "exclude", match: "pattern", pattern: "*widget-1*" }])).statusCode).toBe(
      200,
    );
    try {
      const before = await snapshotBuilds();
      // A token minted before the rule binds nothing through the cold instance either.
      const refused = await cold.inject({
        method: "POST",
        url: "/api/v1/tracker/bind-confirm/",
        headers: { ...t.admin.headers, "idempotency-key": randomUUID() },
        payload: {
          provider: "github",
          candidate_token: offered.body.candidate_token,
          project_identity: project,
        },
      });
      expect(refused.json()).toMatchObject({ error_code: "invalid_candidate_token" });
      expect(refused.json().message).toContain("curation rules now hide");
      const widgets = await expectSameAnswer("github", identity("widget"));
      expect(widgets.body.hidden_by_curation).toBe(10);
      for (const [provider, slug, repo] of IDENTITIES) await expectSameAnswer(provider, identity(slug, repo));
      expect(await snapshotBuilds()).toBe(before);
    } finally {
      expect((await save([])).statusCode).toBe(200);
    }
    expect((await resolveOn(cold, "github", identity("widget"))).body.hidden_by_curation).toBe(0);
  });

  it("a scan cut by its limit before enough rows are offered answers from a full build, the same answer", async () => {
    const [widget] = await t.database.db
      .select({ id: resources.id })
      .from(resources)
      .where(eq(resources.name, "widget-00"));
    // 120 copies sorting right after widget-00, all hidden: the first 100 names holding "widget" offer one.
    await copyResource(t.database.db, widget.id, 120);
    const url = `/api/v1/installations/${installationOf.github}/curation/`;
    const save = (rules: object[]) => t.call({ method: "PUT", url, as: t.admin, payload: { rules } });
    expect((await save([{ effect: "exclude", match: "pattern", pattern: "*-copy*" }])).statusCode).toBe(200);
    try {
      const before = await snapshotBuilds();
      const widgets = await expectSameAnswer("github", identity("widget"));
      expect(widgets.body).toMatchObject({ match_type: "candidates", hidden_by_curation: 20 });
      expect(await snapshotBuilds()).toBe(before + 1);
      // An exact match still settles on its equal names: no build.
      await expectSameAnswer("github", identity("widget-05"));
      expect(await snapshotBuilds()).toBe(before + 1);
    } finally {
      expect((await save([])).statusCode).toBe(200);
      await t.database.db.delete(resources).where(sql`${resources.name} like 'widget-00-copy%'`);
    }
  });

  it("an upstream rename refreshed through one instance is what the cold one ranks next", async () => {
    const repo = (await t.sim("github", "GET", "/_sim/resources")).resources.find(
      (r: any) => r.name === "gamma-ray-burst",
    );
    await t.sim("github", "PATCH", `/_sim/resources/${repo.id}`, { name: "renamed-cold" });
    expect((await t.refresh(installationOf.github as string)).status).toBe("completed");
    const renamed = await expectSameAnswer("github", identity("renamed-cold"));
    expect(renamed.body).toMatchObject({
      match_type: "exact",
      display_label: expect.stringMatching(/renamed-cold$/),
    });
    expect((await expectSameAnswer("github", identity("gamma-ray-burst"))).body.match_type).not.toBe("exact");
  });

  it("a direct inventory write (as any writer) is seen by the cold instance on its next request", async () => {
    const [row] = await t.database.db
      .select({ id: resources.id })
      .from(resources)
      .where(eq(resources.name, "tracker"));
    await t.database.db.update(resources).set({ archived: true }).where(eq(resources.id, row.id));
    expect((await expectSameAnswer("github", identity("tracker"))).body.match_type).not.toBe("exact");
    await t.database.db.update(resources).set({ archived: false }).where(eq(resources.id, row.id));
    expect((await expectSameAnswer("github", identity("tracker"))).body.match_type).toBe("exact");
  });

  it("a revoked installation answers as the snapshot does: nothing to offer, or installation_revoked for its mapping", async () => {
    const project = identity("misc", "platform-tools/misc");
    const offered = await expectSameAnswer("gitlab", project);
    const bound = await bindConfirm("gitlab", offered.body.candidate_token, project);
    expect(bound.statusCode, bound.body).toBe(200);
    await t.database.db
      .update(installations)
      .set({ status: "revoked" })
      .where(eq(installations.id, installationOf.gitlab as string));
    const refused = await expectSameAnswer("gitlab", project);
    expect(refused).toMatchObject({ status: 403, body: { error_code: "installation_revoked" } });
    expect((await expectSameAnswer("gitlab", identity("spec-kitty"))).body.match_type).toBe("none");
  });
});
