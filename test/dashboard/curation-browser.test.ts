import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, consoleProblems, launchChromium } from "../support/browser.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Curation rules edited in a real browser (issue 20): an admin adds an exclude pattern, previews what
 * it hides, saves, and the CLI's list and the dashboard picker follow; no console errors on the way.
 */
const haveChromium = chromiumAvailable("the curation browser test");
const PASSWORD = "correct horse battery staple";

describe.skipIf(!haveChromium)("curation rules in a browser", () => {
  let app: SimulatedApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let installationId: string;

  beforeAll(async () => {
    app = await createSimulatedApp({ providers: ["gitlab"] });
    installationId = (await app.connect("gitlab")).installationId;
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    problems = consoleProblems(context);
    page = await context.newPage();
    await page.goto(`${base}/dashboard/`);
    await page.getByLabel("Email").fill(app.admin.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const cliCount = async () => {
    const res = await app.call({
      method: "GET",
      url: "/api/v1/tracker/resources/?provider=gitlab",
      as: app.member,
    });
    return res.json().resources.length as number;
  };

  it("adds an exclude pattern with a preview, saves it, and the CLI and the picker follow", async () => {
    const before = await cliCount();
    await page.goto(`${base}/dashboard/inventory?installation_id=${installationId}`);
    await page.locator("#curation-link").click();
    await page.getByRole("heading", { name: "Rules" }).waitFor();
    await expect(page.locator("#curation-counts").innerText()).resolves.toContain(`${before} of ${before}`);

    await page.getByLabel("Effect").selectOption("exclude");
    await page.getByLabel("Match by").selectOption("pattern");
    await page.getByLabel("Pattern").fill("*service*");
    await page.locator("#curation-preview-button").click();
    await page.locator("#curation-preview").waitFor();
    const hides = Number.parseInt(await page.locator("[data-newly-hidden]").innerText(), 10);
    expect(hides).toBeGreaterThan(3);
    const offeredAfter = Number.parseInt(await page.locator("[data-offered-after]").innerText(), 10);
    expect(offeredAfter).toBe(before - hides);
    // The previewed rule is in the list, not saved yet.
    await expect(page.locator("#curation-rules").innerText()).resolves.toContain("*service*");
    expect(await cliCount()).toBe(before);

    await page.locator("#curation-save").click();
    await page.locator("#curation-saved").waitFor();
    await expect(page.locator("#curation-saved").innerText()).resolves.toContain(
      `${offeredAfter} of ${before}`,
    );
    await expect(page.locator("#curation-rules").innerText()).resolves.toContain("*service*");
    // What the preview said is what the CLI now gets.
    expect(await cliCount()).toBe(offeredAfter);

    // The mapping picker no longer offers them.
    await page.goto(`${base}/dashboard/mappings/new?installation_id=${installationId}`);
    await page.getByRole("combobox", { name: "Resource" }).fill("service");
    await page.locator("#resource-search-options li").first().waitFor();
    await expect(page.locator("#resource-search-options").innerText()).resolves.toContain(
      "No matching resource",
    );

    // The inventory still lists them, marked.
    await page.goto(`${base}/dashboard/inventory?installation_id=${installationId}&q=service`);
    await expect(page.locator("#inventory-table").innerText()).resolves.toContain("hidden by curation");

    // Removing the rule offers everything again.
    await page.goto(`${base}/dashboard/installations/${installationId}/curation`);
    await page.getByLabel("Remove").check();
    await page.getByLabel("Match by").selectOption("");
    await page.locator("#curation-save").click();
    await page.locator("#curation-saved").waitFor();
    expect(await cliCount()).toBe(before);
    await page.goto(`${base}/dashboard/mappings/new?installation_id=${installationId}`);
    await page.getByRole("combobox", { name: "Resource" }).fill("service");
    await page.locator("#resource-search-options li.option:not(.option-empty)").first().waitFor();
    await expect(page.locator("#resource-search-options").innerText()).resolves.toContain("service");

    expect(problems).toEqual([]);
  });
});
