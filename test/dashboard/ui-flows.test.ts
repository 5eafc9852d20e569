import { mkdirSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AuthContext } from "../../src/host/teams/access.ts";
import { chromiumAvailable, consoleProblems, launchChromium } from "../support/browser.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * What a person clicks, in Chromium (playwright-core) against the real app and the provider simulators:
 * every page at a phone's width (390 px) and at a desktop's, the menu, the list controls and Sync now.
 * Every test fails on a console error, a CSP violation or an uncaught exception in any page.
 */
const haveChromium = chromiumAvailable("the dashboard UI flow tests");

const SHOTS = "artifacts/screenshots";
const PASSWORD = "correct horse battery staple";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1360, height: 900 };

describe.skipIf(!haveChromium)("dashboard flows in a browser", () => {
  let app: SimulatedApp;
  let base: string;
  let browser: Browser;
  const problems: string[][] = [];
  const contexts: BrowserContext[] = [];
  const ids: Record<string, string> = {};

  async function signedIn(viewport: { width: number; height: number }, email = app.admin.email) {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const seen = consoleProblems(context);
    problems.push(seen);
    const page = await context.newPage();
    page.on("dialog", (d) => {
      seen.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${base}/dashboard/`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    return page;
  }

  /** The page's width beyond the viewport, in CSS pixels (0 when nothing scrolls sideways). */
  const sideways = (page: Page) =>
    page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth);

  /** Every signed-in dashboard page, with the data the setup made. Later features add theirs here. */
  const pages = () => [
    "/dashboard/",
    "/dashboard/connect",
    ...["github", "gitlab", "jira", "linear", "azure_devops"].map((p) => `/dashboard/connect?provider=${p}`),
    `/dashboard/connect?reconnect=${ids.gitlab}`,
    `/dashboard/installations/${ids.gitlab}`,
    `/dashboard/installations/${ids.github}`,
    `/dashboard/installations/${ids.linear}`,
    `/dashboard/installations/${ids.gitlab}/repair`,
    `/dashboard/installations/${ids.gitlab}/curation`,
    `/dashboard/installations/${ids.gitlab}/disconnect`,
    "/dashboard/inventory",
    "/dashboard/inventory?q=portal&state=archived",
    "/dashboard/projects",
    `/dashboard/projects/${ids.project}`,
    "/dashboard/mappings",
    "/dashboard/mappings?status=deleted",
    "/dashboard/mappings/new",
    `/dashboard/mappings/${ids.mapping}`,
    `/dashboard/mappings/${ids.mapping}/delete`,
    "/dashboard/audit",
    "/dashboard/tokens",
    "/dashboard/cli/sessions",
  ];
  /** Signed-in pages of their own, without the dashboard's top bar (the CLI's device-code entry). */
  const barePages = ["/dashboard/cli/device"];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await createSimulatedApp({ providers: ["github", "gitlab", "linear"], generatedResources: 60 });
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    for (const p of ["gitlab", "github", "linear"] as const) ids[p] = (await app.connect(p)).installationId;
    const user = (await app.services.teams.findUser(app.admin.userId))!;
    const auth: AuthContext = { user, team: { ...app.team, name: "Acme" }, role: "admin", tokenId: "test" };
    // A linear installation disconnected, thirty projects, one mapping.
    await app.services.installations.disconnect(auth, ids.linear, "req-setup");
    for (let i = 0; i < 30; i++)
      await app.services.projects.create(app.team.id, { slug: `team-project-${String(i).padStart(2, "0")}` });
    const resource = (
      await app.services.inventory.page(
        { teamId: app.team.id, installationId: ids.gitlab, state: "unbound", q: "service" },
        undefined,
        1,
      )
    ).items[0];
    const { mapping } = await app.services.mappingAdmin.create(
      auth,
      { resource_id: resource.id, project_slug: "team-project-00" },
      "dashboard",
      "req-setup",
    );
    ids.mapping = mapping.binding_ref;
    ids.project = mapping.project_id;
    browser = await launchChromium();
  }, 180_000);

  afterEach(async () => {
    const seen = problems.flatMap((p) => p.splice(0));
    for (const c of contexts.splice(0)) await c.close();
    problems.length = 0;
    expect(seen).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  for (const [name, viewport] of [
    ["a phone (390 px)", PHONE],
    ["a desktop", DESKTOP],
  ] as const) {
    it(`shows every page at ${name} without sideways scrolling, with Sign out in view`, async () => {
      const page = await signedIn(viewport);
      const wide: string[] = [];
      for (const path of pages()) {
        const res = await page.goto(`${base}${path}`);
        expect(res?.status(), path).toBe(200);
        const over = await sideways(page);
        if (over > 0) wide.push(`${path}: ${over}px too wide`);
        const signOut = await page.getByRole("button", { name: "Sign out" }).boundingBox();
        expect(signOut, path).not.toBeNull();
        expect(signOut!.x + signOut!.width, path).toBeLessThanOrEqual(viewport.width);
      }
      for (const path of barePages) {
        expect((await page.goto(`${base}${path}`))?.status(), path).toBe(200);
        const over = await sideways(page);
        if (over > 0) wide.push(`${path}: ${over}px too wide`);
      }
      if (viewport === PHONE) {
        await page.goto(`${base}/dashboard/inventory`);
        await page.screenshot({ path: `${SHOTS}/phone-inventory.png` });
      }
      // Pages without a session: the landing page and sign-in.
      const anonymous = await browser.newContext({ viewport });
      contexts.push(anonymous);
      problems.push(consoleProblems(anonymous));
      const visitor = await anonymous.newPage();
      for (const path of ["/", "/dashboard/sign-in"]) {
        await visitor.goto(`${base}${path}`);
        const over = await sideways(visitor);
        if (over > 0) wide.push(`${path}: ${over}px too wide`);
      }
      expect(wide).toEqual([]);
    });
  }

  it("collapses the navigation behind Menu at a phone's width", async () => {
    const page = await signedIn(PHONE);
    const menu = page.getByRole("button", { name: "Menu" });
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(menu.isVisible()).resolves.toBe(true);
    await expect(nav.isVisible()).resolves.toBe(false);
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    await menu.click();
    await expect(nav.isVisible()).resolves.toBe(true);
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    await page.screenshot({ path: `${SHOTS}/phone-menu.png` });
    await page.keyboard.press("Escape");
    await expect(nav.isVisible()).resolves.toBe(false);
    await menu.click();
    await nav.getByRole("link", { name: "Projects" }).click();
    await page.getByRole("heading", { name: "Projects" }).waitFor();
    // A table is stacked rows: each cell says which column it is.
    const cell = page.locator("#projects-table tbody tr").first().locator("td").first();
    expect(await cell.getAttribute("data-label")).toBe("Project");
    const [a, b] = await Promise.all(
      [0, 1].map((i) => page.locator("#projects-table tbody tr").first().locator("td").nth(i).boundingBox()),
    );
    expect(b!.y).toBeGreaterThan(a!.y); // the row's cells one under another, not side by side
    expect(b!.x).toBe(a!.x);
    // At a desktop's width there is no Menu button and the navigation is always there.
    await page.setViewportSize(DESKTOP);
    await expect(menu.isVisible()).resolves.toBe(false);
    await expect(nav.isVisible()).resolves.toBe(true);
  });

  it("pages the inventory with a total, next and previous, a page size and a sort", async () => {
    const page = await signedIn(DESKTOP);
    await page.goto(`${base}/dashboard/inventory`);
    const total = (
      await app.services.inventory.list(
        { teamId: app.team.id, installationIds: [ids.gitlab, ids.github] },
        { sort: "name", size: 25 },
      )
    ).total;
    expect(total).toBeGreaterThan(60);
    const summary = page.locator("[data-list-total]");
    const n = total.toLocaleString("en-US");
    expect(await summary.textContent()).toBe(`1–50 of ${n} resources`);
    await page.getByLabel("Per page").selectOption("25");
    await page.waitForURL(/size=25/);
    expect(await summary.textContent()).toBe(`1–25 of ${n} resources`);
    const firstPage = await page.locator("#inventory-table tbody tr").allTextContents();
    expect(firstPage).toHaveLength(25);
    await page.getByRole("link", { name: "Next ›" }).click();
    await page.waitForURL(/cursor=/);
    expect(await summary.textContent()).toBe(`26–50 of ${n} resources`);
    const secondPage = await page.locator("#inventory-table tbody tr").allTextContents();
    expect(secondPage.some((row) => firstPage.includes(row))).toBe(false);
    await page.getByRole("link", { name: "‹ Previous" }).click();
    await page.waitForFunction(() =>
      document.querySelector("[data-list-total]")?.textContent?.startsWith("1–25"),
    );
    expect(await page.locator("#inventory-table tbody tr").allTextContents()).toEqual(firstPage);
    expect(await page.locator(".pager [aria-disabled=true]").textContent()).toBe("‹ Previous");

    // Z–A: the first row is the last name of A–Z; the page size stays.
    await page.getByLabel("Sort").selectOption("name_desc");
    await page.waitForURL(/sort=name_desc/);
    expect(await summary.textContent()).toBe(`1–25 of ${n} resources`);
    const last = await app.services.inventory.list(
      { teamId: app.team.id, installationIds: [ids.gitlab, ids.github] },
      { sort: "name_desc", size: 1 },
    );
    await expect(
      page.locator("#inventory-table tbody tr").first().locator("td").first().textContent(),
    ).resolves.toContain(last.items[0].display_label);

    // A typo still finds the resource.
    await page.getByLabel("Search").fill("ledgr");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/q=ledgr/);
    await expect(page.locator("#inventory-table").textContent()).resolves.toContain("acme/payments/ledger");
  });

  it("pages and sorts projects, and sorts mappings", async () => {
    const page = await signedIn(DESKTOP);
    await page.goto(`${base}/dashboard/projects?size=25`);
    const summary = page.locator("[data-list-total]");
    expect(await summary.textContent()).toBe("1–25 of 30 projects");
    await page.getByRole("link", { name: "Next ›" }).click();
    await page.waitForURL(/cursor=/);
    expect(await summary.textContent()).toBe("26–30 of 30 projects");
    expect(await page.locator(".pager [aria-disabled=true]").textContent()).toBe("Next ›");
    await page.getByRole("link", { name: "‹ Previous" }).click();
    await page.waitForFunction(() =>
      document.querySelector("[data-list-total]")?.textContent?.startsWith("1–25"),
    );
    await page.getByLabel("Sort").selectOption("slug_desc");
    await page.waitForURL(/sort=slug_desc/);
    await expect(page.locator("#projects-table tbody tr").first().textContent()).resolves.toContain(
      "team-project-29",
    );

    await page.goto(`${base}/dashboard/mappings`);
    expect(await summary.textContent()).toBe("1–1 of 1 mappings");
    await page.getByLabel("Sort").selectOption("newest");
    await page.waitForURL(/sort=newest/);
    await expect(page.locator("#mappings-table").textContent()).resolves.toContain(ids.mapping);
  });

  it("disables Sync now while a pass runs, shows its progress, then the result", async () => {
    const page = await signedIn(DESKTOP);
    await page.goto(`${base}/dashboard/installations/${ids.gitlab}`);
    // Slow GitLab down so the pass is still running while we look.
    await app.sim("gitlab", "POST", "/_sim/faults", { latency_ms: 2_000, count: 10 });
    const button = page.locator("#sync-now");
    expect(await button.isEnabled()).toBe(true);
    await button.click();
    await page.waitForURL(/\?op=/);
    const status = page.locator("#sync-status");
    await expect(status.textContent()).resolves.toMatch(/Sync (pending|running)/);
    expect(await button.isDisabled()).toBe(true);
    expect(await button.textContent()).toBe("Syncing…");
    // The installation's page without the operation in its address knows about the pass too.
    const other = await page.context().newPage();
    await other.goto(`${base}/dashboard/installations/${ids.gitlab}`);
    expect(await other.locator("#sync-now").isDisabled()).toBe(true);
    await other.close();
    // app.js polls the operation and shows the result when the pass ends, without a click.
    await status.filter({ hasText: "Sync completed" }).waitFor({ timeout: 30_000 });
    expect(await page.locator("#sync-now").isEnabled()).toBe(true);
    expect(await page.locator("#sync-now").textContent()).toBe("Sync now");
    await app.sim("gitlab", "DELETE", "/_sim/faults");
  });

  it("offers a provider catalog with the GitHub App install as GitHub's main path", async () => {
    const page = await signedIn(DESKTOP);
    await page.getByRole("link", { name: "Connect a tracker" }).click();
    const github = page.locator('#provider-catalog [data-provider="github"]');
    await github.getByRole("link", { name: "Install the GitHub App" }).click();
    await page.getByRole("button", { name: "Continue to GitHub" }).waitFor();
    await page.goto(`${base}/dashboard/connect`);
    const gitlab = page.locator('#provider-catalog [data-provider="gitlab"]');
    await expect(gitlab.textContent()).resolves.toContain("GitLab");
    await page.screenshot({ path: `${SHOTS}/connect-catalog.png`, fullPage: true });
  });
});
