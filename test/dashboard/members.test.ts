import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";
import { chromiumAvailable, consoleProblems, launchChromium } from "../support/browser.ts";

/**
 * Members, invitations, the audit log and API tokens in a real browser (Debian's Chromium through
 * playwright-core) against the real app on a real port. Each test leaves no console error.
 */
const haveChromium = chromiumAvailable("the members and tokens browser tests");
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a brand new long password";

describe.skipIf(!haveChromium)("members, audit and tokens in a browser", () => {
  let app: TestApp;
  let base: string;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  const problems: string[][] = [];

  const newContext = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    problems.push(consoleProblems(context));
    return context;
  };

  async function signIn(context: BrowserContext, email: string, password = PASSWORD) {
    const p = await context.newPage();
    await p.goto(`${base}/dashboard/sign-in`);
    await p.getByLabel("Email").fill(email);
    await p.getByLabel("Password").fill(password);
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    return p;
  }

  const userId = async (email: string) => (await app.services.teams.findUserByEmail(email))!.id;

  beforeAll(async () => {
    app = await createTestApp();
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    browser = await launchChromium();
    admin = await newContext();
    await admin.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await signIn(admin, app.admin.email);
  }, 120_000);

  afterEach(() => {
    const seen = problems.flatMap((p) => p.splice(0));
    expect(seen).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("invites by email; the invitee accepts, sets a password and is signed in as a member", async () => {
    await page.getByRole("link", { name: "Members" }).click();
    await page.getByRole("heading", { name: "Members", level: 1 }).waitFor();
    await page.getByLabel("Email").fill("newbie@acme.test");
    await page.getByRole("button", { name: "Send invitation" }).click();
    const link = await page.locator("#invite-link").inputValue();
    expect(link).toMatch(/\/dashboard\/invitations\/[A-Za-z0-9_-]{43}$/);
    expect(app.mail.at(-1)).toMatchObject({ to: "newbie@acme.test" });
    expect(app.mail.at(-1)!.text).toContain(link);
    // Shown once: a reload shows the open invitation, not the link.
    await page.reload();
    await expect(page.locator("#new-invite").count()).resolves.toBe(0);
    await expect(page.locator("#invitations-table").textContent()).resolves.toContain("newbie@acme.test");
    expect(await page.content()).not.toContain(link);

    const invitee = await newContext();
    const p = await invitee.newPage();
    await p.goto(link);
    await p.getByRole("heading", { name: "Join Acme" }).waitFor();
    await p.getByLabel("Your name").fill("Newbie");
    await p.getByLabel("Choose a password").fill(NEW_PASSWORD);
    await p.getByLabel("Repeat the password").fill("not the same password");
    await p.getByRole("button", { name: "Create account and join" }).click();
    await p.getByText("The two passwords differ").waitFor();
    await p.getByLabel("Choose a password").fill(NEW_PASSWORD);
    await p.getByLabel("Repeat the password").fill(NEW_PASSWORD);
    await p.getByRole("button", { name: "Create account and join" }).click();
    await p.getByRole("heading", { name: "Overview" }).waitFor();
    await expect(p.locator(".topbar .user").textContent()).resolves.toBe("newbie@acme.test");
    await expect(p.locator(".topbar .role").textContent()).resolves.toBe("member");
    // The link worked once.
    await p.goto(link);
    await p.getByText("already accepted").waitFor();
    await invitee.close();

    // And the account signs in with the password it chose.
    const again = await newContext();
    const q = await signIn(again, "newbie@acme.test", NEW_PASSWORD);
    await expect(q.locator(".team-name, #team-switch").first().textContent()).resolves.toContain("Acme");
    await again.close();
  });

  it("changes roles (demotion behind a confirmation) and the member sees it on their next page", async () => {
    const member = await newContext();
    const mp = await signIn(member, "newbie@acme.test", NEW_PASSWORD);
    await page.goto(`${base}/dashboard/members`);
    await page.getByRole("button", { name: "Make admin newbie@acme.test" }).click();
    await page.getByText("The member is now an admin.").waitFor();
    await mp.reload();
    await expect(mp.locator(".topbar .role").textContent()).resolves.toBe("admin");

    await page.getByRole("link", { name: "Make member newbie@acme.test" }).click();
    await page.getByRole("heading", { name: "Make newbie@acme.test a member?" }).waitFor();
    await page.getByRole("button", { name: "Make member" }).click();
    await page.getByText("The admin is now a member.").waitFor();
    await mp.reload();
    await expect(mp.locator(".topbar .role").textContent()).resolves.toBe("member");
    await member.close();
  });

  it("refuses to demote or remove the last admin with a page that says why", async () => {
    const me = await userId(app.admin.email);
    await page.goto(`${base}/dashboard/members/${me}/demote`);
    await page.getByRole("button", { name: "Make member" }).click();
    await page.getByRole("heading", { name: "Last admin" }).waitFor();
    await page.getByText("The team's last admin cannot be demoted.").waitFor();
    await page.goto(`${base}/dashboard/members/${me}/remove`);
    await page.getByRole("button", { name: "Remove member" }).click();
    await page.getByText("The team's last admin cannot be removed.").waitFor();
    expect(await app.services.teams.roleOf(app.team.id, me)).toBe("admin");
  });

  it("removes a member behind a confirmation; their open session no longer reaches the team", async () => {
    const member = await newContext();
    const mp = await signIn(member, "newbie@acme.test", NEW_PASSWORD);
    await page.goto(`${base}/dashboard/members`);
    await page.getByRole("link", { name: "Remove newbie@acme.test" }).click();
    await page.getByRole("heading", { name: "Remove newbie@acme.test from Acme?" }).waitFor();
    await page.getByRole("button", { name: "Remove member" }).click();
    await page.getByText("Member removed.").waitFor();
    await expect(page.locator("#members-table").textContent()).resolves.not.toContain("newbie@acme.test");
    // Their next page is their private teamspace: Acme is gone from their choices.
    await mp.goto(`${base}/dashboard/members`);
    expect(await mp.locator(".topbar").textContent()).not.toContain("Acme");
    await mp.getByText("This is your private teamspace").waitFor();
    await member.close();
  });

  it("reads the audit log as sentences with linked targets and diffs, filters it and exports it without secrets", async () => {
    const me = await userId(app.admin.email);
    await app.services.audit.record({
      teamId: app.team.id,
      actorUserId: me,
      action: "installation.disconnected",
      targetType: "installation",
      targetId: "inst_TEST",
      before: { provider: "linear", display_name: "Acme", status: "active" },
      after: { provider: "linear", display_name: "Acme", status: "disconnected", access_token: "sekret-123" },
    });
    await page.goto(`${base}/dashboard/audit`);
    const row = page.locator('#audit-table tr[data-action="installation.disconnected"]');
    await expect(row.locator(".audit-sentence").textContent()).resolves.toContain(
      "admin@acme.test disconnected Linear · Acme",
    );
    await expect(row.getByRole("link", { name: "Linear · Acme" }).getAttribute("href")).resolves.toBe(
      "/dashboard/installations/inst_TEST",
    );
    await row.getByText("2 fields changed").click();
    await expect(row.locator("details table").textContent()).resolves.toMatch(
      /status.*active.*disconnected/s,
    );
    await expect(row.locator("details").textContent()).resolves.toContain("[redacted]");
    expect(await page.content()).not.toContain("sekret-123");
    await expect(page.locator("#audit-range").textContent()).resolves.toMatch(/^1–\d+ of \d+$/);

    // Filter by action (a select of known actions) and by actor.
    await page.getByLabel("Action").selectOption({ label: "Member removed" });
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page.locator("#audit-table > tbody > tr").count()).resolves.toBe(1);
    await expect(page.locator("#audit-table").textContent()).resolves.toContain(
      "admin@acme.test removed newbie@acme.test from the team",
    );
    await page.getByLabel("Action").selectOption("");
    await page.getByLabel("Who").selectOption({ label: "newbie@acme.test (former member)" });
    await page.getByRole("button", { name: "Filter" }).click();
    await expect(page.locator("#audit-table").textContent()).resolves.toContain(
      "newbie@acme.test accepted the invitation and joined as a member",
    );
    await expect(
      page.locator('#audit-table tr[data-action="installation.disconnected"]').count(),
    ).resolves.toBe(0);
    // A date range before today holds nothing.
    await page.getByLabel("Who").selectOption("");
    await page.getByLabel("To").fill("2020-01-31");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No events match these filters.").waitFor();
    await page.getByRole("link", { name: "Clear" }).click();

    // Export: CSV and JSON of the filtered log, secrets redacted.
    await page.getByLabel("Action").selectOption("installation.disconnected");
    await page.getByRole("button", { name: "Filter" }).click();
    const csvHref = (await page.locator("#export-csv").getAttribute("href"))!;
    const csv = await page.request.get(`${base}${csvHref}`);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    expect(csv.headers()["content-disposition"]).toMatch(/attachment; filename="audit-acme-.*\.csv"/);
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toBe(
      "id,created_at,actor_email,actor_user_id,action,summary,target_type,target_id,before,after,request_id",
    );
    expect(text).toContain("admin@acme.test disconnected Linear · Acme");
    expect(text).not.toContain("sekret-123");
    expect(text).not.toContain("member.removed");
    const json = await (
      await page.request.get(`${base}${await page.locator("#export-json").getAttribute("href")}`)
    ).json();
    expect(json.count).toBe(1);
    expect(json.events[0]).toMatchObject({
      action: "installation.disconnected",
      actor_email: "admin@acme.test",
    });
    expect(JSON.stringify(json)).not.toContain("sekret-123");
  });

  it("creates a token with a copy button; a reload shows it no more and creates no second token", async () => {
    await page.goto(`${base}/dashboard/tokens`);
    await page.getByLabel("Name").fill("laptop");
    await page.getByLabel("Access").selectOption("read");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = await page.locator("#new-token-value").inputValue();
    expect(token).toMatch(/^skt_/);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    const count = async () =>
      (await app.services.tokens.page(await userId(app.admin.email), undefined, 100)).items.filter(
        (t) => t.name === "laptop",
      ).length;
    expect(await count()).toBe(1);
    await page.reload();
    await page.locator("#token-shown-once").waitFor();
    expect(await page.content()).not.toContain(token);
    expect(await count()).toBe(1);
    await expect(page.locator("#tokens-table").textContent()).resolves.toContain("read only");
  });

  it("revokes a token only after a confirmation; cancel keeps it", async () => {
    await page.goto(`${base}/dashboard/tokens`);
    await page.getByRole("link", { name: "Revoke laptop" }).click();
    await page.getByRole("heading", { name: /Revoke “laptop”/ }).waitFor();
    await page.getByRole("link", { name: "Cancel" }).click();
    await expect(page.locator("#tokens-table").textContent()).resolves.toContain("active");
    await page.getByRole("link", { name: "Revoke laptop" }).click();
    await page.getByRole("button", { name: "Revoke token" }).click();
    await page.getByText("API token revoked.").waitFor();
    const row = page.locator("#tokens-table tr", { hasText: "laptop" });
    await expect(row.textContent()).resolves.toContain("revoked");
  });
});
