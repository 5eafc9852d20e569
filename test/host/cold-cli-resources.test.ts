import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { eq } from "drizzle-orm";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type App, buildApp } from "../../src/app/server.ts";
import { providerSettingsFor } from "../../src/demo/simulated.ts";
import { TOKEN_REUSE_MS } from "../../src/host/inventory/listing.ts";
import { createLogger } from "../../src/host/logger.ts";
import { randomVault } from "../../src/host/secrets/vault.ts";
import type { SimProvider } from "../../src/simulators/index.ts";
import { resources } from "../../src/storage/schema.ts";
import type { Actor } from "../support/app.ts";
import { copyResource } from "../support/inventory.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * `tracker discover` of a team this process keeps no snapshot of (`snapshotCacheBytes: 0`): answered
 * from indexed SQL, the whole list sent from a gzip file on disk. Another app over the same database
 * with the default cache (the team warm) is the reference: both must give the same answers, and every
 * change must show on the cold app's very next request.
 */
const vault = randomVault();
const PROVIDERS: SimProvider[] = ["github", "gitlab", "jira", "linear"];
let t: SimulatedApp;
let cold: App;
let coldDir: string;
const installations = new Map<SimProvider, string>();

async function coldApp(listingCache: { bytes?: number; dir: string }) {
  return buildApp({
    database: t.database,
    logger: createLogger({ level: "silent" }),
    vault,
    settings: providerSettingsFor(t.sims),
    worker: false,
    snapshotCacheBytes: 0,
    listingCache,
  });
}

beforeAll(async () => {
  t = await createSimulatedApp({ providers: PROVIDERS, vault });
  for (const p of PROVIDERS) installations.set(p, (await t.connect(p)).installationId);
  // Past what one simulator page holds, and labels that sort apart from their insertion order.
  const [seed] = await t.database.db
    .select({ id: resources.id })
    .from(resources)
    .where(eq(resources.installationId, installations.get("github") as string))
    .limit(1);
  await copyResource(t.database.db, seed.id, 300);
  coldDir = await mkdtemp(join(tmpdir(), "cold-listing-test-"));
  cold = await coldApp({ dir: coldDir });
});
afterAll(async () => {
  await cold?.server.close();
  await t?.close();
  if (coldDir) await rm(coldDir, { recursive: true, force: true });
});

type Call = InjectOptions & { as?: Actor };
const via = (app: App["server"]) => (opts: Call) =>
  app.inject({ ...opts, headers: { ...opts.as?.headers, ...opts.headers } } as InjectOptions);
const warmCall = (opts: Call) => t.call(opts);
const coldCall = (opts: Call) => via(cold.server)(opts);

const listUrl = (p: SimProvider, query = "") => `/api/v1/tracker/resources/?provider=${p}${query}`;

/** A listing's JSON, read as the CLI's httpx reads it (gzip) or as a client without gzip. */
async function list(call: (o: Call) => Promise<any>, p: SimProvider, query = "", gzip = true) {
  const res = await call({
    method: "GET",
    url: listUrl(p, query),
    as: t.member,
    headers: gzip ? { "accept-encoding": "gzip" } : {},
  });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  if (gzip) expect(res.headers["content-encoding"]).toBe("gzip");
  else expect(res.headers["content-encoding"]).toBeUndefined();
  const text = gzip ? gunzipSync(res.rawPayload).toString() : res.body;
  return JSON.parse(text);
}

/** The team's resource a candidate token names, verified as bind-confirm verifies it. */
async function resourceOf(token: string, provider: SimProvider) {
  const claims = await t.services.candidates.verify(token, { teamId: t.team.id, provider }, async (id) => {
    const row = await t.services.inventory.resource(t.team.id, id);
    return row && { installationId: row.installationId, provider: row.provider };
  });
  return claims.resourceId;
}

/** A listing with its tokens replaced by the resources they verify to. */
async function verified(body: any, provider: SimProvider) {
  const items = [];
  for (const r of body.resources) {
    const { candidate_token, ...rest } = r;
    items.push({ ...rest, resource: await resourceOf(candidate_token, provider) });
  }
  return { ...body, resources: items };
}

/** Every page at `limit` from both apps, compared page by page (cursors included). */
async function samePages(p: SimProvider, limit: number) {
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q = `&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
    const warm = await list(warmCall, p, q);
    const coldPage = await list(coldCall, p, q, pages % 2 === 0);
    expect(await verified(coldPage, p)).toEqual(await verified(warm, p));
    cursor = warm.next_cursor;
    pages++;
  } while (cursor);
  return pages;
}

async function sameWholeList(p: SimProvider) {
  const warm = await list(warmCall, p);
  const zipped = await list(coldCall, p);
  const plain = await list(coldCall, p, "", false);
  expect(await verified(zipped, p)).toEqual(await verified(warm, p));
  // The same file, decompressed for a client that does not take gzip: the same tokens too.
  expect(plain).toEqual(zipped);
  return zipped;
}

const post = (url: string, payload: object) =>
  t.call({
    method: "POST",
    url,
    as: t.member,
    payload,
    headers: { "idempotency-key": `logical-operation:write:${randomUUID().replace(/-/g, "")}` },
  });

async function saveRules(p: SimProvider, rules: object[]) {
  const res = await t.call({
    method: "PUT",
    url: `/api/v1/installations/${installations.get(p)}/curation/`,
    as: t.admin,
    payload: { rules },
  });
  expect(res.statusCode, res.body).toBe(200);
}

/** Bytes and names of the listing files under `dir`. */
async function filesUnder(dir: string) {
  const found: { name: string; bytes: number }[] = [];
  for (const sub of await readdir(dir)) {
    for (const name of await readdir(join(dir, sub)))
      found.push({ name, bytes: (await stat(join(dir, sub, name))).size });
  }
  return found;
}

describe("tracker/resources/ of a team without a snapshot", () => {
  it("the whole list is the warm answer, in the same label order, for gzip and identity clients", async () => {
    for (const p of PROVIDERS) {
      const body = await sameWholeList(p);
      expect(body.resources.length).toBeGreaterThan(0);
      expect(body).toMatchObject({ has_more: false, next_cursor: null, hidden_by_curation: 0 });
    }
    expect((await list(coldCall, "github")).resources.length).toBeGreaterThan(300);
    // Sent from its file, with its length, and named as varying by encoding.
    const res = await coldCall({
      method: "GET",
      url: listUrl("github"),
      as: t.member,
      headers: { "accept-encoding": "gzip" },
    });
    expect(Number(res.headers["content-length"])).toBe(res.rawPayload.length);
    expect(res.headers.vary).toBe("accept-encoding");
    // A client without gzip gets the file's decompressed copy, made once, with its length too.
    const plain = await coldCall({ method: "GET", url: listUrl("github"), as: t.member });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(Number(plain.headers["content-length"])).toBe(plain.rawPayload.length);
    expect(plain.json()).toEqual(JSON.parse(gunzipSync(res.rawPayload).toString()));
  });

  it("pages with limit and cursor are the warm pages, cursors and has_more included", async () => {
    expect(await samePages("github", 50)).toBeGreaterThan(5);
    expect(await samePages("gitlab", 7)).toBeGreaterThan(1);
  });

  it("a bind shows on the next cold list, and the bound row is the warm one", async () => {
    const before = await list(coldCall, "github");
    const target = before.resources[3];
    const bound = await post("/api/v1/tracker/bind-confirm/", {
      provider: "github",
      candidate_token: target.candidate_token,
      project_identity: {
        uuid: randomUUID(),
        slug: "cold-bound",
        node_id: "a1b2c3d4e5f6",
        repo_slug: null,
        build_id: null,
      },
    });
    expect(bound.statusCode, bound.body).toBe(200);
    const after = await sameWholeList("github");
    const row = after.resources.find((r: any) => r.resource_key === target.resource_key);
    expect(row).toMatchObject({
      binding_ref: bound.json().binding_ref,
      bound_project_slug: "cold-bound",
    });
    expect(row.bound_at).toMatch(/^\d{4}-/);
    await samePages("github", 100);
  });

  it("a rename by a refresh shows on the next cold list, in its new place", async () => {
    const before = await list(coldCall, "gitlab");
    const ws = String(t.sims.gitlab.store.workspaces.keys().next().value);
    const all = (await t.sim("gitlab", "GET", `/_sim/resources?workspace_id=${encodeURIComponent(ws)}`))
      .resources;
    const r = all.find((x: any) => !x.archived && !x.issues_disabled && x.path);
    await t.sim("gitlab", "PATCH", `/_sim/resources/${r.id}`, {
      name: "AAA renamed",
      path: `${r.path.split("/").slice(0, -1).join("/")}/aaa-renamed`,
    });
    expect((await t.refresh(installations.get("gitlab") as string)).status).toBe("completed");
    const after = await sameWholeList("gitlab");
    const labels = (b: any) => new Map(b.resources.map((x: any) => [x.resource_key, x.display_label]));
    const was = labels(before);
    const changed = [...labels(after)].filter(([k, label]) => was.get(k) !== label);
    expect(changed).toHaveLength(1);
    expect(String(changed[0][1]).toLowerCase()).toContain("renamed");
  });

  it("curation rules hide the same rows with the same counts, and moving them shows at once", async () => {
    await list(coldCall, "github");
    await saveRules("github", [{ effect: "exclude", match: "pattern", pattern: "*copy1-1*" }]);
    const hidden = await sameWholeList("github");
    expect(hidden.hidden_by_curation).toBeGreaterThan(10);
    expect(hidden.curation_notice).toMatch(/hidden by your team's curation rules/);
    await samePages("github", 60);
    await saveRules("github", [{ effect: "include", match: "pattern", pattern: "*copy1-2*" }]);
    const included = await sameWholeList("github");
    expect(included.resources.length).toBeGreaterThan(10);
    expect(included.resources.every((r: any) => r.display_label.includes("copy1-2"))).toBe(true);
    await samePages("github", 9);
    await saveRules("github", []);
    expect((await sameWholeList("github")).hidden_by_curation).toBe(0);
  });

  it("a listing is sent again from its file while its tokens are young, and rebuilt with the token batch", async () => {
    const first = await list(coldCall, "jira");
    const again = await list(coldCall, "jira");
    expect(again.resources.map((r: any) => r.candidate_token)).toEqual(
      first.resources.map((r: any) => r.candidate_token),
    );
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + TOKEN_REUSE_MS + 1_000 });
    try {
      const later = await list(coldCall, "jira");
      expect(later.resources[0].candidate_token).not.toBe(first.resources[0].candidate_token);
      const exp = (tok: string) => Number.parseInt(tok.split(".")[1], 36) * 1000;
      // Fresh tokens: their 15 minutes start now.
      expect(exp(later.resources[0].candidate_token)).toBeGreaterThanOrEqual(Date.now() + 14 * 60_000);
      expect(await verified(later, "jira")).toEqual(await verified(first, "jira"));
    } finally {
      vi.useRealTimers();
    }
  });

  it("listings past the disk budget evict the least recently used files", async () => {
    // The size of each provider's file, from an app of its own.
    const probeDir = await mkdtemp(join(tmpdir(), "cold-listing-probe-"));
    const probe = await coldApp({ dir: probeDir });
    const sizes: number[] = [];
    for (const p of PROVIDERS) {
      const seen = new Set((await filesUnder(probeDir)).map((f) => f.name));
      await via(probe.server)({
        method: "GET",
        url: listUrl(p),
        as: t.member,
        headers: { "accept-encoding": "gzip" },
      });
      sizes.push(...(await filesUnder(probeDir)).filter((f) => !seen.has(f.name)).map((f) => f.bytes));
    }
    await probe.server.close();
    await rm(probeDir, { recursive: true, force: true });
    expect(sizes).toHaveLength(PROVIDERS.length);
    const dir = await mkdtemp(join(tmpdir(), "cold-listing-budget-"));
    // Room for the two largest listings, not for all four.
    const largest = sizes.sort((a, b) => b - a);
    const budget = largest[0] + largest[1];
    const small = await coldApp({ dir, bytes: budget });
    let written = 0;
    try {
      for (let round = 0; round < 2; round++)
        for (const p of PROVIDERS) {
          const res = await via(small.server)({
            method: "GET",
            url: listUrl(p),
            as: t.member,
            headers: { "accept-encoding": "gzip" },
          });
          expect(res.statusCode).toBe(200);
          expect(JSON.parse(gunzipSync(res.rawPayload).toString()).resources.length).toBeGreaterThan(0);
          const files = await filesUnder(dir);
          expect(files.reduce((n, f) => n + f.bytes, 0)).toBeLessThanOrEqual(budget);
          expect(files.length).toBeLessThan(PROVIDERS.length);
          expect(files.length).toBeGreaterThan(0);
          // Files are numbered as written: the ones kept are the newest.
          const numbers = files.map((f) => Number.parseInt(f.name, 10)).sort((a, b) => a - b);
          written++;
          expect(numbers).toEqual(numbers.map((_, i) => written - numbers.length + 1 + i));
        }
      // Clients without gzip: each file's plain copy counts against the budget too.
      for (const p of PROVIDERS) {
        const res = await via(small.server)({ method: "GET", url: listUrl(p), as: t.member });
        expect(res.statusCode).toBe(200);
        expect(res.json().resources.length).toBeGreaterThan(0);
        const files = await filesUnder(dir);
        expect(files.reduce((n, f) => n + f.bytes, 0)).toBeLessThanOrEqual(budget);
      }
    } finally {
      await small.server.close();
    }
    try {
      // Closing the app removed its directory of files.
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a disk that refuses the file still answers the whole list, from memory", async () => {
    // Its parent is a regular file: no directory can be made there.
    const notADir = join(coldDir, "..", `cold-listing-not-a-dir-${randomUUID()}`);
    await writeFile(notADir, "");
    const refused = await coldApp({ dir: notADir });
    try {
      for (const gzip of [true, false]) {
        const res = await via(refused.server)({
          method: "GET",
          url: listUrl("github"),
          as: t.member,
          headers: gzip ? { "accept-encoding": "gzip" } : {},
        });
        expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
        const body = JSON.parse(gzip ? gunzipSync(res.rawPayload).toString() : res.body);
        expect(await verified(body, "github")).toEqual(
          await verified(await list(warmCall, "github"), "github"),
        );
      }
    } finally {
      await refused.server.close();
      await rm(notADir, { force: true });
    }
  });

  it("a disconnected installation and a provider never connected are the warm errors", async () => {
    const res = await t.call({
      method: "DELETE",
      url: `/api/v1/installations/${installations.get("linear")}/?confirm=${installations.get("linear")}`,
      as: t.admin,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    for (const p of ["linear", "azure_devops"] as const) {
      const warm = await warmCall({ method: "GET", url: listUrl(p), as: t.member });
      const coldRes = await coldCall({ method: "GET", url: listUrl(p), as: t.member });
      expect(warm.statusCode).toBeGreaterThanOrEqual(400);
      expect(coldRes.statusCode).toBe(warm.statusCode);
      const { request_id: _a, ...w } = warm.json();
      const { request_id: _b, ...c } = coldRes.json();
      expect(c).toEqual(w);
      expect(w.error_code).toBe("no_installation");
    }
  });
});
