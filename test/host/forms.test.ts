import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerErrorHandling } from "../../src/host/http/error-handler.ts";
import { acceptForms } from "../../src/host/http/forms.ts";

describe("form bodies (@fastify/formbody in a plugin's scope)", () => {
  const app = Fastify();
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const post = (url: string, payload: string) => app.inject({ method: "POST", url, headers: form, payload });

  beforeAll(async () => {
    // Domain errors carry no HTTP status: the API's error mapping turns the refusal into a 400 envelope.
    registerErrorHandling(app);
    await app.register(async (dashboard) => {
      await acceptForms(dashboard, "last");
      dashboard.post("/last", async (req) => req.body);
    });
    await app.register(async (oauth) => {
      await acceptForms(oauth, "list");
      oauth.post("/list", async (req) => req.body);
    });
    app.post("/json-only", async (req) => req.body);
  });
  afterAll(() => app.close());

  it("keeps a repeated field's last value, or all of them for schemas to refuse", async () => {
    expect((await post("/last", "a=1&a=2&b=%20x+y")).json()).toEqual({ a: "2", b: " x y" });
    expect((await post("/list", "a=1&a=2&b=%20x+y")).json()).toEqual({ a: ["1", "2"], b: " x y" });
  });

  it("stays inside the scope that asked for it: elsewhere a form is an unsupported media type", async () => {
    expect((await post("/json-only", "a=1")).statusCode).toBe(415);
  });

  it("refuses a body over 64 KiB, and text that is not percent-encoded UTF-8 naming the field", async () => {
    expect((await post("/last", `a=${"x".repeat(64 * 1024)}`)).statusCode).toBe(413);
    const bad = await post("/list", "ok=1&name=%ff");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain("body.name is not valid percent-encoded UTF-8");
  });
});
