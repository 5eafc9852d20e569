import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliAuthApp, createCliAuthApp, FORM_HEADERS, form, pkce } from "../support/cli-auth.ts";

/**
 * CLI sign-in over HTTP exactly as the spec-kitty CLI drives it (CLI auth contract §3, §4, §5, §7, §8,
 * §9.1, §13): browser PKCE login, headless device flow, refresh rotation, revoke, /me, and the tracker
 * API with the resulting access token; plus the abuse cases.
 */

const REDIRECT = "http://127.0.0.1:28888/callback";
const GRACE_MS = 1_000;
const DEVICE_TTL_S = 4;

let t: CliAuthApp;
let cookie: string;
let csrf: string;

beforeAll(async () => {
  t = await createCliAuthApp({
    refreshReuseGraceMs: GRACE_MS,
    deviceCodeTtlSeconds: DEVICE_TTL_S,
    deviceIntervalSeconds: 1,
  });
  const signed = await t.services.sessions.signIn({ email: t.user.email, password: t.user.password });
  if (!signed.ok) throw new Error("sign-in failed");
  cookie = `sk_session=${signed.token}`;
  csrf = signed.session.csrfToken;
});
afterAll(() => t?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function authorizeQuery(
  p: { challenge: string; state: string },
  overrides: Record<string, string | null> = {},
) {
  const q: Record<string, string> = {
    client_id: "cli_native",
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "offline_access",
    code_challenge: p.challenge,
    code_challenge_method: "S256",
    state: p.state,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) delete q[k];
    else q[k] = v;
  }
  return new URLSearchParams(q).toString();
}

/** Signed-in browser approves an authorize request; returns the loopback callback URL. */
async function approve(p: { challenge: string; state: string }, decision = "approve") {
  const page = await t.call({
    method: "GET",
    url: `/oauth/authorize?${authorizeQuery(p)}`,
    headers: { cookie },
  });
  expect(page.statusCode).toBe(200);
  const fields = Object.fromEntries(new URLSearchParams(authorizeQuery(p)));
  const res = await t.call({
    method: "POST",
    url: "/oauth/authorize",
    headers: { cookie, ...FORM_HEADERS },
    payload: form({ ...fields, _csrf: csrf, decision }),
  });
  expect(res.statusCode).toBe(303);
  return new URL(res.headers.location as string);
}

async function token(fields: Record<string, string>) {
  return t.call({ method: "POST", url: "/oauth/token", headers: FORM_HEADERS, payload: form(fields) });
}

async function browserLogin() {
  const p = pkce();
  const cb = await approve(p);
  const res = await token({
    grant_type: "authorization_code",
    code: cb.searchParams.get("code")!,
    redirect_uri: REDIRECT,
    client_id: "cli_native",
    code_verifier: p.verifier,
  });
  expect(res.statusCode).toBe(200);
  return res.json();
}

const bearer = (access: string, team?: string) => ({
  authorization: `Bearer ${access}`,
  ...(team ? { "x-team-slug": team } : {}),
});

describe("browser sign-in (authorization code + PKCE)", () => {
  it("sends an unsigned browser through the dashboard sign-in and back", async () => {
    const p = pkce();
    const q = authorizeQuery(p);
    const res = await t.call({ method: "GET", url: `/oauth/authorize?${q}` });
    expect(res.statusCode).toBe(303);
    const signIn = new URL(res.headers.location as string, "http://x");
    expect(signIn.pathname).toBe("/dashboard/sign-in");
    const next = signIn.searchParams.get("next")!;
    expect(next).toBe(`/dashboard/cli/authorize?${q}`);
    const back = await t.call({ method: "GET", url: next });
    expect(back.statusCode).toBe(303);
    expect(back.headers.location).toBe(`/oauth/authorize?${q}`);
  });

  it("shows a consent page that may only post back here and to the loopback", async () => {
    const p = pkce();
    const page = await t.call({
      method: "GET",
      url: `/oauth/authorize?${authorizeQuery(p)}`,
      headers: { cookie },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(t.user.email);
    expect(page.body).toContain('id="approve"');
    expect(page.headers["content-security-policy"]).toContain("form-action 'self' http://127.0.0.1:28888");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  });

  it("logs in: code → tokens with every contract field, state round-trips, /me and session-status answer", async () => {
    const p = pkce();
    const cb = await approve(p);
    expect(cb.origin + cb.pathname).toBe(REDIRECT);
    expect(cb.searchParams.get("state")).toBe(p.state);
    const code = cb.searchParams.get("code")!;
    expect(code).toBeTruthy();

    const res = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      client_id: "cli_native",
      code_verifier: p.verifier,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        "access_token",
        "expires_in",
        "generation",
        "refresh_token",
        "refresh_token_expires_at",
        "refresh_token_expires_in",
        "scope",
        "session_id",
        "token_type",
      ].sort(),
    );
    expect(body).toMatchObject({ token_type: "Bearer", scope: "offline_access", expires_in: 3600 });
    expect(body.refresh_token_expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(new Date(body.refresh_token_expires_at).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);

    // Only hashes are stored.
    const stored = JSON.stringify([
      await t.database.db.query.oauthAccessTokens.findMany(),
      await t.database.db.query.oauthRefreshTokens.findMany(),
      await t.database.db.query.oauthAuthorizationCodes.findMany(),
    ]);
    for (const s of [body.access_token, body.refresh_token, code]) expect(stored).not.toContain(s);

    const me = await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(body.access_token) });
    expect(me.statusCode).toBe(200);
    const m = me.json();
    expect(m.user_id).toBe(t.user.email);
    expect(m.email).toBe(t.user.email);
    const priv = m.teams.filter((x: { is_private_teamspace: boolean }) => x.is_private_teamspace === true);
    const shared = m.teams.filter((x: { is_private_teamspace: boolean }) => x.is_private_teamspace === false);
    expect(priv).toHaveLength(1);
    expect(shared).toHaveLength(1);
    for (const team of m.teams) {
      expect(typeof team.id).toBe("string");
      expect(typeof team.name).toBe("string");
      expect(typeof team.role).toBe("string");
    }

    const status = await t.call({
      method: "GET",
      url: "/api/v1/session-status",
      headers: bearer(body.access_token),
    });
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({
      status: "active",
      session_id: body.session_id,
      current_generation: 1,
    });
  });

  it("the access token reaches the tracker API exactly as an API token does, with /me's team id as X-Team-Slug", async () => {
    const tokens = await browserLogin();
    const me = (
      await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(tokens.access_token) })
    ).json();
    const teamId = me.teams.find((x: { is_private_teamspace: boolean }) => !x.is_private_teamspace).id;
    expect(teamId).toBe(t.team.id);

    const url = "/api/v1/tracker/resources/?provider=github";
    const viaSession = await t.call({ method: "GET", url, headers: bearer(tokens.access_token, teamId) });
    const viaApiToken = await t.call({ method: "GET", url, headers: bearer(t.user.apiToken, teamId) });
    expect([200, 403]).toContain(viaSession.statusCode);
    expect(viaSession.statusCode).toBe(viaApiToken.statusCode);
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
    expect(strip(viaSession.json())).toEqual(strip(viaApiToken.json()));
    if (viaSession.statusCode === 403) expect(viaSession.json().error_code).toBe("no_installation");

    const team = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      headers: bearer(tokens.access_token, teamId),
    });
    expect(team.statusCode).toBe(200);
    expect(team.json().slug).toBe("acme");
    const noTeam = await t.call({ method: "GET", url, headers: bearer(tokens.access_token) });
    expect(noTeam.statusCode).toBe(400);
  });

  it("the user can deny; the CLI gets access_denied with its state", async () => {
    const p = pkce();
    const cb = await approve(p, "deny");
    expect(cb.searchParams.get("error")).toBe("access_denied");
    expect(cb.searchParams.get("state")).toBe(p.state);
    expect(cb.searchParams.get("code")).toBeNull();
  });
});

describe("authorization abuse cases", () => {
  it("refuses redirect URIs that are not loopback /callback, without redirecting", async () => {
    const p = pkce();
    for (const uri of [
      "http://evil.example:28888/callback",
      "https://127.0.0.1:28888/callback",
      "http://127.0.0.1/callback",
      "http://127.0.0.1:28888/other",
      "http://127.0.0.1:28888/callback?x=1",
      "http://127.0.0.1.evil.example:28888/callback",
      "http://user@127.0.0.1:28888/callback",
    ]) {
      const res = await t.call({
        method: "GET",
        url: `/oauth/authorize?${authorizeQuery(p, { redirect_uri: uri })}`,
        headers: { cookie },
      });
      expect(res.statusCode, uri).toBe(400);
      expect(res.headers.location, uri).toBeUndefined();
      expect(res.body).toMatch(/redirect URI is not allowed/);
    }
    // localhost is a loopback host too (RFC 8252), on any port.
    const ok = await t.call({
      method: "GET",
      url: `/oauth/authorize?${authorizeQuery(p, { redirect_uri: "http://localhost:51234/callback" })}`,
      headers: { cookie },
    });
    expect(ok.statusCode).toBe(200);
  });

  it("refuses an unknown client without redirecting, and PKCE-less or plain requests back to the CLI", async () => {
    const p = pkce();
    const bad = await t.call({
      method: "GET",
      url: `/oauth/authorize?${authorizeQuery(p, { client_id: "evil" })}`,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers.location).toBeUndefined();
    const cases: Record<string, string | null>[] = [
      { code_challenge: null },
      { code_challenge_method: "plain" },
      { code_challenge_method: null },
      { response_type: "token" },
    ];
    for (const overrides of cases) {
      const res = await t.call({
        method: "GET",
        url: `/oauth/authorize?${authorizeQuery(p, overrides)}`,
        headers: { cookie },
      });
      expect(res.statusCode).toBe(303);
      const back = new URL(res.headers.location as string);
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get("error")).toMatch(/invalid_request|unsupported_response_type/);
      expect(back.searchParams.get("state")).toBe(p.state);
    }
  });

  it("the approve form needs the session's CSRF token", async () => {
    const p = pkce();
    const fields = Object.fromEntries(new URLSearchParams(authorizeQuery(p)));
    const res = await t.call({
      method: "POST",
      url: "/oauth/authorize",
      headers: { cookie, ...FORM_HEADERS },
      payload: form({ ...fields, decision: "approve" }),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers.location).toBeUndefined();
    const signedOut = await t.call({
      method: "POST",
      url: "/oauth/authorize",
      headers: FORM_HEADERS,
      payload: form({ ...fields, _csrf: csrf, decision: "approve" }),
    });
    expect(signedOut.statusCode).toBe(403);
  });

  it("a wrong verifier is invalid_grant and spends the code", async () => {
    const p = pkce();
    const code = (await approve(p)).searchParams.get("code")!;
    const base = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: "cli_native" };
    const wrong = await token({ ...base, code_verifier: pkce().verifier });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error).toBe("invalid_grant");
    const right = await token({ ...base, code_verifier: p.verifier });
    expect(right.statusCode).toBe(400);
    expect(right.json().error).toBe("invalid_grant");
  });

  it("a mismatched redirect_uri or client is refused", async () => {
    const p = pkce();
    const code = (await approve(p)).searchParams.get("code")!;
    const res = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: "http://127.0.0.1:28889/callback",
      client_id: "cli_native",
      code_verifier: p.verifier,
    });
    expect(res.json().error).toBe("invalid_grant");
    const client = await token({
      grant_type: "authorization_code",
      code,
      client_id: "other",
      code_verifier: p.verifier,
    });
    expect(client.statusCode).toBe(400);
    expect(client.json().error).toBe("invalid_client");
    const grant = await token({ grant_type: "password", client_id: "cli_native" });
    expect(grant.json().error).toBe("unsupported_grant_type");
    const repeated = await t.call({
      method: "POST",
      url: "/oauth/token",
      headers: FORM_HEADERS,
      payload: "grant_type=authorization_code&grant_type=refresh_token&client_id=cli_native",
    });
    expect(repeated.statusCode).toBe(400);
    expect(repeated.json().error).toBe("invalid_request");
  });

  it("a reused code is refused and revokes the session it was exchanged for", async () => {
    const p = pkce();
    const code = (await approve(p)).searchParams.get("code")!;
    const fields = {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      client_id: "cli_native",
      code_verifier: p.verifier,
    };
    const first = await token(fields);
    expect(first.statusCode).toBe(200);
    const again = await token(fields);
    expect(again.statusCode).toBe(400);
    expect(again.json().error).toBe("invalid_grant");
    const me = await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(first.json().access_token) });
    expect(me.statusCode).toBe(401);
  });
});

describe("refresh rotation", () => {
  it("rotates the refresh token, keeps session_id, counts generations", async () => {
    const login = await browserLogin();
    const r1 = await token({
      grant_type: "refresh_token",
      refresh_token: login.refresh_token,
      client_id: "cli_native",
    });
    expect(r1.statusCode).toBe(200);
    const b1 = r1.json();
    expect(b1.refresh_token).not.toBe(login.refresh_token);
    expect(b1.access_token).not.toBe(login.access_token);
    expect(b1.session_id).toBe(login.session_id);
    expect(b1.generation).toBe(2);
    expect(typeof b1.refresh_token_expires_at).toBe("string");
    const r2 = await token({
      grant_type: "refresh_token",
      refresh_token: b1.refresh_token,
      client_id: "cli_native",
    });
    expect(r2.json().generation).toBe(3);
    const status = await t.call({
      method: "GET",
      url: "/api/v1/session-status",
      headers: bearer(r2.json().access_token),
    });
    expect(status.json().current_generation).toBe(3);
  });

  it("a concurrent double refresh answers one 200 and one 409 refresh_replay_benign_retry, family intact", async () => {
    const login = await browserLogin();
    const fields = {
      grant_type: "refresh_token",
      refresh_token: login.refresh_token,
      client_id: "cli_native",
    };
    const results = await Promise.all([token(fields), token(fields)]);
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([200, 409]);
    const winner = results.find((r) => r.statusCode === 200)!.json();
    const loser = results.find((r) => r.statusCode === 409)!.json();
    expect(loser).toMatchObject({ error: "refresh_replay_benign_retry", retry_after: 1 });
    const next = await token({
      grant_type: "refresh_token",
      refresh_token: winner.refresh_token,
      client_id: "cli_native",
    });
    expect(next.statusCode).toBe(200);
  });

  it("a replayed refresh token after the grace window revokes the whole family", async () => {
    const login = await browserLogin();
    const rotated = (
      await token({
        grant_type: "refresh_token",
        refresh_token: login.refresh_token,
        client_id: "cli_native",
      })
    ).json();
    await sleep(GRACE_MS + 200);
    const replay = await token({
      grant_type: "refresh_token",
      refresh_token: login.refresh_token,
      client_id: "cli_native",
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error).toBe("invalid_grant");

    const current = await token({
      grant_type: "refresh_token",
      refresh_token: rotated.refresh_token,
      client_id: "cli_native",
    });
    expect(current.statusCode).toBe(400);
    expect(current.json().error).toBe("session_invalid");
    for (const access of [login.access_token, rotated.access_token]) {
      const me = await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(access) });
      expect(me.statusCode).toBe(401);
    }
  });

  it("an unknown refresh token is invalid_grant", async () => {
    const res = await token({
      grant_type: "refresh_token",
      refresh_token: "skr_nope",
      client_id: "cli_native",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe("invalid_grant");
  });
});

describe("guessing and flooding from one address", () => {
  const from = (remoteAddress: string, url: string, fields: Record<string, string>) =>
    t.server.inject({ method: "POST", url, remoteAddress, headers: FORM_HEADERS, payload: form(fields) });
  const guess = (remoteAddress: string) =>
    from(remoteAddress, "/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: `skr_guess_${Math.random()}`,
      client_id: "cli_native",
    });

  it("refused token requests are limited per address with 429 and Retry-After; other addresses go on", async () => {
    for (let i = 0; i < 30; i++) expect((await guess("203.0.113.7")).statusCode).toBe(400);
    const limited = await guess("203.0.113.7");
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe("too_many_requests");
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.headers["cache-control"]).toBe("no-store");
    const elsewhere = await guess("203.0.113.8");
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json().error).toBe("invalid_grant");
  });

  it("device sign-ins started from one address are limited", async () => {
    const start = () => from("198.51.100.9", "/oauth/device", { client_id: "cli_native" });
    for (let i = 0; i < 20; i++) expect((await start()).statusCode).toBe(200);
    const limited = await start();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe("too_many_requests");
  });
});

describe("revoke (auth logout)", () => {
  it("answers {revoked: true} without authentication and ends the session", async () => {
    const login = await browserLogin();
    const res = await t.call({
      method: "POST",
      url: "/oauth/revoke",
      headers: FORM_HEADERS,
      payload: form({ token: login.refresh_token, token_type_hint: "refresh_token" }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revoked: true });
    const refresh = await token({
      grant_type: "refresh_token",
      refresh_token: login.refresh_token,
      client_id: "cli_native",
    });
    expect(refresh.statusCode).toBe(400);
    expect(["invalid_grant", "session_invalid"]).toContain(refresh.json().error);
    const me = await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(login.access_token) });
    expect(me.statusCode).toBe(401);
    const status = await t.call({
      method: "GET",
      url: "/api/v1/session-status",
      headers: bearer(login.access_token),
    });
    expect(status.statusCode).toBe(401);

    const unknown = await t.call({
      method: "POST",
      url: "/oauth/revoke",
      headers: FORM_HEADERS,
      payload: form({ token: "whatever" }),
    });
    expect(unknown.json()).toEqual({ revoked: true });
    // Housekeeping runs on both drivers and keeps live sessions.
    const live = await browserLogin();
    await t.services.oauth.purgeExpired();
    expect(
      (await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(live.access_token) })).statusCode,
    ).toBe(200);

    const missing = await t.call({
      method: "POST",
      url: "/oauth/revoke",
      headers: FORM_HEADERS,
      payload: "",
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe("invalid_request");
  });
});

describe("headless sign-in (device authorization grant)", () => {
  async function startDevice() {
    const res = await t.call({
      method: "POST",
      url: "/oauth/device",
      headers: FORM_HEADERS,
      payload: form({ client_id: "cli_native", scope: "offline_access" }),
    });
    expect(res.statusCode).toBe(200);
    return res.json();
  }
  const poll = (deviceCode: string) =>
    token({
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: deviceCode,
      client_id: "cli_native",
    });

  it("user code entry after sign-in, then polling yields tokens once", async () => {
    const d = await startDevice();
    expect(d).toMatchObject({ expires_in: DEVICE_TTL_S, interval: 1 });
    expect(d.user_code).toMatch(/^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$/);
    expect(new URL(d.verification_uri).pathname).toBe("/dashboard/cli/device");
    expect(d.verification_uri_complete).toContain(encodeURIComponent(d.user_code));

    const pending = await poll(d.device_code);
    expect(pending.statusCode).toBe(400);
    expect(pending.json().error).toBe("authorization_pending");

    const verify = `/dashboard/cli/device?user_code=${encodeURIComponent(d.user_code)}`;
    const unsigned = await t.call({ method: "GET", url: verify });
    expect(unsigned.statusCode).toBe(303);
    expect(new URL(unsigned.headers.location as string, "http://x").searchParams.get("next")).toBe(verify);

    const entry = await t.call({ method: "GET", url: "/dashboard/cli/device", headers: { cookie } });
    expect(entry.body).toContain('name="user_code"');
    const confirm = await t.call({
      method: "GET",
      url: `/dashboard/cli/device?user_code=${d.user_code.replace("-", "").toLowerCase()}`,
      headers: { cookie },
    });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain(d.user_code);
    const approved = await t.call({
      method: "POST",
      url: "/dashboard/cli/device",
      headers: { cookie, ...FORM_HEADERS },
      payload: form({ _csrf: csrf, user_code: d.user_code, decision: "approve" }),
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.body).toContain("Device signed in");

    await sleep(1_000);
    const done = await poll(d.device_code);
    expect(done.statusCode).toBe(200);
    const tokens = done.json();
    for (const k of ["access_token", "refresh_token", "expires_in", "session_id"])
      expect(tokens[k]).toBeDefined();
    const me = await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(tokens.access_token) });
    expect(me.json().user_id).toBe(t.user.email);

    const again = await poll(d.device_code);
    expect(again.statusCode).toBe(400);
    expect(again.json().error).toBe("invalid_grant");
  });

  it("polling faster than the interval answers slow_down", async () => {
    const d = await startDevice();
    expect((await poll(d.device_code)).json().error).toBe("authorization_pending");
    const fast = await poll(d.device_code);
    expect(fast.statusCode).toBe(400);
    expect(fast.json().error).toBe("slow_down");
  });

  it("a denied request answers access_denied", async () => {
    const d = await startDevice();
    const denied = await t.call({
      method: "POST",
      url: "/dashboard/cli/device",
      headers: { cookie, ...FORM_HEADERS },
      payload: form({ _csrf: csrf, user_code: d.user_code, decision: "deny" }),
    });
    expect(denied.statusCode).toBe(200);
    const res = await poll(d.device_code);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe("access_denied");
  });

  it("an expired device code answers expired_token and can no longer be approved", async () => {
    const d = await startDevice();
    await sleep(DEVICE_TTL_S * 1000 + 200);
    const res = await poll(d.device_code);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe("expired_token");
    const late = await t.call({
      method: "GET",
      url: `/dashboard/cli/device?user_code=${encodeURIComponent(d.user_code)}`,
      headers: { cookie },
    });
    expect(late.statusCode).toBe(400);
    const approve = await t.call({
      method: "POST",
      url: "/dashboard/cli/device",
      headers: { cookie, ...FORM_HEADERS },
      payload: form({ _csrf: csrf, user_code: d.user_code, decision: "approve" }),
    });
    expect(approve.statusCode).toBe(400);
  });

  it("an unknown user code is refused; device requests need the CLI client", async () => {
    const res = await t.call({
      method: "GET",
      url: "/dashboard/cli/device?user_code=BBBB-BBBB",
      headers: { cookie },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/unknown, expired or already used/);
    const other = await t.call({
      method: "POST",
      url: "/oauth/device",
      headers: FORM_HEADERS,
      payload: form({ client_id: "x" }),
    });
    expect(other.statusCode).toBe(400);
    expect(other.json().error).toBe("invalid_client");
  });
});

describe("CLI sessions page", () => {
  it("a team call authenticated moments ago (cached) is refused once the session is signed out", async () => {
    const login = await browserLogin();
    const call = () =>
      t.call({ method: "GET", url: "/api/v1/tokens/", headers: bearer(login.access_token, "acme") });
    for (let i = 0; i < 2; i++) expect((await call()).statusCode).toBe(200);
    const out = await t.call({
      method: "POST",
      url: "/oauth/revoke",
      headers: FORM_HEADERS,
      payload: form({ token: login.access_token, token_type_hint: "access_token" }),
    });
    expect(out.json()).toEqual({ revoked: true });
    const next = await call();
    expect(next.statusCode).toBe(401);
    expect(next.json().message).toContain("signed out or revoked");
  });

  it("lists the user's CLI sessions and revokes one", async () => {
    const login = await browserLogin();
    const page = await t.call({ method: "GET", url: "/dashboard/cli/sessions", headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(login.session_id);
    expect(page.body).not.toContain(login.access_token);

    const noCsrf = await t.call({
      method: "POST",
      url: `/dashboard/cli/sessions/${login.session_id}/revoke`,
      headers: { cookie, ...FORM_HEADERS },
      payload: "",
    });
    expect(noCsrf.statusCode).toBe(403);
    const res = await t.call({
      method: "POST",
      url: `/dashboard/cli/sessions/${login.session_id}/revoke`,
      headers: { cookie, ...FORM_HEADERS },
      payload: form({ _csrf: csrf }),
    });
    expect(res.statusCode).toBe(303);
    const refresh = await token({
      grant_type: "refresh_token",
      refresh_token: login.refresh_token,
      client_id: "cli_native",
    });
    expect(refresh.json().error).toBe("session_invalid");
    const after = await t.call({ method: "GET", url: "/dashboard/cli/sessions", headers: { cookie } });
    expect(after.body).not.toContain(login.session_id);

    // Another user's session id answers like an unknown one.
    const other = await t.services.teams.createUser({
      email: "eve@example.test",
      password: "another long password",
    });
    const eve = await t.services.sessions.signIn({
      email: "eve@example.test",
      password: "another long password",
    });
    if (!eve.ok) throw new Error("sign-in failed");
    const mine = await browserLogin();
    const steal = await t.call({
      method: "POST",
      url: `/dashboard/cli/sessions/${mine.session_id}/revoke`,
      headers: { cookie: `sk_session=${eve.token}`, ...FORM_HEADERS },
      payload: form({ _csrf: eve.session.csrfToken }),
    });
    expect(steal.statusCode).toBe(404);
    expect(other.id).toBeTruthy();
    const still = await t.call({ method: "GET", url: "/api/v1/me", headers: bearer(mine.access_token) });
    expect(still.statusCode).toBe(200);
  });
});

describe("project sync admission (§9.1)", () => {
  const uuid = "6f1c2f2e-59a1-4a1f-9a2e-0f1c2f2e59a1";
  const path = `/api/v1/sync/projects/${uuid}/sync-admission/`;
  const key = (n: number) => `admission-key-${String(n).padStart(4, "0")}`;
  let access: string;
  beforeAll(async () => {
    access = (await browserLogin()).access_token;
  });
  const call = (method: "PUT" | "DELETE", headers: Record<string, string>, payload?: unknown, url = path) =>
    t.call({
      method,
      url,
      headers: { ...bearer(access), ...headers, ...(payload ? { "content-type": "application/json" } : {}) },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
  const refusal = (res: { statusCode: number; json(): any }, status: number, category: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error_category: category, retryable: false });
  };

  it("admits, replays by key, revokes by generation, and never lets an old admit revive the project", async () => {
    const admit = await call("PUT", { "idempotency-key": key(1) }, { project_slug: "demo" });
    expect(admit.statusCode).toBe(200);
    const a = admit.json();
    expect(a).toMatchObject({ source_project_uuid: uuid, state: "admitted", generation: 1 });
    expect(typeof a.binding_audience).toBe("string");
    expect(a.binding_audience.length).toBeGreaterThan(0);

    const replay = await call("PUT", { "idempotency-key": key(1) }, { project_slug: "demo" });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(a);
    expect(replay.headers["idempotency-replayed"]).toBe("true");

    refusal(
      await call("DELETE", { "idempotency-key": key(1), "if-match-admission-generation": "1" }),
      409,
      "admission_operation_conflict",
    );
    refusal(await call("DELETE", { "idempotency-key": key(2) }), 400, "invalid_admission_request");
    const stale = await call("DELETE", { "idempotency-key": key(3), "if-match-admission-generation": "7" });
    refusal(stale, 409, "admission_generation_conflict");
    expect(stale.json().current_generation).toBe(1);

    const revoked = await call("DELETE", { "idempotency-key": key(4), "if-match-admission-generation": "1" });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ state: "revoked", generation: 2 });

    // The old admit replayed: its original answer, but the project stays revoked.
    expect((await call("PUT", { "idempotency-key": key(1) }, { project_slug: "demo" })).json()).toEqual(a);
    const plain = await call("PUT", { "idempotency-key": key(5) });
    refusal(plain, 409, "admission_generation_conflict");
    expect(plain.json().current_generation).toBe(2);

    const readmit = await call("PUT", { "idempotency-key": key(6), "if-match-admission-generation": "2" });
    expect(readmit.statusCode).toBe(200);
    expect(readmit.json()).toMatchObject({ state: "admitted", generation: 3 });
    expect(readmit.json().binding_audience).not.toBe(a.binding_audience);

    // Idempotent admit while admitted: same generation.
    const again = await call("PUT", { "idempotency-key": key(7) });
    expect(again.json()).toMatchObject({ state: "admitted", generation: 3 });
  });

  it("refuses bad input and missing auth in the contract's refusal shape", async () => {
    refusal(
      await call(
        "PUT",
        { "idempotency-key": key(20) },
        undefined,
        "/api/v1/sync/projects/not-a-uuid/sync-admission/",
      ),
      400,
      "invalid_project_uuid",
    );
    refusal(
      await call(
        "PUT",
        { "idempotency-key": key(21) },
        undefined,
        "/api/v1/sync/projects/00000000-0000-0000-0000-000000000000/sync-admission/",
      ),
      400,
      "invalid_project_uuid",
    );
    refusal(await call("PUT", { "idempotency-key": "short" }), 400, "invalid_admission_request");
    refusal(
      await call("PUT", { "idempotency-key": key(22) }, { project_slug: "x", extra: 1 }),
      400,
      "invalid_admission_request",
    );
    refusal(
      await call(
        "DELETE",
        { "idempotency-key": key(23), "if-match-admission-generation": "1" },
        undefined,
        "/api/v1/sync/projects/11111111-2222-4333-8444-555555555555/sync-admission/",
      ),
      404,
      "project_sync_admission_not_found",
    );
    const anon = await t.call({ method: "PUT", url: path, headers: { "idempotency-key": key(24) } });
    refusal(anon, 401, "authentication_required");
  });
});
