import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { tokenConnectFor } from "../../src/demo/simulated.ts";
import type { SimProvider } from "../../src/simulators/index.ts";
import { chromiumAvailable, consoleProblems, launchChromium } from "../support/browser.ts";
import { ALL_PROVIDERS, createSimulatedApp, type SimulatedApp } from "../support/simulated.ts";

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the real app on a
 * real port, wired to the provider simulators over HTTP. Under CI these tests must run: a missing
 * Chromium fails the suite instead of skipping it.
 */
const haveChromium = chromiumAvailable("the dashboard browser tests");

const SHOTS = "artifacts/screenshots";
const PASSWORD = "correct horse battery staple";
const XSS = "<img src=x onerror=alert(1)>";
const TOKEN_PROVIDERS: SimProvider[] = ["gitlab", "jira", "linear", "azure_devops"];
const PROVIDER_NAMES = { gitlab: "GitLab", jira: "Jira", linear: "Linear" } as const;

describe.skipIf(!haveChromium)("dashboard in a browser", () => {
  let app: SimulatedApp;
  let base: string;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  /** Console errors, CSP violations and uncaught exceptions in any context: each test must leave none. */
  const problems: string[] = [];
  const newContext = async () => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const seen = consoleProblems(context);
    contextsProblems.push(seen);
    return context;
  };
  const contextsProblems: string[][] = [];
  const installations: Partial<Record<SimProvider, string>> = {};
  const mappings: Partial<Record<SimProvider, string>> = {};

  const shot = (name: string, p: Page = page) =>
    p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  async function signIn(context: BrowserContext, email: string) {
    const p = await context.newPage();
    p.on("dialog", async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await p.goto(`${base}/dashboard/`);
    await expect(p.getByRole("heading", { name: "Sign in" }).isVisible()).resolves.toBe(true);
    await p.getByLabel("Email").fill(email);
    await p.getByLabel("Password").fill(PASSWORD);
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    return p;
  }

  /** A pickable (live, unbound, not archived) resource of an installation, found through the domain service. */
  async function pickable(installationId: string, skip: string[] = []) {
    let cursor: string | undefined;
    for (;;) {
      const p = await app.services.inventory.page(
        { teamId: app.team.id, installationId, state: "unbound" },
        cursor,
        200,
      );
      const r = p.items.find(
        (x) => !x.archived && !x.issues_disabled && !x.display_label.includes("<") && !skip.includes(x.id),
      );
      if (r) return r;
      if (!p.next_cursor) throw new Error(`no pickable resource in ${installationId}`);
      cursor = p.next_cursor;
    }
  }

  /** Searches the typeahead and clicks the option of the given resource. */
  async function pickResource(
    p: Page,
    comboId: string,
    resource: { id: string; display_label: string },
    screenshot?: string,
  ) {
    const combo = p.locator(`#${comboId}`);
    await combo.fill(resource.display_label.slice(0, 40));
    const option = p.locator(`[role="option"][data-id="${resource.id}"]`);
    await option.waitFor();
    if (screenshot) await shot(screenshot, p);
    await option.click();
    await expect(p.locator("[data-typeahead-value]").first().inputValue()).resolves.toBe(resource.id);
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    app = await createSimulatedApp();
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    browser = await launchChromium();
    admin = await newContext();
    page = await signIn(admin, app.admin.email);
  }, 120_000);

  afterEach(() => {
    for (const seen of contextsProblems) problems.push(...seen.splice(0));
    expect(problems.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("signs in with a Secure, HttpOnly, SameSite=Lax session cookie and shows the overview", async () => {
    const cookies = await admin.cookies();
    const session = cookies.find((c) => c.name === "sk_session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax" });
    expect(await page.content()).not.toContain(session!.value);
    await shot("overview-empty");
  });

  it("connects GitLab, Jira, Linear and Azure DevOps through the token form and shows the first sync finishing", async () => {
    for (const provider of TOKEN_PROVIDERS) {
      const req = tokenConnectFor(app.sims[provider])!;
      await page.goto(`${base}/dashboard/connect?provider=${provider}`);
      const form = page.locator("#connect-form");
      const fill = async (name: string, value: unknown) => {
        if (value !== undefined && value !== null) await form.locator(`[name="${name}"]`).fill(String(value));
      };
      const c = req.credential as Record<string, unknown>;
      if (provider === "gitlab") {
        await fill("base_url", req.base_url);
        await fill("token", c.token);
        await fill("group_id", req.options?.group_id);
      }
      if (provider === "jira") {
        await fill("base_url", req.base_url);
        await fill("username", c.username);
        await fill("token", c.password);
      }
      if (provider === "linear") {
        await fill("api_key", c.api_key);
        await fill("base_url", req.base_url);
      }
      if (provider === "azure_devops") {
        await fill("organization", req.options?.organization);
        await fill("token", c.token);
        await fill("base_url", req.base_url);
      }
      if (provider === "gitlab") await shot("connect-form");
      await form.getByRole("button", { name: "Connect" }).click();
      await page.locator("#sync-status").filter({ hasText: "Sync completed" }).waitFor({ timeout: 30_000 });
      installations[provider] = new URL(page.url()).pathname.split("/").pop()!;
      expect(installations[provider]).toMatch(/^inst_/);
    }
    await shot("installation-detail");
  });

  it("installs the GitHub App through GitHub's install page and comes back to a synced installation", async () => {
    await app.sim("github", "PUT", "/_sim/app", {
      callback_url: `${base}/api/v1/installations/callback/github/`,
      signed_in_user: "acme-admin",
    });
    await page.goto(`${base}/dashboard/connect?provider=github`);
    expect(await page.locator('[name="installation_id"]').count()).toBe(0);
    await page.getByRole("button", { name: "Continue to GitHub" }).click();
    await page.getByRole("heading", { name: /^Authorize Spec Kitty/ }).waitFor();
    expect(new URL(page.url()).origin).toBe(new URL(app.sims.github.url).origin);
    await page.getByLabel("Install on").selectOption(app.sims.github.demo.installation_id);
    await shot("github-install-consent");
    await page.getByRole("button", { name: /^Authorize/ }).click();
    await page.locator("#sync-status").filter({ hasText: "Sync completed" }).waitFor({ timeout: 30_000 });
    installations.github = new URL(page.url()).pathname.split("/").pop()!;
    const row = await app.services.installations.get(app.team.id, installations.github);
    expect(row.workspaceId).toBe(app.sims.github.demo.installation_id);
  });

  it("connects GitLab, Jira and Linear through their consent pages", async () => {
    for (const provider of ["gitlab", "jira", "linear"] as const) {
      await page.goto(`${base}/dashboard/connect?provider=${provider}`);
      await page.getByRole("button", { name: `Continue to ${PROVIDER_NAMES[provider]}` }).click();
      await page.getByRole("heading", { name: /^Authorize / }).waitFor();
      expect(new URL(page.url()).origin).not.toBe(base);
      if (provider === "jira") await page.getByLabel("Use app on").selectOption({ label: "Acme Jira" });
      await page.getByRole("button", { name: /^Authorize/ }).click();
      await page.locator("#sync-status").filter({ hasText: "Sync completed" }).waitFor({ timeout: 30_000 });
      const id = new URL(page.url()).pathname.split("/").pop()!;
      const row = await app.services.installations.get(app.team.id, id);
      expect(row.authKind).toBe("oauth");
    }
  });

  it("a consent callback replayed in a second browser stores nothing and explains why", async () => {
    await page.goto(`${base}/dashboard/connect?provider=linear`);
    let captured: string | null = null;
    // Authorize, but keep this browser from following the provider's redirect: we take the URL instead.
    await page.route("**/_consent/**", async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      captured = answer.headers().location ?? null;
      await route.fulfill({ status: 204 });
    });
    await page.getByRole("button", { name: "Continue to Linear" }).click();
    await page.getByRole("button", { name: /^Authorize/ }).click();
    await expect.poll(() => captured).not.toBeNull();
    await page.unrouteAll();
    const before = (await app.services.installations.listForTeam(app.team.id)).length;

    const stranger = await newContext();
    const other = await stranger.newPage();
    const res = await other.goto(captured!);
    expect(res?.status()).toBe(403);
    await other.getByRole("heading", { name: "Nothing was connected" }).waitFor();
    await expect(other.locator("#connect-problem").textContent()).resolves.toContain(
      "started in another browser",
    );
    await shot("connect-other-browser", other);
    await stranger.close();
    expect((await app.services.installations.listForTeam(app.team.id)).length).toBe(before);
  });

  it("shows inline errors for an invalid connect form and saves nothing", async () => {
    const before = (await app.services.installations.listForTeam(app.team.id)).length;
    await page.goto(`${base}/dashboard/connect?provider=gitlab`);
    await page.locator('#connect-form [name="base_url"]').fill("not a url");
    await page.locator('#connect-form [name="token"]').fill("x");
    // Bypass the browser's own URL check so the server's validation answers.
    await page.locator("#connect-form").evaluate((f: HTMLFormElement) => {
      f.noValidate = true;
    });
    await page.locator("#connect-form").getByRole("button", { name: "Connect" }).click();
    await expect(page.locator("#base_url-error").textContent()).resolves.toContain("http(s) URL");
    expect(await page.locator('#connect-form [name="token"]').inputValue()).toBe("");
    expect((await app.services.installations.listForTeam(app.team.id)).length).toBe(before);
  });

  it("Sync now shows progress and then the result", async () => {
    await page.goto(`${base}/dashboard/installations/${installations.github}`);
    await page.getByRole("button", { name: "Sync now" }).click();
    await expect(page.url()).toContain("?op=");
    await page.locator("#sync-status").filter({ hasText: "Sync completed" }).waitFor({ timeout: 30_000 });
  });

  it("creates a mapping for each provider by searching and picking", async () => {
    for (const provider of ALL_PROVIDERS) {
      const resource = await pickable(installations[provider]!);
      await page.goto(`${base}/dashboard/mappings/new`);
      await page.locator("#f-project").selectOption("__new__");
      await page.locator("#f-new_project_slug").fill(`web-${provider.replace("_", "-")}`);
      await page.locator("#f-installation_id").selectOption(installations[provider]!);
      await pickResource(page, "resource-search", resource, provider === "jira" ? "mapping-new" : undefined);
      await page.getByRole("button", { name: "Review mapping" }).click();
      await page.locator("#review-card").waitFor();
      await page.getByRole("button", { name: "Create mapping" }).click();
      await page.getByText("Mapping created.").waitFor();
      mappings[provider] = (await page.locator("#binding-ref").textContent())!;
      expect(mappings[provider]).toMatch(/^srm_/);
      const view = await app.services.mappingAdmin.view(app.team.id, mappings[provider]!);
      expect(view).toMatchObject({ resource_id: resource.id, created_via: "dashboard", status: "active" });
    }
    await shot("mapping-detail");
  });

  it("bind-resolve returns the dashboard mapping as exact for that project", async () => {
    for (const provider of ALL_PROVIDERS) {
      const res = await app.call({
        method: "POST",
        url: "/api/v1/tracker/bind-resolve/",
        as: app.admin,
        payload: {
          provider,
          project_identity: {
            uuid: randomUUID(),
            slug: `web-${provider.replace("_", "-")}`,
            node_id: "node-1",
          },
        },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ match_type: "exact", binding_ref: mappings[provider] });
      if (provider === "github") {
        // The CLI then confirms: the dashboard project is adopted with the CLI identity, same binding_ref.
        const confirm = await app.call({
          method: "POST",
          url: "/api/v1/tracker/bind-confirm/",
          as: app.admin,
          headers: { "idempotency-key": randomUUID() },
          payload: {
            provider,
            candidate_token: res.json().candidate_token,
            project_identity: { uuid: randomUUID(), slug: "web-github", node_id: "node-1" },
          },
        });
        expect(confirm.statusCode, confirm.body).toBe(200);
        expect(confirm.json().binding_ref).toBe(mappings.github);
      }
    }
  });

  it("rebinds a mapping to another resource (change resource)", async () => {
    const current = await app.services.mappingAdmin.view(app.team.id, mappings.gitlab!);
    const other = await pickable(installations.gitlab!, [current.resource_id]);
    await page.goto(`${base}/dashboard/mappings/${mappings.gitlab}`);
    await pickResource(page, "change-search", other);
    await page.getByRole("button", { name: "Review change" }).click();
    await page.getByRole("button", { name: "Change resource" }).click();
    await page.getByText("Mapping moved to the new resource").waitFor();
    const newRef = (await page.locator("#binding-ref").textContent())!;
    expect(newRef).not.toBe(mappings.gitlab);
    expect(await app.services.mappingAdmin.view(app.team.id, newRef)).toMatchObject({
      resource_id: other.id,
    });
    expect((await app.services.mappingAdmin.view(app.team.id, mappings.gitlab!)).status).toBe("deleted");
    mappings.gitlab = newRef;
  });

  it("disables and enables a mapping", async () => {
    await page.goto(`${base}/dashboard/mappings/${mappings.jira}`);
    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByText("Mapping disabled.").waitFor();
    expect((await app.services.mappingAdmin.view(app.team.id, mappings.jira!)).status).toBe("disabled");
    await page.goto(`${base}/dashboard/`);
    await expect(page.locator("#attention").textContent()).resolves.toContain("Disabled by an admin");
    await page.goto(`${base}/dashboard/mappings/${mappings.jira}`);
    await page.getByRole("button", { name: "Enable" }).click();
    await page.getByText("Mapping enabled.").waitFor();
    expect((await app.services.mappingAdmin.view(app.team.id, mappings.jira!)).status).toBe("active");
  });

  it("deletes a mapping only after confirmation", async () => {
    await page.goto(`${base}/dashboard/mappings/${mappings.azure_devops}`);
    await page.getByRole("link", { name: "Delete…" }).click();
    await page.getByRole("heading", { name: /Delete the mapping/ }).waitFor();
    expect((await app.services.mappingAdmin.view(app.team.id, mappings.azure_devops!)).status).toBe("active");
    await page.getByRole("button", { name: "Yes, delete mapping" }).click();
    await page.getByText("Mapping deleted.").waitFor();
    expect((await app.services.mappingAdmin.view(app.team.id, mappings.azure_devops!)).status).toBe(
      "deleted",
    );
  });

  it("creates a mapping with the keyboard only", async () => {
    const resource = await pickable(installations.linear!);
    await page.goto(`${base}/dashboard/mappings/new`);
    const tabTo = async (id: string) => {
      for (let i = 0; i < 60; i++) {
        if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
        await page.keyboard.press("Tab");
      }
      throw new Error(`could not reach #${id} with Tab`);
    };
    await tabTo("f-project");
    await page.keyboard.press("End"); // last option: create a new project
    expect(await page.locator("#f-project").inputValue()).toBe("__new__");
    await tabTo("f-new_project_slug");
    await page.keyboard.type("keyboard-only");
    await tabTo("f-installation_id");
    await page.keyboard.type("Linear");
    expect(await page.locator("#f-installation_id").inputValue()).toBe(installations.linear);
    await tabTo("resource-search");
    await page.keyboard.type(resource.display_label.slice(0, 40));
    await page.locator(`[role="option"][data-id="${resource.id}"]`).waitFor();
    // Move the active option to the wanted resource with the arrow keys, then Enter.
    for (let i = 0; i < 25; i++) {
      const active = await page.locator("#resource-search").getAttribute("aria-activedescendant");
      if (active === `opt-${resource.id}`) break;
      await page.keyboard.press("ArrowDown");
    }
    expect(await page.locator("#resource-search").getAttribute("aria-expanded")).toBe("true");
    await page.keyboard.press("Enter");
    expect(await page.locator("[data-typeahead-value]").inputValue()).toBe(resource.id);
    await tabTo("review");
    await page.keyboard.press("Enter");
    await page.locator("#review-card").waitFor();
    await tabTo("confirm");
    await page.keyboard.press("Enter");
    await page.getByText("Mapping created.").waitFor();
    const ref = (await page.locator("#binding-ref").textContent())!;
    expect(await app.services.mappingAdmin.view(app.team.id, ref)).toMatchObject({
      project_slug: "keyboard-only",
      resource_id: resource.id,
    });
  });

  it("renders the XSS-named resource as inert text everywhere", async () => {
    await page.goto(`${base}/dashboard/inventory?q=${encodeURIComponent("onerror")}`);
    const cells = page.getByText(XSS, { exact: true });
    await cells.first().waitFor();
    expect(await cells.count()).toBeGreaterThan(0);
    expect(await page.locator("img").count()).toBe(0);
    await shot("inventory-xss");

    // In the typeahead, and then mapped: the mapping, project and overview pages show it as text too.
    const inst = installations.github!;
    const found = await app.services.inventory.page(
      { teamId: app.team.id, installationId: inst, q: "onerror" },
      undefined,
      5,
    );
    const xss = found.items.find((r) => r.display_label.includes(XSS) || r.name.includes(XSS));
    expect(xss).toBeDefined();
    await page.goto(`${base}/dashboard/mappings/new?installation_id=${inst}`);
    await page.locator("#f-project").selectOption("__new__");
    await page.locator("#f-new_project_slug").fill("xss-check");
    await page.locator("#resource-search").fill("onerror");
    await page.locator(`[role="option"][data-id="${xss!.id}"]`).waitFor();
    expect(await page.locator('[role="listbox"] img').count()).toBe(0);
    if (!xss!.archived && !xss!.issues_disabled && !xss!.binding_ref) {
      await page.locator(`[role="option"][data-id="${xss!.id}"]`).click();
      await page.getByRole("button", { name: "Review mapping" }).click();
      await page.getByRole("button", { name: "Create mapping" }).click();
      await page.getByText("Mapping created.").waitFor();
      expect(await page.locator("img").count()).toBe(0);
      await page.getByText(XSS).first().waitFor();
      await page.goto(`${base}/dashboard/mappings`);
      await page.getByText(XSS).first().waitFor();
      expect(await page.locator("img").count()).toBe(0);
    }
    expect(dialogs).toEqual([]);
  });

  it("rejects a POST without the CSRF token (403) and changes nothing", async () => {
    const before = (await app.services.mappingAdmin.view(app.team.id, mappings.github!)).status;
    const res = await page.request.post(`${base}/dashboard/mappings/${mappings.github}/status`, {
      form: { status: "disabled" },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect(res.headers()["content-type"]).toContain("text/html");
    expect(await res.text()).toContain("CSRF");
    const wrong = await page.request.post(`${base}/dashboard/mappings/${mappings.github}/status`, {
      form: { status: "disabled", _csrf: "not-the-token" },
      maxRedirects: 0,
    });
    expect(wrong.status()).toBe(403);
    expect((await app.services.mappingAdmin.view(app.team.id, mappings.github!)).status).toBe(before);
  });

  it("lets a member look but not change anything", async () => {
    const ctx = await newContext();
    const member = await signIn(ctx, app.member.email);
    expect(await member.getByRole("link", { name: "Connect a tracker" }).count()).toBe(0);
    await member.goto(`${base}/dashboard/mappings/${mappings.github}`);
    await member.locator("#binding-ref").waitFor();
    expect(await member.getByRole("button", { name: "Disable" }).count()).toBe(0);
    expect(await member.getByRole("link", { name: "Delete…" }).count()).toBe(0);
    expect(await member.locator("#change-resource").count()).toBe(0);
    await member.goto(`${base}/dashboard/installations/${installations.github}`);
    expect(await member.getByRole("button", { name: "Sync now" }).count()).toBe(0);
    await shot("member-installation", member);
    const blocked = await member.goto(`${base}/dashboard/mappings/new`);
    expect(blocked?.status()).toBe(403);
    // With a valid CSRF token the server still refuses: the check is on the server, not only in the page.
    await member.goto(`${base}/dashboard/mappings/${mappings.github}`);
    const csrf = await member.locator('input[name="_csrf"]').first().inputValue();
    const res = await member.request.post(`${base}/dashboard/mappings/${mappings.github}/status`, {
      form: { status: "disabled", _csrf: csrf },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    expect((await app.services.mappingAdmin.view(app.team.id, mappings.github!)).status).toBe("active");
    await ctx.close();
  });

  it("shows projects with mappings per provider and CLI identities", async () => {
    const project = await app.services.projects.bySlug(app.team.id, "web-github");
    await page.goto(`${base}/dashboard/projects/${project!.id}`);
    await expect(page.locator("#project-mappings").textContent()).resolves.toContain(mappings.github!);
    await expect(page.locator("#cli-identities").textContent()).resolves.toContain("node-1");
    await shot("project-detail");
    await page.goto(`${base}/dashboard/projects`);
    await page.locator("#projects-table").waitFor();
  });

  it("repair path shows what a provider id resolves to before saving", async () => {
    const resource = await pickable(installations.github!);
    await page.goto(`${base}/dashboard/installations/${installations.github}/repair`);
    await page.getByLabel("GitHub id").fill(resource.native_id);
    await page.getByRole("button", { name: "Look it up" }).click();
    await expect(page.locator("#repair-result").textContent()).resolves.toContain(resource.display_label);
    await page.getByLabel("GitHub id").fill("999999999999");
    await page.getByRole("button", { name: "Look it up" }).click();
    await page.locator("#native_id-error").waitFor();
  });

  it("creates an API token shown once, revokes it, and the audit log records both", async () => {
    await page.goto(`${base}/dashboard/tokens`);
    await page.getByLabel("Name").fill("ci token");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = await page.locator("#new-token-value").inputValue();
    expect(token).toMatch(/^skt_/);
    await shot("tokens");
    await page.goto(`${base}/dashboard/tokens`);
    expect(await page.content()).not.toContain(token);
    await page.getByRole("link", { name: "Revoke ci token" }).click();
    await page.getByRole("button", { name: "Revoke token" }).click();
    await page.getByText("API token revoked.").waitFor();
    await page.goto(`${base}/dashboard/audit`);
    const audit = (await page.locator("#audit-table").textContent())!;
    expect(audit).toContain("api_token.created");
    expect(audit).toContain("mapping.created");
    expect(audit).not.toContain(token);
    await shot("audit");
    // Secrets never reach the logs.
    const session = (await admin.cookies()).find((c) => c.name === "sk_session")!.value;
    const logs = app.logs.join("\n");
    expect(logs).not.toContain(session);
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(app.sims.linear.demo.api_key);
  });

  it("disconnects an installation after confirmation", async () => {
    await page.goto(`${base}/dashboard/installations/${installations.azure_devops}`);
    await page.getByRole("link", { name: "Disconnect" }).click();
    await page.getByRole("button", { name: "Yes, disconnect" }).click();
    await page.getByText("Installation disconnected.").waitFor();
    await shot("overview");
  });

  it("keeps the disconnected installation on the overview and reconnects it in place", async () => {
    const id = installations.azure_devops!;
    const group = page.locator("#disconnected-installations");
    await group.getByRole("link", { name: "Reconnect" }).click();
    await page.getByRole("heading", { name: "Reconnect installation" }).waitFor();
    const form = page.locator("#connect-form");
    expect(await form.locator('[name="organization"]').inputValue()).toBe(
      tokenConnectFor(app.sims.azure_devops)!.options?.organization,
    );
    await form.locator('[name="token"]').fill(app.sims.azure_devops.demo.pat);
    await form.getByRole("button", { name: "Reconnect" }).click();
    await page.getByText("Installation reconnected.").waitFor();
    expect(new URL(page.url()).pathname).toBe(`/dashboard/installations/${id}`);
    await page.locator("#sync-status").filter({ hasText: "Sync completed" }).waitFor({ timeout: 30_000 });
    await page.goto(`${base}/dashboard/`);
    expect(await page.locator("#disconnected-installations").count()).toBe(0);
    expect(await page.locator("#installations").textContent()).toContain(
      (await app.services.installations.get(app.team.id, id)).displayName,
    );
  });

  it("reconnects a disconnected GitHub installation by authorizing on GitHub, keeping its id", async () => {
    const id = installations.github!;
    await page.goto(`${base}/dashboard/installations/${id}`);
    await page.getByRole("link", { name: "Disconnect" }).click();
    await page.getByRole("button", { name: "Yes, disconnect" }).click();
    await page.getByText("Installation disconnected.").waitFor();
    await page.locator("#disconnected-installations").getByRole("link", { name: "Reconnect" }).click();
    await page.getByRole("heading", { name: "Authorize on GitHub" }).waitFor();
    expect(await page.locator('[name="installation_id"]').count()).toBe(0);
    await page.getByRole("button", { name: "Continue to GitHub" }).click();
    await page.getByRole("heading", { name: /^Authorize Spec Kitty/ }).waitFor();
    await page.getByRole("button", { name: /^Authorize/ }).click();
    await page.locator("#sync-status").filter({ hasText: "Sync completed" }).waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).pathname).toBe(`/dashboard/installations/${id}`);
    expect((await app.services.installations.get(app.team.id, id)).status).toBe("active");
  });

  it("signs out and the session is gone", async () => {
    const session = (await admin.cookies()).find((c) => c.name === "sk_session")!.value;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
    expect(await app.services.sessions.authenticate(session)).toBeNull();
    await page.goto(`${base}/dashboard/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(dialogs).toEqual([]);
  });
});
