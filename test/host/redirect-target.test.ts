import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redirectTargetProblem, safeRedirectPath } from "../../src/host/http/redirect-target.ts";
import { clickThroughConsent } from "../../src/simulators/core/consent.ts";
import { readCookie } from "../support/cookies.ts";
import {
  connectCookieOf,
  createSimulatedApp,
  openCallback,
  type SimulatedApp,
} from "../support/simulated.ts";

/**
 * One redirect-target check (issue 12 §7) for `return_to`, `next` and every redirect that takes a
 * user's target: same-origin paths only, no backslash, no control characters; anything else is a 400
 * (the envelope for the API, a page for the dashboard), never a 500 and never another host.
 */

const ATTACKS = [
  "/\\evil.example/x",
  "//evil.example/x",
  "/\\/evil.example",
  "https://evil.example/",
  "javascript:alert(1)",
  "/\n/evil.example",
  "/\t/evil.example",
  "/dashboard/\r\nSet-Cookie: x=1",
  "/dashboard/\u0000",
  "dashboard/",
  "",
];

describe("redirect targets", () => {
  it.each(ATTACKS)("refuses %j", (target) => {
    expect(redirectTargetProblem(target)).not.toBeNull();
    expect(() => safeRedirectPath(target, "next")).toThrow(/next/);
  });

  it("keeps same-origin paths, percent-encoded so the Location header is always valid", () => {
    expect(safeRedirectPath("/dashboard/installations?x=1#top", "next")).toBe(
      "/dashboard/installations?x=1#top",
    );
    expect(safeRedirectPath("/dashboard/✓", "next")).toBe("/dashboard/%E2%9C%93");
  });

  it("keeps a target under its prefix after resolving dot segments", () => {
    expect(redirectTargetProblem("/dashboard/../api/v1/team", "/dashboard")).toBe(
      "must be a path under /dashboard",
    );
    expect(redirectTargetProblem("/dashboardx", "/dashboard")).not.toBeNull();
    expect(redirectTargetProblem("/dashboard", "/dashboard")).toBeNull();
  });
});

describe("through the app", () => {
  let t: SimulatedApp;
  beforeAll(async () => {
    t = await createSimulatedApp({ providers: ["gitlab"], generatedResources: 0 });
  });
  afterAll(() => t?.close());

  const start = (return_to: string) =>
    t.call({
      method: "POST",
      url: "/api/v1/installations/connect/",
      as: t.admin,
      payload: { provider: "gitlab", return_to },
    });

  it.each(ATTACKS.filter(Boolean))("return_to %j is a 400 in the envelope", async (target) => {
    const res = await start(target);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error_code).toBe("validation_error");
    expect(res.body).toContain("return_to");
  });

  it("return_to with a dashboard path starts the connect, and the callback returns there", async () => {
    const res = await start("/dashboard/installations/connected");
    expect(res.statusCode, res.body).toBe(200);
    const back = await clickThroughConsent(res.json().authorize_url);
    const done = await openCallback(t, back, connectCookieOf(res));
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toMatch(/^\/dashboard\/installations\/connected\?installation_id=inst_/);
  });

  it("OpenAPI documents the pattern", async () => {
    const doc = (await t.call({ method: "GET", url: "/api/v1/openapi.json" })).json();
    const body =
      doc.paths["/api/v1/installations/connect/"].post.requestBody.content["application/json"].schema;
    expect(body.properties.return_to.pattern).toBe("^/(?![/\\\\])[^\\\\\\p{Cc}]*$");
  });

  describe("dashboard sign-in next", () => {
    async function signInForm(next?: string) {
      const page = await t.server.inject({
        method: "GET",
        url: `/dashboard/sign-in${next === undefined ? "" : `?next=${encodeURIComponent(next)}`}`,
      });
      return page;
    }

    async function signIn(next: string) {
      const page = await signInForm();
      const pre = readCookie(String(page.headers["set-cookie"]).split(";")[0], "sk_signin")!;
      return t.server.inject({
        method: "POST",
        url: "/dashboard/sign-in",
        headers: { cookie: `sk_signin=${pre}`, "content-type": "application/x-www-form-urlencoded" },
        payload: new URLSearchParams({
          _csrf: /name="_csrf" value="([^"]+)"/.exec(page.body)![1],
          email: t.admin.email,
          password: "correct horse battery staple",
          next,
        }).toString(),
      });
    }

    it.each([...ATTACKS.filter(Boolean), "/api/v1/team/"])(
      "a correct password with next=%j is a 400 page and no session",
      async (next) => {
        const res = await signIn(next);
        expect(res.statusCode).toBe(400);
        expect(res.headers["content-type"]).toContain("text/html");
        // A NUL is refused at the edge, before the redirect check, with its own sentence.
        expect(res.body).toMatch(/Invalid return address|body\.next contains a NUL character/);
        expect(String(res.headers["set-cookie"] ?? "")).not.toContain("sk_session=");
        expect(res.headers.location).toBeUndefined();
      },
    );

    it("the sign-in page refuses a bad next too", async () => {
      const res = await signInForm("/\\evil.example/x");
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain("Invalid return address");
    });

    it("a dashboard next is followed, percent-encoded", async () => {
      const res = await signIn("/dashboard/mappings?q=✓");
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe("/dashboard/mappings?q=%E2%9C%93");
    });
  });
});
