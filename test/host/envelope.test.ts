import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";

const ENVELOPE_KEYS = [
  "error_code",
  "message",
  "retryable",
  "user_action_required",
  "source",
  "retry_after_seconds",
  "effect_certainty",
];

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ bodyLimitBytes: 4096 });
});
afterAll(() => t.close());

function expectEnvelope(res: { headers: Record<string, unknown>; json(): any; body: string }, code: string) {
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  const body = res.json();
  for (const k of ENVELOPE_KEYS) expect(body).toHaveProperty(k);
  expect(body.error_code).toBe(code);
  expect(body.source).toBe("saas");
  expect(res.body).not.toMatch(/at .*\.ts:\d+|<html/i);
  return body;
}

const tokenCount = async (userId: string) =>
  (await t.services.tokens.page(userId, undefined, 200)).items.length;

describe("authentication and team scoping", () => {
  it("401 unauthorized without a token, with a malformed header, or with an unknown token", async () => {
    for (const authorization of [undefined, "Basic abc", "Bearer skt_not_a_real_token"]) {
      const res = await t.call({
        method: "GET",
        url: "/api/v1/team/",
        headers: { ...(authorization ? { authorization } : {}), "x-team-slug": "acme" },
      });
      expect(res.statusCode).toBe(401);
      const body = expectEnvelope(res, "unauthorized");
      expect(body.effect_certainty).toBe("no_effect");
      expect(res.headers["www-authenticate"]).toBe("Bearer");
    }
  });

  it("400 missing_team when X-Team-Slug is absent", async () => {
    const res = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      headers: { authorization: t.admin.headers.authorization },
    });
    expect(res.statusCode).toBe(400);
    expect(expectEnvelope(res, "missing_team").message).toMatch(/X-Team-Slug/);
  });

  it("403 team_access_denied for another team's slug or id, and for a team that does not exist — the same answer", async () => {
    const bySlug = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      as: t.admin,
      headers: { "x-team-slug": "globex" },
    });
    const byId = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      as: t.admin,
      headers: { "x-team-slug": t.otherTeam.id },
    });
    const missing = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      as: t.admin,
      headers: { "x-team-slug": "no-such-team" },
    });
    for (const res of [bySlug, byId, missing]) {
      expect(res.statusCode).toBe(403);
      expectEnvelope(res, "team_access_denied");
    }
    expect(bySlug.json().message).toBe(missing.json().message);
  });

  it("accepts the team id as well as the slug", async () => {
    const res = await t.call({
      method: "GET",
      url: "/api/v1/team/",
      as: t.member,
      headers: { "x-team-slug": t.team.id },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ slug: "acme", role: "member" });
  });

  it("members read, only admins see the audit trail", async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/audit-events/", as: t.member });
    expect(res.statusCode).toBe(403);
    expectEnvelope(res, "admin_required");
    expect((await t.call({ method: "GET", url: "/api/v1/audit-events/", as: t.admin })).statusCode).toBe(200);
  });
});

describe("bad input leaves nothing written", () => {
  it("400 validation_error naming unknown fields", async () => {
    const before = await tokenCount(t.admin.userId);
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      payload: { name: "x", scope: "all" },
    });
    expect(res.statusCode).toBe(400);
    const body = expectEnvelope(res, "validation_error");
    expect(body.fields).toContainEqual({
      field: "body.scope",
      problem: expect.stringMatching(/^is not a known field \(known: /),
    });
    expect(await tokenCount(t.admin.userId)).toBe(before);
  });

  it("400 validation_error for wrong types and missing fields, naming each", async () => {
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      payload: { expires_in_days: "7" },
    });
    expect(res.statusCode).toBe(400);
    const fields = expectEnvelope(res, "validation_error").fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(["body.name", "body.expires_in_days"]));
  });

  it("400 invalid_json for a malformed body", async () => {
    const before = await tokenCount(t.admin.userId);
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      headers: { "content-type": "application/json" },
      payload: '{"name": "x",',
    });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res, "invalid_json");
    expect(await tokenCount(t.admin.userId)).toBe(before);
  });

  it("415 unsupported_media_type for a non-JSON body", async () => {
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      headers: { "content-type": "text/plain" },
      payload: "name=x",
    });
    expect(res.statusCode).toBe(415);
    expectEnvelope(res, "unsupported_media_type");
  });

  it("413 payload_too_large over the body limit", async () => {
    const before = await tokenCount(t.admin.userId);
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tokens/",
      as: t.admin,
      payload: { name: "x".repeat(10_000) },
    });
    expect(res.statusCode).toBe(413);
    expectEnvelope(res, "payload_too_large");
    expect(await tokenCount(t.admin.userId)).toBe(before);
  });

  it("400 for a cursor this server did not issue", async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/tokens/?cursor=%%%", as: t.admin });
    expect(res.statusCode).toBe(400);
    expectEnvelope(res, "validation_error");
  });

  it("400, not a server error, for a decodable cursor of the wrong shape on every list", async () => {
    const lists = [
      "/api/v1/tokens/",
      "/api/v1/team/members/",
      "/api/v1/audit-events/",
      "/api/v1/projects/",
      "/api/v1/installations/",
      "/api/v1/inventory/",
      "/api/v1/mappings/",
    ];
    const forged = [{ label: { $gt: "" } }, 5, [1, 2], null, true].map((v) =>
      Buffer.from(JSON.stringify(v)).toString("base64url"),
    );
    for (const url of lists) {
      for (const cursor of forged) {
        const res = await t.call({ method: "GET", url: `${url}?cursor=${cursor}`, as: t.admin });
        expect(res.statusCode, `${url} ${res.body}`).toBe(400);
        expectEnvelope(res, "validation_error");
      }
    }
  });
});

describe("paths and transport", () => {
  it("404 not_found envelope for unknown routes, never HTML", async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/tracker/nope/", as: t.admin });
    expect(res.statusCode).toBe(404);
    expectEnvelope(res, "not_found");
  });

  it("serves paths with and without the trailing slash, never redirecting", async () => {
    for (const url of ["/api/v1/team/", "/api/v1/team"]) {
      const res = await t.call({ method: "GET", url, as: t.admin });
      expect(res.statusCode).toBe(200);
      expect(res.headers.location).toBeUndefined();
    }
  });

  it("HEAD / answers 2xx", async () => {
    const res = await t.call({ method: "HEAD", url: "/" });
    expect(res.statusCode).toBe(200);
  });

  it("puts a request id in the response header and in every log line of that request", async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/team/", as: t.admin });
    const id = res.headers["x-request-id"] as string;
    expect(id).toMatch(/^req_[0-9A-Z]{26}$/);
    const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.request_id === id);
    expect(lines.length).toBeGreaterThanOrEqual(2); // incoming request + completed
    expect(lines.every((l) => l.request_id === id)).toBe(true);
  });

  it("errors carry the request id too", async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/team/" });
    expect(res.json().request_id).toBe(res.headers["x-request-id"]);
  });
});

describe("health", () => {
  it("/healthz and /readyz", async () => {
    expect((await t.call({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await t.call({ method: "GET", url: "/readyz" })).json()).toEqual({ status: "ready" });
  });
});
