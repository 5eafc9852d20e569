import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderSimulator } from "../../src/simulators/core/types.ts";
import { startGitlabSimulator } from "../../src/simulators/gitlab/index.ts";
import type { Connection } from "../../src/tracker/core/adapter.ts";
import type { BindableResource } from "../../src/tracker/core/descriptor.ts";
import { runDiscovery } from "../../src/tracker/core/discovery.ts";
import { createHttpClient, type HttpClient, impatient } from "../../src/tracker/core/http.ts";
import { OAUTH_PROFILES, refreshTokens } from "../../src/tracker/core/oauth.ts";
import { gitlabAdapter } from "../../src/tracker/gitlab/adapter.ts";
import { FAST_RETRY, trackerFailure } from "../support/tracker.ts";

/**
 * Which failed requests the provider client repeats. Reads are repeated; a request that may have changed
 * something upstream only when the provider provably did not act on it (no connection, a rate limit, a 503
 * saying when to come back), so a timed-out create never becomes two issues.
 */
const RULES = { provider: "test" };

/** A server that answers each request with the next scripted reply, and counts what it received. */
async function scripted(replies: { status: number; headers?: Record<string, string>; hang?: boolean }[]) {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const r = replies[Math.min(seen.length - 1, replies.length - 1)];
    if (r.hang) return; // never answers: the client times out
    res.writeHead(r.status, { "content-type": "application/json", ...r.headers });
    res.end(JSON.stringify({ ok: r.status < 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const client = (over: Partial<typeof FAST_RETRY> = {}): HttpClient =>
  createHttpClient({ retry: { ...FAST_RETRY, maxRetries: 3, ...over } });

describe("retries by method", () => {
  it("repeats a GET after 502s and succeeds", async () => {
    const s = await scripted([{ status: 502 }, { status: 502 }, { status: 200 }]);
    const res = await client().request(RULES, { url: `${s.url}/items` });
    expect(res.status).toBe(200);
    expect(s.seen).toHaveLength(3);
    await s.close();
  });

  it("sends a POST answered 502 once, and says its effect is unknown", async () => {
    const s = await scripted([{ status: 502 }, { status: 201 }]);
    const err = await trackerFailure(
      client().request(RULES, { method: "POST", url: `${s.url}/issues`, json: {} }),
    );
    expect(err.kind).toBe("upstream_unavailable");
    expect(err.effectUnknown).toBe(true);
    expect(s.seen).toEqual(["POST /issues"]);
    await s.close();
  });

  it("repeats a POST the provider refused with a rate limit or a 503 with Retry-After", async () => {
    for (const first of [
      { status: 429, headers: { "retry-after": "0" } },
      { status: 503, headers: { "retry-after": "0" } },
    ]) {
      const s = await scripted([first, { status: 201 }]);
      const res = await client().request(RULES, { method: "POST", url: `${s.url}/issues`, json: {} });
      expect(res.status).toBe(201);
      expect(s.seen).toHaveLength(2);
      await s.close();
    }
  });

  it("an impatient client does not sleep on a provider's wait: it reports it (a rate limit, a 503)", async () => {
    for (const first of [
      { status: 429, headers: { "retry-after": "1" }, kind: "rate_limited" },
      { status: 503, headers: { "retry-after": "1" }, kind: "upstream_unavailable" },
    ]) {
      const s = await scripted([first, { status: 201 }]);
      const err = await trackerFailure(
        impatient(client()).request(RULES, { method: "POST", url: `${s.url}/issues`, json: {} }),
      );
      // Refused, not half-done: the caller may send it again after the wait.
      expect(err).toMatchObject({ kind: first.kind, retryAfterSeconds: 1, effectUnknown: false });
      expect(s.seen).toHaveLength(1);
      await s.close();
    }
    // Its own backoff (a GET's 502, no wait named) is unchanged.
    const s = await scripted([{ status: 502 }, { status: 200 }]);
    expect((await impatient(client()).request(RULES, { url: `${s.url}/items` })).status).toBe(200);
    await s.close();
  });

  it("does not repeat a POST that timed out (it may have been applied)", async () => {
    const s = await scripted([{ status: 201, hang: true }]);
    const err = await trackerFailure(
      client({ timeoutMs: 150 }).request(RULES, { method: "PATCH", url: `${s.url}/issues/1`, json: {} }),
    );
    expect(err).toMatchObject({ kind: "upstream_unavailable", effectUnknown: true });
    expect(s.seen).toEqual(["PATCH /issues/1"]);
    await s.close();
  });

  it("repeats a POST whose connection was refused (it never reached the provider)", async () => {
    const s = await scripted([{ status: 200 }]);
    await s.close(); // nothing listens on the port any more
    const attempts: number[] = [];
    const http = createHttpClient({
      retry: { ...FAST_RETRY, maxRetries: 2 },
      onAttempt: (a) => attempts.push(a.attempt),
    });
    const err = await trackerFailure(
      http.request(RULES, { method: "POST", url: `${s.url}/issues`, json: {} }),
    );
    expect(err).toMatchObject({ kind: "upstream_unavailable", effectUnknown: false });
    expect(attempts).toEqual([0, 1, 2]);
  });

  it("repeats a read sent as POST when the caller says it is one", async () => {
    const s = await scripted([{ status: 502 }, { status: 200 }]);
    const res = await client().request(RULES, {
      method: "POST",
      url: `${s.url}/graphql`,
      json: { query: "query { viewer { id } }" },
      idempotent: true,
    });
    expect(res.status).toBe(200);
    expect(s.seen).toHaveLength(2);
    await s.close();
  });

  it("never repeats a refresh-token exchange that failed after reaching the provider", async () => {
    const s = await scripted([{ status: 500 }, { status: 200 }]);
    await trackerFailure(
      refreshTokens(client(), OAUTH_PROFILES.gitlab, s.url, { clientId: "c", clientSecret: "s" }, "rt"),
    );
    expect(s.seen).toEqual(["POST /oauth/token"]);
    await s.close();
  });
});

describe("a timed-out issue create", () => {
  let gl: ProviderSimulator;
  let target: BindableResource;
  const conn = (http: HttpClient): Connection => ({
    base_url: gl.url,
    credential: { kind: "private_token", token: gl.demo.token },
    http,
  });

  beforeAll(async () => {
    gl = await startGitlabSimulator({ generatedResources: 0 });
    const [acme] = await gitlabAdapter.listWorkspaces(conn(client()));
    const found: BindableResource[] = [];
    await runDiscovery(gitlabAdapter, conn(client()), acme, (page) => {
      found.push(...page);
    });
    target = found.find((r) => !r.flags.archived && !r.flags.issues_disabled)!;
  });
  afterAll(() => gl?.close());

  it("makes exactly one upstream issue although the answer never arrived in time", async () => {
    const control = (method: string, path: string, body?: unknown) =>
      fetch(`${gl.url}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then((r) => r.json());
    // GitLab takes 400 ms to create; the client waits 150 ms. The create still happens upstream.
    await fetch(`${gl.url}/_sim/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: "POST", path_prefix: "/api/v4/projects/", latency_ms: 400, count: 5 }),
    });
    const title = `Timed out create ${Date.now()}`;
    const err = await trackerFailure(
      gitlabAdapter.createIssue(conn(client({ timeoutMs: 150 })), target.connector_params, { title }),
    );
    expect(err).toMatchObject({ kind: "upstream_unavailable", effectUnknown: true });
    await new Promise((r) => setTimeout(r, 700)); // let the slow creates finish upstream
    await fetch(`${gl.url}/_sim/faults`, { method: "DELETE" });
    const { issues } = await control("GET", `/_sim/resources/${target.identity.native_id}/issues`);
    expect((issues as { title: string }[]).filter((i) => i.title === title)).toHaveLength(1);
  });
});
