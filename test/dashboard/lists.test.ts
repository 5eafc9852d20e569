import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ListPage, ListRequest } from "../../src/host/http/pagination.ts";
import type { AuthContext } from "../../src/host/teams/access.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * The dashboard's lists over the real services and database (PGlite, or PostgreSQL with
 * TEST_DB_DRIVER=postgres): totals, pages both ways, sorts with ties, typo-tolerant search, and the
 * pages that render them. The browser suite (ui.browser.test.ts) clicks the same controls.
 */
const PASSWORD = "correct horse battery staple";

type Lister<T> = (req: ListRequest) => Promise<ListPage<T>>;

/** Every page forward from the first, then every page backward from the last. */
async function walk<T>(list: Lister<T>, sort: string, size: number) {
  const forward: ListPage<T>[] = [];
  let page = await list({ sort, size });
  forward.push(page);
  while (page.next_cursor) {
    page = await list({ sort, size, cursor: page.next_cursor });
    forward.push(page);
  }
  const backward: ListPage<T>[] = [page];
  while (page.prev_cursor) {
    page = await list({ sort, size, cursor: page.prev_cursor });
    backward.push(page);
  }
  return { forward, backward: backward.reverse() };
}

describe("dashboard lists", () => {
  let app: SimulatedApp;
  let installationId: string;
  let cookie: string;

  const get = (url: string) => app.server.inject({ method: "GET", url, headers: { cookie } });

  beforeAll(async () => {
    app = await createSimulatedApp({ providers: ["gitlab"], generatedResources: 83 });
    ({ installationId } = await app.connect("gitlab"));
    for (let i = 0; i < 7; i++) await app.services.projects.create(app.team.id, { slug: `proj-${i}` });
    const signedIn = await app.services.sessions.signIn({ email: app.admin.email, password: PASSWORD });
    if (!signedIn.ok) throw new Error("sign-in failed");
    cookie = `sk_session=${signedIn.token}`;
  }, 120_000);
  afterAll(() => app?.close());

  const inventory = (req: ListRequest, q?: string) =>
    app.services.inventory.list(
      { teamId: app.team.id, installationId, q, fuzzy: true },
      req as ListRequest<"name">,
    );

  it("pages the inventory forward and back with positions and a total, in every sort", async () => {
    const counts = await app.services.inventory.counts(app.team.id, installationId);
    const total = counts.live + counts.missing;
    expect(total).toBeGreaterThan(83);
    for (const sort of ["name", "name_desc", "newest", "oldest"]) {
      const { forward, backward } = await walk((r) => inventory(r), sort, 25);
      const ids = forward.flatMap((p) => p.items.map((r) => r.id));
      // Each resource exactly once: the ties of one pass's first_seen_at neither repeat nor vanish.
      expect(new Set(ids).size).toBe(total);
      expect(ids.length).toBe(total);
      expect(forward.map((p) => [p.first, p.last, p.total])).toEqual(
        forward.map((_, i) => [i * 25 + 1, Math.min(total, (i + 1) * 25), total]),
      );
      // Previous leads back over the same pages, with the same positions.
      expect(backward.map((p) => p.items.map((r) => r.id))).toEqual(
        forward.map((p) => p.items.map((r) => r.id)),
      );
      expect(backward.map((p) => p.first)).toEqual(forward.map((p) => p.first));
      expect(forward[0].prev_cursor).toBeNull();
      if (sort === "name") {
        const labels = forward.flatMap((p) => p.items.map((r) => r.display_label));
        expect(labels).toEqual([...labels].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      }
      if (sort === "name_desc") {
        const labels = forward.flatMap((p) => p.items.map((r) => r.display_label));
        expect(labels).toEqual([...labels].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
      }
    }
  });

  it("pages projects and mappings the same way", async () => {
    const projectTotal = (await app.services.projects.page(app.team.id, undefined, 200)).items.length;
    for (const sort of ["slug", "slug_desc", "newest", "oldest"]) {
      const { forward, backward } = await walk(
        (r) => app.services.projects.list(app.team.id, r as ListRequest<"slug">),
        sort,
        3,
      );
      const slugs = forward.flatMap((p) => p.items.map((x) => x.slug));
      expect(new Set(slugs).size).toBe(projectTotal);
      expect(forward.at(-1)!.last).toBe(projectTotal);
      expect(backward.map((p) => p.items)).toEqual(forward.map((p) => p.items));
    }
    const unbound = await app.services.inventory.page(
      { teamId: app.team.id, installationId, state: "unbound", q: "service" },
      undefined,
      5,
    );
    for (const [i, r] of unbound.items.slice(0, 5).entries())
      await app.services.mappingAdmin.create(
        await adminAuth(),
        { resource_id: r.id, project_slug: `proj-${i}` },
        "dashboard",
        "req-test",
      );
    for (const sort of ["resource", "resource_desc", "project", "newest", "oldest"]) {
      const { forward, backward } = await walk(
        (r) => app.services.mappings.list({ teamId: app.team.id }, r as ListRequest<"resource">),
        sort,
        2,
      );
      expect(forward.flatMap((p) => p.items).length).toBe(5);
      expect(forward[0].total).toBe(5);
      expect(backward.map((p) => p.items)).toEqual(forward.map((p) => p.items));
    }
  });

  /** The admin as the dashboard acts for them. */
  async function adminAuth(): Promise<AuthContext> {
    const user = (await app.services.teams.findUser(app.admin.userId))!;
    return { user, team: { ...app.team, name: "Acme" }, role: "admin", tokenId: "test" };
  }

  it("finds resources despite a typo in the dashboard, while the API's q stays a substring", async () => {
    const exact = await inventory({ sort: "name", size: 50 }, "billing");
    expect(exact.items.map((r) => r.display_label)).toContain("acme/payments/billing");
    for (const typo of ["bilingg", "blling", "biling"]) {
      const found = await inventory({ sort: "name", size: 50 }, typo);
      expect(
        found.items.map((r) => r.display_label),
        typo,
      ).toContain("acme/payments/billing");
    }
    expect((await inventory({ sort: "name", size: 50 }, "zqxjvw")).total).toBe(0);
    // Short terms match only as substrings: "bil" would otherwise match half the inventory.
    const short = await inventory({ sort: "name", size: 200 }, "bll");
    expect(short.total).toBe(0);
    const api = await app.call({ method: "GET", url: "/api/v1/inventory/?q=bilingg", as: app.admin });
    expect(api.statusCode, api.body).toBe(200);
    expect(api.json().items).toEqual([]);
  });

  it("renders totals, previous and next, sort and page size on the inventory page", async () => {
    const first = await get("/dashboard/inventory?size=25&sort=name");
    expect(first.statusCode).toBe(200);
    const total = (await inventory({ sort: "name", size: 25 })).total;
    expect(first.body).toContain(`1–25 of ${total.toLocaleString("en-US")} resources`);
    expect(first.body).toMatch(/<option value="25" selected>/);
    expect(first.body).toMatch(/<option value="name" selected>/);
    expect(first.body).toContain(
      '<span class="btn btn-small btn-disabled" aria-disabled="true">‹ Previous</span>',
    );
    const next = /href="([^"]+)"[^>]*>Next ›/
      .exec(first.body.replace(/rel="next" /g, ""))![1]
      .replace(/&amp;/g, "&");
    const second = await get(next);
    expect(second.body).toContain(`26–50 of ${total} resources`);
    const prev = /rel="prev" href="([^"]+)"/.exec(second.body)![1].replace(/&amp;/g, "&");
    const back = await get(prev);
    expect(back.body).toContain(`1–25 of ${total} resources`);
    // A cursor of another sort (or a forged one) is refused with a page that says what to do.
    const mixed = await get(next.replace("sort=name", "sort=newest"));
    expect(mixed.statusCode).toBe(400);
    expect(mixed.body).toContain("Start again without");
  });

  it("says why a resource cannot be mapped", async () => {
    const archived = await get(`/dashboard/inventory?installation_id=${installationId}&state=archived`);
    expect(archived.body).toContain("Legacy Portal");
    expect(archived.body).toContain("Cannot be mapped: archived in the provider");
    const all = await get(`/dashboard/inventory?installation_id=${installationId}&q=handbook`);
    expect(all.body).toContain("Cannot be mapped: issues are turned off");
    const bound = await get(`/dashboard/inventory?installation_id=${installationId}&state=bound`);
    expect(bound.body).toContain("Already mapped.");
  });

  it("paginates the projects and mappings pages with totals", async () => {
    const projects = await get("/dashboard/projects?size=25&sort=newest");
    expect(projects.body).toContain("1–7 of 7 projects");
    expect(projects.body.indexOf("proj-6")).toBeLessThan(projects.body.indexOf("proj-0"));
    const mappings = await get("/dashboard/mappings?sort=project");
    expect(mappings.body).toContain("1–5 of 5 mappings");
  });

  it("lists an installation with no good sync for a day as stale, on the overview and its page", async () => {
    const before = await get("/dashboard/");
    expect(before.body).not.toContain('id="installations-attention"');
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000).toISOString();
    await app.database.db.execute(
      sql`update installations set last_success_at = ${twoDaysAgo}, last_sync_at = ${twoDaysAgo} where id = ${installationId}`,
    );
    const overview = await get("/dashboard/");
    const section = /id="installations-attention">[\s\S]*?<\/section>/.exec(overview.body)?.[0];
    expect(section).toContain("Stale");
    expect(section).toContain("No successful sync for more than 24 hours");
    const detail = await get(`/dashboard/installations/${installationId}`);
    expect(detail.body).toContain('id="stale"');
  });

  it("serves /favicon.ico as an icon", async () => {
    const res = await app.server.inject({ method: "GET", url: "/favicon.ico" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("image/x-icon");
    expect([...res.rawPayload.subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);
    expect(res.rawPayload.length).toBeGreaterThan(1000);
  });
});

describe("the overview of a new team, then of a revoked installation", () => {
  let app: SimulatedApp;
  let cookie: string;
  const get = (url: string) => app.server.inject({ method: "GET", url, headers: { cookie } });

  beforeAll(async () => {
    app = await createSimulatedApp({ providers: ["linear"] });
    const signedIn = await app.services.sessions.signIn({ email: app.admin.email, password: PASSWORD });
    if (!signedIn.ok) throw new Error("sign-in failed");
    cookie = `sk_session=${signedIn.token}`;
  }, 60_000);
  afterAll(() => app?.close());

  it("says what to do first, and never that every mapping is active when there is none", async () => {
    const res = await get("/dashboard/");
    expect(res.body).toContain('id="get-started"');
    expect(res.body).toContain("Connect a tracker.");
    expect(res.body).not.toMatch(/mappings? (is|are) active/);
    expect(res.body).toContain("No mapping yet. Connect a tracker first");
    const connect = await get("/dashboard/connect");
    expect(connect.body).toContain('id="provider-catalog"');
    expect(connect.body).toMatch(
      /data-provider="github"[\s\S]*?not set up on this server|Install the GitHub App/i,
    );
  });

  it("lists a revoked installation under needs attention with what to do", async () => {
    const { installationId } = await app.connect("linear");
    const connected = await get("/dashboard/");
    expect(connected.body).not.toContain('id="get-started"');
    expect(connected.body).not.toContain('id="installations-attention"');
    expect(connected.body).toContain("No mapping yet.");
    await app.sim("linear", "POST", "/_sim/credentials/revoke", { all: true });
    await app.refresh(installationId);
    await app.refresh(installationId);
    expect((await app.services.installations.get(app.team.id, installationId)).status).toBe("revoked");
    const res = await get("/dashboard/");
    const section = /<section class="card card-error" id="installations-attention">[\s\S]*?<\/section>/.exec(
      res.body,
    );
    expect(section?.[0]).toContain("Access revoked");
    expect(section?.[0]).toContain("Reconnect");
    expect(section?.[0]).toContain(`/dashboard/installations/${installationId}`);
  });
});
