import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app/server.ts";
import { parseTrustProxy } from "../../src/host/config.ts";
import { rateLimits, signInDelayMs } from "../../src/host/http/rate-limits.ts";
import { providerSettingsFromEnv } from "../../src/host/installations/settings.ts";
import { createLogger } from "../../src/host/logger.ts";
import { randomVault } from "../../src/host/secrets/vault.ts";
import { teamsService } from "../../src/host/teams/service.ts";
import { openDatabase } from "../../src/storage/database.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { type AppProcess, startAppProcess } from "../support/app-process.ts";
import { readCookie } from "../support/cookies.ts";
import { createPostgresDatabase } from "../support/database.ts";
import { describeOnPostgres } from "../support/postgres.ts";

/**
 * Rate limits count on one table every app process shares (rate-limiter-flexible's Drizzle store).
 * Each test uses its own client addresses, so counts of one test never reach another.
 */
const PASSWORD = "correct horse battery staple";
const BAD_TOKEN = { authorization: "Bearer skt_not_a_token_of_anyone", "x-team-slug": "acme" };

let t: TestApp;
/** A second app over the same database that believes X-Forwarded-For from 127.0.0.1 (its proxy). */
let proxied: FastifyInstance;

beforeAll(async () => {
  t = await createTestApp();
  ({ server: proxied } = await buildApp({
    database: t.database,
    logger: createLogger({ level: "silent" }),
    vault: randomVault(),
    settings: providerSettingsFromEnv({}),
    worker: false,
    trustProxy: ["127.0.0.1"],
  }));
});
afterAll(async () => {
  await proxied?.close();
  await t?.close();
});

const api = (remoteAddress: string, headers: Record<string, string>, server = t.server) =>
  server.inject({ method: "GET", url: "/api/v1/team/", remoteAddress, headers });

/** The dashboard's sign-in form from `remoteAddress`: GET for its CSRF token, then POST. */
async function signIn(remoteAddress: string, email: string, password: string, server = t.server) {
  const page = await server.inject({ method: "GET", url: "/dashboard/sign-in", remoteAddress });
  const pre = readCookie(String(page.headers["set-cookie"]).split(";")[0], "sk_signin")!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1];
  return server.inject({
    method: "POST",
    url: "/dashboard/sign-in",
    remoteAddress,
    headers: { cookie: `sk_signin=${pre}`, "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ _csrf: csrf, email, password, next: "/dashboard/" }).toString(),
  });
}

const signedIn = (res: { statusCode: number; headers: Record<string, unknown> }) =>
  res.statusCode === 303 && String(res.headers["set-cookie"]).includes("sk_session=");

describe("failed API token authentication", () => {
  it("is limited per address: the 31st failure is a 429 envelope with Retry-After; other addresses go on", async () => {
    for (let i = 0; i < 30; i++) expect((await api("203.0.113.10", BAD_TOKEN)).statusCode).toBe(401);
    const limited = await api("203.0.113.10", BAD_TOKEN);
    expect(limited.statusCode).toBe(429);
    const body = limited.json();
    expect(body).toMatchObject({ error_code: "too_many_requests", retryable: true, source: "saas" });
    expect(body.retry_after_seconds).toBeGreaterThan(0);
    expect(body.retry_after_seconds).toBeLessThanOrEqual(600);
    expect(limited.headers["retry-after"]).toBe(String(body.retry_after_seconds));
    expect(body.message).toMatch(/try again in/);
    expect(body.request_id).toBe(limited.headers["x-request-id"]);

    // A blocked address is blocked for guessing: a valid token from it is refused too.
    expect((await api("203.0.113.10", t.admin.headers)).statusCode).toBe(429);
    expect((await api("203.0.113.11", t.admin.headers)).statusCode).toBe(200);
    expect((await api("203.0.113.11", BAD_TOKEN)).statusCode).toBe(401);
  });

  it("counts revoked tokens, and a valid token from an address below the limit keeps working", async () => {
    const { token, id } = await t.services.tokens.create({ userId: t.member.userId, name: "to revoke" });
    await t.services.tokens.revoke({ userId: t.member.userId, tokenId: id, teamId: t.team.id });
    const revoked = { authorization: `Bearer ${token}`, "x-team-slug": "acme" };
    for (let i = 0; i < 29; i++) expect((await api("203.0.113.20", revoked)).statusCode).toBe(401);
    expect((await api("203.0.113.20", t.member.headers)).statusCode).toBe(200);
    expect((await api("203.0.113.20", revoked)).statusCode).toBe(401);
    expect((await api("203.0.113.20", revoked)).statusCode).toBe(429);
  });

  it("without TRUST_PROXY, X-Forwarded-For does not give a guesser a fresh counter", async () => {
    for (let i = 0; i < 30; i++) {
      const res = await api("203.0.113.30", { ...BAD_TOKEN, "x-forwarded-for": `198.51.100.${i}` });
      expect(res.statusCode).toBe(401);
    }
    const res = await api("203.0.113.30", { ...BAD_TOKEN, "x-forwarded-for": "198.51.100.200" });
    expect(res.statusCode).toBe(429);
  });

  it("behind a trusted proxy, each forwarded client has its own counter", async () => {
    const via = (client: string, headers: Record<string, string>) =>
      api("127.0.0.1", { ...headers, "x-forwarded-for": client }, proxied);
    for (let i = 0; i < 30; i++) expect((await via("192.0.2.40", BAD_TOKEN)).statusCode).toBe(401);
    expect((await via("192.0.2.40", BAD_TOKEN)).statusCode).toBe(429);
    expect((await via("192.0.2.41", BAD_TOKEN)).statusCode).toBe(401);
    expect((await via("192.0.2.41", t.admin.headers)).statusCode).toBe(200);
  });
});

describe("password sign-in", () => {
  it("a stranger's 50 wrong passwords from one address do not stop the owner signing in from another", async () => {
    const answers: number[] = [];
    for (let i = 0; i < 50; i++)
      answers.push((await signIn("203.0.113.50", t.admin.email, `guess ${i}`)).statusCode);
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(answers.slice(10)).toEqual(Array(40).fill(429));

    const limited = await signIn("203.0.113.50", t.admin.email, PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.body).toContain("Too many failed sign-ins from this address; try again in 15 minutes.");
    expect(signedIn(limited)).toBe(false);

    expect(signedIn(await signIn("198.51.100.60", t.admin.email, PASSWORD))).toBe(true);
  });

  it("is limited per address across accounts (30 wrong passwords), other addresses unaffected", async () => {
    for (let i = 0; i < 30; i++) {
      const res = await signIn("203.0.113.70", `nobody${i}@acme.test`, "guess");
      expect(res.statusCode).toBe(401);
    }
    const limited = await signIn("203.0.113.70", t.member.email, PASSWORD);
    expect(limited.statusCode).toBe(429);
    expect(signedIn(limited)).toBe(false);
    expect(signedIn(await signIn("203.0.113.71", t.member.email, PASSWORD))).toBe(true);
  });

  it("wrong passwords for an account from many addresses slow it down, and its owner still gets in", async () => {
    const user = await t.services.teams.createUser({ email: "slowed@acme.test", password: PASSWORD });
    const slowed: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await t.services.sessions.signIn(
        { email: "slowed@acme.test", password: "guess" },
        { ip: `192.0.2.${100 + i}` },
      );
      expect(r.ok).toBe(false);
      if (!r.ok && r.reason === "invalid_credentials") slowed.push(r.slowedMs);
    }
    expect(slowed).toEqual([0, 0, 0, 0, 0, 0, 100]);
    const owner = await t.services.sessions.signIn(
      { email: "SLOWED@acme.test", password: PASSWORD },
      { ip: "192.0.2.200" },
    );
    expect(owner.ok && owner.session.user.id).toBe(user.id);
    expect(owner.ok && owner.slowedMs).toBe(200);
    // Signing in proved the password: the account is no longer slowed.
    const next = await t.services.sessions.signIn(
      { email: "slowed@acme.test", password: "typo" },
      { ip: "192.0.2.200" },
    );
    expect(!next.ok && next.reason === "invalid_credentials" && next.slowedMs).toBe(0);
  });

  it("slows by a growing delay capped at a few seconds, never a refusal", () => {
    const delays = [0, 5, 6, 7, 8, 9, 10, 11, 20, 1000].map(signInDelayMs);
    expect(delays).toEqual([0, 0, 100, 200, 400, 800, 1600, 3000, 3000, 3000]);
  });
});

describe("attempt counters on the shared table", () => {
  it("count per limit and key, refuse once used up until the window ends, and forget on success", async () => {
    const a = rateLimits(t.database.db);
    const b = rateLimits(t.database.db); // another process's view of the same table
    for (let i = 0; i < 9; i++) expect(await a.signInPair.note("key-1")).toBe(0);
    expect(await b.signInPair.retryAfter("key-1")).toBe(0);
    expect(await b.signInPair.note("key-1")).toBe(0);
    const wait = await a.signInPair.retryAfter("key-1");
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    expect(await a.signInPair.note("key-1")).toBeGreaterThan(0);
    // The same key of another limit, and another key of the same limit, start at nothing.
    expect(await a.signInAddress.count("key-1")).toBe(0);
    expect(await a.signInPair.retryAfter("key-2")).toBe(0);
    await b.signInPair.forget("key-1");
    expect(await a.signInPair.count("key-1")).toBe(0);
  });

  it("the API token limit remembers, in the process that saw it, an address that went over", async () => {
    const a = rateLimits(t.database.db);
    const b = rateLimits(t.database.db);
    for (let i = 0; i < 30; i++) await b.apiTokenFailures.note("198.51.100.250");
    expect(a.apiTokenFailures.knownRetryAfter("198.51.100.250")).toBe(0);
    expect(await a.apiTokenFailures.note("198.51.100.250")).toBeGreaterThan(0);
    expect(a.apiTokenFailures.knownRetryAfter("198.51.100.250")).toBeGreaterThan(0);
    expect(b.apiTokenFailures.knownRetryAfter("198.51.100.250")).toBe(0); // b never saw it go over
  });

  it("purging keeps counters whose window is still open", async () => {
    const limits = rateLimits(t.database.db);
    await limits.deviceCodeLookups.note("purge-me-not");
    await limits.purgeExpired();
    expect(await limits.deviceCodeLookups.count("purge-me-not")).toBe(1);
  });
});

describe("TRUST_PROXY", () => {
  it("is off by default and takes true or the proxies' addresses; a hop count is refused with what to set", () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy("false")).toBe(false);
    expect(parseTrustProxy("true")).toBe(true);
    expect(parseTrustProxy("10.0.0.1, 10.1.0.0/16")).toEqual(["10.0.0.1", "10.1.0.0/16"]);
    expect(() => parseTrustProxy("2")).toThrow(/List the proxies' addresses or CIDRs/);
  });
});

describeOnPostgres("two app processes on one PostgreSQL database", () => {
  let drop: (() => Promise<void>) | undefined;
  let apps: AppProcess[] = [];
  let url: string;

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    if (!created) throw new Error("PostgreSQL unreachable: start it or run under CI");
    ({ url, drop } = created);
    const env = { TRUST_PROXY: "127.0.0.1" };
    apps = await Promise.all([startAppProcess(url, env), startAppProcess(url, env)]);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await drop?.();
  });

  /** A bad-token request to process `i` from `client` (the processes trust the test as their proxy). */
  const guess = (i: number, client: string) =>
    fetch(`${apps[i].baseUrl}/api/v1/team/`, { headers: { ...BAD_TOKEN, "x-forwarded-for": client } });

  it("failed API tokens split between the processes: the next one on either is 429 with Retry-After", async () => {
    for (let i = 0; i < 15; i++) {
      expect((await guess(0, "192.0.2.1")).status).toBe(401);
      expect((await guess(1, "192.0.2.1")).status).toBe(401);
    }
    for (const next of [0, 1]) {
      const res = await guess(next, "192.0.2.1");
      expect(res.status).toBe(429);
      const body = await res.json();
      expect(body.error_code).toBe("too_many_requests");
      expect(Number(res.headers.get("retry-after"))).toBe(body.retry_after_seconds);
      expect(body.retry_after_seconds).toBeGreaterThan(0);
    }
    expect((await guess(0, "192.0.2.2")).status).toBe(401);
  });

  it("40 concurrent failures on both processes: exactly 30 are answered 401, the rest 429", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => guess(i % 2, "192.0.2.3").then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it("wrong passwords for one account split between the processes: the next on either is refused", async () => {
    const db = await openDatabase({ databaseUrl: url, poolSize: 1 });
    try {
      await teamsService(db.db).createUser({ email: "owner@acme.test", password: PASSWORD });
    } finally {
      await db.close();
    }
    const signInOn = async (baseUrl: string, password: string) => {
      const client = { "x-forwarded-for": "192.0.2.9" };
      const page = await fetch(`${baseUrl}/dashboard/sign-in`, { headers: client });
      const pre = readCookie(String(page.headers.get("set-cookie")).split(";")[0], "sk_signin")!;
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
      return fetch(`${baseUrl}/dashboard/sign-in`, {
        method: "POST",
        redirect: "manual",
        headers: {
          ...client,
          cookie: `sk_signin=${pre}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ _csrf: csrf, email: "owner@acme.test", password, next: "/dashboard/" }),
      });
    };
    const [a, b] = apps.map((p) => p.baseUrl);
    // From the same client address through either process.
    for (let i = 0; i < 5; i++) {
      expect((await signInOn(a, `guess a${i}`)).status).toBe(401);
      expect((await signInOn(b, `guess b${i}`)).status).toBe(401);
    }
    for (const next of [a, b]) {
      const res = await signInOn(next, PASSWORD);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(res.headers.get("set-cookie") ?? "").not.toContain("sk_session=");
    }
  });
});
