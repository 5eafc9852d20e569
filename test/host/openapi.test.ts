import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe("OpenAPI", () => {
  it("documents every API route from the same schemas that validate it", async () => {
    const res = await t.call({ method: "GET", url: "/api/v1/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/v1/tokens/", "/api/v1/team/", "/api/v1/me", "/api/v1/audit-events/"]),
    );
    const create = doc.paths["/api/v1/tokens/"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["name"]);
    expect(body.additionalProperties).toBe(false);
    expect(create.responses["400"]).toBeDefined();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("serves an interactive reference page", async () => {
    let res = await t.call({ method: "GET", url: "/api/docs" });
    if (res.statusCode >= 300 && res.statusCode < 400)
      res = await t.call({ method: "GET", url: res.headers.location as string });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});
