import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerIds } from "../../src/tracker/registry.ts";
import { createTestApp, type TestApp } from "../support/app.ts";

/**
 * A refusal by the schema names each field once and says what it may be, so a person can fix the request
 * from the message alone: the allowed values of a list, the known fields of an object, the type wanted.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const identity = { uuid: "8f0c7b1e-0000-4000-8000-000000000001", slug: "payments" };

async function refusal(url: string, payload: unknown, method: "POST" | "GET" = "POST") {
  const res = await t.call({ method, url, as: t.admin, payload: payload as object });
  expect(res.statusCode, res.body).toBe(400);
  const body = res.json();
  expect(body.error_code).toBe("validation_error");
  return body as { message: string; fields: { field: string; problem: string }[] };
}

describe("validation errors", () => {
  it("a value outside a list names the field and every allowed value, once", async () => {
    const body = await refusal("/api/v1/tracker/bind-resolve/", {
      provider: "trello",
      project_identity: identity,
    });
    const allowed = `must be one of: ${providerIds().join(", ")}`;
    expect(body.fields).toEqual([{ field: "body.provider", problem: allowed }]);
    expect(body.message).toBe(`Invalid request: body.provider ${allowed}.`);
    expect(body.message).not.toMatch(/anyOf|constant|schema/);
  });

  it("an unknown field is named with the fields the body does know", async () => {
    const body = await refusal("/api/v1/tracker/bind-resolve/", {
      provider: "jira",
      project_identity: identity,
      projct: "x",
    });
    expect(body.fields).toEqual([
      { field: "body.projct", problem: "is not a known field (known: provider, project_identity)" },
    ]);
  });

  it("a nullable value that breaks its limit says the limit, not that it should be null", async () => {
    const body = await refusal("/api/v1/tracker/bind-resolve/", {
      provider: "jira",
      project_identity: { ...identity, repo_slug: "r".repeat(300) },
    });
    expect(body.fields).toEqual([
      { field: "body.project_identity.repo_slug", problem: "must NOT have more than 256 characters" },
    ]);
  });

  it("a value of the wrong type in a nullable field names both types it may be", async () => {
    const body = await refusal("/api/v1/tracker/bind-resolve/", {
      provider: "jira",
      project_identity: { ...identity, node_id: 12 },
    });
    expect(body.fields).toEqual([
      { field: "body.project_identity.node_id", problem: "must be of type string or null" },
    ]);
  });

  it("a missing header is named as it is spelled", async () => {
    const res = await t.call({
      method: "POST",
      url: "/api/v1/tracker/bind-confirm/",
      as: t.admin,
      payload: { provider: "jira", candidate_token: "cand_x", project_identity: identity },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error_code: "validation_error",
      message: "Invalid request: the Idempotency-Key header is required.",
      fields: [{ field: "headers.idempotency-key", problem: "is required" }],
    });
  });

  it("a missing field and a bad query value are each named", async () => {
    const missing = await refusal("/api/v1/tracker/bind-resolve/", { provider: "jira" });
    expect(missing.fields).toEqual([{ field: "body.project_identity", problem: "is required" }]);
    const query = await refusal("/api/v1/tracker/resources/?provider=trello", undefined, "GET");
    expect(query.fields).toEqual([
      { field: "querystring.provider", problem: `must be one of: ${providerIds().join(", ")}` },
    ]);
  });
});
