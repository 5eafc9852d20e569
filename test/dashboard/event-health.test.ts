import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, consoleProblems, launchChromium } from "../support/browser.ts";
import { createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * Issue 17 in a real browser: the installation page's event health. An admin generates a GitLab hook
 * secret (shown once), pastes URL and secret into the simulator, and after one upstream change the page
 * says events are being received. No console error or CSP violation on the way.
 */
const haveChromium = chromiumAvailable("the event health browser test");

describe.skipIf(!haveChromium)("event health on the installation page", () => {
  let app: SimulatedApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let gitlab: string;
  let github: string;

  beforeAll(async () => {
    app = await createSimulatedApp({ providers: ["gitlab", "github"] });
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    gitlab = (await app.connect("gitlab")).installationId;
    github = (await app.connect("github")).installationId;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    problems = consoleProblems(context);
    page = await context.newPage();
    await page.goto(`${base}/dashboard/`);
    await page.getByLabel("Email").fill(app.admin.email);
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
  }, 120_000);

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("GitLab: not receiving → generate the secret (shown once) → paste it → receiving", async () => {
    await page.goto(`${base}/dashboard/installations/${gitlab}`);
    const card = page.locator("#event-health");
    await expect(card.locator("#event-state").textContent()).resolves.toContain("Not receiving events");
    await expect(card.locator("#hook-url").textContent()).resolves.toContain(
      `/api/v1/webhooks/gitlab/${gitlab}/`,
    );

    await page.getByRole("button", { name: "Generate the secret" }).click();
    await page.locator("#hook-secret").waitFor();
    const url = (await page.locator("#hook-url").textContent()) as string;
    const secret = (await page.locator("#hook-secret-value").textContent()) as string;
    expect(secret.length).toBeGreaterThanOrEqual(32);

    // The admin pastes both into GitLab's hook settings.
    await app.sim("gitlab", "POST", "/_sim/webhooks", { url, secret });
    await page.getByRole("link", { name: "Done" }).click();
    await expect(page.locator("#event-state").textContent()).resolves.toContain(
      "Waiting for the first event",
    );
    // The secret is never on the installation page again.
    expect(await page.content()).not.toContain(secret);

    const [project] = (
      await app.sim("gitlab", "GET", `/_sim/resources?workspace_id=${app.sims.gitlab.demo.group_id}`)
    ).resources;
    await app.sim("gitlab", "PATCH", `/_sim/resources/${project.id}`, { description: "seen by a hook" });
    await app.sim("gitlab", "POST", "/_sim/webhooks/flush");
    const deadline = Date.now() + 15_000;
    for (;;) {
      await page.reload();
      const state = await page.locator("#event-state").textContent();
      if (state?.includes("Receiving events")) break;
      if (Date.now() > deadline) throw new Error(`event state stayed: ${state}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await expect(page.locator("#event-failure").textContent()).resolves.toContain("none");
  });

  it("GitLab: manual with GitLab's reason → the user becomes Owner → Register again → registered automatically; a new secret needs no paste", async () => {
    await page.goto(`${base}/dashboard/installations/${gitlab}`);
    const card = page.locator("#event-health");
    await expect(card.locator("#hook-mode").textContent()).resolves.toContain("Manual setup");
    await expect(card.locator("#hook-reason").textContent()).resolves.toContain(
      `not an Owner of group ${app.sims.gitlab.demo.group_id}`,
    );

    // The GitLab admin makes the connected user (ada) an Owner of the group; the team admin tries again.
    await app.sim("gitlab", "PATCH", "/_sim/gitlab/users/ada", {
      access: { [app.sims.gitlab.demo.group_id]: 50 },
    });
    await page.getByRole("button", { name: "Register again" }).click();
    await page.locator("#event-health").waitFor();
    await expect(page.locator("#hook-mode").textContent()).resolves.toContain(
      "Registered automatically (group webhook)",
    );
    await expect(page.locator("#hook-reason").textContent()).resolves.toContain("scheduled refresh");
    const hooks = (await app.sim("gitlab", "GET", "/_sim/webhooks")).hooks as any[];
    expect(hooks.filter((h) => h.url.endsWith(`/webhooks/gitlab/${gitlab}/`) && h.workspace_id)).toHaveLength(
      1,
    );

    await page.getByRole("button", { name: "Generate a new secret" }).click();
    await expect(page.locator("#hook-secret-updated").textContent()).resolves.toContain("Nothing to paste");
    await expect(page.locator("#hook-secret-value").count()).resolves.toBe(0);
    await page.getByRole("link", { name: "Done" }).click();
    await expect(page.locator("#hook-mode").textContent()).resolves.toContain("Registered automatically");
  });

  it("GitHub: the App-wide hook needs nothing per installation (no secret button)", async () => {
    await page.goto(`${base}/dashboard/installations/${github}`);
    const card = page.locator("#event-health");
    await expect(card.textContent()).resolves.toContain("/api/v1/webhooks/github/");
    await expect(card.getByRole("button").count()).resolves.toBe(0);
  });
});
