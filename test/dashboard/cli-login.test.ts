import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/browser.ts";
import { type CliAuthApp, createCliAuthApp, pkce } from "../support/cli-auth.ts";

/**
 * The spec-kitty CLI's sign-in, played end to end: a loopback callback listener on 127.0.0.1, the
 * browser (Debian's Chromium via playwright-core) opening `/oauth/authorize`, signing in through the
 * dashboard's real sign-in page, approving, and the "CLI" exchanging the code with its PKCE verifier
 * over HTTP. Then the headless device flow through the verification page. Under CI a missing Chromium
 * fails the suite; it never skips silently.
 */
const haveChromium = chromiumAvailable("the CLI sign-in browser test");

interface Callback {
  query: URLSearchParams;
}

/** What the CLI runs while the browser is away (contract §3.1, §3.3): GET /callback only, first wins. */
async function loopbackListener() {
  let resolve!: (cb: Callback) => void;
  const received = new Promise<Callback>((r) => {
    resolve = r;
  });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/callback") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html" }).end("<h1>Authentication complete</h1>");
    resolve({ query: url.searchParams });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.skipIf(!haveChromium)("CLI sign-in in a browser", () => {
  let t: CliAuthApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    t = await createCliAuthApp({ deviceIntervalSeconds: 1 }, { listen: true });
    base = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    context = await browser.newContext();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    });

  it("auth login: authorize → real sign-in page → approve → loopback callback → code exchange → /me → tracker", async () => {
    const cli = await loopbackListener();
    try {
      const p = pkce();
      const authorize = new URL(`${base}/oauth/authorize`);
      for (const [k, v] of Object.entries({
        client_id: "cli_native",
        redirect_uri: cli.redirectUri,
        response_type: "code",
        scope: "offline_access",
        code_challenge: p.challenge,
        code_challenge_method: "S256",
        state: p.state,
      }))
        authorize.searchParams.set(k, v);

      const page = await context.newPage();
      await page.goto(authorize.toString());
      await page.getByRole("heading", { name: "Sign in" }).waitFor();
      await page.getByLabel("Email").fill(t.user.email);
      await page.getByLabel("Password").fill(t.user.password);
      await page.getByRole("button", { name: "Sign in" }).click();

      await page.getByRole("heading", { name: "Sign in to the Spec Kitty CLI?" }).waitFor();
      expect(await page.locator("#consent-user").textContent()).toBe(t.user.email);
      await page.getByRole("button", { name: "Approve" }).click();

      const cb = await cli.received;
      await page.getByText("Authentication complete").waitFor();
      expect(cb.query.get("state")).toBe(p.state);
      expect(cb.query.get("error")).toBeNull();
      const code = cb.query.get("code");
      expect(code).toBeTruthy();

      const exchanged = await post("/oauth/token", {
        grant_type: "authorization_code",
        code: code!,
        redirect_uri: cli.redirectUri,
        client_id: "cli_native",
        code_verifier: p.verifier,
      });
      expect(exchanged.status).toBe(200);
      const tokens = await exchanged.json();
      for (const k of ["access_token", "refresh_token", "expires_in", "session_id"])
        expect(tokens[k]).toBeDefined();

      const me = await (
        await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
      ).json();
      expect(me.user_id).toBe(t.user.email);
      const collab = me.teams.filter((x: { is_private_teamspace: boolean }) => !x.is_private_teamspace);
      expect(collab).toHaveLength(1);
      expect(me.teams.filter((x: { is_private_teamspace: boolean }) => x.is_private_teamspace)).toHaveLength(
        1,
      );

      const tracker = await fetch(`${base}/api/v1/tracker/resources/?provider=github`, {
        headers: { authorization: `Bearer ${tokens.access_token}`, "x-team-slug": collab[0].id },
      });
      const viaApiToken = await fetch(`${base}/api/v1/tracker/resources/?provider=github`, {
        headers: { authorization: `Bearer ${t.user.apiToken}`, "x-team-slug": collab[0].id },
      });
      expect(tracker.status).toBe(viaApiToken.status);
      expect([200, 403]).toContain(tracker.status);

      // The signed-in user sees this CLI session in the dashboard.
      await page.goto(`${base}/dashboard/cli/sessions`);
      await page.getByRole("heading", { name: "CLI sessions" }).waitFor();
      expect(await page.locator(`tr[data-session-id="${tokens.session_id}"]`).count()).toBe(1);
      await page.close();
    } finally {
      await cli.close();
    }
  });

  it("auth login --headless: device code entered on the verification page after sign-in", async () => {
    const started = await post("/oauth/device", { client_id: "cli_native", scope: "offline_access" });
    expect(started.status).toBe(200);
    const d = await started.json();
    const pending = await post("/oauth/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: d.device_code,
      client_id: "cli_native",
    });
    expect(pending.status).toBe(400);
    expect((await pending.json()).error).toBe("authorization_pending");

    const page = await context.newPage(); // same browser profile: already signed in
    await page.goto(d.verification_uri);
    await page.getByLabel("Code").fill(d.user_code.toLowerCase());
    await page.getByRole("button", { name: "Continue" }).click();
    expect(await page.locator("#device-code").textContent()).toBe(d.user_code);
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("heading", { name: "Device signed in" }).waitFor();
    await page.close();

    await new Promise((r) => setTimeout(r, 1_000));
    const done = await post("/oauth/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: d.device_code,
      client_id: "cli_native",
    });
    expect(done.status).toBe(200);
    const tokens = await done.json();
    const me = await fetch(`${base}/api/v1/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(me.status).toBe(200);
  });
});
